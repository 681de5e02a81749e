"""Over HTTP, the same answers as in process: risk decisions (one at a time and in batch,
after fills) and recommendations (computed by the server's worker process), on random
inputs (hypothesis), from a real server; and the same bytes whether the fast lane or the
FastAPI route answers a check or a recommendation, errors included.

The server here has no token (the default) and is the module's one server; each example
opens a risk session over HTTP and the same validator in process with
:func:`workbench.serve.sessions.open_validator`, then feeds both the same events.
"""

from __future__ import annotations

import json
import math

import httpx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from live_server import live_server, small_market

from workbench import strategies as registry
from workbench.errors import WorkbenchError
from workbench.recommend import recommend
from workbench.risk import Order, RiskLimits
from workbench.serve import ServeSettings, create_app
from workbench.serve.sessions import open_validator

MARKET = small_market()
CAL = MARKET.calendar
SYMBOLS = list(MARKET.symbols)
DAYS = [CAL[i].date().isoformat() for i in (0, 1, 60, 120, 180, len(CAL) - 2, len(CAL) - 1)]
SLOW = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def client():
    with live_server(create_app(MARKET)) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def uncached():
    """A server that keeps no answers, with its recommendations computed in its own
    process: each request is computed again."""
    app = create_app(MARKET, ServeSettings(recommendation_cache=0, recommendation_workers=0))
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as c:
        yield c


def _close(day: str, symbol: str) -> float:
    row = CAL.get_loc(pd.Timestamp(day))
    value = MARKET.grid("close")[row][SYMBOLS.index(symbol)]
    return float(value) if np.isfinite(value) else 10.0


@st.composite
def orders(draw, day: str):
    symbol = draw(st.sampled_from([*SYMBOLS, "999999.SH"]))
    close = _close(day, symbol) if symbol in SYMBOLS else 10.0
    price = draw(st.one_of(
        st.floats(0.9, 1.1).map(lambda f: round(close * f, 2)),
        st.floats(0.9, 1.1).map(lambda f: round(close * f, 2)),
        st.floats(0.9, 1.1).map(lambda f: round(close * f, 2)),
        st.floats(0.85, 1.15).map(lambda f: close * f),  # mostly off the tick
        st.sampled_from([0.0, -1.0, 0.01, 2e6])))
    quantity = draw(st.one_of(
        st.sampled_from([100, 200, 300, 1_000, 5_000, 20_000, 100_000, 150, 50, 201]),
        st.integers(1, 300).map(lambda n: n * 100),
        st.integers(-10, 2_000_000)))
    clock = draw(st.sampled_from(["10:00:00", "10:00:00", "13:30:00", "14:59:59", "09:30:00",
                                  "09:20:00", "11:29:59", "11:30:00", "15:00:00", "21:00:00"]))
    zone = draw(st.sampled_from(["+08:00"] * 6 + ["Z", ""]))
    return {"symbol": symbol, "side": draw(st.sampled_from(["buy"] * 4 + ["sell"] * 3 + ["hold"])),
            "quantity": quantity, "limit_price": price, "timestamp": f"{day}T{clock}{zone}"}


@st.composite
def sessions(draw):
    day = draw(st.sampled_from(DAYS))
    held = draw(st.lists(st.sampled_from(SYMBOLS), max_size=4, unique=True))
    positions = {s: draw(st.sampled_from([100, 500, 1_000, 2_550, 30_000])) for s in held}
    limits = draw(st.sampled_from([None, {"max_position_rate": 0.05},
                                   {"max_sector_rate": 0.1, "block_st_buys": False},
                                   {"max_position_rate": 1.0, "max_sector_rate": 1.0}]))
    cash = draw(st.sampled_from([50_000.0, 1_000_000.0, 20_000_000.0]))
    fills = draw(st.lists(st.tuples(st.sampled_from(SYMBOLS),
                                    st.sampled_from([100, 200, 1_000])), max_size=3))
    return {"date": day, "positions": positions, "limits": limits, "cash_cny": cash,
            "fills": fills, "orders": draw(st.lists(orders(day), min_size=1, max_size=16))}


