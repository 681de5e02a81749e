"""Pre-trade risk inside the backtester, and the metrics of a result.

Each limit on a hand-built market whose numbers can be checked with a pencil (no costs
unless a test is about them), the order orders are judged in (sells, then buys, each after
the fills before it), the validator kept in step across ex-dates and delistings, storage,
risk off leaving a run bit for bit unchanged, and two hypothesis properties.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from typing import Any, Literal
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_backtest import Scripted, flat, make_market, trades_of, unfilled_of
from test_properties import check_invariants, scenarios

from workbench import backtest, metrics, strategies
from workbench.backtest import run
from workbench.calendar import MARKET_TZ
from workbench.config import FILL_TIMES, BacktestConfig
from workbench.costs import Costs
from workbench.errors import ConfigError
from workbench.result import REJECTION_COLUMNS, BacktestResult, load_result
from workbench.risk import TOLERANCE_RATE, Order, PreTradeValidator, RiskLimits
from workbench.view import ViewContext

NO_COSTS = Costs.zero()
#: Limits nothing in these markets comes near (a cash account still: leverage 1).
LOOSE = RiskLimits(max_position_rate=1.0, max_daily_loss_rate=1.0, max_drawdown_rate=1.0,
                   max_sector_rate=1.0, max_gross_leverage=1.0, block_st_buys=False)
# make_market puts the n-th symbol in ("Banks", "Tech", "Energy")[n % 3]
A, B, C, D, E, F, G = (f"60000{i}.SH" for i in range(7))
TABLES = ("daily", "trades", "orders", "unfilled", "positions", "sector_exposure", "rejections")


def loose(**kw: Any) -> RiskLimits:
    return dataclasses.replace(LOOSE, **kw)


def rejections_of(result: BacktestResult) -> list[tuple]:
    r = result.rejections
    return list(zip(r["date"].dt.strftime("%m-%d"), r["symbol"], r["side"], r["shares"],
                    r["layer"], r["reason"], strict=True))


def assert_same(a: BacktestResult, b: BacktestResult) -> None:
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)
    assert a.daily.to_numpy().tobytes() == b.daily.to_numpy().tobytes()


# -- the limits ---------------------------------------------------------------------------------
def test_a_position_limit_caps_a_concentrated_strategy():
    # Capital 1,000,000, no costs. B opens at the previous close and drifts up in the day.
    m = make_market({A: flat(10.0, 6),
                     B: {"open": [10, 10.0, 10.3, 10.6, 10.6, 10.6],
                         "close": [10, 10.3, 10.6, 10.6, 10.6, 10.6]},
                     C: flat(10.0, 6), D: flat(10.0, 6)})
    s = Scripted(plan={"2024-01-02": {A: 0.40, B: 0.09, C: 0.09, D: 0.09},
                       "2024-01-04": {A: 0.40, B: 0.20, C: 0.09, D: 0.09}})
    limit = 0.10
    # lot_rounding='floor': the figures below floor each target to lots
    r = run(m, s, BacktestConfig(costs=NO_COSTS, risk=loose(max_position_rate=limit),
                                 lot_rounding="floor"))
    # 01-03: A 40,000 shares = 400,000 CNY > 10 % of 1,000,000: rejected; B, C, D 90,000 each
    # 01-04 close: equity 730,000 + 9,000 * 10.6 + 2 * 90,000 = 1,005,400; targets A 40,200
    #   (rejected again) and B 18,969 -> buy 9,900 more: 18,900 * 10.6 = 200,340 > 100,540
    assert rejections_of(r) == [
        ("01-03", A, "buy", 40_000, "position_size", "POSITION_SIZE"),
        ("01-05", A, "buy", 40_200, "position_size", "POSITION_SIZE"),
        ("01-05", B, "buy", 9_900, "position_size", "POSITION_SIZE"),
    ]
    assert r.rejections["message"].iloc[0] == (
        f"buy 40000 {A}: position would be 400,000.00 CNY = 40.00% of equity "
        "1,000,000.00 CNY, limit 10.00%")
    assert trades_of(r) == [("01-03", sym, "buy", 9_000, "signal") for sym in (B, C, D)]
    # rejected orders are unfilled with reason 'risk', nothing else about them
    risk = [u for u in unfilled_of(r) if u[4] == "risk"]
    assert risk == [(d, sym, side, q, "risk") for d, sym, side, q, *_ in rejections_of(r)]
    # every end-of-day weight after a buy is within the limit, up to the day's drift: the
    # stock's move from its fill price to the close, and the portfolio's from the last close
    w = r.weights()
    equity = r.equity
    for day, sym, price in zip(r.trades["date"], r.trades["symbol"], r.trades["price"],
                               strict=True):
        close = m.panel("close").loc[day, sym]
        prev = equity.shift(1, fill_value=1_000_000).loc[day]
        assert w.loc[day, sym] <= limit * close / price * prev / equity.loc[day] + 1e-12
    assert w.max().max() == pytest.approx(9_000 * 10.6 / 1_005_400)


@pytest.mark.parametrize("fill_at", list(FILL_TIMES))
def test_a_sector_limit_sees_the_buys_before_it(fill_at):
    # A, D, G are Banks. 12 % each: A and D fit (24 %), G would make 36 % > 30 %.
    m = make_market({s: flat(10.0, 4) for s in (A, B, C, D, E, F, G)})
    s = Scripted(plan={"2024-01-02": {A: 0.12, B: 0.12, D: 0.12, G: 0.12}})
    limits = loose(max_position_rate=0.2, max_sector_rate=0.3)
    r = run(m, s, BacktestConfig(costs=NO_COSTS, fill_at=fill_at, risk=limits))
    assert rejections_of(r) == [("01-03", G, "buy", 12_000, "sector", "SECTOR")]
    assert r.rejections["message"].iloc[0] == (
        f"buy 12000 {G}: sector Banks would be 360,000.00 CNY = 36.00% of equity "
        "1,000,000.00 CNY, limit 30.00%")
    assert [t[1] for t in trades_of(r)] == [A, B, D]
    assert r.sector_exposure.loc["2024-01-03", "Banks"] == pytest.approx(0.24)


def test_check_batch_would_let_all_three_through_so_the_engine_checks_in_turn():
    # The choice behind the engine's sequential checks, on the validator alone: judged
    # against one state, each 12 % Banks buy fits; judged after the fills before it, the
    # third does not.
    day = "2024-01-03"
    at = pd.Timestamp(f"{day} 09:30", tz="Asia/Shanghai")
    frame = pd.DataFrame({"symbol": [A, D, G], "sector": "Banks", "limit_up": 11.0,
                          "limit_down": 9.0})
    orders = pd.DataFrame({"symbol": [A, D, G], "side": "buy", "quantity": 12_000,
                           "limit_price": 10.0, "timestamp": at})
    v = PreTradeValidator(loose(max_position_rate=0.2, max_sector_rate=0.3),
                          cash_cny=1_000_000.0)
    v.start_day(day, frame)
    assert v.check_batch(orders)["accepted"].tolist() == [True, True, True]
    verdicts = []
    for row in orders.itertuples():
        d = v.check(Order(symbol=row.symbol, side="buy", quantity=row.quantity,
                          limit_price=row.limit_price, timestamp=row.timestamp))
        verdicts.append(d.reason.value)
        if d:
            v.on_fill(row.symbol, "buy", row.quantity, row.limit_price)
    assert verdicts == ["ACCEPTED", "ACCEPTED", "SECTOR"]


def test_sells_are_booked_before_buys_are_judged():
    # Switching 25 % from one bank (A) to another (D) under a 30 % sector limit: judged
    # before the sale, the buy would make Banks 50 %.
    m = make_market({A: flat(10.0, 5), D: flat(10.0, 5)})
    s = Scripted(plan={"2024-01-02": {A: 0.25}, "2024-01-04": {D: 0.25}})
    r = run(m, s, BacktestConfig(costs=NO_COSTS, risk=loose(max_sector_rate=0.3)))
    assert r.rejections.empty
    assert trades_of(r) == [("01-03", A, "buy", 25_000, "signal"),
                            ("01-05", A, "sell", 25_000, "signal"),
                            ("01-05", D, "buy", 25_000, "signal")]


def test_a_drawdown_stop_blocks_buys_but_lets_sells_through():
    # 100,000 CNY, 90 % in A, which falls 8 % a day: equity 100,000 -> 92,800 -> 86,140 ->
    # 80,020 (20 % below the peak). The strategy then cuts A to 30 % and buys B.
    m = make_market({A: {"close": [10, 10, 9.2, 8.46, 7.78, 7.78, 7.78]}, B: flat(10.0, 7)})
    s = Scripted(plan={"2024-01-02": {A: 0.9}, "2024-01-08": {A: 0.3, B: 0.3}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS,
                                 risk=loose(max_drawdown_rate=0.15, max_daily_loss_rate=0.03)))
    np.testing.assert_allclose(r.equity.iloc[:5], [100_000, 100_000, 92_800, 86_140, 80_020])
    # A: target floor(0.3 * 80,020 / 7.78) = 3,085, so sell 5,915 -> 5,900 in lots
    assert trades_of(r) == [("01-03", A, "buy", 9_000, "signal"),
                            ("01-09", A, "sell", 5_900, "signal")]
    assert rejections_of(r) == [("01-09", B, "buy", 2_400, "drawdown", "DRAWDOWN")]
    assert r.rejections["message"].iloc[0] == (
        "equity 80,020.00 CNY is 19.98% below its peak 100,000.00 CNY, limit 15.00%; stopped "
        "since 2024-01-09, only risk-reducing sells pass until equity is back within 15.00% "
        "of the peak or, after 20 more sessions (this is session 1), the peak resets")
    assert ("01-09", B, "buy", 2_400, "risk") in unfilled_of(r)


def test_after_an_early_crash_the_default_stop_re_arms_and_trading_resumes():
    # Nine names (three sectors) at 9.5 % each, all falling 8 % a day for three days to
    # 7.78: equity 1,000,000 -> 810,190, 18.98 % below the peak at the close of 01-08. From
    # 01-09 the strategy wants its 9.5 % back each session (a top-up of each name).
    names = [f"60000{i}.SH" for i in range(9)]
    n = 45
    m = make_market({s: {"close": [10, 10, 9.2, 8.46, 7.78] + [7.78] * (n - 5)} for s in names})
    days = m.calendar[:n]
    s = Scripted(plan={str(d.date()): dict.fromkeys(names, 0.095)
                       for d in days[[0, *range(5, n)]]})
    # lot_rounding='floor': the top-ups below are the targets floored to lots
    r = run(m, s, BacktestConfig(costs=NO_COSTS, risk=RiskLimits(), lot_rounding="floor"))
    assert r.equity.iloc[4] == pytest.approx(810_190.0)
    # the stop blocks the buys of the first session counted (01-10, when the validator next
    # starts a day) and 19 more: DRAWDOWN rejections then, and only then
    stopped = days[6:26]
    assert (stopped[0], stopped[-1]) == (pd.Timestamp("2024-01-10"), pd.Timestamp("2024-02-06"))
    rej = r.rejections
    assert set(rej["reason"]) == {"DRAWDOWN"} and len(rej) == 9 * len(stopped)
    assert sorted(set(rej["date"])) == list(stopped)
    assert rej["message"].iloc[0].endswith("after 20 more sessions (this is session 1), the "
                                           "peak resets")
    assert rej["message"].iloc[-1].endswith("(this is session 20), the peak resets")
    # the peak resets at 810,190 on the next session, and the top-ups fill
    assert trades_of(r) == ([("01-03", x, "buy", 9_500, "signal") for x in names]
                            + [("02-07", x, "buy", 300, "signal") for x in names])
    assert (r.weights().iloc[-1] > 0.09).all()
    # the stop that never re-arms keeps the account where the crash left it
    frozen = run(m, s, BacktestConfig(costs=NO_COSTS, risk=RiskLimits(drawdown_rearm="never"),
                                      lot_rounding="floor"))
    assert set(frozen.rejections["date"]) == set(days[6:])
    assert trades_of(frozen) == trades_of(r)[:9]
    assert frozen.rejections["message"].iloc[-1].endswith(
        "(drawdown_rearm='never': the peak is never reset)")


def test_st_buys_are_blocked_and_st_sells_pass():
    # B becomes ST on 01-04; C is ST throughout.
    m = make_market({A: flat(10.0, 7), B: flat(10.0, 7), C: flat(10.0, 7)})
    bars = m.bars
    st_rows = (bars["symbol"] == C) | ((bars["symbol"] == B) & (bars["date"] >= "2024-01-04"))
    bars.loc[st_rows, "is_st"] = True
    s = Scripted(plan={"2024-01-02": {A: 0.1, B: 0.1},
                       "2024-01-04": {A: 0.1, B: 0.2, C: 0.1},
                       "2024-01-08": {A: 0.1}})
    r = run(m, s, BacktestConfig(costs=NO_COSTS, risk=RiskLimits(max_position_rate=0.25)))
    assert rejections_of(r) == [("01-05", B, "buy", 10_000, "security", "ST_BLOCKED"),
                                ("01-05", C, "buy", 10_000, "security", "ST_BLOCKED")]
    assert trades_of(r) == [("01-03", A, "buy", 10_000, "signal"),
                            ("01-03", B, "buy", 10_000, "signal"),
                            ("01-09", B, "sell", 10_000, "signal")]
    allowed = run(m, s, BacktestConfig(costs=NO_COSTS, risk=RiskLimits(
        max_position_rate=0.25, block_st_buys=False)))
    assert allowed.rejections.empty
    assert ("01-05", C, "buy", 10_000, "signal") in trades_of(allowed)


def test_gross_leverage_limits_exposure():
    m = make_market({A: flat(10.0, 4), B: flat(10.0, 4)})
    s = Scripted(plan={"2024-01-02": {A: 0.3, B: 0.3}})
    r = run(m, s, BacktestConfig(costs=NO_COSTS, risk=loose(max_gross_leverage=0.5)))
    assert rejections_of(r) == [("01-03", B, "buy", 30_000, "leverage", "LEVERAGE")]
    assert "gross exposure would be 600,000.00 CNY = 0.6000x of equity" in (
        r.rejections["message"].iloc[0])


def test_buys_scaled_to_the_cash_pass_the_cash_check():
    # As in test_backtest: 50 % + 50 % and a 5 % gap up, so the engine scales both buys to
    # the cash (with costs). Fitted at their limit prices (10.51 for a fill at 10.50525),
    # they pass the validator's cash check (leverage 1) and here fill the same.
    m = make_market({A: {"open": [10, 10.5, 10.5], "close": [10, 10.5, 10.5]},
                     B: {"open": [10, 10.5, 10.5], "close": [10, 10.5, 10.5]}})
    s = Scripted(plan={"2024-01-02": {A: 0.5, B: 0.5}})
    cfg = BacktestConfig(capital_cny=100_000)
    r = run(m, s, dataclasses.replace(cfg, risk=LOOSE))
    assert r.rejections.empty
    assert r.trades["shares"].tolist() == [4800, 4700]
    assert r.cash.min() >= 0
    assert_same(r, run(m, s, cfg))


def test_the_limit_price_stays_in_the_band_and_a_fill_outside_it_is_refused():
    # 01-03: limit up 11.00. A opens at 10.99: slippage (5 bps) makes 10.995495, judged at
    # 11.00. B opens sealed at 11.00: no fill with price limits on; with them off the engine
    # would fill at 11.0055, outside the band, and the validator refuses it. (With limits on,
    # B's blocked buy is retried on 01-04, limit up 12.10, and fills there as 'carried'.)
    m = make_market({A: {"open": [10, 10.99, 10.99], "close": [10, 10.99, 10.99]},
                     B: {"open": [10, 11.0, 11.0], "close": [10, 11.0, 11.0]}})
    s = Scripted(plan={"2024-01-02": {A: 0.3, B: 0.3}})
    on = run(m, s, BacktestConfig(risk=LOOSE))
    assert on.rejections.empty
    assert trades_of(on) == [("01-03", A, "buy", 30_000, "signal"),
                             ("01-04", B, "buy", 30_000, "carried")]
    assert unfilled_of(on) == [("01-03", B, "buy", 30_000, "limit_up")]
    off = run(m, s, BacktestConfig(price_limits=False, risk=LOOSE))
    assert rejections_of(off) == [("01-03", B, "buy", 30_000, "order_rules", "PRICE_BAND")]
    assert "at 11.01 CNY is outside today's band [9.00, 11.00]" in off.rejections[
        "message"].iloc[0]


# -- the validator in step with the portfolio ---------------------------------------------------
@pytest.mark.parametrize("mode", ["reinvest", "cash"])
def test_ex_dates_keep_the_validator_in_step(mode):
    # 90 % in A; 01-04 is an ex-date taking 20 % out of the price (10.00 -> 8.00). Equity is
    # unchanged, so a 10 % drawdown stop must not fire; a validator that missed the payout
    # (or the bonus shares) would see equity 18 % down and refuse the buy of B.
    m = make_market({A: {"close": [10, 10, 8, 8, 8], "prev_close": [10, 10, 8, 8, 8]},
                     B: flat(10.0, 5)})
    s = Scripted(plan={"2024-01-02": {A: 0.9}, "2024-01-04": {A: 0.9, B: 0.05}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, corporate_actions=mode,
                                 risk=loose(max_drawdown_rate=0.10)))
    assert r.equity.tolist() == [100_000] * 5
    assert r.rejections.empty
    assert ("01-05", B, "buy", 500, "signal") in trades_of(r)


@pytest.mark.parametrize(("delisting", "refused"), [("last_price", False), ("write_off", True)])
def test_delistings_keep_the_validator_in_step(delisting, refused):
    # Half the capital in A, which delists on 01-05 (last close 10.00): settled at its last
    # price equity is unchanged; written off it is down 50 %, and the drawdown stop fires.
    m = make_market({A: flat(10.0, 3), B: flat(10.0, 6)}, delist={A: "2024-01-05"})
    s = Scripted(plan={"2024-01-02": {A: 0.5}, "2024-01-05": {B: 0.1}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, delisting=delisting,
                                 risk=loose(max_drawdown_rate=0.2)))
    if refused:
        assert rejections_of(r) == [("01-08", B, "buy", 500, "drawdown", "DRAWDOWN")]
    else:
        assert r.rejections.empty
        assert trades_of(r)[-1] == ("01-08", B, "buy", 1_000, "signal")


# -- risk off, loose limits, storage ------------------------------------------------------------
def _busy_market():
    return make_market({
        A: {"open": [10, 10.2, 11.22, 10.5, 10.1, 9.9, 9.9],
            "close": [10, 10.2, 11.0, 10.5, 10.1, 9.9, 9.9]},
        "688001.SH": flat(30.0, 7, suspended=[3]),
        "830001.BJ": {"close": [5, 5.5, 5.4, 5.2]},
        C: {"close": [20, 20, 20, 16, 16, 16, 16], "prev_close": [20, 20, 20, 16, 16, 16, 16]},
    }, delist={"830001.BJ": "2024-01-08"})


_BUSY = Scripted(plan={"2024-01-02": {A: 0.2, "688001.SH": 0.2, "830001.BJ": 0.2, C: 0.2},
                       "2024-01-04": {A: 0.4, "688001.SH": 0.1, "830001.BJ": 0.1, C: 0.3}})


def test_risk_off_leaves_a_run_bit_for_bit_unchanged():
    m = _busy_market()
    plain = run(m, _BUSY, BacktestConfig(capital_cny=250_000))
    off = run(m, _BUSY, dataclasses.replace(BacktestConfig(capital_cny=250_000, risk=LOOSE),
                                            risk=None))
    assert_same(plain, off)
    assert plain.rejections.empty and list(plain.rejections.columns) == list(REJECTION_COLUMNS)
    assert "risk" not in set(plain.unfilled["reason"])
    assert plain.risk_summary()["enabled"] is False


def test_limits_that_never_bind_leave_a_run_unchanged():
    # suspensions, a delisting, an ex-date, price-limit days: the validator agrees with the
    # engine on all of them, so only its verdicts could change a run, and none fires
    m = _busy_market()
    for fill_at in FILL_TIMES:
        cfg = BacktestConfig(capital_cny=250_000, fill_at=fill_at)
        on = run(m, _BUSY, dataclasses.replace(cfg, risk=LOOSE))
        assert on.rejections.empty
        assert_same(on, run(m, _BUSY, cfg))


def test_rejections_are_saved_and_loaded(tmp_path):
    m = make_market({s: flat(10.0, 5) for s in (A, B, C, D, E, F, G)})
    # 01-03: B > 20 % of equity, G takes Banks to 36 %; 01-05: the same again, and after C
    # (19 %) E would take gross exposure to 62 % > 50 %
    s = Scripted(plan={"2024-01-02": {A: 0.12, B: 0.25, D: 0.12, G: 0.12},
                       "2024-01-04": {A: 0.12, B: 0.25, C: 0.19, D: 0.12, E: 0.19, G: 0.12}})
    limits = RiskLimits(max_position_rate=0.2, max_sector_rate=0.3, max_gross_leverage=0.5)
    r = run(m, s, BacktestConfig(costs=NO_COSTS, risk=limits))
    summary = r.risk_summary()
    assert summary["by_layer"] == {"position_size": 2, "sector": 2, "leverage": 1}
    assert summary["by_reason"] == {"POSITION_SIZE": 2, "SECTOR": 2, "LEVERAGE": 1}
    assert summary["rejections"] == 5 and summary["enabled"]
    assert summary["limits"] == dataclasses.asdict(limits)
    json.dumps(summary, allow_nan=False)
    back = load_result(r.save(tmp_path / "run"))
    assert_same(r, back)
    assert back.config == r.config and back.config.risk == limits
    assert back.risk_summary()["by_reason"] == summary["by_reason"]
    # an empty table keeps its columns and categories too
    none = run(m, s, BacktestConfig(costs=NO_COSTS))
    assert_same(none, load_result(none.save(tmp_path / "none")))


def test_a_version_1_result_still_loads(tmp_path):
    r = run(make_market({A: flat()}), Scripted(plan={"2024-01-02": {A: 0.5}}))
    path = r.save(tmp_path / "old")
    doc = json.loads((path / "result.json").read_text())
    doc["format_version"] = 1
    del doc["config"]["risk"], doc["checksums"]  # no checksums before version 5
    (path / "result.json").write_text(json.dumps(doc))
    (path / "rejections.parquet").unlink()
    daily = pd.read_parquet(path / "daily.parquet").drop(columns="benchmark_close")
    daily.to_parquet(path / "daily.parquet")
    back = load_result(path)
    assert back.rejections.empty and back.daily["benchmark_close"].isna().all()
    assert back.config.risk is None


def test_risk_config_is_validated_and_round_trips():
    with pytest.raises(ConfigError, match=r"risk must be a workbench\.risk\.RiskLimits"):
        BacktestConfig(risk={"max_position_rate": 0.1})
    with pytest.raises(ConfigError, match="risk needs board_lots=True"):
        BacktestConfig(risk=RiskLimits(), board_lots=False)
    cfg = BacktestConfig(risk=RiskLimits(max_position_rate=0.05))
    assert BacktestConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ConfigError, match=r"unknown risk fields \['max_pos'\]"):
        BacktestConfig.from_dict({"risk": {"max_pos": 0.1}})


# -- metrics on the result ----------------------------------------------------------------------
def test_metrics_are_the_metrics_module_on_the_result(tiny):
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}, "2024-01-04": {}})
    r = run(tiny, s, BacktestConfig(capital_cny=100_000))
    assert r.daily["benchmark_close"].tolist() == [3500.0, 3505.0, 3499.0, 3510.0, 3520.0]
    bench = pd.Series([0.0, 3505 / 3500 - 1, 3499 / 3505 - 1, 3510 / 3499 - 1,
                       3520 / 3510 - 1], index=r.daily.index)
    pd.testing.assert_series_equal(r.benchmark_returns, bench, check_names=False)
    got = r.metrics()
    json.dumps(got, allow_nan=False)  # strict JSON: no NaN, no dates
    want = metrics.summary(r.returns, bench, r.trades, r.equity)
    for key, value in want.items():
        if isinstance(value, pd.Timestamp) or value is pd.NaT:
            assert got[key] == (None if value is pd.NaT else str(value.date())), key
        elif isinstance(value, float) and not math.isfinite(value):
            assert got[key] is None, key
        elif isinstance(value, str):
            assert got[key] == value, key
        else:
            assert got[key] == pytest.approx(value, rel=1e-12, abs=0), key
    # annualised by the XSHG calendar: 2024 has 242 sessions
    alpha, beta = metrics.alpha_beta(r.returns, bench, periods_per_year=242)
    assert (got["alpha"], got["beta"]) == (pytest.approx(alpha), pytest.approx(beta))
    assert got["sharpe_ratio"] == pytest.approx(metrics.sharpe_ratio(r.returns,
                                                                     periods_per_year=242))
    assert got["max_drawdown"] == pytest.approx(metrics.max_drawdown(r.returns))
    assert got["start"] == "2024-01-02" and got["end"] == "2024-01-08"
    assert got["n_round_trips"] == 1 and got["n_trades"] == 2 and got["n_settlements"] == 0
    assert got["periods_per_year"] == 242.0  # XSHG 2024
    assert got["annual_return"] == pytest.approx(metrics.calendar_annual_return(r.returns))
    t = r.trades
    for kind in ("commission", "stamp_duty", "transfer_fee", "slippage"):
        assert got[f"{kind}_cny"] == pytest.approx(t[kind].sum())
    assert got["costs_cny"] == pytest.approx(r.daily["fees_cny"].sum())
    assert got["stamp_duty_cny"] > 0  # the sell paid it
    assert got["annual_turnover"] == pytest.approx(
        metrics.annual_turnover(r.trades, r.equity, periods_per_year=242))
    assert got["mean_daily_turnover"] == pytest.approx(r.turnover.mean())
    assert got["final_equity_cny"] == r.equity.iloc[-1] and got["risk_rejections"] == 0
    assert r.metrics(periods_per_year=243)["annual_return"] == pytest.approx(
        metrics.annual_return(r.returns, 243))


def test_metrics_without_trades_or_with_benchmark_gaps(tiny):
    gappy = dataclasses.replace(tiny, benchmark=tiny.benchmark.drop(index=[2]))
    r = run(gappy, Scripted())
    assert np.isnan(r.daily["benchmark_close"].iloc[2])
    m = r.metrics()  # the gap is carried over (a 0 return), no warning
    json.dumps(m, allow_nan=False)
    assert m["n_trades"] == 0 and m["total_return"] == 0.0
    assert m["benchmark_total_return"] == pytest.approx(3520 / 3500 - 1)
    assert m["sharpe_ratio"] is None  # no dispersion: NaN, written as null
    none = dataclasses.replace(tiny, benchmark=tiny.benchmark.iloc[:0])
    r = run(none, Scripted())
    assert r.benchmark_returns is None and "alpha" not in r.metrics()


# -- properties ---------------------------------------------------------------------------------
@st.composite
def risky_scenarios(draw: st.DrawFn):
    market, strategy, config = draw(scenarios())
    limits = RiskLimits(
        max_position_rate=draw(st.sampled_from([0.05, 0.2, 0.5])),
        max_sector_rate=draw(st.sampled_from([0.3, 1.0])),
        max_daily_loss_rate=draw(st.sampled_from([0.03, 1.0])),
        max_drawdown_rate=draw(st.sampled_from([0.1, 1.0])),
        max_gross_leverage=draw(st.sampled_from([0.8, 1.0])),
        drawdown_rearm=draw(st.sampled_from(["never", "recover", "cooloff"])),
        drawdown_cooloff_sessions=draw(st.sampled_from([1, 20])))
    return market, strategy, dataclasses.replace(config, risk=limits)


def _judged_positions(market, result: BacktestResult) -> list[tuple[float, float, float]]:
    """Per exchange buy: (position at the mark + shares x fill price, equity judged against,
    limit), re-computed from the tables as the validator books them: holdings and cash at
    the last close (after settlements), marked at the fill-time price where there is one,
    then each fill of the session in log order (sells first), at its price, less its fees.
    """
    cfg = result.config
    if cfg.fill_at == "vwap":
        at_fill = market.panel("amount") / market.panel("volume")
    else:
        at_fill = market.panel(cfg.fill_at)
    # the validator's marks before the open: the last close, or the ex-rights reference
    last_close = market.panel("close").ffill().shift(1)
    reference = market.panel("prev_close").reindex_like(last_close)
    last_close = reference.where(np.isfinite(reference), last_close)
    t = result.trades
    fees = t[list(metrics.COST_COLUMNS)].sum(axis=1) + t["dividend_tax"]
    daily = result.daily
    out = []
    held: dict[str, int] = {}
    cash = cfg.capital_cny
    for k, day in enumerate(daily.index):
        fills = t[t["date"] == day]
        cash += daily["dividends_cny"].iloc[k]  # paid before the open (cash mode)
        if cfg.corporate_actions == "reinvest":  # the payout, spent on the new shares below
            cash += daily["corporate_action_cny"].iloc[k]
        # the validator counts dividends gone ex but not yet paid as cash
        receivable = daily["receivable_cny"].iloc[k]
        marks = {s: last_close.loc[day, s] for s in held}
        for s in held:
            px = at_fill.loc[day, s]
            if np.isfinite(px) and px > 0:
                marks[s] = px
        for (_, f), fee in zip(fills.iterrows(), fees[fills.index], strict=True):
            s, q, px = f["symbol"], int(f["shares"]), float(f["price"])
            if f["reason"] == "delisted":
                cash += q * px
                held[s] = held.get(s, 0) - q
                continue
            if f["reason"] == "corporate_action":  # new shares: bought with the payout when
                sign = 1 if f["side"] == "buy" else -1  # reinvested, free in cash mode
                if cfg.corporate_actions == "reinvest":
                    cash -= sign * q * px
                held[s] = held.get(s, 0) + sign * q
                continue
            if f["side"] == "buy":
                equity = cash + receivable + sum(n * marks.get(x, 0.0) for x, n in held.items())
                before = held.get(s, 0) * marks.get(s, 0.0)
                out.append((before + q * px, equity, cfg.risk.max_position_rate))
                cash -= q * px + fee
                held[s] = held.get(s, 0) + q
            else:
                cash += q * px - fee
                held[s] -= q
            marks[s] = px
        held = {s: n for s, n in held.items() if n}
        np.testing.assert_allclose(cash, daily["cash_cny"].iloc[k], rtol=0, atol=1e-6)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(risky_scenarios())
def test_no_accepted_buy_leaves_a_position_above_the_limit(scenario):
    market, strategy, config = scenario
    result = run(market, strategy, config)
    check_invariants(market, result, config)
    for value, equity, limit in _judged_positions(market, result):
        assert value <= limit * equity + TOLERANCE_RATE * abs(equity) + 1e-6, (value, equity)
    # every rejection is an unfilled 'risk' row, and the other way round
    u = result.unfilled[result.unfilled["reason"] == "risk"]
    rej = result.rejections
    assert list(zip(u["date"], u["symbol"], u["side"], u["shares"], strict=True)) == list(
        zip(rej["date"], rej["symbol"], rej["side"], rej["shares"], strict=True))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(["open", "close"]))
def test_limits_that_never_bind_change_nothing_on_random_markets(scenario, fill_at):
    # No costs and prices on the tick: the limit price is the fill price, so the cash is
    # fitted alike with risk on and off.
    market, strategy, config = scenario
    config = dataclasses.replace(config, costs=NO_COSTS, fill_at=fill_at)
    on = run(market, strategy, dataclasses.replace(config, risk=LOOSE))
    assert on.rejections.empty
    assert_same(on, run(market, strategy, config))


# -- the session path against the per-order validator --------------------------------------------
class PerOrderGate:
    """The backtester's gate as it was before the session path: a PreTradeValidator fed
    by symbol code (a frame per day, a dict of marks, ``check`` and ``on_fill`` on each
    order). The reference the engine's SessionValidator path is held equal to."""

    def __init__(self, limits: RiskLimits, ctx: ViewContext, capital_cny: float, *,
                 fill_at: str, fill_px: np.ndarray, close: np.ndarray,
                 limit_up: np.ndarray, limit_down: np.ndarray, suspended: np.ndarray,
                 sectors: np.ndarray) -> None:
        n = len(ctx.symbols)
        self.v = PreTradeValidator(limits, cash_cny=capital_cny)
        self.names: list[str] = [str(s) for s in ctx.symbols]
        self.symbols = np.array(self.names, dtype=object)
        self.boards = ctx.securities["board"].astype(str).to_numpy(dtype=object)
        self.sectors = sectors.astype(object)
        self.delist_row = ctx.delist_row
        self.is_st = ctx.array("is_st") if "is_st" in ctx.market.bars.columns else None
        self.fill_px, self.close = fill_px, close
        self.limit_up, self.limit_down, self.suspended = limit_up, limit_down, suspended
        self.time = FILL_TIMES[fill_at]
        self.held = np.zeros(n, dtype=np.int64)  # what the validator holds
        # Symbols are registered when they first have an order, and the validator keeps
        # flags until a frame changes them: so a day's frame carries only what changed.
        self.registered = np.zeros(n, dtype=bool)
        self.flags = {f: np.zeros(n, dtype=bool) for f in ("is_st", "suspended", "delisted")}
        self.row = 0
        self.stamp = pd.Timestamp("1970-01-01", tz=MARKET_TZ)
        self.rejected: list[tuple[int, int, int, int, str, str]] = []

    def _marks(self, prices: np.ndarray, sym: np.ndarray) -> dict[str, float]:
        px = prices[sym]
        ok = np.isfinite(px) & (px > 0)
        return dict(zip([self.names[i] for i in sym[ok].tolist()], px[ok].tolist(),
                        strict=True))

    # -- state ----------------------------------------------------------------------------
    def settle(self, shares: np.ndarray, cash_cny: float, reference: np.ndarray) -> None:
        """After ex-dates and delistings: the portfolio's holdings and cash, marked at
        ``reference`` (the ex-rights ``prev_close``)."""
        changed = np.flatnonzero(self.held != shares)
        self.v.on_settlement({self.names[i]: int(shares[i]) for i in changed.tolist()},
                      self._marks(reference, np.flatnonzero(shares)), cash_cny)
        self.held[changed] = shares[changed]

    def open(self, row: int, day: pd.Timestamp, sym: np.ndarray, held: np.ndarray) -> None:
        """Start session ``row`` with the rows of the symbols ``sym`` that have orders; mark
        the holdings (positions ``held``) at the fill-time price."""
        assert np.array_equal(held, np.flatnonzero(self.held))  # the engine's are ours
        self.row = row
        self.stamp = pd.Timestamp(dt.datetime.combine(day.date(), self.time), tz=MARKET_TZ)
        if not self.registered[sym].all():
            new = sym[~self.registered[sym]]
            self.v.update_securities(_object_frame({"symbol": self.symbols[new],
                                             "board": self.boards[new],
                                             "sector": self.sectors[new]}))
            self.registered[new] = True
        up, down = self.limit_up[row, sym], self.limit_down[row, sym]
        known = np.isfinite(up) & np.isfinite(down)  # else no limit (as the engine reads it)
        columns = {"symbol": self.symbols[sym], "limit_up": np.where(known, up, np.nan),
                   "limit_down": np.where(known, down, np.nan)}
        flags = {"is_st": (np.zeros(len(sym), dtype=bool) if self.is_st is None
                           else self.is_st[row, sym].astype(bool)),
                 "suspended": self.suspended[row, sym].astype(bool),
                 "delisted": row >= self.delist_row[sym]}
        for name, now in flags.items():
            if (now != self.flags[name][sym]).any():
                columns[name] = now
                self.flags[name][sym] = now
        self.v.start_day(day, _object_frame(columns))
        if marks := self._marks(self.fill_px[row], held):
            self.v.on_prices(marks)

    def close_session(self, row: int, held: np.ndarray) -> None:
        """Mark the holdings (positions ``held``) at the session's close."""
        if marks := self._marks(self.close[row], held):
            self.v.on_prices(marks)

    # -- Gate -----------------------------------------------------------------------------
    def _limit_fen(self, sym: np.ndarray, price: np.ndarray, buy: bool) -> np.ndarray:
        """Limit prices in CNY: the fill price rounded to the fen against the trader, kept
        in the day's band unless the fill itself is outside it."""
        cents = price * 100.0
        if buy:
            fen = np.ceil(cents - 1e-6)
            up = np.round(self.limit_up[self.row, sym] * 100.0)
            fen = np.where(cents <= up + 1e-6, np.minimum(fen, up), fen)  # NaN: no limit
        else:
            fen = np.floor(cents + 1e-6)
            down = np.round(self.limit_down[self.row, sym] * 100.0)
            fen = np.where(cents >= down - 1e-6, np.maximum(fen, down), fen)
        return fen / 100.0

    def _judge(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
               fee_cny: np.ndarray | None) -> np.ndarray:
        buy = fee_cny is not None
        side: Literal["buy", "sell"] = "buy" if buy else "sell"
        v, names, stamp = self.v, self.names, self.stamp
        ok = np.ones(len(sym), dtype=bool)
        limits = self._limit_fen(sym, price, buy).tolist()
        fees = fee_cny.tolist() if fee_cny is not None else None
        for j, (i, q, limit) in enumerate(zip(sym.tolist(), shares.tolist(), limits,
                                              strict=True)):
            d = v.check(Order(symbol=names[i], side=side, quantity=q, limit_price=limit,
                              timestamp=stamp))
            if not d.accepted:
                ok[j] = False
                self.rejected.append((self.row, i, int(not buy), q, d.reason.value,
                                      d.message))
            elif fees is not None:
                v.on_fill(names[i], "buy", q, float(price[j]), fee_cny=fees[j])
                self.held[i] += q
        return ok

    def judge_sells(self, sym: np.ndarray, shares: np.ndarray,
                    price: np.ndarray) -> np.ndarray:
        return self._judge(sym, shares, price, None)

    def book_sells(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
                   fee_cny: np.ndarray) -> None:
        for i, q, px, fee in zip(sym.tolist(), shares.tolist(), price.tolist(),
                                 fee_cny.tolist(), strict=True):
            self.v.on_fill(self.names[i], "sell", q, px, fee_cny=fee)
            self.held[i] -= q

    def judge_buys(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
                   fee_cny: np.ndarray, limit_price: np.ndarray) -> np.ndarray:
        assert np.array_equal(limit_price, self.buy_limits(sym, price))
        return self._judge(sym, shares, price, fee_cny)

    def buy_limits(self, sym: np.ndarray, price: np.ndarray) -> np.ndarray:
        return self._limit_fen(sym, price, True)


