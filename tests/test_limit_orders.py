"""Orders blocked by a sealed price limit: carried to the next session, or dropped.

``BacktestConfig(limit_orders=...)``: ``'carry'`` (default) retries a buy blocked at
``limit_up`` (a sell blocked at ``limit_down``) on each later session until it fills, the
strategy returns new target weights, or the stock delists, exactly as ``suspended_orders``
does for suspensions; ``'drop'`` forgets it (the engine's only behaviour before the
option). Markets are hand-built (see ``test_backtest.make_market``): no costs, capital
100,000 CNY, fills at the next open, so every number can be checked with a pencil.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_backtest import NO_COSTS, Scripted, make_market, trades_of, unfilled_of

from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.errors import ConfigError
from workbench.result import load_result

A, B = "600000.SH", "600001.SH"


def config(mode: str, **kw) -> BacktestConfig:
    return BacktestConfig(capital_cny=100_000, costs=NO_COSTS, limit_orders=mode, **kw)


# -- buys at limit-up ---------------------------------------------------------------------------
# A: prev close 10.00 on 01-03, limit up 11.00, opens sealed at 11.00; on 01-04 the limit is
# 12.10 (prev close 11.00) and A opens at 11.50.
LIMIT_UP_ONCE = {A: {"open": [10, 11, 11.5, 11.5], "close": [10, 11, 11.5, 11.5]}}


def test_a_buy_blocked_at_limit_up_fills_next_session_when_carried():
    # 01-02: 0.4 * 100,000 / 10.00 = 4,000 shares. 01-03: blocked. 01-04: 4,000 at 11.50 =
    # 46,000 CNY; cash 54,000; equity at the 01-04 close 54,000 + 4,000 * 11.50 = 100,000.
    m = make_market(LIMIT_UP_ONCE)
    s = Scripted(plan={"2024-01-02": {A: 0.4}})
    r = run(m, s, config("carry"))
    assert unfilled_of(r) == [("01-03", A, "buy", 4000, "limit_up")]
    assert trades_of(r) == [("01-04", A, "buy", 4000, "carried")]
    assert r.trades["price"].tolist() == [11.5]
    assert r.cash.tolist() == [100_000, 100_000, 54_000, 54_000]
    assert r.orders["carried"].tolist() == [False, True]
    assert r.orders["decided"].dt.strftime("%m-%d").tolist() == ["01-02", "01-02"]

    dropped = run(m, s, config("drop"))
    assert unfilled_of(dropped) == [("01-03", A, "buy", 4000, "limit_up")]
    assert dropped.trades.empty
    assert dropped.orders["carried"].tolist() == [False]
    assert dropped.cash.tolist() == [100_000] * 4


def test_each_blocked_session_is_logged_until_the_carried_buy_fills():
    # sealed at 11.00 on 01-03 and at 12.10 on 01-04, then opens at 12.50 (limit 13.31)
    m = make_market({A: {"open": [10, 11, 12.1, 12.5], "close": [10, 11, 12.1, 12.5]}})
    r = run(m, Scripted(plan={"2024-01-02": {A: 0.4}}), config("carry"))
    assert unfilled_of(r) == [("01-03", A, "buy", 4000, "limit_up"),
                              ("01-04", A, "buy", 4000, "limit_up")]
    assert trades_of(r) == [("01-05", A, "buy", 4000, "carried")]
    assert r.orders["carried"].tolist() == [False, True, True]


def test_a_carried_buy_is_sized_again_to_the_cash_in_whole_lots():
    # 0.9 * 100,000 / 10.00 = 9,000 shares, blocked on 01-03; on 01-04 they would cost
    # 9,000 * 12.00 = 108,000 > 100,000: floor(100,000 / 12.00 / 100) = 83 lots = 8,300
    # shares (99,600 CNY); the 700 cut for cash are gone, not carried again.
    m = make_market({A: {"open": [10, 11, 12, 12, 12], "close": [10, 11, 12, 12, 12]}})
    r = run(m, Scripted(plan={"2024-01-02": {A: 0.9}}), config("carry"))
    assert trades_of(r) == [("01-04", A, "buy", 8300, "carried")]
    assert unfilled_of(r) == [("01-03", A, "buy", 9000, "limit_up"),
                              ("01-04", A, "buy", 700, "insufficient_cash")]
    assert r.cash.iloc[-1] == pytest.approx(400.0, abs=1e-9)
    assert r.orders["carried"].tolist() == [False, True]


# -- sells at limit-down ------------------------------------------------------------------------
def test_a_sell_blocked_at_limit_down_fills_next_session_when_carried():
    # 01-03: buy 5,000 at 10.00. Decided 01-03: sell all. 01-04: prev close 10.00, limit
    # down 9.00, opens sealed at 9.00 -> blocked. 01-05: limit down 8.10, opens at 9.50 ->
    # the carried sell fills: cash 50,000 + 5,000 * 9.50 = 97,500.
    m = make_market({A: {"open": [10, 10, 9, 9.5], "close": [10, 10, 9, 9.5]}})
    s = Scripted(plan={"2024-01-02": {A: 0.5}, "2024-01-03": {}})
    r = run(m, s, config("carry"))
    assert unfilled_of(r) == [("01-04", A, "sell", 5000, "limit_down")]
    assert trades_of(r) == [("01-03", A, "buy", 5000, "signal"),
                            ("01-05", A, "sell", 5000, "carried")]
    assert r.trades["price"].tolist() == [10.0, 9.5]
    assert r.cash.tolist() == [100_000, 50_000, 50_000, 97_500]

    dropped = run(m, s, config("drop"))
    assert unfilled_of(dropped) == [("01-04", A, "sell", 5000, "limit_down")]
    assert trades_of(dropped) == [("01-03", A, "buy", 5000, "signal")]
    assert dropped.positions.groupby("date")["shares"].sum().tolist() == [5000, 5000, 5000]


def test_a_new_plan_replaces_a_carried_sell():
    # As above, the sale of A is blocked on 01-04 and carried; but on 01-04 the strategy
    # returns new weights (B 0.2 of the 95,000 equity at the close: 1,900 shares), and that
    # plan replaces the carried sell: A's sale is planned afresh from the holding (a signal).
    m = make_market({A: {"open": [10, 10, 9, 9.5], "close": [10, 10, 9, 9.5]},
                     B: {"close": [10, 10, 10, 10]}})
    s = Scripted(plan={"2024-01-02": {A: 0.5}, "2024-01-03": {},
                       "2024-01-04": {B: 0.2}})
    r = run(m, s, config("carry"))
    assert unfilled_of(r) == [("01-04", A, "sell", 5000, "limit_down")]
    assert trades_of(r) == [("01-03", A, "buy", 5000, "signal"),
                            ("01-05", A, "sell", 5000, "signal"),
                            ("01-05", B, "buy", 1900, "signal")]
    assert not r.orders["carried"].any()


# -- a new plan replaces a carried order --------------------------------------------------------
def test_a_new_plan_replaces_a_carried_buy():
    # A's buy is blocked on 01-03; on 01-03 the strategy now wants only B: the carried buy of
    # A is gone, B fills on 01-04 (0.4 * 100,000 / 10.00 = 4,000 shares).
    m = make_market({**LIMIT_UP_ONCE, B: {"close": [10, 10, 10, 10]}})
    s = Scripted(plan={"2024-01-02": {A: 0.4}, "2024-01-03": {B: 0.4}})
    r = run(m, s, config("carry"))
    assert unfilled_of(r) == [("01-03", A, "buy", 4000, "limit_up")]
    assert trades_of(r) == [("01-04", B, "buy", 4000, "signal")]
    assert r.orders["symbol"].tolist() == [A, B]
    assert not r.orders["carried"].any()


def test_a_new_plan_that_still_wants_the_stock_sizes_it_afresh():
    # On 01-03 the strategy repeats its 0.4 in A: a new order at the 01-03 close (11.00),
    # floor(0.4 * 100,000 / 11.00) = 3,636 -> 3,600 shares, and with lot_rounding='fill'
    # (the default) one lot more, 3,700 (64 shares above the target, under a lot; 40,700 CNY
    # fits the cash), fills on 01-04 as a signal.
    m = make_market(LIMIT_UP_ONCE)
    s = Scripted(plan={"2024-01-02": {A: 0.4}, "2024-01-03": {A: 0.4}})
    for mode in ("carry", "drop"):
        r = run(m, s, config(mode))
        assert trades_of(r) == [("01-04", A, "buy", 3700, "signal")]
        assert r.orders["carried"].tolist() == [False, False]
        floored = run(m, s, config(mode, lot_rounding="floor"))
        assert trades_of(floored) == [("01-04", A, "buy", 3600, "signal")]


# -- other rules still hold ---------------------------------------------------------------------
def test_limits_off_leave_nothing_to_carry():
    m = make_market(LIMIT_UP_ONCE)
    r = run(m, Scripted(plan={"2024-01-02": {A: 0.4}}), config("carry", price_limits=False))
    assert trades_of(r) == [("01-03", A, "buy", 4000, "signal")]
    assert r.unfilled.empty


def test_a_suspended_order_then_blocked_at_the_limit_is_carried_until_it_fills():
    # suspended on 01-03, reopens sealed at the limit-up 11.00 on 01-04, fills on 01-05
    m = make_market({A: {"open": [10, 10, 11, 11.5], "close": [10, 10, 11, 11.5],
                         "suspended": [1]}})
    s = Scripted(plan={"2024-01-02": {A: 0.4}})
    r = run(m, s, config("carry"))
    assert unfilled_of(r) == [("01-03", A, "buy", 4000, "suspended"),
                              ("01-04", A, "buy", 4000, "limit_up")]
    assert trades_of(r) == [("01-05", A, "buy", 4000, "carried")]
    # carried through the suspension, then dropped at the limit
    assert run(m, s, config("drop")).trades.empty


# -- configuration ------------------------------------------------------------------------------
def test_limit_orders_is_validated_and_round_trips():
    with pytest.raises(ConfigError, match=r"limit_orders must be one of \['carry', 'drop'\]"):
        BacktestConfig(limit_orders="keep")
    assert BacktestConfig().limit_orders == "carry"
    cfg = BacktestConfig(limit_orders="drop")
    assert cfg.to_dict()["limit_orders"] == "drop"
    assert BacktestConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    assert BacktestConfig.from_dict(BacktestConfig().to_dict()).limit_orders == "carry"


def test_a_result_saved_before_the_option_loads_as_drop(tmp_path):
    # the engine dropped limit-blocked orders then, so the config must say so: re-running
    # it reproduces the saved result
    m = make_market(LIMIT_UP_ONCE)
    s = Scripted(plan={"2024-01-02": {A: 0.4}})
    path = run(m, s, config("drop")).save(tmp_path / "old")
    doc = json.loads((path / "result.json").read_text())
    del doc["config"]["limit_orders"], doc["checksums"]  # no checksums before version 5
    doc["format_version"] = 4
    (path / "result.json").write_text(json.dumps(doc))
    back = load_result(path)
    assert back.config.limit_orders == "drop"
    again = run(m, s, back.config)
    assert trades_of(again) == trades_of(back) == []
    np.testing.assert_array_equal(again.equity, back.equity)
