"""``workbench serve`` over a real uvicorn server: every route, the token, the limits, the
problem details, path traversal, and the event loop staying free.

One server for the module (a 16-stock market, a token, small limits so that the limit
tests send little), on a free loopback port; see live_server.py.
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from urllib.parse import urlsplit

import httpx
import pytest
from live_server import AUTH, TOKEN, live_server, small_market

from workbench.recommend import recommend
from workbench.serve import ServeSettings, bodies, create_app

MAX_BODY = 32 * 1024
MAX_BATCH = 50
SECRET = "the secret outside the reports folder"


@pytest.fixture(scope="module")
def market():
    return small_market()


@pytest.fixture(scope="module")
def reports_dir(tmp_path_factory):
    base = tmp_path_factory.mktemp("served")
    root = base / "reports"
    good = root / "backtest_demo"
    good.mkdir(parents=True)
    (good / "backtest_demo.html").write_text("<html><body>demo report</body></html>")
    (good / "report.json").write_text(json.dumps({
        "name": "backtest_demo", "notebook": "backtest_report.ipynb",
        "parameters": {"strategy": "ma_trend"}, "overrides": {"strategy": "ma_trend"},
        "generated": "2024-01-02T18:00:00+08:00", "html": "backtest_demo.html",
        "metrics": {"sharpe_ratio": 1.2}}))
    failed = root / "risk_demo"
    failed.mkdir()
    (failed / "risk_demo.failed.json").write_text(json.dumps({
        "name": "risk_demo", "error": "ConfigError: unknown strategy", "stage": "parameters",
        "notebook": "risk_report.ipynb", "parameters": {"strategy": "nope"}}))
    (base / "secret.html").write_text(SECRET)
    outside = base / "outside"
    outside.mkdir()
    (outside / "report.json").write_text(json.dumps({"html": "page.html"}))
    (outside / "page.html").write_text(SECRET)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def base_url(market, reports_dir):
    settings = ServeSettings(token=TOKEN, max_body_bytes=MAX_BODY, max_batch=MAX_BATCH,
                             max_sessions=8, reports_dir=reports_dir)
    with live_server(create_app(market, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url):
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def in_process(market):
    """A server computing recommendations in its own process (no worker processes), in
    threads: what this process patches is what it runs."""
    settings = ServeSettings(recommendation_workers=0, inline_budget_ms=0.0)
    with (live_server(create_app(market, settings)) as url,
          httpx.Client(base_url=url, timeout=30) as c):
        yield c


@pytest.fixture(scope="module")
def day(market):
    return market.calendar[-1].date().isoformat()


@pytest.fixture(scope="module")
def listed(market):
    """Symbols with an unsuspended bar on the last session."""
    row = len(market.calendar) - 1
    ok = ~market.grid("suspended")[row].astype(bool) & (market.grid("close")[row] > 0)
    return [s for s, good in zip(market.symbols, ok, strict=True) if good]


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("urn:workbench:problem:")
    assert body["title"] and body["detail"] and body["instance"] == urlsplit(
        str(response.request.url)).path
    return body


def _order(symbol, day, **changes):
    return {"symbol": symbol, "side": "buy", "quantity": 100, "limit_price": 10.0,
            "timestamp": f"{day}T10:00:00+08:00"} | changes


def _session(client, **body) -> str:
    r = client.post("/v1/risk/sessions", json={"cash_cny": 1_000_000.0} | body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


# -- general ------------------------------------------------------------------------------------
def test_health_needs_no_token_and_everything_else_does(base_url):
    with httpx.Client(base_url=base_url) as anonymous:
        assert anonymous.get("/v1/health").json() == {"status": "ok"}
        for method, path in [("GET", "/v1/market"), ("GET", "/v1/strategies"),
                             ("GET", "/v1/recommendations"), ("POST", "/v1/risk/sessions"),
                             ("POST", "/v1/risk/sessions/x/check"),
                             ("GET", "/v1/backtests/x"), ("GET", "/v1/reports"),
                             ("GET", "/docs"), ("GET", "/openapi.json")]:
            r = anonymous.request(method, path)
            body = _problem(r, 401)
            assert "no bearer token" in body["detail"]
            assert r.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer",
                                    f"Basic {TOKEN}", TOKEN, f"Bearer {TOKEN.upper()}"])
def test_a_wrong_token_is_refused(base_url, header):
    r = httpx.get(f"{base_url}/v1/market", headers={"Authorization": header})
    assert "the token is wrong" in _problem(r, 401)["detail"]


def test_the_right_token_in_any_scheme_case_passes(base_url):
    r = httpx.get(f"{base_url}/v1/strategies", headers={"Authorization": f"bearer {TOKEN}"})
    assert r.status_code == 200


def test_every_request_is_logged_on_one_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="workbench.serve"):
        client.get("/v1/health")
        client.get("/v1/backtests/nope")
        deadline = time.monotonic() + 10  # the line is written once the response is sent
        while True:
            lines = [r.getMessage() for r in caplog.records if r.name == "workbench.serve"]
            if len(lines) >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.01)
    assert any(line.startswith("GET /v1/health 200 ") and line.endswith("ms")
               for line in lines), lines
    assert any(line.startswith("GET /v1/backtests/nope 404 ") for line in lines), lines


def test_market_says_what_is_served(client, market):
    body = client.get("/v1/market").json()
    assert body["provenance"]["kind"] == "synthetic"
    assert body["summary"]["start"] == "2023-01-03" and body["summary"]["end"] == "2023-12-29"
    assert body["summary"]["boards"] == market.summary()["boards"]
    assert [s["symbol"] for s in body["securities"]] == list(market.securities["symbol"])
    assert {"name", "board", "sector", "delist_date"} <= set(body["securities"][0])


def test_strategies_list_parameters_with_types_and_defaults(client):
    body = {s["name"]: s for s in client.get("/v1/strategies").json()}
    assert {"ma_trend", "momentum", "value_quality"} <= set(body)
    fast = next(p for p in body["ma_trend"]["parameters"] if p["name"] == "fast")
    assert fast == {"name": "fast", "type": "int", "default": 20}
    assert body["ma_trend"]["summary"]
    rebalance = body["buy_and_hold"]["parameters"][0]
    assert rebalance["type"].startswith("Literal['never'") and rebalance["default"] == "never"


def test_openapi_docs_are_served(client):
    assert "swagger" in client.get("/docs").text.lower()
    spec = client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ["/v1/health", "/v1/market", "/v1/strategies", "/v1/recommendations",
                 "/v1/risk/sessions", "/v1/risk/sessions/{session_id}/check",
                 "/v1/risk/sessions/{session_id}/check-batch", "/v1/backtests",
                 "/v1/backtests/{job_id}", "/v1/reports", "/v1/reports/{name}"]:
        assert path in paths, path
    check = paths["/v1/risk/sessions/{session_id}/check"]["post"]
    schema = check["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"symbol", "side", "quantity", "limit_price", "timestamp"}
    assert [p["name"] for p in check["parameters"]] == ["session_id"]
    assert {"401", "404", "422"} <= set(check["responses"])


def test_unknown_routes_and_methods_are_problems(client):
    assert "/docs" in _problem(client.get("/v1/nothing"), 404)["detail"]
    assert "PUT is not allowed" in _problem(client.put("/v1/health"), 405)["detail"]


# -- recommendations ----------------------------------------------------------------------------
def test_recommendations_default_to_20_rows_of_value_quality(client, market):
    body = client.get("/v1/recommendations").json()
    table = recommend(market, "value_quality")
    assert body["strategy"]["name"] == "value_quality" and len(body["rows"]) == len(table)
    assert body["as_of"] == "2023-12-29" and body["market"] == market.name
    assert [r["symbol"] for r in body["rows"]] == list(table["symbol"])
    assert set(body["rows"][0]) == {"symbol", "name", "sector", "action", "score",
                                    "target_weight", "reasons"}


def test_recommendations_for_a_universe_and_a_day(client, market, listed):
    picked = listed[:5]
    r = client.get("/v1/recommendations", params={"strategy": "momentum", "top": 3,
                                                  "as_of": "2023-06-30",
                                                  "symbols": ",".join(picked)})
    body = r.json()
    table = recommend(market, "momentum", as_of="2023-06-30", universe=picked, top=3)
    assert [row["symbol"] for row in body["rows"]] == list(table["symbol"])
    assert [row["action"] for row in body["rows"]] == list(table["action"])
    assert body["as_of"] == "2023-06-30"


@pytest.mark.parametrize(("params", "says"), [
    ({"strategy": "momentun"}, "did you mean 'momentum'"),
    ({"top": 0}, "top (rows) must be a whole number >= 1"),
    ({"top": "many"}, "query.top: Input should be a valid integer"),
    ({"as_of": "2031-01-02"}, "outside the data"),
    ({"as_of": "yesterday"}, "is not a date"),
    ({"symbols": "600000.SH"}, "unknown symbol"),
    ({"symbols": ","}, "universe is empty"),
])
def test_bad_recommendation_queries_are_422_with_the_workbench_message(client, params, says):
    assert says in _problem(client.get("/v1/recommendations", params=params), 422)["detail"]


def test_a_query_asked_again_is_answered_without_computing(in_process, monkeypatch):
    client = in_process
    calls = []
    real = bodies.recommendation

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(bodies, "recommendation", counted)
    params = {"strategy": "low_volatility", "top": 7}
    first, second = (client.get("/v1/recommendations", params=params) for _ in range(2))
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and len(calls) == 1
    client.get("/v1/recommendations", params={**params, "top": 8})
    assert len(calls) == 2
    for _ in range(2):  # errors are not kept
        client.get("/v1/recommendations", params={**params, "top": 0})
    assert len(calls) == 4


def test_twenty_recommendations_run_in_parallel_and_the_loop_stays_free(
        in_process, market, listed, monkeypatch):
    # Each call waits until all 20 are inside recommend at once (so they run side by side,
    # in 20 threads), then until the test has seen /v1/health answered meanwhile.
    arrived = threading.Event()
    together = threading.Barrier(20, action=arrived.set, timeout=60)
    release = threading.Event()
    real = bodies.recommendation
    client = in_process

    def gated(*args, **kwargs):
        together.wait()
        assert release.wait(timeout=60)
        return real(*args, **kwargs)

    monkeypatch.setattr(bodies, "recommendation", gated)
    queries = [{"symbols": ",".join(listed[i % 8: i % 8 + 4]), "top": 1 + i % 5}
               for i in range(20)]
    answers: dict[int, httpx.Response] = {}

    def ask(i: int) -> None:
        with httpx.Client(base_url=client.base_url, timeout=90) as c:
            answers[i] = c.get("/v1/recommendations", params=queries[i])

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    try:
        assert arrived.wait(timeout=60), "20 recommendations never ran at the same time"
        assert client.get("/v1/health", timeout=10).status_code == 200
        assert client.get("/v1/strategies", timeout=10).status_code == 200
    finally:
        release.set()
        for t in threads:
            t.join(timeout=90)
    for i, q in enumerate(queries):
        expected = recommend(market, "value_quality", universe=q["symbols"], top=q["top"])
        assert answers[i].status_code == 200
        assert [r["symbol"] for r in answers[i].json()["rows"]] == list(expected["symbol"])


# -- risk sessions ------------------------------------------------------------------------------
def test_a_session_lives_from_create_to_delete(client, market, listed, day):
    held = listed[0]
    sid = _session(client, positions={held: 1_000}, limits={"max_position_rate": 0.05})
    state = client.get(f"/v1/risk/sessions/{sid}").json()
    assert state["id"] == sid and state["account"]["day"] == day
    assert state["account"]["limits"]["max_position_rate"] == 0.05
    position = state["account"]["positions"][0]
    row = len(market.calendar) - 1
    reference = market.grid("prev_close")[row][list(market.symbols).index(held)]
    assert position == {"symbol": held, "held": 1000, "sellable": 1000, "mark": reference,
                        "value_cny": 1000 * reference}

    sell = client.post(f"/v1/risk/sessions/{sid}/check", json=_order(
        held, day, side="sell", quantity=2_000, limit_price=round(reference, 2)))
    assert sell.json()["reason"] == "T_PLUS_1" and sell.json()["layer"] == "order_rules"
    assert "sellable" in sell.json()["message"]

    filled = client.post(f"/v1/risk/sessions/{sid}/fills", json={"fills": [
        {"symbol": held, "side": "sell", "quantity": 400, "price": reference,
         "fee_cny": 5.0}]})
    assert filled.status_code == 200
    assert filled.json()["account"]["positions"][0]["held"] == 600
    marked = client.post(f"/v1/risk/sessions/{sid}/prices",
                         json={"prices": {held: reference * 1.1}})
    assert marked.json()["account"]["positions"][0]["mark"] == pytest.approx(reference * 1.1)

    assert client.delete(f"/v1/risk/sessions/{sid}").status_code == 204
    _problem(client.get(f"/v1/risk/sessions/{sid}"), 404)


def test_check_gives_layer_reason_and_message(client, listed, day):
    sid = _session(client)
    out_of_hours = client.post(f"/v1/risk/sessions/{sid}/check",
                               json=_order(listed[0], day, timestamp=f"{day}T08:00:00+08:00"))
    assert out_of_hours.json()["reason"] == "MARKET_HOURS"
    unknown = client.post(f"/v1/risk/sessions/{sid}/check", json=_order("999999.SH", day))
    assert unknown.json() == {"accepted": False, "layer": "security",
                              "reason": "UNKNOWN_SYMBOL",
                              "message": unknown.json()["message"]}
    naive = client.post(f"/v1/risk/sessions/{sid}/check",
                        json=_order(listed[0], day, timestamp=f"{day}T10:00:00"))
    assert naive.json()["reason"] == "NAIVE_TIMESTAMP"  # as in process: a decision, not 422
    side = client.post(f"/v1/risk/sessions/{sid}/check", json=_order(listed[0], day,
                                                                       side="hold"))
    assert side.json()["reason"] == "BAD_SIDE"


def test_check_batch_judges_each_order_alone(client, listed, day):
    sid = _session(client)
    orders = [_order(listed[0], day), _order("999999.SH", day),
              _order(listed[1], day, side="sell")]
    body = client.post(f"/v1/risk/sessions/{sid}/check-batch", json={"orders": orders}).json()
    assert [d["reason"] for d in body["decisions"]][1:] == ["UNKNOWN_SYMBOL", "T_PLUS_1"]
    assert body["accepted"] + body["rejected"] == 3
    empty = client.post(f"/v1/risk/sessions/{sid}/check-batch", json={"orders": []})
    assert empty.json() == {"decisions": [], "accepted": 0, "rejected": 0}


def test_the_batch_and_the_body_are_limited(base_url, client, listed, day):
    sid = _session(client)
    over = client.post(f"/v1/risk/sessions/{sid}/check-batch",
                       json={"orders": [_order(listed[0], day)] * (MAX_BATCH + 1)})
    assert f"over the limit of {MAX_BATCH}" in _problem(over, 422)["detail"]
    at = client.post(f"/v1/risk/sessions/{sid}/check-batch",
                     json={"orders": [_order(listed[0], day)] * MAX_BATCH})
    assert at.status_code == 200 and len(at.json()["decisions"]) == MAX_BATCH

    big = b'{"orders": [' + b" " * MAX_BODY + b"]}"
    too_big = client.post(f"/v1/risk/sessions/{sid}/check-batch", content=big,
                          headers={"content-type": "application/json"})
    assert f"over the limit of {MAX_BODY:,}" in _problem(too_big, 413)["detail"]

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"orders": ['
        for _ in range(MAX_BODY // 1024 + 2):
            yield b" " * 1024
        yield b"]}"

    chunked = client.post(f"/v1/risk/sessions/{sid}/check-batch", content=chunks(),
                          headers={"content-type": "application/json"})
    assert "over the limit" in _problem(chunked, 413)["detail"]
    assert client.get("/v1/health").status_code == 200  # the connection pool still works
    for content in (big, chunks()):  # a single check too, with and without a length
        one = client.post(f"/v1/risk/sessions/{sid}/check", content=content,
                          headers={"content-type": "application/json"})
        assert "over the limit" in _problem(one, 413)["detail"]


@pytest.mark.parametrize(("body", "says"), [
    ('{"symbol": "600000.SH", "side": "buy"', "the body is not valid JSON"),
    ("", "the body is not valid JSON"),
    ('["an", "array"]', "Input should be an object"),
    ('{"symbol": "600000.SH", "side": "buy", "quantity": "100", "limit_price": 10.0, '
     '"timestamp": "2023-12-29T10:00:00+08:00"}', "body.quantity: Input should be a valid "
                                                  "integer"),
    ('{"symbol": "600000.SH", "side": "buy", "quantity": 100.0, "limit_price": 10.0, '
     '"timestamp": "2023-12-29T10:00:00+08:00"}', "body.quantity"),
    ('{"symbol": "600000.SH", "side": "buy", "quantity": 100, "limit_price": "ten", '
     '"timestamp": "2023-12-29T10:00:00+08:00"}', "body.limit_price"),
    ('{"symbol": "600000.SH", "side": "buy", "quantity": 100, "limit_price": 10.0}',
     "body.timestamp: Field required"),
    ('{"symbol": "600000.SH", "side": "buy", "qty": 100, "quantity": 100, '
     '"limit_price": 10.0, "timestamp": "2023-12-29T10:00:00+08:00"}',
     "body.qty: Extra inputs are not permitted"),
    ('{"symbol": "600000.SH", "side": "buy", "quantity": 100, "limit_price": 10.0, '
     '"timestamp": "half past ten"}', "is not an ISO 8601 time"),
])
def test_malformed_orders_are_422_naming_the_field(client, body, says):
    sid = _session(client)
    r = client.post(f"/v1/risk/sessions/{sid}/check", content=body,
                    headers={"content-type": "application/json"})
    assert says in _problem(r, 422)["detail"]
    client.delete(f"/v1/risk/sessions/{sid}")


@pytest.mark.parametrize(("body", "says"), [
    ({}, "body.cash_cny: Field required"),
    ({"cash_cny": "a lot"}, "body.cash_cny"),
    ({"cash_cny": 1e6, "positions": {"600000.SH": 100}}, "unknown symbol '600000.SH'"),
    ({"cash_cny": 1e6, "positions": {"X": 1.5}}, "body.positions.X"),
    ({"cash_cny": 1e6, "limits": {"max_position": 0.1}}, "unknown risk limit fields"),
    ({"cash_cny": 1e6, "limits": {"max_position_rate": 10}}, "write 10 % as 0.10"),
    ({"cash_cny": 1e6, "date": "2023-12-30"}, "is not a session"),
    ({"cash_cny": 1e6, "date": "soon"}, "is not a date"),
])
def test_bad_sessions_are_422(client, body, says):
    assert says in _problem(client.post("/v1/risk/sessions", json=body), 422)["detail"]


def test_fills_and_prices_refuse_what_the_validator_refuses(client, listed, day):
    sid = _session(client, positions={listed[0]: 500})
    r = client.post(f"/v1/risk/sessions/{sid}/fills", json={"fills": [
        {"symbol": listed[0], "side": "sell", "quantity": 100, "price": 10.0},
        {"symbol": listed[0], "side": "sell", "quantity": 10_000, "price": 10.0}]})
    body = _problem(r, 422)
    assert body["detail"].startswith("fills[1]: ") and body["booked"] == 1
    state = client.get(f"/v1/risk/sessions/{sid}").json()["account"]
    assert state["positions"][0]["held"] == 400  # the first fill stayed booked
    r = client.post(f"/v1/risk/sessions/{sid}/prices", json={"prices": {
        listed[0]: 9.0, "999999.SH": 1.0}})
    assert "unknown symbol '999999.SH'; nothing was marked" in _problem(r, 422)["detail"]
    r = client.post(f"/v1/risk/sessions/{sid}/prices", json={"prices": {listed[0]: "nine"}})
    _problem(r, 422)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("GET", "", None), ("DELETE", "", None), ("POST", "/check", "order"),
    ("POST", "/check-batch", {"orders": []}), ("POST", "/fills", {"fills": []}),
    ("POST", "/prices", {"prices": {}})])
def test_an_unknown_session_is_404(client, day, method, path, body):
    payload = _order("600000.SH", day) if body == "order" else body
    r = client.request(method, f"/v1/risk/sessions/deadbeef{path}", json=payload)
    assert "no risk session 'deadbeef'" in _problem(r, 404)["detail"]


def test_sessions_are_capped(client):
    open_now = []
    try:
        while True:
            r = client.post("/v1/risk/sessions", json={"cash_cny": 1e6})
            if r.status_code != 201:
                break
            open_now.append(r.json()["id"])
            assert len(open_now) <= 8
        assert "risk sessions are open" in _problem(r, 429)["detail"]
        assert r.headers["retry-after"]
    finally:
        for sid in open_now:
            client.delete(f"/v1/risk/sessions/{sid}")


# -- backtests: input checks and unknown ids (runs: test_serve_jobs.py) --------------------------
@pytest.mark.parametrize(("body", "says"), [
    ({"strategy": "ma_trnd"}, "did you mean 'ma_trend'"),
    ({"strategy": "ma_trend", "params": {"fastest": 5}}, "has no parameter 'fastest'"),
    ({"strategy": "ma_trend", "config": {"capital": 1}}, "unknown config fields ['capital']"),
    ({"strategy": "ma_trend", "config": {"capital_cny": -1}}, "capital_cny must be"),
    ({"strategy": "ma_trend", "config": {"fill_at": "noon"}}, "fill_at must be one of"),
    ({"strategy": "ma_trend", "config": {"costs": {"fee": 1}}}, "unknown cost fields"),
    ({"strategy": "ma_trend", "config": {"risk": {"max_position_rate": 2}}},
     "max_position_rate must be"),
    ({"strategy": "ma_trend", "config": {"start": "not a day"}}, "is not a date"),
    ({"params": {}}, "body.strategy: Field required"),
    ({"strategy": "ma_trend", "params": [1, 2]}, "body.params"),
])
def test_bad_backtests_are_422_before_they_are_queued(client, body, says):
    assert says in _problem(client.post("/v1/backtests", json=body), 422)["detail"]


@pytest.mark.parametrize("path", ["/v1/backtests/0123456789abcdef",
                                  "/v1/backtests/0123456789abcdef/trades.csv"])
def test_an_unknown_backtest_is_404(client, path):
    assert "no backtest '0123456789abcdef'" in _problem(client.get(path), 404)["detail"]


def test_a_table_name_must_be_one_of_four(client):
    _problem(client.get("/v1/backtests/0123456789abcdef/positions.csv"), 422)


# -- reports ------------------------------------------------------------------------------------
def test_the_reports_index_lists_good_and_failed_reports(client):
    reports = {r["name"]: r for r in client.get("/v1/reports").json()["reports"]}
    assert set(reports) == {"backtest_demo", "risk_demo", "escape"}
    demo = reports["backtest_demo"]
    assert demo["status"] == "ok" and demo["html"] == "/v1/reports/backtest_demo"
    assert demo["metrics"] == {"sharpe_ratio": 1.2}
    assert demo["parameters"] == {"strategy": "ma_trend"}
    assert reports["risk_demo"]["status"] == "failed" and reports["risk_demo"]["html"] is None
    assert reports["risk_demo"]["failure"]["stage"] == "parameters"


def test_a_report_page_is_served(client):
    r = client.get("/v1/reports/backtest_demo")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "demo report" in r.text


def test_an_unknown_report_is_404(client):
    assert "no report 'nothing'" in _problem(client.get("/v1/reports/nothing"), 404)["detail"]
    _problem(client.get("/v1/reports/risk_demo"), 404)  # failed, never succeeded: no page


def _raw_get(base_url: str, path: str) -> tuple[int, str]:
    """GET ``path`` exactly as written: no client normalises dots or decodes it."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@pytest.mark.parametrize("path", [
    "/v1/reports/../secret.html",
    "/v1/reports/../../secret.html",
    "/v1/reports/backtest_demo/../../secret.html",
    "/v1/reports/..%2Fsecret.html",
    "/v1/reports/%2e%2e%2fsecret.html",
    "/v1/reports/%2E%2E/secret.html",
    "/v1/reports/..",
    "/v1/reports/%2e%2e",
    "/v1/reports/..%5Csecret.html",
    "/v1/reports//etc/passwd",
    "/v1/reports/%2Fetc%2Fpasswd",
    "/v1/reports/backtest_demo%00.html",
    "/v1/reports/.hidden",
])
def test_path_traversal_is_refused(base_url, path):
    status, text = _raw_get(base_url, path)
    assert status == 422, (path, status, text)
    assert SECRET not in text and "root:" not in text
    assert json.loads(text)["type"] == "urn:workbench:problem:invalid-request"


