"""workbench.research.search: the grid search keeps held-out data out of the choice;
walk-forward chooses each window's parameters on its own training data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_strategies_lookahead import perturbed
from test_summary import assert_reads_well

from workbench import evaluation
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, LookupFailed
from workbench.research.periods import Split, WalkForward
from workbench.research.search import GridSearchResult, grid_search, walk_forward

SPLIT = Split(in_sample_end="2021-06-30", out_of_sample_start="2021-07-01")
GRID = {"lookback": [40, 80], "top_n": [5, 10]}


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=30, start="2019-01-02", end="2022-06-30",
                                            seed=5))


@pytest.fixture(scope="module")
def search(market) -> GridSearchResult:
    return grid_search(market, "momentum", GRID, split=SPLIT)


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
    assert summary.loc["sharpe_ratio", "in_sample"] == search.in_sample["sharpe_ratio"]
    rows = {r[0]: r[1:] for r in assert_reads_well(summary).frame.values.tolist()}
    assert rows["Start"][1] == "2021-07-01"
    assert rows["Sharpe ratio"][0] == f"{search.in_sample['sharpe_ratio']:.2f}"
    assert "deflated Sharpe" in repr(search)


def test_out_of_sample_data_never_reaches_the_grid_search(market, search):
    changed = perturbed(market, SPLIT.in_sample_end, seed=3)
    again = grid_search(changed, "momentum", GRID, split=SPLIT)
    assert again.best_params == search.best_params
    pd.testing.assert_frame_equal(again.table, search.table)
    assert again.in_sample == search.in_sample
    assert again.deflated_sharpe == search.deflated_sharpe
    assert again.out_of_sample["final_equity_cny"] != search.out_of_sample["final_equity_cny"]


def test_grid_is_checked_before_anything_runs():
    # market=None: any backtest would fail, so these errors come first
    with pytest.raises(ConfigError, match=r"no parameter 'window' to search over; Valid: "
                                          r"'lookback', 'skip', 'top_n'"):
        grid_search(None, "momentum", {"window": [5]})  # type: ignore[arg-type]
    with pytest.raises(LookupFailed, match="did you mean 'momentum'"):
        grid_search(None, "momentun", {})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"grid\['top_n'\] must be a list"):
        grid_search(None, "momentum", {"top_n": 5})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"grid\['top_n'\] is empty"):
        grid_search(None, "momentum", {"top_n": []})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="top_n must be a whole number"):
        grid_search(None, "momentum", {"top_n": [5, 0]})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown objective 'sharp'; did you mean 'sharpe'"):
        grid_search(None, "momentum", {}, objective="sharp")  # type: ignore[arg-type]


def test_a_split_outside_the_data_fails_before_anything_runs(market):
    with pytest.raises(ConfigError, match=r"no session .* in the out-of-sample period"):
        grid_search(market, "momentum", {}, split=Split())  # the data ends in 2022


def test_objective_changes_what_is_maximised(market):
    g = grid_search(market, "momentum", GRID, split=SPLIT, objective="total_return")
    assert g.table.loc[g.table["rank"] == 1, "total_return"].item() == g.table[
        "total_return"].max()


# -- walk-forward -------------------------------------------------------------------------------
def test_walk_forward_picks_each_windows_params_from_its_own_training_data(market):
    grid = {"lookback": [40, 80]}
    scheme = WalkForward(train_years=1, test_months=6)
    wf = walk_forward(market, "momentum", grid, scheme=scheme)
    assert len(wf.windows) == len(wf.grids) == 5
    for k, w in wf.windows.iterrows():
        table = wf.grids[k]
        assert w["params"] == {"lookback": int(table.loc[table["rank"] == 1, "lookback"]
                                               .iloc[0])}
        # the same table as a grid search whose in-sample period is this training window
        alone = grid_search(market, "momentum", grid, split=Split(
            in_sample_start=w["train_start"], in_sample_end=w["train_end"],
            out_of_sample_start=w["test_start"], out_of_sample_end=w["test_end"]))
        pd.testing.assert_frame_equal(alone.table, table)
        assert alone.out_of_sample["sharpe_ratio"] == w["test_sharpe_ratio"]
    # data after the first training window cannot change its choice
    changed = walk_forward(perturbed(market, wf.windows["train_end"].iloc[0], seed=9),
                              "momentum", grid, scheme=scheme)
    pd.testing.assert_frame_equal(changed.grids[0], wf.grids[0])
    # the stitched curve covers exactly the test sessions, compounding each window's returns
    sessions = wf.returns.index
    assert sessions.is_monotonic_increasing and not sessions.has_duplicates
    assert sessions[0] == wf.windows["test_start"].iloc[0]
    assert sessions[-1] == wf.windows["test_end"].iloc[-1]
    assert wf.equity.iloc[-1] == pytest.approx(1e6 * np.prod(1 + wf.returns.to_numpy()))
    assert wf.out_of_sample["n_trades"] == wf.windows["test_n_trades"].sum()


def test_evaluation_keeps_the_old_names():
    assert evaluation.grid_search is grid_search and evaluation.walk_forward is walk_forward
    assert evaluation.Split is Split and evaluation.GridSearchResult is GridSearchResult
    assert not hasattr(evaluation, "market_until")  # Market.as_of