def _decision(d) -> dict:
    return {"accepted": d.accepted, "layer": None if d.layer is None else d.layer.value,
            "reason": d.reason.value, "message": d.message}


@SLOW
@given(case=sessions())
def test_decisions_over_http_equal_the_in_process_validator(client, case):
    opened = client.post("/v1/risk/sessions", json={
        "cash_cny": case["cash_cny"], "date": case["date"], "positions": case["positions"],
        "limits": case["limits"]})
    assert opened.status_code == 201, opened.text
    sid = opened.json()["id"]
    limits = None if case["limits"] is None else RiskLimits(**case["limits"])
    here, _ = open_validator(MARKET, cash_cny=case["cash_cny"], date=case["date"],
                             limits=limits, positions=case["positions"])
    try:
        for symbol, shares in case["fills"]:  # buys at the close, booked on both sides
            price = _close(case["date"], symbol)
            r = client.post(f"/v1/risk/sessions/{sid}/fills", json={"fills": [
                {"symbol": symbol, "side": "buy", "quantity": shares, "price": price,
                 "fee_cny": 5.0}]})
            assert r.status_code == 200, r.text
            here.on_fill(symbol, "buy", shares, price, fee_cny=5.0)
        account = client.get(f"/v1/risk/sessions/{sid}").json()["account"]
        assert account["cash_cny"] == here.cash_cny
        assert account["equity_cny"] == (None if math.isnan(here.equity_cny)
                                         else here.equity_cny)

        for order in case["orders"]:
            served = client.post(f"/v1/risk/sessions/{sid}/check", json=order)
            assert served.status_code == 200, served.text
            expected = here.check(Order(symbol=order["symbol"], side=order["side"],
                                        quantity=order["quantity"],
                                        limit_price=order["limit_price"],
                                        timestamp=pd.Timestamp(order["timestamp"])))
            event(expected.reason.value)
            assert served.json() == _decision(expected), order

        batch = client.post(f"/v1/risk/sessions/{sid}/check-batch",
                            json={"orders": case["orders"]})
        assert batch.status_code == 200, batch.text
        frame = pd.DataFrame({
            "symbol": [o["symbol"] for o in case["orders"]],
            "side": [o["side"] for o in case["orders"]],
            "quantity": [o["quantity"] for o in case["orders"]],
            "limit_price": [o["limit_price"] for o in case["orders"]],
            "timestamp": [pd.Timestamp(o["timestamp"]) for o in case["orders"]]})
        verdicts = here.check_batch(frame)
        expected_batch = [{"accepted": bool(a), "layer": None if pd.isna(la) else str(la),
                           "reason": str(r)} for a, la, r in zip(
            verdicts["accepted"], verdicts["layer"], verdicts["reason"], strict=True)]
        assert batch.json()["decisions"] == expected_batch
        assert batch.json()["accepted"] == int(verdicts["accepted"].sum())
    finally:
        client.delete(f"/v1/risk/sessions/{sid}")


def test_a_session_starts_the_day_from_the_bars(client):
    # independent of open_validator: the band of one symbol, from the day's bar
    day = CAL[-1]
    row = len(CAL) - 1
    up, down = MARKET.grid("limit_up")[row], MARKET.grid("limit_down")[row]
    i = next(i for i in range(len(SYMBOLS)) if np.isfinite(up[i])
             and not MARKET.grid("suspended")[row][i] and not MARKET.grid("is_st")[row][i])
    sid = client.post("/v1/risk/sessions", json={"cash_cny": 1e7}).json()["id"]
    at = f"{day.date()}T10:00:00+08:00"
    base = {"symbol": SYMBOLS[i], "side": "buy", "quantity": 100, "timestamp": at}
    lot = 200 if SYMBOLS[i].startswith("688") else 100
    base["quantity"] = lot
    over = client.post(f"/v1/risk/sessions/{sid}/check",
                       json=base | {"limit_price": round(up[i] + 0.01, 2)}).json()
    at_up = client.post(f"/v1/risk/sessions/{sid}/check",
                        json=base | {"limit_price": float(up[i])}).json()
    under = client.post(f"/v1/risk/sessions/{sid}/check",
                        json=base | {"limit_price": round(down[i] - 0.01, 2)}).json()
    assert over["reason"] == "PRICE_BAND" and under["reason"] == "PRICE_BAND"
    assert at_up["accepted"], at_up
    client.delete(f"/v1/risk/sessions/{sid}")


