"""Tests of the tail, period, rolling-beta and active-return functions of workbench.metrics.

As in ``test_metrics.py``: worked examples whose arithmetic is in the comments, and slow,
obviously correct re-implementations (plain Python loops over sorted lists) on random
series.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from workbench import metrics as m
from workbench.errors import ConfigError, DataError


def series(values: list[float], start: str = "2024-01-01") -> pd.Series:
    """Returns on consecutive business days from ``start``."""
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def random_returns(seed: int, n: int = 750) -> pd.Series:
    rng = np.random.default_rng(seed)
    # a fat left tail: a normal body with a few crashes
    values = rng.normal(0.0005, 0.012, n) - 0.05 * (rng.random(n) < 0.01)
    return series(values.tolist(), "2021-01-04")


def loop_quantile(values: list[float], q: float) -> float:
    """The q-quantile by linear interpolation between order statistics, by hand."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def loop_moments(values: list[float]) -> tuple[float, float]:
    """Adjusted Fisher-Pearson skewness and bias-corrected excess kurtosis, in loops."""
    n = len(values)
    mean = sum(values) / n
    m2 = sum((v - mean) ** 2 for v in values) / n
    m3 = sum((v - mean) ** 3 for v in values) / n
    m4 = sum((v - mean) ** 4 for v in values) / n
    g1 = m3 / m2 ** 1.5
    g2 = m4 / m2 ** 2 - 3.0
    skew = math.sqrt(n * (n - 1)) / (n - 2) * g1
    kurt = (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0)
    return skew, kurt


# --------------------------------------------------------------------------- VaR, CVaR


def test_value_at_risk_worked_example():
    # twenty returns -5 %, -4 %, ..., +14 %: the 5 % quantile sits at position
    # 19 * 0.05 = 0.95 between the lowest (-5 %) and the next (-4 %): -5 % + 0.95 * 1 %
    r = series([-0.05 + 0.01 * k for k in range(20)])
    assert m.value_at_risk(r) == pytest.approx(-0.0405)
    # at 90 %: position 1.9, between -4 % and -3 %: -4 % + 0.9 * 1 %
    assert m.value_at_risk(r, level=0.90) == pytest.approx(-0.031)
    # shuffling the sessions changes nothing
    assert m.value_at_risk(r.sample(frac=1.0, random_state=1).sort_index()) == pytest.approx(
        -0.0405)


def test_conditional_value_at_risk_worked_example():
    # 100 returns: the five lowest are -10 %, -8 %, -6 %, -4 %, -2 %, the rest 1 %;
    # k = floor(99 * 0.05) = 4, so the mean of the 5 lowest: -30 % / 5 = -6 %
    values = [-0.10, -0.08, -0.06, -0.04, -0.02] + [0.01] * 95
    r = series(values[::-1])
    assert m.conditional_value_at_risk(r) == pytest.approx(-0.06)
    # the VaR at position 4.95 lies between -2 % and 1 %: -2 % + 0.95 * 3 % = 0.85 %
    assert m.value_at_risk(r) == pytest.approx(0.0085)
    # at 99 %: k = floor(0.99) = 0, the worst return alone
    assert m.conditional_value_at_risk(r, level=0.99) == pytest.approx(-0.10)


def test_tail_risk_against_a_sorted_list_by_hand():
    r = random_returns(7)
    values = r.tolist()
    for level in (0.95, 0.99, 0.9):
        var = m.value_at_risk(r, level)
        assert var == pytest.approx(loop_quantile(values, 1.0 - level), abs=1e-15)
        k = math.floor((len(values) - 1) * (1.0 - level) + 1e-9)
        tail = sorted(values)[: k + 1]
        cvar = m.conditional_value_at_risk(r, level)
        assert cvar == pytest.approx(sum(tail) / len(tail), abs=1e-15)
        assert cvar <= var


def test_tail_risk_of_nothing_is_nan_and_a_bad_level_is_refused():
    assert math.isnan(m.value_at_risk(series([])))
    assert math.isnan(m.conditional_value_at_risk(series([])))
    for bad in (0.0, 1.0, 95, -0.5):
        with pytest.raises(ConfigError, match="level"):
            m.value_at_risk(series([0.01]), level=bad)
        with pytest.raises(ConfigError, match="level"):
            m.conditional_value_at_risk(series([0.01]), level=bad)


# --------------------------------------------------------------------------- moments


