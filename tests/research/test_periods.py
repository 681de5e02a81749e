"""workbench.research.periods: the split and its periods, walk-forward windows."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError
from workbench.research.periods import Split, WalkForward, evaluation_split, within

SPLIT = Split(in_sample_end="2021-06-30", out_of_sample_start="2021-07-01")


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=30, start="2019-01-02", end="2022-06-30",
                                            seed=5))


# -- the split ----------------------------------------------------------------------------------
def test_split_defaults_and_validation():
    s = Split()
    assert s.in_sample_end == pd.Timestamp("2022-12-31")
    assert s.out_of_sample_start == pd.Timestamp("2023-01-01")
    with pytest.raises(ConfigError, match="may not overlap"):
        Split(in_sample_end="2023-01-01", out_of_sample_start="2023-01-01")
    with pytest.raises(ConfigError, match="is not a date"):
        Split(in_sample_end="soon")
    with pytest.raises(ConfigError, match="out_of_sample_end 2023-01-01 is before"):
        Split(out_of_sample_end="2023-01-01", out_of_sample_start="2023-02-01")
    with pytest.raises(ConfigError, match="in_sample_start 2021-01-01 is after"):
        Split(in_sample_start="2021-01-01", in_sample_end="2020-12-31",
              out_of_sample_start="2021-02-01")


def test_a_split_outside_the_data_says_so(market):
    with pytest.raises(ConfigError, match=r"no session .* in the out-of-sample period"):
        Split().check(market)  # the data ends in 2022
    with pytest.raises(ConfigError, match=r"no session .* in the in-sample period"):
        Split(in_sample_end="2018-12-31", out_of_sample_start="2019-01-01").check(market)
    SPLIT.check(market)


def test_the_in_sample_market_holds_nothing_after_the_split(market):
    day = SPLIT.in_sample_end
    known = SPLIT.in_sample_market(market)
    assert known is market.as_of(day)  # one copy per cut-off (the Market memo)
    assert known.calendar[-1] <= day and (known.bars["date"] <= day).all()
    assert (known.fundamentals["announce_date"] <= day).all()
    assert (known.benchmark["date"] <= day).all()
    assert (known.securities["delist_date"].dropna() <= day).all()
    assert (known.st_periods["start"] <= day).all()
    assert (known.st_periods["end"].dropna() <= day).all()
    assert list(known.symbols) == list(market.symbols)


def test_period_configs_are_clipped_to_the_data(market):
    config = BacktestConfig(capital_cny=2e6)
    is_config = SPLIT.in_sample_config(config, market)
    assert is_config.start is None and is_config.end == SPLIT.in_sample_end  # data starts later
    oos_config = SPLIT.out_of_sample_config(config, market)
    assert oos_config.start == SPLIT.out_of_sample_start and oos_config.end is None
    assert oos_config.capital_cny == 2e6 and config.start is None  # the input is untouched
    inside = within(config, market, pd.Timestamp("2020-01-02"), pd.Timestamp("2020-06-30"))
    assert (inside.start, inside.end) == (pd.Timestamp("2020-01-02"), pd.Timestamp("2020-06-30"))


def test_evaluation_split_cuts_a_configs_period_at_a_day():
    config = BacktestConfig(start="2016-01-04", end="2024-12-31")
    split = evaluation_split(config, "2023-01-03")
    assert split.in_sample_period == (pd.Timestamp("2016-01-04"), pd.Timestamp("2023-01-02"))
    assert split.out_of_sample_period == (pd.Timestamp("2023-01-03"),
                                          pd.Timestamp("2024-12-31"))
    open_ended = evaluation_split(BacktestConfig(), pd.Timestamp("2023-01-03 15:00"))
    assert open_ended.in_sample_start is None and open_ended.out_of_sample_end is None
    assert open_ended.out_of_sample_start == pd.Timestamp("2023-01-03")


# -- walk-forward windows -----------------------------------------------------------------------
def test_walk_forward_windows_are_ordered_and_disjoint(market):
    scheme = WalkForward(train_years=1, test_months=6)
    w = scheme.windows(market.calendar)
    assert len(w) == 5  # tests start 2020-01, 2020-07, 2021-01, 2021-07, 2022-01
    assert (w["train_end"] < w["test_start"]).all()
    assert (w["test_start"].iloc[1:].to_numpy() > w["test_end"].iloc[:-1].to_numpy()).all()
    assert (w["test_start"].dt.month.isin([1, 7])).all()
    anchored = WalkForward(train_years=1, test_months=6, anchored=True).windows(
        market.calendar)
    assert (anchored["train_start"] == market.calendar[0]).all()
    stepped = WalkForward(train_years=1, test_months=6, step_months=12).windows(
        market.calendar)
    assert stepped["test_start"].tolist() == w["test_start"].iloc[::2].tolist()
    with pytest.raises(ConfigError, match="step_months must be a whole number >= test_months"):
        WalkForward(test_months=6, step_months=3)
    with pytest.raises(ConfigError, match="train_years must be a whole number >= 1"):
        WalkForward(train_years=0)
    with pytest.raises(ConfigError, match="no walk-forward window fits"):
        WalkForward(train_years=5).windows(market.calendar)