def _rows(table: pd.DataFrame) -> list[dict]:
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in table.to_dict("records")]


@SLOW
@given(strategy=st.sampled_from(registry.available()), top=st.integers(1, 25),
       as_of=st.one_of(st.none(), st.sampled_from([*DAYS, "2023-07-01", "2022-12-30"])),
       symbols=st.one_of(st.none(), st.lists(st.sampled_from(SYMBOLS), min_size=1,
                                             max_size=8, unique=True)))
def test_recommendations_over_http_equal_recommend(client, strategy, top, as_of, symbols):
    params = {"strategy": strategy, "top": top}
    if as_of is not None:
        params["as_of"] = as_of
    if symbols is not None:
        params["symbols"] = ",".join(symbols)
    served = client.get("/v1/recommendations", params=params)
    try:
        table = recommend(MARKET, strategy, as_of=as_of, universe=symbols, top=top)
    except WorkbenchError as exc:
        assert served.status_code == 422, served.text
        assert served.json()["detail"] == str(exc)
        return
    assert served.status_code == 200, served.text
    body = served.json()
    assert body["rows"] == _rows(table)
    assert body["strategy"] == table.attrs["strategy"]
    assert (body["as_of"], body["rule"], body["inputs"]) == (
        table.attrs["as_of"], table.attrs["rule"], table.attrs["inputs"])


# -- the fast lane and the FastAPI routes give the same bytes -----------------------------------
def _chunked(body: bytes):
    yield body  # no Content-Length: the request goes past the fast lane, to the route


@SLOW
@given(case=sessions())
def test_a_check_answers_the_same_bytes_on_the_fast_lane_and_the_route(client, case):
    sid = client.post("/v1/risk/sessions", json={
        "cash_cny": case["cash_cny"], "date": case["date"], "positions": case["positions"],
        "limits": case["limits"]}).json()["id"]
    try:
        path = f"/v1/risk/sessions/{sid}/check"
        bodies = [json.dumps(o).encode() for o in case["orders"]]
        bodies += [b'{"symbol": "600000.SH"', b"[]", bodies[0].replace(b'"side"', b'"sid"')]
        for body in bodies:
            fast = client.post(path, content=body)
            routed = client.post(path, content=_chunked(body))
            assert "content-length" in fast.request.headers
            assert "content-length" not in routed.request.headers
            assert (fast.status_code, fast.headers["content-type"], fast.content) == (
                routed.status_code, routed.headers["content-type"], routed.content), body
    finally:
        client.delete(f"/v1/risk/sessions/{sid}")


@SLOW
@given(strategy=st.sampled_from([*registry.available(), "valu_quality"]),
       top=st.one_of(st.integers(0, 25), st.just(10**12)),
       as_of=st.one_of(st.none(), st.sampled_from([*DAYS, "2023-07-01", "2031-01-02", "x"])),
       symbols=st.one_of(st.none(), st.lists(st.sampled_from([*SYMBOLS, "600000"]),
                                             min_size=1, max_size=8, unique=True)))
def test_a_recommendation_is_the_same_bytes_on_the_fast_lane_and_the_route(
        uncached, strategy, top, as_of, symbols):
    client = uncached
    params: dict[str, object] = {"strategy": strategy, "top": top}
    if as_of is not None:
        params["as_of"] = as_of
    if symbols is not None:
        params["symbols"] = ",".join(symbols)
    fast = client.get("/v1/recommendations", params=params)
    # a parameter the route does not read makes the query not plain: FastAPI's route answers
    routed = client.get("/v1/recommendations", params={**params, "unread": "1"})
    assert (fast.status_code, fast.headers["content-type"]) == (
        routed.status_code, routed.headers["content-type"])
    if fast.status_code == 200:
        assert fast.content == routed.content
    else:  # the same problem, but for the query string in nothing
        assert fast.json() == routed.json()