def test_skewness_and_kurtosis_worked_example():
    # 0, 0, 0, 4 %: mean 1 %, deviations -1, -1, -1, +3 (in %):
    # m2 = (1 + 1 + 1 + 9) / 4 = 3, m3 = (-1 - 1 - 1 + 27) / 4 = 6, m4 = (1 + 1 + 1 + 81) / 4 = 21
    # g1 = 6 / 3^1.5 = 2 / sqrt(3); skew = sqrt(4 * 3) / 2 * g1 = 2
    # g2 = 21 / 9 - 3 = -2/3; kurtosis = 3 / (2 * 1) * (5 * (-2/3) + 6) = 4
    r = series([0.0, 0.0, 0.0, 0.04])
    assert m.skewness(r) == pytest.approx(2.0)
    assert m.excess_kurtosis(r) == pytest.approx(4.0)
    # mirrored returns mirror the skew and keep the kurtosis
    assert m.skewness(-r) == pytest.approx(-2.0)
    assert m.excess_kurtosis(-r) == pytest.approx(4.0)


def test_moments_against_loops_and_pandas():
    r = random_returns(3)
    skew, kurt = loop_moments(r.tolist())
    assert m.skewness(r) == pytest.approx(skew, rel=1e-9)
    assert m.excess_kurtosis(r) == pytest.approx(kurt, rel=1e-9)
    # the crashes give a fat left tail
    assert skew < 0.0 and kurt > 0.0
    # quantstats reads pandas' estimators: the same numbers
    assert m.skewness(r) == pytest.approx(r.skew(), rel=1e-9)
    assert m.excess_kurtosis(r) == pytest.approx(r.kurt(), rel=1e-9)
    # scale-free: the same returns in basis points keep both
    assert m.skewness(r * 1e-6) == pytest.approx(skew, rel=1e-9)


def test_moments_are_nan_when_undefined():
    assert math.isnan(m.skewness(series([0.01, 0.02])))  # needs 3
    assert math.isnan(m.excess_kurtosis(series([0.01, 0.02, 0.03])))  # needs 4
    assert math.isnan(m.skewness(series([0.01] * 10)))  # no dispersion
    assert math.isnan(m.excess_kurtosis(series([0.0] * 10)))


# --------------------------------------------------------------------------- periods


def test_period_returns_compound_calendar_months_and_years():
    r = pd.Series([0.10, 0.10, -0.50, 0.20], index=pd.to_datetime(
        ["2023-12-28", "2023-12-29", "2024-01-02", "2024-02-01"]))
    months = m.period_returns(r, "month")
    assert [str(p) for p in months.index] == ["2023-12", "2024-01", "2024-02"]
    np.testing.assert_allclose(months, [1.1 * 1.1 - 1, -0.5, 0.2])
    years = m.period_returns(r, "year")
    assert [p.year for p in years.index] == [2023, 2024]
    np.testing.assert_allclose(years, [0.21, 0.5 * 1.2 - 1])  # 2024: -40 %
    with pytest.raises(ConfigError, match="period must be one of"):
        m.period_returns(r, "week")
    with pytest.raises(DataError, match="indexed by date"):
        m.period_returns(pd.Series([0.01, 0.02]))


def test_month_and_year_to_date():
    r = pd.Series([0.5, -0.2, 0.1, 0.1], index=pd.to_datetime(
        ["2023-12-29", "2024-01-31", "2024-02-01", "2024-02-02"]))
    assert m.to_date_return(r, "month") == pytest.approx(1.1 * 1.1 - 1)  # February
    assert m.to_date_return(r, "year") == pytest.approx(0.8 * 1.21 - 1)  # 2024, not 2023
    assert math.isnan(m.to_date_return(series([]).rename_axis(None), "month"))


def test_trailing_annual_return_needs_the_whole_window():
    # 1 % on the first session of each year 2019..2024 (weekdays), nothing else
    days = pd.bdate_range("2019-01-01", "2024-06-28")
    r = pd.Series(0.0, index=days)
    for year in range(2019, 2025):
        r[r.index[r.index.year == year][0]] = 0.01
    # the last date 2024-06-28; 3 years back is 2021-06-28: the window holds the first
    # sessions of 2022, 2023 and 2024: 1.01^3 over exactly 3 years is 1 % a year
    assert m.trailing_annual_return(r, 3) == pytest.approx(0.01)
    # 5 years back is 2019-06-28: 2020..2024, five gains: 1 % a year
    assert m.trailing_annual_return(r, 5) == pytest.approx(0.01)
    # 6 years back is 2018-06-28, before the first date: no 6-year figure
    assert math.isnan(m.trailing_annual_return(r, 6))
    # 2 years back is 2022-06-28: the gains of 2023 and 2024
    assert m.trailing_annual_return(r, 2) == pytest.approx(0.01)
    doubled = r.copy()
    doubled[pd.Timestamp("2023-01-02")] = 0.21  # 1.21 * 1.01 over 2 years
    assert m.trailing_annual_return(doubled, 2) == pytest.approx(math.sqrt(1.21 * 1.01) - 1)
    with pytest.raises(ConfigError, match="years"):
        m.trailing_annual_return(r, 0)


