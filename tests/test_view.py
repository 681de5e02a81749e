"""Tests of workbench.view: the point-in-time view a strategy sees, and its derived arrays."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError
from workbench.view import MarketView, ViewContext, clear_cache


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=30, start="2020-01-02", end="2021-06-30",
                                            seed=11))


def test_report_index_matches_fundamentals_asof(market):
    ctx = ViewContext(market)
    for day in market.calendar[[0, 50, 200, -1]]:
        view = MarketView(ctx, int(market.calendar.get_loc(day)))
        got = pd.Series(view.fundamental("roe"), index=market.symbols).dropna()
        expected = market.fundamentals_asof(day).set_index("symbol")["roe"]
        pd.testing.assert_series_equal(got, expected.reindex(got.index), check_names=False)
        assert set(got.index) == set(expected.index)
    with pytest.raises(ConfigError, match="no fundamentals column 'pe'"):
        MarketView(ctx, 0).fundamental("pe")


def test_arrays_end_at_the_view_row_and_are_read_only(market):
    ctx = ViewContext(market)
    view = MarketView(ctx, 10)
    close = view.array("close")
    assert close.shape == (11, len(market.symbols))
    np.testing.assert_array_equal(close, market.panel("close").to_numpy()[:11])
    with pytest.raises(ValueError, match="read-only"):
        close[0, 0] = 1.0
    # the market's own grid stays writable: the view hands out a read-only view of it
    assert market.grid("close").flags.writeable
    np.testing.assert_array_equal(view.latest("adj_close"),
                                  (market.grid("close") * market.grid("adj_factor"))[10])


def test_one_panel_implementation(market):
    for column in ("close", "suspended", "volume"):
        grid = market.grid(column)
        panel = market.panel(column)
        assert np.shares_memory(panel.to_numpy(), grid)
        assert panel.index.equals(market.calendar) and panel.columns.equals(market.symbols)
    with pytest.raises(ConfigError, match="no bar column 'nope'"):
        market.grid("nope")


def test_derived_arrays_are_kept_on_the_market_and_cleared_with_it(market):
    calls = []

    def build(ctx: ViewContext) -> np.ndarray:
        calls.append(1)
        return ctx.array("close") * 2.0

    a = ViewContext(market).derived("double_close", build)
    b = ViewContext(market).derived("double_close", build)  # a new run on the same market
    assert a is b and len(calls) == 1 and not a.flags.writeable
    other = synthetic_market(SyntheticConfig(n_stocks=30, start="2020-01-02",
                                             end="2021-06-30", seed=11))
    ViewContext(other).derived("double_close", build)  # an equal market is another object
    assert len(calls) == 2
    clear_cache(market)
    ViewContext(market).derived("double_close", build)
    assert len(calls) == 3


def test_moving_averages_of_several_windows_are_built_together_and_kept(market):
    clear_cache(market)
    view = MarketView(ViewContext(market), 100)
    slow, fast = view.rolling_means("adj_close", (20, 5))
    adj = view.array("adj_close")
    np.testing.assert_allclose(fast, adj[-5:].mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(slow, adj[-20:].mean(axis=0), rtol=1e-12)
    again = MarketView(ViewContext(market), 100)  # another run: the arrays are kept
    assert again.rolling_mean("adj_close", 5).tobytes() == fast.tobytes()
    first, second = ViewContext(market), ViewContext(market)
    assert first.rolling_mean("adj_close", 20) is second.rolling_means("adj_close", (20,))[0]
    with pytest.raises(ConfigError, match="at least 1 session"):
        view.rolling_means("close", (5, 0))


def test_universe_hides_future_delistings():
    m = synthetic_market(SyntheticConfig(n_stocks=60, start="2016-01-04", end="2020-12-31",
                                         seed=5))
    gone = m.securities.dropna(subset=["delist_date"])
    assert len(gone), "the synthetic market delists some stocks"
    first = gone.sort_values("delist_date").iloc[0]
    ctx = ViewContext(m)
    row = int(m.calendar.searchsorted(first["delist_date"])) - 5
    universe = MarketView(ctx, row).universe
    listed = universe.loc[universe["symbol"] == first["symbol"]]
    assert len(listed) == 1 and pd.isna(listed["delist_date"].iloc[0])