def _object_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """A small object-dtype frame for the validator, without pandas' string inference."""
    out = np.empty((len(next(iter(columns.values()))), len(columns)), dtype=object)
    for j, values in enumerate(columns.values()):
        out[:, j] = values
    return pd.DataFrame(out, columns=pd.Index(list(columns), dtype=object), copy=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(risky_scenarios())
def test_the_session_path_gives_the_results_of_the_per_order_validator(scenario):
    market, strategy, config = scenario
    fast = run(market, strategy, config)
    with mock.patch.object(backtest, "_RiskGate", PerOrderGate):
        slow = run(market, strategy, config)
    assert_same(fast, slow)
    assert fast.warnings == slow.warnings


@pytest.fixture(scope="module")
def small_market():
    from workbench.data import synthetic_market

    return synthetic_market(n_stocks=30, start="2021-01-04", end="2023-06-30", seed=11)


#: Tight enough that every layer of the stops and caps rejects buys on the small market.
TIGHT = RiskLimits(max_position_rate=0.04, max_daily_loss_rate=0.01, max_drawdown_rate=0.04,
                   max_sector_rate=0.12, max_gross_leverage=0.6)


@pytest.mark.parametrize("limits", [RiskLimits(), TIGHT], ids=["default", "tight"])
@pytest.mark.parametrize("name", strategies.available())
def test_every_strategy_gets_the_per_order_validators_results_from_the_session_path(
        small_market, name, limits):
    strategy = strategies.get(name)
    config = BacktestConfig(risk=limits)
    fast = run(small_market, strategy, config)
    with mock.patch.object(backtest, "_RiskGate", PerOrderGate):
        slow = run(small_market, strategy, config)
    assert_same(fast, slow)
    assert fast.warnings == slow.warnings
    # the default limits let it trade; the tight ones bind
    assert len(fast.rejections) if limits is TIGHT else len(fast.trades)