def test_a_report_folder_linking_outside_is_not_followed(base_url):
    status, text = _raw_get(base_url, "/v1/reports/escape")
    assert status == 404 and SECRET not in text


def test_nothing_answers_500_to_bad_input(client, day):
    # a sample across routes of what a careless client sends
    sid = _session(client)
    for method, path, payload in [
        ("POST", f"/v1/risk/sessions/{sid}/check", {"symbol": None}),
        ("POST", f"/v1/risk/sessions/{sid}/check", _order("X", day, quantity=10**30)),
        ("POST", f"/v1/risk/sessions/{sid}/check", _order("X", day, limit_price=1e308)),
        ("POST", f"/v1/risk/sessions/{sid}/check-batch", {"orders": [{"symbol": 1}]}),
        ("POST", f"/v1/risk/sessions/{sid}/check-batch",
         {"orders": [_order("X", day, quantity=10**30)]}),
        ("POST", f"/v1/risk/sessions/{sid}/fills", {"fills": [
            {"symbol": "X", "side": "buy", "quantity": 1, "price": 1.0}]}),
        ("POST", f"/v1/risk/sessions/{sid}/fills", {"fills": [
            {"symbol": "X", "side": "buy", "quantity": -1, "price": float("nan")}]}),
        ("POST", "/v1/risk/sessions", {"cash_cny": float("inf")}),
        ("POST", "/v1/risk/sessions", {"cash_cny": 1.0, "prices": {"X": 1.0}}),
        ("POST", "/v1/backtests", {"strategy": "ma_trend", "config": {"universe": 5}}),
        ("POST", "/v1/backtests", {"strategy": "ma_trend", "config": {"costs": 5}}),
        ("POST", "/v1/backtests", {"strategy": "ma_trend", "params": {"fast": "x"}}),
        ("GET", "/v1/recommendations?as_of=2023-01-01T25:00", None),
        ("GET", "/v1/recommendations?top=1000000000000000000000", None),
    ]:
        body = None if payload is None else json.dumps(payload, allow_nan=True)
        r = client.request(method, path, content=body,
                           headers={"content-type": "application/json"})
        assert r.status_code < 500, (method, path, payload, r.text)
        assert r.status_code in (200, 201, 422), (method, path, payload, r.text)
