"""workbench.research.trials: grids checked before anything runs, one trial's two runs, the
metrics they are judged by, and the helpers every search shares."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from workbench import strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, LookupFailed
from workbench.research.periods import Split
from workbench.research.trials import (
    METRIC_COLUMNS,
    OBJECTIVES,
    Trial,
    best_index,
    grid_combinations,
    in_sample_run,
    objective_column,
    out_of_sample_run,
    result_metrics,
    trial_results,
    trials_sharpe_variance,
    with_costs,
)

SPLIT = Split(in_sample_end="2021-06-30", out_of_sample_start="2021-07-01")


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=20, start="2019-01-02", end="2022-06-30",
                                            seed=5))


def test_grid_combinations_vary_the_last_parameter_fastest():
    combos = grid_combinations("ma_trend", {"fast": [5, 10], "slow": (30, 60)})
    assert combos == [{"fast": 5, "slow": 30}, {"fast": 5, "slow": 60},
                      {"fast": 10, "slow": 30}, {"fast": 10, "slow": 60}]
    assert grid_combinations("ma_trend", {}) == [{}]
    with pytest.raises(LookupFailed, match="did you mean 'ma_trend'"):
        grid_combinations("ma_trnd", {})
    with pytest.raises(ConfigError, match="strategy must be a registered name"):
        grid_combinations(strategies.get("ma_trend"), {})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="grid must be a dict"):
        grid_combinations("ma_trend", [("fast", [5])])  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"fast \(20\) must be shorter than slow"):
        grid_combinations("ma_trend", {"fast": [5, 20], "slow": [10]})


def test_objective_column_names_the_metric_maximised():
    assert {objective_column(k) for k in OBJECTIVES} <= set(METRIC_COLUMNS)
    with pytest.raises(ConfigError, match="unknown objective 'sharp'; did you mean 'sharpe'"):
        objective_column("sharp")


def test_best_index_skips_non_finite_values_and_keeps_the_earlier_tie():
    assert best_index([1.0, 3.0, 3.0, math.inf]) == 1
    assert best_index([math.nan, -2.0]) == 1
    assert best_index([]) is None and best_index([math.nan, -math.inf]) is None


def test_trials_sharpe_variance_is_the_sample_variance_of_the_finite_ones():
    assert trials_sharpe_variance(pd.Series([1.0, 2.0, 3.0, math.nan])) == 1.0
    assert trials_sharpe_variance(pd.Series([1.0, math.nan])) == 0.0


def test_with_costs_scales_every_cost_and_leaves_1x_alone():
    config = BacktestConfig()
    assert with_costs(config, 1.0) is config
    doubled = with_costs(config, 2.0)
    assert doubled.costs == config.costs.scale(2.0) and doubled.capital_cny == config.capital_cny
    assert config.costs.commission_rate == 0.0003  # the input is untouched


def test_a_trial_runs_in_sample_on_the_known_market_and_out_of_sample_on_all(market):
    trial = Trial(strategy="ma_trend", params={"fast": 5, "slow": 30},
                  in_sample=SPLIT.in_sample_period, out_of_sample=SPLIT.out_of_sample_period,
                  cost_multiplier=2.0)
    is_result, oos_result = trial_results(market, trial)
    s = strategies.get("ma_trend", fast=5, slow=30)
    config = with_costs(BacktestConfig(), 2.0)
    known = market.as_of(SPLIT.in_sample_end)
    alone = run(known, s, SPLIT.in_sample_config(config, known))
    pd.testing.assert_frame_equal(is_result.daily, alone.daily, check_exact=True)
    pd.testing.assert_frame_equal(
        is_result.daily, in_sample_run(market, s, config, trial.in_sample).daily,
        check_exact=True)
    assert oos_result is not None and oos_result.daily.index[0] == pd.Timestamp("2021-07-01")
    pd.testing.assert_frame_equal(
        oos_result.daily, out_of_sample_run(market, s, config, trial.out_of_sample).daily,
        check_exact=True)
    only_in = Trial(strategy="ma_trend", params={}, in_sample=(None, None))
    full, none = trial_results(market, only_in)
    assert none is None and full.daily.index[-1] == market.calendar[-1]


def test_result_metrics_has_every_column_and_counts_exchange_fills(market):
    result = run(market, strategies.get("ma_trend"), BacktestConfig(start="2022-01-04"))
    m = result_metrics(result)
    assert list(m) == list(METRIC_COLUMNS)
    assert m["n_trades"] == result.trades["reason"].isin(["signal", "carried"]).sum()
    assert m["final_equity_cny"] == result.daily["equity_cny"].iloc[-1]
    assert m["fees_cny"] == pytest.approx(result.daily["fees_cny"].sum())
    assert m["start"] == pd.Timestamp("2022-01-04") and m["sessions"] == len(result.returns)
