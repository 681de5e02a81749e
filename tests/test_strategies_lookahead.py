"""Strategies: the registry, the point-in-time MarketView, and no look-ahead for every one.

The look-ahead test perturbs every bar after a date T (prices times random factors, volumes,
adjustment factors and valuation ratios too, rows kept valid) and every report announced
after T, and checks that every order made, every fill and every session up to T is
identical, and that a strategy's ``scores`` on T are. A strategy that peeks one day ahead
fails it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest

from workbench import strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, LookupFailed
from workbench.result import BacktestResult
from workbench.strategies.base import Strategy
from workbench.view import MarketView, ViewContext

T = pd.Timestamp("2021-09-15")
PARAMS: dict[str, list[dict[str, Any]]] = {
    "buy_and_hold": [{"rebalance": "never"}, {"rebalance": "monthly"}],
    "ma_trend": [{}, {"fast": 5, "slow": 20, "max_names": 5}],
    "momentum": [{"lookback": 60, "skip": 5, "top_n": 5}, {"lookback": 20, "skip": 0}],
    "low_volatility": [{"window": 20, "top_n": 5}],
    "rsi_reversion": [{}, {"window": 5, "entry": 40, "exit": 60, "max_names": 3}],
    "value_quality": [{}, {"top_n": 5, "sector_neutral": True}, {"inputs": "ratios"}],
}


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=40, start="2021-01-04",
                                            end="2022-01-28", seed=11))


def perturbed(market: Market, after: pd.Timestamp, seed: int = 0) -> Market:
    """The same market with every bar after ``after`` scaled by a random factor per row."""
    rng = np.random.default_rng(seed)
    bars = market.bars.copy()
    late = (bars["date"] > after).to_numpy()
    k = int(late.sum())
    factor = rng.uniform(0.7, 1.4, k)
    for col in ("open", "high", "low", "close", "prev_close", "limit_up", "limit_down",
                "amount", "pe_ttm", "pb_mrq"):
        bars.loc[late, col] = bars.loc[late, col].to_numpy() * factor
    bars.loc[late, "volume"] = (bars.loc[late, "volume"].to_numpy()
                                * rng.uniform(0.2, 3.0, k)).astype(np.int64)
    bars.loc[late, "adj_factor"] = bars.loc[late, "adj_factor"].to_numpy() * rng.uniform(
        0.9, 1.1, k)
    bench = market.benchmark.copy()
    bench.loc[bench["date"] > after, "close"] *= 1.5
    reports = market.fundamentals.copy()
    later = (reports["announce_date"] > after).to_numpy()
    for col in ("eps", "bvps", "roe", "profit_growth"):
        reports.loc[later, col] = reports.loc[later, col].to_numpy() * rng.uniform(
            -2.0, 3.0, int(later.sum()))
    return Market(bars=bars, securities=market.securities, fundamentals=reports,
                  st_periods=market.st_periods, benchmark=bench, meta=dict(market.meta),
                  index_members=market.index_members,
                  corporate_actions=market.corporate_actions)


def same_up_to(a: BacktestResult, b: BacktestResult, day: pd.Timestamp) -> bool:
    """True when everything known by the close of ``day`` is identical in both runs."""
    sessions = a.daily.index
    next_day = sessions[sessions > day][0]
    pairs = [
        (a.daily.loc[:day], b.daily.loc[:day]),
        (a.trades[a.trades["date"] <= day], b.trades[b.trades["date"] <= day]),
        (a.unfilled[a.unfilled["date"] <= day], b.unfilled[b.unfilled["date"] <= day]),
        (a.positions[a.positions["date"] <= day], b.positions[b.positions["date"] <= day]),
        # orders due next session were made at the close of ``day``
        (a.orders[a.orders["date"] <= next_day], b.orders[b.orders["date"] <= next_day]),
    ]
    return all(x.equals(y) for x, y in pairs)


def test_every_registered_strategy_is_covered_here():
    assert set(strategies.available()) <= set(PARAMS), (
        "add the new strategy's parameter sets to PARAMS so the look-ahead test covers it")


@pytest.mark.parametrize(("name", "params"),
                         [(n, p) for n, ps in PARAMS.items() for p in ps])
def test_no_look_ahead(market, name, params):
    strategy = strategies.get(name, **params)
    config = BacktestConfig(capital_cny=2_000_000)
    a = run(market, strategy, config)
    b = run(perturbed(market, T), strategy, config)
    assert len(a.trades[a.trades["date"] <= T]) > 0, "the strategy must trade before T"
    assert same_up_to(a, b, T)
    assert not a.daily.equals(b.daily)  # the perturbation did change the later sessions


@dataclass(frozen=True, kw_only=True)
class Peeking(Strategy):
    """Cheats: buys what rises tomorrow. Not registered; it proves the test has teeth."""

    name: ClassVar[str] = "peeking"

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        close = view._ctx.array("close")  # the full history: not allowed
        if view.row + 1 >= len(close):
            return None
        up = np.nan_to_num(close[view.row + 1] / close[view.row]) > 1
        return np.where(up, 1.0 / max(up.sum(), 1), 0.0)


@pytest.mark.parametrize(("name", "params"),
                         [(n, p) for n, ps in PARAMS.items() for p in ps])
def test_scores_do_not_look_ahead(market, name, params):
    strategy = strategies.get(name, **params)
    row = int(market.calendar.get_loc(T))
    holdings = np.zeros(len(market.symbols), dtype=np.int64)
    holdings[::7] = 1_000
    views = [MarketView(ViewContext(m), row, holdings=holdings, equity_cny=1e6)
             for m in (market, perturbed(market, T))]
    a, b = (strategy.scores(v) for v in views)
    for x, y in [(a.score, b.score), (a.weights, b.weights), (a.eligible, b.eligible),
                 *[(f.values, g.values) for f, g in zip(a.factors, b.factors, strict=True)]]:
        np.testing.assert_array_equal(x, y)
    assert a.weights.sum() > 0, "the strategy must want something on T"


def test_the_look_ahead_check_catches_a_peeking_strategy(market):
    strategy = Peeking()
    a = run(market, strategy, BacktestConfig())
    b = run(perturbed(market, T), strategy, BacktestConfig())
    assert not same_up_to(a, b, T)


# -- the view ---------------------------------------------------------------------------------
def test_view_sees_only_rows_up_to_its_date(market):
    ctx = ViewContext(market)
    row = int(market.calendar.get_loc(T))
    view = MarketView(ctx, row)
    assert view.date == T
    assert view.array("close").shape == (row + 1, len(market.symbols))
    assert view.history("close", 5).shape == (5, len(market.symbols))
    assert view.panel("close").index[-1] == T
    assert view.dates[-1] == T
    np.testing.assert_array_equal(view.latest("close"), view.array("close")[-1])
    with pytest.raises(ValueError, match="read-only"):
        view.array("close")[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        view.holdings[0] = 1
    adj = view.array("adj_close")
    np.testing.assert_allclose(adj, view.array("close") * view.array("adj_factor"))


def test_rolling_mean_is_the_mean_of_the_last_window_rows(market):
    ctx = ViewContext(market)
    for row in (0, 3, 4, 100, len(market.calendar) - 1):
        view = MarketView(ctx, row)
        expected = view.history("adj_close", 5).mean(axis=0) if row >= 4 else np.nan
        np.testing.assert_allclose(view.rolling_mean("adj_close", 5),
                                   np.broadcast_to(expected, len(market.symbols)), rtol=1e-12)
    # a window with a missing bar (before a listing) is NaN, never a partial mean
    close = ctx.array("close")
    late = int(np.flatnonzero(np.isnan(close[0]) & np.isfinite(close[-1]))[0])
    first = int(np.flatnonzero(np.isfinite(close[:, late]))[0])
    means = ctx.rolling_mean("close", 3)[:, late]
    assert np.isnan(means[: first + 2]).all() and np.isfinite(means[first + 2])
    with pytest.raises(ConfigError, match="window must be at least 1"):
        MarketView(ctx, 10).rolling_mean("close", 0)


def test_view_hides_future_listings_delistings_and_reports(market):
    sec = market.securities
    delisted = sec.loc[sec["delist_date"].notna()].iloc[0]
    ctx = ViewContext(market)
    before = int(market.calendar.searchsorted(delisted["delist_date"])) - 1
    view = MarketView(ctx, before)
    u = view.universe
    assert delisted["symbol"] in set(u["symbol"])
    assert u["delist_date"].isna().all()  # the coming delisting is not known yet
    assert (u["list_date"] <= view.date).all()
    assert len(u) == int(view.listed.sum())
    assert (view.fundamentals["announce_date"] <= view.date).all()
    assert (view.benchmark["date"] <= view.date).all()
    later = sec["list_date"] > view.date
    assert np.isnat(view.list_dates[ctx.symbols.get_indexer(sec.loc[later, "symbol"])]).all()
    assert view.tradable.sum() <= view.listed.sum()
    assert "MarketView" in repr(view)


def test_view_weights_follow_holdings():
    from test_backtest import make_market

    m = make_market({"600000.SH": {"close": [10.0, 10.0]}, "600001.SH": {"close": [5.0, 5.0]}})
    view = MarketView(ViewContext(m), 1, holdings=np.array([100, 200]), cash_cny=8_000,
                      equity_cny=10_000)
    assert view.weights.tolist() == [0.1, 0.1]
    assert view.is_month_start is False and MarketView(ViewContext(m), 0).is_month_start


# -- registry -------------------------------------------------------------------------------
def test_available_and_get():
    assert {"buy_and_hold", "ma_trend"} <= set(strategies.available())
    s = strategies.get("ma_trend", fast=10, slow=30, max_names=7)
    assert s.describe() == {"name": "ma_trend",
                            "params": {"fast": 10, "slow": 30, "max_names": 7}}
    assert s == strategies.MATrend(fast=10, slow=30, max_names=7)


def test_unknown_strategy_suggests_the_closest_name():
    with pytest.raises(LookupFailed, match="unknown strategy 'ma_trnd'; did you mean "
                                           "'ma_trend'"):
        strategies.get("ma_trnd")


def test_unknown_parameter_lists_the_valid_ones():
    with pytest.raises(ConfigError, match=r"strategy 'ma_trend' has no parameter 'window'; "
                                          r"valid parameters: fast \(int, default 20\), "
                                          r"slow \(int, default 60\), max_names"):
        strategies.get("ma_trend", window=5)


@pytest.mark.parametrize(("name", "params", "match"), [
    ("ma_trend", {"fast": 60, "slow": 20}, "fast .60. must be shorter than slow .20."),
    ("ma_trend", {"fast": 0}, "fast must be a whole number >= 1"),
    ("ma_trend", {"max_names": 2.5}, "max_names must be a whole number"),
    ("buy_and_hold", {"rebalance": "weekly"}, "rebalance must be 'never' or 'monthly'"),
])
def test_bad_parameter_values_are_refused(name, params, match):
    with pytest.raises(ConfigError, match=match):
        strategies.get(name, **params)


def test_a_strategy_without_target_weights_says_so():
    @dataclass(frozen=True, kw_only=True)
    class Empty(Strategy):
        name: ClassVar[str] = "empty"

    with pytest.raises(NotImplementedError, match="must implement target_weights"):
        Empty().target_weights(None)  # type: ignore[arg-type]


def test_buy_and_hold_buys_once_or_monthly(market):
    never = run(market, strategies.get("buy_and_hold"), BacktestConfig())
    traded = never.trades["reason"].isin(["signal", "carried"])
    assert never.trades.loc[traded, "date"].nunique() <= 2  # the first fill, perhaps a carry
    monthly = run(market, strategies.get("buy_and_hold", rebalance="monthly"),
                  BacktestConfig())
    months = monthly.orders["decided"].dt.to_period("M").nunique()
    assert months >= 12
