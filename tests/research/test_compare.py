"""workbench.research.compare: strategies side by side, in and out of sample, and costs."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench import report, strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError
from workbench.research.compare import (
    cost_sensitivity,
    evaluate_strategies,
    out_of_sample_check,
    run_strategies,
)
from workbench.research.periods import Split
from workbench.research.search import grid_search
from workbench.research.trials import METRIC_COLUMNS

SPLIT = Split(in_sample_end="2021-06-30", out_of_sample_start="2021-07-01")


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=30, start="2019-01-02", end="2022-06-30",
                                            seed=5))


# -- costs --------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", strategies.available())
def test_more_costs_never_raise_final_equity(market, name):
    # 0x, 1x, 2x; much finer steps (0.5x against 1x) can fall within lot-rounding noise.
    # lot_rounding='floor' sizes the same lots whatever the costs; with 'fill' the extra lots
    # depend on the cash the costs leave, and one lot more or less can outweigh 1x of costs
    # (buy_and_hold here: 579,786 CNY at 0x, 580,015 at 1x, 578,279 at 2x).
    params = {"momentum": {"lookback": 60, "skip": 5}}.get(name, {})
    table = cost_sensitivity(market, strategies.get(name, **params),
                             config=BacktestConfig(lot_rounding="floor"))
    assert table.index.tolist() == [0.0, 1.0, 2.0]
    assert table["fees_cny"].iloc[0] == 0 and table["slippage_cny"].iloc[0] == 0
    assert table["final_equity_cny"].is_monotonic_decreasing
    assert table["fees_cny"].is_monotonic_increasing


# -- the table ----------------------------------------------------------------------------------
def test_evaluate_strategies_reports_metrics_trades_and_psr(market):
    table = evaluate_strategies(market, split=SPLIT,
                                params={"momentum": {"lookback": 60, "skip": 5}})
    assert table.index.names == ["strategy", "period"]
    assert set(table.index.get_level_values(0)) == set(strategies.available())
    assert list(table.columns) == list(METRIC_COLUMNS)
    oos = table.xs("out_of_sample", level="period")
    assert (oos["start"] == pd.Timestamp("2021-07-01")).all()
    assert (table["n_trades"] > 0).all()
    psr = table["probabilistic_sharpe_ratio"]
    assert ((psr >= 0) & (psr <= 1)).all()
    assert (table["sharpe_standard_error"] > 0).all()
    with pytest.raises(ConfigError, match=r"params given for .'low_vol'."):
        evaluate_strategies(market, ["momentum"], split=SPLIT, params={"low_vol": {}})


def test_evaluate_strategies_in_sample_matches_grid_search(market):
    search = grid_search(market, "momentum", {"lookback": [40, 80]}, split=SPLIT)
    table = evaluate_strategies(market, ["momentum"], split=SPLIT,
                                params={"momentum": search.best_params},
                                config=BacktestConfig())
    row = table.loc[("momentum", "in_sample")]
    assert row["sharpe_ratio"] == search.in_sample["sharpe_ratio"]
    assert table.loc[("momentum", "out_of_sample"), "final_equity_cny"] == \
        search.out_of_sample["final_equity_cny"]


# -- what the report notebooks call -------------------------------------------------------------
def test_run_strategies_backtests_each_under_one_configuration(market):
    config = BacktestConfig(start="2022-01-04")
    results = run_strategies(market, ["buy_and_hold", "ma_trend"], config,
                             params={"ma_trend": {"fast": 5, "slow": 20}})
    assert list(results) == ["buy_and_hold", "ma_trend"]
    assert all(r.daily.index[0] == pd.Timestamp("2022-01-04") for r in results.values())
    assert results["ma_trend"].strategy["params"]["fast"] == 5
    with pytest.raises(ConfigError, match=r"params given for \['momentum'\], which are not "
                                          r"among the strategies run"):
        run_strategies(market, ["ma_trend"], config, params={"momentum": {}})


def test_out_of_sample_check_is_a_grid_search_at_the_split_day(market):
    config = BacktestConfig(start="2020-01-02")
    check = out_of_sample_check(market, "ma_trend", {"fast": 5}, config, "2021-07-01",
                                grid={"slow": [30, 60]})
    assert check.n_trials == 2 and check.best_params["fast"] == 5
    assert check.split.in_sample_period == (pd.Timestamp("2020-01-02"),
                                            pd.Timestamp("2021-06-30"))
    alone = grid_search(market, "ma_trend", {"fast": [5], "slow": [30, 60]},
                        split=check.split, config=config)
    pd.testing.assert_frame_equal(check.table, alone.table, check_exact=True)
    assert check.out_of_sample == alone.out_of_sample


def test_report_keeps_the_research_names():
    assert report.run_strategies is run_strategies
    assert report.out_of_sample_check is out_of_sample_check
    assert report.evaluation_split(BacktestConfig(), "2021-07-01") == SPLIT


def test_the_baseline_is_buy_and_hold_under_the_same_config():
    from workbench.research import equal_weight_baseline

    m = synthetic_market(SyntheticConfig(n_stocks=20, start="2022-01-04", end="2022-12-30"))
    config = BacktestConfig(start="2022-03-01", capital_cny=500_000,
                            costs=Costs().scale(2.0))
    base = equal_weight_baseline(m, config)
    assert base.strategy["name"] == "buy_and_hold" and base.config == config
    by_hand = run(m, strategies.get("buy_and_hold"), config)
    pd.testing.assert_frame_equal(base.daily, by_hand.daily)
