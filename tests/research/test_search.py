"""Out-of-sample evaluation: the split keeps held-out data out, walk-forward, cost sensitivity."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_strategies_lookahead import perturbed

from workbench import evaluation as ev
from workbench import strategies
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, LookupFailed

SPLIT = ev.Split(in_sample_end="2021-06-30", out_of_sample_start="2021-07-01")
GRID = {"lookback": [40, 80], "top_n": [5, 10]}


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=30, start="2019-01-02", end="2022-06-30",
                                            seed=5))


@pytest.fixture(scope="module")
def search(market) -> ev.GridSearchResult:
    return ev.grid_search(market, "momentum", GRID, split=SPLIT)


# -- the split ----------------------------------------------------------------------------------
def test_split_defaults_and_validation():
    s = ev.Split()
    assert s.in_sample_end == pd.Timestamp("2022-12-31")
    assert s.out_of_sample_start == pd.Timestamp("2023-01-01")
    with pytest.raises(ConfigError, match="may not overlap"):
        ev.Split(in_sample_end="2023-01-01", out_of_sample_start="2023-01-01")
    with pytest.raises(ConfigError, match="is not a date"):
        ev.Split(in_sample_end="soon")
    with pytest.raises(ConfigError, match="out_of_sample_end 2023-01-01 is before"):
        ev.Split(out_of_sample_end="2023-01-01", out_of_sample_start="2023-02-01")


def test_a_split_outside_the_data_says_so(market):
    with pytest.raises(ConfigError, match=r"no session .* in the out-of-sample period"):
        ev.grid_search(market, "momentum", {}, split=ev.Split())  # the data ends in 2022


def test_market_until_holds_nothing_later(market):
    day = pd.Timestamp("2020-06-30")
    known = ev.market_until(market, day)
    assert known.calendar[-1] <= day and (known.bars["date"] <= day).all()
    assert (known.fundamentals["announce_date"] <= day).all()
    assert (known.benchmark["date"] <= day).all()
    assert (known.securities["delist_date"].dropna() <= day).all()
    assert (known.st_periods["start"] <= day).all()
    assert (known.st_periods["end"].dropna() <= day).all()
    assert list(known.symbols) == list(market.symbols)


# -- grid search --------------------------------------------------------------------------------
def test_grid_search_reports_every_combination_and_the_pick(search):
    t = search.table
    assert len(t) == search.n_trials == 4
    assert t[["lookback", "top_n"]].values.tolist() == [[40, 5], [40, 10], [80, 5], [80, 10]]
    best = t.loc[t["sharpe_ratio"].idxmax()]
    assert search.best_params == {"lookback": int(best["lookback"]), "top_n": int(best["top_n"])}
    assert t.loc[t["rank"] == 1, "sharpe_ratio"].item() == best["sharpe_ratio"]
    assert search.in_sample["sharpe_ratio"] == best["sharpe_ratio"]
    assert search.in_sample["end"] <= SPLIT.in_sample_end
    # the held-out run starts on the first held-out session, warmed up on the history before
    oos = search.out_of_sample_result
    assert oos.daily.index[0] == pd.Timestamp("2021-07-01")
    assert oos.trades["date"].min() == oos.daily.index[1]  # decided on day one, filled next
    assert search.out_of_sample["n_trades"] > 0
    # the deflated Sharpe asks more of the pick than its plain PSR does
    assert 0 <= search.deflated_sharpe <= search.in_sample["probabilistic_sharpe_ratio"]
    summary = search.summary()
    assert list(summary.columns) == ["in_sample", "out_of_sample"]
    assert "deflated Sharpe" in repr(search)


def test_out_of_sample_data_never_reaches_the_grid_search(market, search):
    changed = perturbed(market, SPLIT.in_sample_end, seed=3)
    again = ev.grid_search(changed, "momentum", GRID, split=SPLIT)
    assert again.best_params == search.best_params
    pd.testing.assert_frame_equal(again.table, search.table)
    assert again.in_sample == search.in_sample
    assert again.deflated_sharpe == search.deflated_sharpe
    assert again.out_of_sample["final_equity_cny"] != search.out_of_sample["final_equity_cny"]


def test_grid_is_checked_before_anything_runs():
    # market=None: any backtest would fail, so these errors come first
    with pytest.raises(ConfigError, match=r"no parameter 'window' to search over; Valid: "
                                          r"'lookback', 'skip', 'top_n'"):
        ev.grid_search(None, "momentum", {"window": [5]})  # type: ignore[arg-type]
    with pytest.raises(LookupFailed, match="did you mean 'momentum'"):
        ev.grid_search(None, "momentun", {})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"grid\['top_n'\] must be a list"):
        ev.grid_search(None, "momentum", {"top_n": 5})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"grid\['top_n'\] is empty"):
        ev.grid_search(None, "momentum", {"top_n": []})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="top_n must be a whole number"):
        ev.grid_search(None, "momentum", {"top_n": [5, 0]})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown objective 'sharp'; did you mean 'sharpe'"):
        ev.grid_search(None, "momentum", {}, objective="sharp")  # type: ignore[arg-type]


def test_objective_changes_what_is_maximised(market):
    g = ev.grid_search(market, "momentum", GRID, split=SPLIT, objective="total_return")
    assert g.table.loc[g.table["rank"] == 1, "total_return"].item() == g.table[
        "total_return"].max()


# -- walk-forward -------------------------------------------------------------------------------
def test_walk_forward_windows_are_ordered_and_disjoint(market):
    scheme = ev.WalkForward(train_years=1, test_months=6)
    w = scheme.windows(market.calendar)
    assert len(w) == 5  # tests start 2020-01, 2020-07, 2021-01, 2021-07, 2022-01
    assert (w["train_end"] < w["test_start"]).all()
    assert (w["test_start"].iloc[1:].to_numpy() > w["test_end"].iloc[:-1].to_numpy()).all()
    assert (w["test_start"].dt.month.isin([1, 7])).all()
    anchored = ev.WalkForward(train_years=1, test_months=6, anchored=True).windows(
        market.calendar)
    assert (anchored["train_start"] == market.calendar[0]).all()
    with pytest.raises(ConfigError, match="step_months must be a whole number >= test_months"):
        ev.WalkForward(test_months=6, step_months=3)
    with pytest.raises(ConfigError, match="no walk-forward window fits"):
        ev.WalkForward(train_years=5).windows(market.calendar)


def test_walk_forward_picks_each_windows_params_from_its_own_training_data(market):
    grid = {"lookback": [40, 80]}
    scheme = ev.WalkForward(train_years=1, test_months=6)
    wf = ev.walk_forward(market, "momentum", grid, scheme=scheme)
    assert len(wf.windows) == len(wf.grids) == 5
    for k, w in wf.windows.iterrows():
        table = wf.grids[k]
        assert w["params"] == {"lookback": int(table.loc[table["rank"] == 1, "lookback"]
                                               .iloc[0])}
        # the same table as a grid search whose in-sample period is this training window
        alone = ev.grid_search(market, "momentum", grid, split=ev.Split(
            in_sample_start=w["train_start"], in_sample_end=w["train_end"],
            out_of_sample_start=w["test_start"], out_of_sample_end=w["test_end"]))
        pd.testing.assert_frame_equal(alone.table, table)
        assert alone.out_of_sample["sharpe_ratio"] == w["test_sharpe_ratio"]
    # data after the first training window cannot change its choice
    changed = ev.walk_forward(perturbed(market, wf.windows["train_end"].iloc[0], seed=9),
                              "momentum", grid, scheme=scheme)
    pd.testing.assert_frame_equal(changed.grids[0], wf.grids[0])
    # the stitched curve covers exactly the test sessions, compounding each window's returns
    sessions = wf.returns.index
    assert sessions.is_monotonic_increasing and not sessions.has_duplicates
    assert sessions[0] == wf.windows["test_start"].iloc[0]
    assert sessions[-1] == wf.windows["test_end"].iloc[-1]
    assert wf.equity.iloc[-1] == pytest.approx(1e6 * np.prod(1 + wf.returns.to_numpy()))
    assert wf.out_of_sample["n_trades"] == wf.windows["test_n_trades"].sum()


# -- costs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", strategies.available())
def test_more_costs_never_raise_final_equity(market, name):
    # 0x, 1x, 2x; much finer steps (0.5x against 1x) can fall within lot-rounding noise
    params = {"momentum": {"lookback": 60, "skip": 5}}.get(name, {})
    table = ev.cost_sensitivity(market, strategies.get(name, **params))
    assert table.index.tolist() == [0.0, 1.0, 2.0]
    assert table["fees_cny"].iloc[0] == 0 and table["slippage_cny"].iloc[0] == 0
    assert table["final_equity_cny"].is_monotonic_decreasing
    assert table["fees_cny"].is_monotonic_increasing


# -- the table ----------------------------------------------------------------------------------
def test_evaluate_strategies_reports_metrics_trades_and_psr(market):
    table = ev.evaluate_strategies(market, split=SPLIT,
                                   params={"momentum": {"lookback": 60, "skip": 5}})
    assert table.index.names == ["strategy", "period"]
    assert set(table.index.get_level_values(0)) == set(strategies.available())
    assert list(table.columns) == list(ev.METRIC_COLUMNS)
    oos = table.xs("out_of_sample", level="period")
    assert (oos["start"] == pd.Timestamp("2021-07-01")).all()
    assert (table["n_trades"] > 0).all()
    psr = table["probabilistic_sharpe_ratio"]
    assert ((psr >= 0) & (psr <= 1)).all()
    assert (table["sharpe_standard_error"] > 0).all()
    with pytest.raises(ConfigError, match=r"params given for .'low_vol'."):
        ev.evaluate_strategies(market, ["momentum"], split=SPLIT,
                               params={"low_vol": {}})


def test_evaluate_strategies_in_sample_matches_grid_search(market, search):
    table = ev.evaluate_strategies(market, ["momentum"], split=SPLIT,
                                   params={"momentum": search.best_params},
                                   config=BacktestConfig())
    row = table.loc[("momentum", "in_sample")]
    assert row["sharpe_ratio"] == search.in_sample["sharpe_ratio"]
    assert table.loc[("momentum", "out_of_sample"), "final_equity_cny"] == \
        search.out_of_sample["final_equity_cny"]
