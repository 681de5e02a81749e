"""The backtester: a worked example checked to the fen, each A-share rule, bad input, storage.

Markets here are built by hand (:func:`make_market`) so every number can be checked with a
pencil. ``Scripted`` is a strategy that returns fixed weights on given dates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from workbench import rules
from workbench.backtest import run
from workbench.calendar import sessions
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data.market import Market
from workbench.data.schema import FUNDAMENTAL_COLUMNS, ST_COLUMNS
from workbench.errors import ConfigError, DataError
from workbench.result import BacktestResult
from workbench.strategies.base import Strategy
from workbench.symbols import board_of

SECTORS = ("Banks", "Tech", "Energy")


def make_market(spec: dict[str, dict[str, Any]], *, start: str = "2024-01-02",
                delist: dict[str, str] | None = None,
                list_dates: dict[str, str] | None = None) -> Market:
    """A hand-built Market.

    ``spec[symbol]`` holds per-bar lists: ``close`` (required; its length is the number of
    bars), optionally ``open``, ``volume``, ``prev_close``, ``limit_up``, ``limit_down``
    (NaN = no limit), ``adj_factor``, ``suspended`` (a list of bar indices) and ``first``
    (the session index of the first bar). Unless given, ``prev_close`` is the previous close
    (the first bar's own close), limits follow the board's rule, ``open`` is the close,
    volume is 1,000,000 shares. Suspended bars get OHLC = prev_close and volume 0.
    """
    n_days = max(s.get("first", 0) + len(s["close"]) for s in spec.values())
    days = sessions(start, pd.Timestamp(start) + pd.Timedelta(days=3 * n_days + 10))[:n_days]
    frames = []
    for symbol, s in spec.items():
        first = s.get("first", 0)
        n = len(s["close"])
        close = np.asarray(s["close"], dtype=float)
        prev = np.asarray(s.get("prev_close", np.r_[close[:1], close[:-1]]), dtype=float)
        opn = np.asarray(s.get("open", close), dtype=float)
        vol = np.asarray(s.get("volume", [1_000_000] * n), dtype=np.int64)
        susp = np.zeros(n, dtype=bool)
        susp[list(s.get("suspended", []))] = True
        close, opn, vol = np.where(susp, prev, close), np.where(susp, prev, opn), np.where(
            susp, 0, vol)
        d = days[first : first + n]
        pct = np.array([rules.limit_percent(board_of(symbol), x) for x in d])
        up, down = rules.limit_prices(prev, pct)
        frames.append(pd.DataFrame({
            "date": d, "symbol": symbol, "open": opn,
            "high": np.maximum(opn, close), "low": np.minimum(opn, close), "close": close,
            "volume": vol, "amount": vol * (opn + close) / 2,
            "adj_factor": np.asarray(s.get("adj_factor", [1.0] * n), dtype=float),
            "prev_close": prev,
            "limit_up": np.asarray(s.get("limit_up", up), dtype=float),
            "limit_down": np.asarray(s.get("limit_down", down), dtype=float),
            "suspended": susp, "is_st": False,
        }))
        if symbol not in (list_dates or {}):
            list_dates = {**(list_dates or {}), symbol: str((d[0] - pd.Timedelta(days=400 * (
                first == 0))).date())}
    bars = pd.concat(frames).sort_values(["date", "symbol"]).reset_index(drop=True)
    bars["symbol"] = bars["symbol"].astype("category")
    symbols = list(spec)
    securities = pd.DataFrame({
        "symbol": symbols,
        "name": [f"Stock{i}" for i in range(len(symbols))],
        "exchange": [s[-2:] for s in symbols],
        "board": [str(board_of(s)) for s in symbols],
        "sector": [SECTORS[i % len(SECTORS)] for i in range(len(symbols))],
        "list_date": pd.to_datetime([list_dates[s] for s in symbols]),
        "delist_date": pd.to_datetime([(delist or {}).get(s) for s in symbols]),
    })
    fundamentals = pd.DataFrame({c: pd.Series(dtype=float) for c in FUNDAMENTAL_COLUMNS})
    st_periods = pd.DataFrame({c: pd.Series(dtype=object) for c in ST_COLUMNS})
    benchmark = pd.DataFrame({"date": days, "open": 1000.0, "high": 1000.0, "low": 1000.0,
                              "close": 1000.0, "volume": 1e9, "amount": 1e11})
    return Market(bars=bars, securities=securities, fundamentals=fundamentals,
                  st_periods=st_periods, benchmark=benchmark, meta={"name": "hand-built"})


@dataclass(frozen=True, kw_only=True)
class Scripted(Strategy):
    """Fixed weights on given dates (``{'2024-01-02': {'600000.SH': 0.5}}``), else no change."""

    name: ClassVar[str] = "scripted"
    plan: dict[str, Any] = field(default_factory=dict)

    def target_weights(self, view):
        return self.plan.get(str(view.date.date()))


NO_COSTS = Costs.zero()


def trades_of(result: BacktestResult) -> list[tuple]:
    t = result.trades
    return list(zip(t["date"].dt.strftime("%m-%d"), t["symbol"], t["side"], t["shares"],
                    t["reason"], strict=True))


def unfilled_of(result: BacktestResult) -> list[tuple]:
    u = result.unfilled
    return list(zip(u["date"].dt.strftime("%m-%d"), u["symbol"], u["side"], u["shares"],
                    u["reason"], strict=True))


# -- the worked example ----------------------------------------------------------------------
def test_worked_example_two_stocks_five_days_to_the_fen():
    # 2024: stamp duty 0.05 % on sells, transfer fee 0.001 % both sides; commission 0.03 %
    # with a 5 CNY minimum; slippage 0.05 %. Capital 100,000 CNY, fills at the next open.
    #
    #            01-02        01-03         01-04        01-05         01-08
    #   A open   10.00        10.10         10.50        10.40         10.00
    #   A close  10.00        10.20         10.50        10.30         10.00
    #   B open   20.00        20.00         20.50        20.40         20.00
    #   B close  20.00        19.80         20.50        20.40         20.00
    a, b = "600000.SH", "600519.SH"
    market = make_market({
        a: {"open": [10.00, 10.10, 10.50, 10.40, 10.00],
            "close": [10.00, 10.20, 10.50, 10.30, 10.00]},
        b: {"open": [20.00, 20.00, 20.50, 20.40, 20.00],
            "close": [20.00, 19.80, 20.50, 20.40, 20.00]},
    })
    strategy = Scripted(plan={
        "2024-01-02": {a: 0.5, b: 0.04},
        "2024-01-04": {a: 0.0, b: 0.05},
    })
    # lot_rounding='floor' (targets floored to lots; 'fill' has its own worked example in
    # tests/test_lot_rounding.py)
    result = run(market, strategy, BacktestConfig(capital_cny=100_000, lot_rounding="floor"))

    # 01-02 close: equity 100,000. Targets: A floor(0.5 * 100,000 / 10.00) = 5,000 shares;
    #   B floor(0.04 * 100,000 / 20.00) = 200 shares. Both whole lots.
    # 01-03 open, buy A: fill price 10.10 * 1.0005 = 10.10505 (not rounded)
    #   value      5,000 * 10.10505      = 50,525.25
    #   commission 50,525.25 * 0.0003    = 15.157575 -> 15.16
    #   transfer   50,525.25 * 0.00001   = 0.5052525 -> 0.51
    #   slippage   5,000 * 0.00505       = 25.25 (inside the price)
    #   cash out   50,525.25 + 15.16 + 0.51 = 50,540.92
    # buy B: fill price 20.00 * 1.0005 = 20.01
    #   value      200 * 20.01 = 4,002.00
    #   commission 4,002 * 0.0003 = 1.2006 -> the 5.00 minimum
    #   transfer   4,002 * 0.00001 = 0.04002 -> 0.04
    #   slippage   200 * 0.01 = 2.00
    #   cash out   4,002.00 + 5.00 + 0.04 = 4,007.04
    # cash 100,000 - 50,540.92 - 4,007.04 = 45,452.04
    # 01-03 close: equity 45,452.04 + 5,000 * 10.20 + 200 * 19.80 = 100,412.04
    # 01-04 close: equity 45,452.04 + 5,000 * 10.50 + 200 * 20.50 = 102,052.04
    #   Targets: A 0 -> sell all 5,000. B floor(0.05 * 102,052.04 / 20.50) = 248, i.e. buy
    #   48 more: less than a lot of 100, so no order ('lot_too_small', 48 shares).
    # 01-05 open, sell A: fill price 10.40 * 0.9995 = 10.3948
    #   value      5,000 * 10.3948 = 51,974.00
    #   commission 51,974 * 0.0003  = 15.5922 -> 15.59
    #   stamp duty 51,974 * 0.0005  = 25.987  -> 25.99
    #   transfer   51,974 * 0.00001 = 0.51974 -> 0.52
    #   slippage   5,000 * 0.0052 = 26.00
    #   cash in    51,974.00 - 15.59 - 25.99 - 0.52 = 51,931.90
    # cash 45,452.04 + 51,931.90 = 97,383.94
    # 01-05 close: equity 97,383.94 + 200 * 20.40 = 101,463.94
    # 01-08 close: equity 97,383.94 + 200 * 20.00 = 101,383.94
    t = result.trades
    assert trades_of(result) == [
        ("01-03", a, "buy", 5000, "signal"),
        ("01-03", b, "buy", 200, "signal"),
        ("01-05", a, "sell", 5000, "signal"),
    ]
    np.testing.assert_allclose(t["price"], [10.10505, 20.01, 10.3948], rtol=0, atol=1e-12)
    assert t["commission"].tolist() == [15.16, 5.00, 15.59]
    assert t["stamp_duty"].tolist() == [0.00, 0.00, 25.99]
    assert t["transfer_fee"].tolist() == [0.51, 0.04, 0.52]
    assert t["slippage"].tolist() == [25.25, 2.00, 26.00]
    assert unfilled_of(result) == [("01-05", b, "buy", 48, "lot_too_small")]

    cash = result.cash.round(2).tolist()
    assert cash == [100_000.00, 45_452.04, 45_452.04, 97_383.94, 97_383.94]
    np.testing.assert_allclose(
        result.equity, [100_000.00, 100_412.04, 102_052.04, 101_463.94, 101_383.94],
        rtol=0, atol=1e-6)
    assert result.daily["fees_cny"].round(2).tolist() == [0, 20.71, 0, 42.10, 0]
    # positions and weights at the close
    p = result.positions[result.positions["date"] == "2024-01-03"]
    assert p["shares"].tolist() == [5000, 200]
    np.testing.assert_allclose(p["weight"], [51_000 / 100_412.04, 3_960 / 100_412.04])
    # sector exposure: A is 'Banks', B is 'Tech'
    exp = result.sector_exposure.loc["2024-01-05"]
    assert exp["Banks"] == 0.0
    assert exp["Tech"] == pytest.approx(4_080 / 101_463.94)
    # turnover 01-05: 51,974 / 2 / 101,463.94
    assert result.turnover.loc["2024-01-05"] == pytest.approx(51_974 / 2 / 101_463.94)
    assert result.returns.iloc[1] == pytest.approx(100_412.04 / 100_000 - 1)


def flat(close: float = 10.0, n: int = 5, **extra: Any) -> dict[str, Any]:
    return {"close": [close] * n, **extra}


# -- lots ---------------------------------------------------------------------------------------
def test_buys_round_down_to_board_lots():
    # 100,000 * 0.1234 / 10 = 1,234 shares -> 1,200 on the SH main board.
    # STAR: 0.025 * 100,000 / 10 = 250 -> 250 (200 then steps of 1); 0.0199 -> 199 -> none.
    # BSE: 0.015 * 100,000 / 10 = 150 -> 150 (100 then steps of 1).
    m = make_market({"600000.SH": flat(), "688001.SH": flat(), "688002.SH": flat(),
                     "830001.BJ": flat()})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.1234, "688001.SH": 0.025,
                                      "688002.SH": 0.0199, "830001.BJ": 0.015}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, lot_rounding="floor"))
    bought = dict(zip(r.trades["symbol"], r.trades["shares"], strict=True))
    assert bought == {"600000.SH": 1200, "688001.SH": 250, "830001.BJ": 150}
    assert ("01-03", "688002.SH", "buy", 199, "lot_too_small") in unfilled_of(r)
    off = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, board_lots=False))
    assert dict(zip(off.trades["symbol"], off.trades["shares"], strict=True))[
        "688002.SH"] == 199
    # 'fill' (the default) spends the idle cash: 688002.SH, 1,990 CNY short, gets its first
    # lot of 200 (1 share above its target of 199, under a lot); 600000.SH, 340 CNY short,
    # one more lot (1,300: 66 above 1,234). 688001.SH and 830001.BJ hold their target.
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    bought = dict(zip(r.trades["symbol"], r.trades["shares"], strict=True))
    assert bought == {"600000.SH": 1300, "688001.SH": 250, "688002.SH": 200, "830001.BJ": 150}
    assert r.unfilled.empty


# -- T+1 ----------------------------------------------------------------------------------------
def test_t_plus_1_in_a_run_buy_then_sell_on_the_next_session():
    m = make_market({"600000.SH": flat()})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}, "2024-01-03": {}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert trades_of(r) == [("01-03", "600000.SH", "buy", 5000, "signal"),
                            ("01-04", "600000.SH", "sell", 5000, "signal")]


# -- price limits -------------------------------------------------------------------------------
def test_limit_up_open_blocks_a_buy_and_a_nan_limit_does_not():
    # 01-03: prev close 10.00, limit up 11.00, open sealed at 11.00 -> no buy; the order is
    # retried on 01-04 (prev close 11.00, limit up 12.10, open 11.00) and fills as 'carried'
    m = make_market({"600000.SH": {"open": [10, 11, 11], "close": [10, 11, 11]},
                     "600001.SH": {"open": [10, 11, 11], "close": [10, 11, 11],
                                   "limit_up": [np.nan] * 3, "limit_down": [np.nan] * 3}})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.4, "600001.SH": 0.4}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert unfilled_of(r) == [("01-03", "600000.SH", "buy", 4000, "limit_up")]
    assert trades_of(r) == [("01-03", "600001.SH", "buy", 4000, "signal"),  # IPO-style day
                            ("01-04", "600000.SH", "buy", 4000, "carried")]
    off = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, price_limits=False))
    assert len(off.trades) == 2


def test_limit_down_open_blocks_a_sell():
    # 01-04: prev close 10.00, limit down 9.00, open 9.00 -> the sell waits; the strategy
    # repeats its target the next day and the sell fills at 9.50.
    m = make_market({"600000.SH": {"open": [10, 10, 9, 9.5], "close": [10, 10, 9, 9.5]}})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}, "2024-01-03": {},
                       "2024-01-04": {}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert unfilled_of(r) == [("01-04", "600000.SH", "sell", 5000, "limit_down")]
    assert trades_of(r)[-1] == ("01-05", "600000.SH", "sell", 5000, "signal")
    assert r.trades["price"].iloc[-1] == 9.5


def test_slippage_never_pushes_a_fill_through_the_limit():
    # open 10.999 (a VWAP-like price), limit 11.00: 10.999 * 1.0005 = 11.0045 -> 11.00
    m = make_market({"600000.SH": {"open": [10, 10.999, 11], "close": [10, 11, 11]}})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.1}})
    r = run(m, s, BacktestConfig(capital_cny=100_000))
    assert r.trades["price"].tolist() == [11.0]


# -- suspensions ----------------------------------------------------------------------------
def test_suspended_orders_are_carried_or_dropped():
    m = make_market({"600000.SH": flat(suspended=[1, 2])})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}})
    carried = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert unfilled_of(carried) == [("01-03", "600000.SH", "buy", 5000, "suspended"),
                                    ("01-04", "600000.SH", "buy", 5000, "suspended")]
    assert trades_of(carried) == [("01-05", "600000.SH", "buy", 5000, "carried")]
    assert carried.orders["carried"].tolist() == [False, True, True]
    dropped = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS,
                                       suspended_orders="drop"))
    assert unfilled_of(dropped) == [("01-03", "600000.SH", "buy", 5000, "suspended")]
    assert dropped.trades.empty


# -- delisting ----------------------------------------------------------------------------------
def test_delisting_closes_at_the_last_price_or_writes_off():
    # bars end 01-04 (close 9.00); delisted from 01-05.
    m = make_market({"600000.SH": {"close": [10, 10, 9]}, "600001.SH": flat()},
                    delist={"600000.SH": "2024-01-05"})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}})
    cfg = BacktestConfig(capital_cny=100_000, costs=NO_COSTS)
    r = run(m, s, cfg)
    assert trades_of(r)[-1] == ("01-05", "600000.SH", "sell", 5000, "delisted")
    assert r.trades["price"].iloc[-1] == 9.0
    assert r.equity.tolist() == [100_000, 100_000, 95_000, 95_000, 95_000]
    assert r.cash.iloc[-1] == 95_000
    w = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, delisting="write_off"))
    assert w.trades["price"].iloc[-1] == 0.0
    assert w.equity.tolist() == [100_000, 100_000, 95_000, 50_000, 50_000]


def test_orders_for_a_delisting_stock_are_reported():
    m = make_market({"600000.SH": {"close": [10, 10]}, "600001.SH": flat()},
                    delist={"600000.SH": "2024-01-04"})
    s = Scripted(plan={"2024-01-03": {"600000.SH": 0.5}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert unfilled_of(r) == [("01-04", "600000.SH", "buy", 5000, "delisted")]


# -- volume and cash ----------------------------------------------------------------------------
def test_volume_cap_limits_a_fill_to_the_participation_rate():
    # volume 20,000 shares, 10 % cap -> 2,000 of the 5,000 wanted
    m = make_market({"600000.SH": flat(volume=[20_000] * 5)})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert trades_of(r) == [("01-03", "600000.SH", "buy", 2000, "signal")]
    assert unfilled_of(r) == [("01-03", "600000.SH", "buy", 3000, "volume_cap")]
    free = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS,
                                    max_participation_rate=None))
    assert free.trades["shares"].tolist() == [5000]


def test_buys_are_scaled_down_in_whole_lots_to_the_cash_after_costs():
    # Weights 0.5 + 0.5 at 10.00 -> 5,000 + 5,000 shares; the next open is 10.50 (fill
    # price 10.50525), so the buys need 105,052.50 CNY plus costs and only 100,000 is there.
    # Scaled together (factor ~0.95) and rounded down to lots: 4,700 + 4,700 shares, costing
    #   4,700 * 10.50525 = 49,374.675, commission 14.8124 -> 14.81, transfer 0.4937 -> 0.49
    #   2 * 49,389.975 = 98,779.95, leaving 1,220.05.
    # One more lot for the first (equal shortfalls: symbol order) fits:
    #   4,800 * 10.50525 = 50,425.20, commission 15.1276 -> 15.13, transfer 0.5043 -> 0.50
    #   total 50,440.83 + 49,389.975 = 99,830.805, leaving 169.195; a further lot does not.
    m = make_market({"600000.SH": {"open": [10, 10.5, 10.5], "close": [10, 10.5, 10.5]},
                     "600001.SH": {"open": [10, 10.5, 10.5], "close": [10, 10.5, 10.5]}})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5, "600001.SH": 0.5}})
    # 'floor': the plan leaves the buys as the weights say, so the fill cuts them
    r = run(m, s, BacktestConfig(capital_cny=100_000, lot_rounding="floor"))
    assert r.trades["shares"].tolist() == [4800, 4700]
    assert r.trades["commission"].tolist() == [15.13, 14.81]
    assert r.trades["transfer_fee"].tolist() == [0.50, 0.49]
    assert r.cash.iloc[1] == pytest.approx(169.195, abs=1e-6)
    assert r.cash.min() >= 0
    assert unfilled_of(r) == [("01-03", "600000.SH", "buy", 200, "insufficient_cash"),
                              ("01-03", "600001.SH", "buy", 300, "insufficient_cash")]


# -- fill price choices and corporate actions -------------------------------------------------
@pytest.mark.parametrize(("fill_at", "price"), [("open", 10.2), ("close", 10.4),
                                                ("vwap", 10.3)])
def test_fill_at_open_close_or_vwap(fill_at, price):
    m = make_market({"600000.SH": {"open": [10, 10.2, 10.2], "close": [10, 10.4, 10.4]}})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS, fill_at=fill_at))
    assert r.trades["price"].iloc[0] == pytest.approx(price)


def test_ex_date_reinvests_or_pays_cash_and_keeps_equity():
    # 01-04 is an ex-date: close 01-03 is 10.00, the ex-rights reference 8.00 (e.g. a
    # 2-for-10 bonus issue plus 0.40 cash: (10.00 - 0.40) / 1.2 = 8.00).
    m = make_market({"600000.SH": {"close": [10, 10, 8, 8], "prev_close": [10, 10, 8, 8],
                                   "open": [10, 10, 8, 8]}})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.5}})
    cfg = BacktestConfig(capital_cny=100_000, costs=NO_COSTS, corporate_actions="reinvest")
    r = run(m, s, cfg)
    # 5,000 * (10 - 8) = 10,000 CNY paid out and reinvested at 8.00: 1,250 more shares,
    # 6,250 in all (5,000 * 10 / 8), no cash left over
    assert r.positions["shares"].tolist() == [5000, 6250, 6250]
    assert r.equity.tolist() == [100_000] * 4
    assert r.daily["corporate_action_cny"].tolist() == [0, 0, 10_000, 0]
    assert r.cash.tolist() == [100_000, 50_000, 50_000, 50_000]
    assert trades_of(r)[-1] == ("01-04", "600000.SH", "buy", 1250, "corporate_action")
    assert r.trades["price"].iloc[-1] == 8.0
    c = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS,
                                 corporate_actions="cash"))
    # The market has no events table, so the step is split from the prices: a drop of
    # 20 % is a share issue, 2 per 10 (10 / 8 - 1 = 0.25, down to 0.2), plus the rest in
    # cash, 10 - 8 * 1.2 = 0.40 CNY a share (2024: nothing withheld). 1,000 new shares at
    # 8.00 and 2,000 CNY: 10,000 CNY paid out, equity unchanged.
    assert c.positions["shares"].tolist() == [5000, 6000, 6000]
    assert c.daily["corporate_action_cny"].tolist() == [0, 0, 10_000, 0]
    assert c.daily["dividends_cny"].tolist() == [0, 0, 2_000, 0]
    assert c.cash.tolist() == [100_000, 50_000, 52_000, 52_000]
    assert c.equity.tolist() == [100_000] * 4
    assert trades_of(c)[-1] == ("01-04", "600000.SH", "buy", 1000, "corporate_action")
    assert c.dividends[["shares", "cash_pre_tax_cny", "new_shares", "net_cny"]].to_numpy(
        ).tolist() == [[5000, 0.4, 1000, 2000.0]]
    assert c.meta["corporate_actions"].startswith("cash, events derived from the bars")


def test_period_outside_the_data_is_refused():
    m = make_market({"600000.SH": flat()})
    with pytest.raises(ConfigError, match=r"reaches outside the market's data "
                                          r"2024-01-02..2024-01-08"):
        run(m, Scripted(), BacktestConfig(start="2023-12-01"))
    with pytest.raises(ConfigError, match="outside"):
        run(m, Scripted(), BacktestConfig(end="2024-02-01"))
    with pytest.raises(ConfigError, match="no session between"):
        run(m, Scripted(), BacktestConfig(start="2024-01-06", end="2024-01-07"))


@pytest.mark.parametrize(("weights", "match"), [
    ({"600000.SH": float("nan")}, r"weight nan for 600000.SH is not a finite number"),
    ({"600000.SH": -0.1}, r"weight -0.1 for 600000.SH is negative"),
    ({"600000.SH": 0.7, "600001.SH": 0.4}, r"weights sum to 1.1 > 1; .* no leverage"),
    ({"600002.SH": 0.1}, r"symbol '600002.SH' is not in the market; did you mean"),
    (np.array([0.5]), r"must have shape \(2,\)"),
    ([0.5, 0.5], r"returned list"),
])
def test_bad_weights_stop_the_run(weights, match):
    m = make_market({"600000.SH": flat(), "600001.SH": flat()})
    with pytest.raises(ConfigError, match=match):
        run(m, Scripted(plan={"2024-01-03": weights}))


def test_a_non_strategy_is_refused():
    m = make_market({"600000.SH": flat()})
    with pytest.raises(ConfigError, match="no target_weights"):
        run(m, object())  # type: ignore[arg-type]


def test_an_unknown_board_is_a_data_error():
    m = make_market({"600000.SH": flat()})
    m.securities.loc[0, "board"] = "Moon"
    with pytest.raises(DataError, match="board 'Moon'"):
        run(m, Scripted())


def test_weights_on_unlisted_stocks_are_reported_not_bought():
    m = make_market({"600000.SH": flat(), "600001.SH": {"close": [10, 10], "first": 3}},
                    list_dates={"600001.SH": "2024-01-05"})
    r = run(m, Scripted(plan={"2024-01-02": {"600001.SH": 0.5}}),
            BacktestConfig(costs=NO_COSTS))
    assert unfilled_of(r) == [("01-03", "600001.SH", "buy", 0, "not_listed")]
    assert r.trades.empty


# -- storage and determinism --------------------------------------------------------------------
def assert_same_result(a: BacktestResult, b: BacktestResult) -> None:
    for table in ("daily", "trades", "orders", "unfilled", "positions", "sector_exposure"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)
    assert a.config == b.config
    assert a.strategy == b.strategy and a.meta == b.meta
    assert a.warnings == b.warnings


def busy_run() -> BacktestResult:
    m = make_market({
        "600000.SH": {"open": [10, 10.2, 11.22, 10.5, 10.1, 9.9],
                      "close": [10, 10.2, 11.0, 10.5, 10.1, 9.9]},
        "688001.SH": flat(30.0, 6, suspended=[3]),
        "830001.BJ": {"close": [5, 5.5, 5.4, 5.2]},
    }, delist={"830001.BJ": "2024-01-08"})
    s = Scripted(plan={"2024-01-02": {"600000.SH": 0.3, "688001.SH": 0.3, "830001.BJ": 0.3},
                       "2024-01-04": {"600000.SH": 0.6, "688001.SH": 0.1, "830001.BJ": 0.2}})
    cfg = BacktestConfig(capital_cny=250_000, start="2024-01-02", end="2024-01-09")
    return run(m, s, cfg)


def test_same_inputs_give_bit_identical_results():
    a, b = busy_run(), busy_run()
    assert_same_result(a, b)
    assert a.daily.to_numpy().tobytes() == b.daily.to_numpy().tobytes()