def test_trailing_return_starts_after_the_anniversary():
    # a series starting exactly 1 year before its last date: the first return is the
    # anniversary's own, before the window
    r = pd.Series([0.5, 0.1], index=pd.to_datetime(["2023-03-01", "2024-03-01"]))
    assert m.trailing_annual_return(r, 1) == pytest.approx(0.1)
    later = pd.Series([0.5, 0.1], index=pd.to_datetime(["2023-03-02", "2024-03-01"]))
    assert math.isnan(m.trailing_annual_return(later, 1))


def test_tail_and_period_metrics_gather_the_functions():
    r = random_returns(11)
    tails = m.tail_metrics(r)
    months = m.period_returns(r, "month")
    assert tails == pytest.approx({
        "value_at_risk": m.value_at_risk(r),
        "conditional_value_at_risk": m.conditional_value_at_risk(r),
        "skewness": m.skewness(r),
        "excess_kurtosis": m.excess_kurtosis(r),
        "best_day_return": r.max(), "worst_day_return": r.min(),
        "best_month_return": months.max(), "worst_month_return": months.min(),
    })
    periods = m.period_metrics(r)
    assert list(periods) == ["mtd_return", "ytd_return", "three_year_annual_return",
                             "five_year_annual_return"]
    assert math.isnan(periods["five_year_annual_return"])  # about 3 years of data
    last_month = r[(r.index.year == r.index[-1].year) & (r.index.month == r.index[-1].month)]
    assert periods["mtd_return"] == pytest.approx(np.prod(1 + last_month) - 1)
    empty = m.tail_metrics(series([]))
    assert all(math.isnan(v) for v in empty.values())


# --------------------------------------------------------------------------- benchmark


def test_rolling_beta_is_alpha_beta_of_each_window():
    b = random_returns(5)
    noise = random_returns(6) * 0.5
    r = 1.3 * b + noise
    window = 60
    rolled = m.rolling_beta(r, b, window)
    assert rolled.iloc[: window - 1].isna().all()
    for end in (window - 1, 200, len(r) - 1):
        part = slice(end - window + 1, end + 1)
        _, beta = m.alpha_beta(r.iloc[part], b.iloc[part])
        assert rolled.iloc[end] == pytest.approx(beta, rel=1e-9)
    # the benchmark against itself: 1; twice itself: 2
    np.testing.assert_allclose(m.rolling_beta(b, b, 20).dropna(), 1.0)
    np.testing.assert_allclose(m.rolling_beta(2 * b, b, 20).dropna(), 2.0)


def test_rolling_beta_worked_example_and_flat_windows():
    # b = 1 %, -1 %, 2 %; r = 3 %, 0, 2 %: over the 3: mean b 2/3 %, mean r 5/3 %,
    # cov = sum (b - mb)(r - mr) = (1/3)(4/3) + (-5/3)(-5/3) + (4/3)(1/3) = 33/9 (%²)
    # var = (1/3)^2 + (5/3)^2 + (4/3)^2 = 42/9 (%²): beta = 33/42
    b = series([0.01, -0.01, 0.02, 0.0, 0.0, 0.0])
    r = series([0.03, 0.0, 0.02, 0.01, 0.0, 0.02])
    rolled = m.rolling_beta(r, b, 3)
    assert rolled.iloc[2] == pytest.approx(33 / 42)
    assert math.isnan(rolled.iloc[5])  # the benchmark flat over the window
    with pytest.raises(ConfigError, match="window"):
        m.rolling_beta(r, b, 1)


def test_active_returns_compound_to_relative_wealth():
    # strategy +21 %, -10 %; benchmark +10 %, -10 %: 1.21 / 1.1 - 1 = 10 %, 0.9 / 0.9 - 1 = 0
    r, b = series([0.21, -0.10]), series([0.10, -0.10])
    np.testing.assert_allclose(m.active_returns(r, b), [0.10, 0.0])
    rr, bb = random_returns(1), random_returns(2)
    active = m.active_returns(rr, bb)
    wealth = np.cumprod(1 + rr) / np.cumprod(1 + bb)
    np.testing.assert_allclose(np.cumprod(1 + active), wealth, rtol=1e-12)
    # beating the benchmark every day leaves no active drawdown
    assert m.max_drawdown(m.active_returns(bb + 0.001, bb)) == 0.0
    with pytest.raises(DataError, match="100 %"):
        m.active_returns(series([0.0, 0.0]), series([0.0, -1.0]))
