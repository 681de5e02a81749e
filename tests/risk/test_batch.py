"""The vectorised screen: the verdicts of ``check`` for every input form, read from an
:class:`~workbench.risk.AccountState` alone, and the rejection summary."""

from __future__ import annotations

import pandas as pd
import pytest
from test_validator import AT, DAY, TZ, as_frame, batch_verdicts, order, validator, verdict

from workbench.errors import DataError
from workbench.risk import AccountState, Order, Reason, RiskLimits, rejection_counts
from workbench.risk.batch import screen


def hand_orders() -> list[Order]:
    t = pd.Timestamp(f"{DAY} 09:30", tz=TZ)
    return [order(), order(quantity=150), order("600999.SH"), order(price=11.01),
            order(side="sell", quantity=100), order("688981.SH", quantity=20_000),
            order(at=t - pd.Timedelta(microseconds=1)), order(at=t), order(price=-1.0),
            order(quantity=0), order("000002.SZ", "sell", 100)]


def test_batch_matches_check_in_every_input_form():
    v = validator(positions={"000002.SZ": 100}, prices={"000002.SZ": 10.0})
    orders = hand_orders()
    expected = [verdict(v.check(o)) for o in orders]
    assert {e[2] for e in expected} >= {"ACCEPTED", "LOT", "UNKNOWN_SYMBOL", "PRICE_BAND",
                                        "T_PLUS_1", "POSITION_SIZE", "MARKET_HOURS"}
    frame = as_frame(orders).set_index(pd.Index(range(100, 100 + len(orders))))
    aware = as_frame(orders, object_timestamps=False)
    assert isinstance(aware["timestamp"].dtype, pd.DatetimeTZDtype)
    categorical = aware.astype({"symbol": "category", "side": "category"})
    mapping = {c: aware[c].to_numpy() for c in aware.columns}
    mapping["timestamp"] = aware["timestamp"]
    for form in (frame, aware, categorical, mapping):
        result = v.check_batch(form)
        assert batch_verdicts(result) == expected
    assert list(v.check_batch(frame).index) == list(frame.index)
    naive = aware.assign(timestamp=aware["timestamp"].dt.tz_localize(None))
    assert (v.check_batch(naive)["reason"] == "NAIVE_TIMESTAMP").all()


def test_batch_needs_the_order_columns():
    with pytest.raises(DataError, match=r"lack columns \['limit_price'\]"):
        validator().check_batch(as_frame(hand_orders()).drop(columns="limit_price"))


def test_rejection_counts_per_layer_and_reason():
    v = validator(positions={"000002.SZ": 100}, prices={"000002.SZ": 10.0})
    orders = hand_orders()
    from_checks = rejection_counts(v.check(o) for o in orders)
    from_batch = rejection_counts(v.check_batch(as_frame(orders)))
    pd.testing.assert_frame_equal(from_checks, from_batch)
    assert list(from_checks.columns) == ["layer", "reason", "count"]
    counts = dict(zip(from_checks["reason"], from_checks["count"], strict=True))
    assert counts == {"BAD_QUANTITY": 1, "BAD_PRICE": 1, "MARKET_HOURS": 1,
                      "UNKNOWN_SYMBOL": 1, "T_PLUS_1": 1, "LOT": 1, "PRICE_BAND": 1,
                      "POSITION_SIZE": 1}
    per_layer = from_checks.groupby("layer")["count"].sum()
    assert per_layer["order_rules"] == 3 and per_layer["input"] == 2


def test_screen_reads_a_state_and_leaves_it_unchanged():
    v = validator(positions={"000002.SZ": 100}, prices={"000002.SZ": 10.0})
    state = v.state
    before = (state.cash_cny, state.gross_cny, dict(state.sector_values_cny), state.buy_block)
    arrays = state.symbol_arrays()
    codes = screen(state, as_frame(hand_orders()))
    assert [list(Reason)[c].value for c in codes] == [verdict(v.check(o))[2]
                                                      for o in hand_orders()]
    assert (state.cash_cny, state.gross_cny, dict(state.sector_values_cny),
            state.buy_block) == before
    assert state.symbol_arrays() is arrays  # no event in between: the cache stands


def test_screen_of_a_state_without_symbols():
    state = AccountState(RiskLimits(), cash_cny=1_000_000.0)
    frame = as_frame([order(), order(at=AT.replace(hour=8))])
    assert [list(Reason)[c] for c in screen(state, frame)] == [Reason.MARKET_HOURS] * 2
    state.start_day(DAY)
    assert [list(Reason)[c] for c in screen(state, frame)] == [Reason.UNKNOWN_SYMBOL,
                                                               Reason.MARKET_HOURS]
