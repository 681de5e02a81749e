"""Tests of workbench.metrics.

Three kinds of check:

* worked examples on five returns, with the arithmetic in comments so it can be redone
  with a pencil (``periods_per_year`` is chosen as 4, 5 or 100 so square roots stay simple);
* slow, obviously-correct re-implementations (plain Python loops) on random series;
* metamorphic properties where exact answers are hard (scale invariance, monotone equity).
"""

from __future__ import annotations

import doctest
import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_trades import HAND_LOG

from workbench import metrics as m
from workbench.calendar import sessions
from workbench.errors import ConfigError, DataError, DataWarning

PHI = NormalDist()


def series(values: list[float], start: str = "2024-01-01") -> pd.Series:
    """Returns on consecutive business days from ``start``."""
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def day(i: int, start: str = "2024-01-01") -> pd.Timestamp:
    return pd.bdate_range(start, periods=i + 1)[-1]


def random_returns(seed: int, n: int = 500, mean: float = 0.0005, std: float = 0.015) -> pd.Series:
    rng = np.random.default_rng(seed)
    return series(rng.normal(mean, std, n).tolist())


# R5: the worked example used throughout.
#   r          = 0.01, -0.02, 0.03, -0.01, 0.02
#   mean       = 0.03 / 5 = 0.006
#   deviations = 0.004, -0.026, 0.024, -0.016, 0.014  (in 1e-3: 4, -26, 24, -16, 14)
#   squares    = 16, 676, 576, 256, 196 (1e-6), sum 1720e-6
#   var ddof=1 = 1720e-6 / 4 = 430e-6 = 4.3e-4
#   wealth     = 1.01, 1.01*0.98 = 0.9898, *1.03 = 1.019494, *0.99 = 1.00929906,
#                *1.02 = 1.0294850412
R5 = [0.01, -0.02, 0.03, -0.01, 0.02]


# --------------------------------------------------------------------------- worked examples


def test_total_return_by_hand():
    assert m.total_return(series(R5)) == pytest.approx(0.0294850412, abs=1e-12)


def test_annual_return_by_hand():
    # n = 5 = periods_per_year: one year, so CAGR = total return
    assert m.annual_return(series(R5), periods_per_year=5) == pytest.approx(0.0294850412)
    # n = 5 of 10 per year: half a year, CAGR = 1.0294850412 ** 2 - 1
    #   = 1 + 2 * 0.0294850412 + 0.0294850412 ** 2 - 1 = 0.0589700824 + 0.000869367655
    assert m.annual_return(series(R5), periods_per_year=10) == pytest.approx(0.059839450055)


def test_annual_volatility_by_hand():
    # var ddof=1 = 4.3e-4 per period; * 100 periods = 0.043 a year; vol = sqrt(0.043)
    assert m.annual_volatility(series(R5), periods_per_year=100) == pytest.approx(
        math.sqrt(0.043))
    assert m.annual_volatility(series(R5), periods_per_year=100) == pytest.approx(0.2073644)


def test_sharpe_ratio_by_hand():
    # mean 0.006 / std sqrt(4.3e-4) * sqrt(100) = 0.06 / 0.0207364 = 2.893457
    assert m.sharpe_ratio(series(R5), periods_per_year=100) == pytest.approx(
        0.006 / math.sqrt(4.3e-4) * 10)
    assert m.sharpe_ratio(series(R5), periods_per_year=100) == pytest.approx(2.893457, rel=1e-6)
    # risk-free 0.001 a period: excess mean 0.005, same std
    assert m.sharpe_ratio(series(R5), risk_free=0.001, periods_per_year=100) == pytest.approx(
        0.005 / math.sqrt(4.3e-4) * 10)


def test_sharpe_ratio_default_periods_is_252():
    assert m.PERIODS_PER_YEAR == 252
    assert m.sharpe_ratio(series(R5)) == pytest.approx(0.006 / math.sqrt(4.3e-4) * math.sqrt(252))


def test_calendar_annual_return_by_hand():
    # R5 on 2024-01-01 .. 2024-01-05: days from 31 Dec to 5 Jan = 5, total 0.0294850412
    assert m.calendar_annual_return(series(R5)) == pytest.approx(
        1.0294850412 ** (365.25 / 5) - 1)
    # +10 % over 2023-01-03 .. 2023-12-29 (one return a session): 361 days, not a year
    days = pd.DatetimeIndex(["2023-01-03", "2023-12-29"])
    r = pd.Series([0.0, 0.10], index=days)
    assert m.calendar_annual_return(r) == pytest.approx(1.10 ** (365.25 / 361) - 1)
    # a year and a day of calendar time to the day: 1 Jan 2020 .. 31 Dec 2020 is 366 days
    r = pd.Series([0.05, 0.05], index=pd.DatetimeIndex(["2020-01-01", "2020-12-31"]))
    assert m.calendar_annual_return(r) == pytest.approx(1.1025 ** (365.25 / 366) - 1)
    assert math.isnan(m.calendar_annual_return(r.iloc[:0]))
    with pytest.raises(DataError, match="DatetimeIndex"):
        m.calendar_annual_return(pd.Series([0.01, 0.02]))


def test_summary_annualises_by_the_xshg_calendar():
    # every XSHG session of 2018 (243 of them), returns +1 %, -0.5 % alternating
    days = sessions("2018-01-01", "2018-12-31")
    assert len(days) == 243
    values = np.where(np.arange(243) % 2 == 0, 0.01, -0.005)
    r = pd.Series(values, index=days)
    s = m.summary(r)
    assert s["periods_per_year"] == 243.0 and s["years"] == pytest.approx(361 / 365.25)
    # by hand: 122 returns of +1 %, 121 of -0.5 %; mean and sample std, times sqrt(243)
    mean = (122 * 0.01 - 121 * 0.005) / 243
    var = (122 * (0.01 - mean) ** 2 + 121 * (-0.005 - mean) ** 2) / 242
    assert s["sharpe_ratio"] == pytest.approx(mean / math.sqrt(var) * math.sqrt(243))
    assert s["annual_volatility"] == pytest.approx(math.sqrt(var * 243))
    # the CAGR over 361 calendar days (2018-01-02 .. 2018-12-28)
    growth = 1.01 ** 122 * 0.995 ** 121
    assert s["annual_return"] == pytest.approx(growth ** (365.25 / 361) - 1)
    assert s["calmar_ratio"] == pytest.approx(s["annual_return"] / abs(s["max_drawdown"]))
    assert "243.0 sessions a year" in s["annualisation"]
    assert "361 days" in s["annualisation"]
    # against empyrical's 252: the Sharpe ratio is sqrt(252 / 243) = 1.8 % higher
    old = m.summary(r, periods_per_year=252)
    assert old["sharpe_ratio"] / s["sharpe_ratio"] == pytest.approx(math.sqrt(252 / 243))
    assert old["annual_return"] == pytest.approx(growth ** (252 / 243) - 1)


def test_annualisation_without_calendar_dates_falls_back_to_252():
    plain = m.annualisation(pd.Series([0.01, 0.02]))
    assert (plain.periods_per_year, plain.source) == (252.0, "default")
    assert math.isnan(plain.years)
    old = m.annualisation(series([0.01, 0.02], start="1999-01-04"))  # before 2005
    assert (old.periods_per_year, old.source) == (252.0, "default")
    assert old.years == pytest.approx(2 / 365.25)  # the CAGR still uses calendar time
    with pytest.raises(ConfigError, match="periods_per_year"):
        m.annualisation(series(R5), periods_per_year=0)


def test_sortino_and_downside_deviation_by_hand():
    # shortfalls below 0: 0, -0.02, 0, -0.01, 0 -> squares 4e-4 + 1e-4 = 5e-4
    # mean over all 5 periods = 1e-4 -> downside deviation 0.01 a period, * sqrt(100) = 0.1
    assert m.downside_deviation(series(R5), periods_per_year=100) == pytest.approx(0.1)
    # Sortino = 0.006 / 0.01 * sqrt(100) = 6
    assert m.sortino_ratio(series(R5), periods_per_year=100) == pytest.approx(6.0)
    # required 0.01: r - req = 0, -0.03, 0.02, -0.02, 0.01; mean -0.004
    #   shortfall squares 9e-4 + 4e-4 = 13e-4, / 5 = 2.6e-4
    assert m.sortino_ratio(series(R5), required_return=0.01, periods_per_year=100) == (
        pytest.approx(-0.004 / math.sqrt(2.6e-4) * 10))


def test_drawdown_series_and_max_drawdown_by_hand():
    # wealth 1.01 (peak), 0.9898 = 1.01 * 0.98 -> -0.02, 1.019494 (new peak),
    # 1.00929906 = peak * 0.99 -> -0.01, 1.0294850412 (new peak)
    dd = m.drawdown_series(series(R5))
    assert dd.tolist() == pytest.approx([0.0, -0.02, 0.0, -0.01, 0.0], abs=1e-12)
    assert dd.index.equals(series(R5).index)
    assert m.max_drawdown(series(R5)) == pytest.approx(-0.02)


def test_calmar_ratio_by_hand():
    # one year (ppy = n = 5): CAGR = total = 0.0294850412; / 0.02 = 1.47425206
    assert m.calmar_ratio(series(R5), periods_per_year=5) == pytest.approx(1.47425206)


# --------------------------------------------------------------------------- drawdown dates


def test_drawdown_period_with_recovery():
    # wealth: d0 1.1 (peak), d1 0.99, d2 0.891 (trough: 0.9 * 0.9 = 0.81 of peak -> -19 %),
    #         d3 1.11375 >= 1.1 (recovered), d4 1.1694375
    p = m.max_drawdown_period(series([0.10, -0.10, -0.10, 0.25, 0.05]))
    assert p is not None
    assert (p.peak, p.trough, p.recovery) == (day(0), day(2), day(3))
    assert p.drawdown == pytest.approx(-0.19)


def test_drawdown_period_without_recovery():
    # wealth: d0 1.1 (peak), d1 0.99, d2 1.0395, d3 0.8316 (trough: 0.8316 / 1.1 = 0.756),
    #         d4 0.91476 < 1.1: not recovered
    p = m.max_drawdown_period(series([0.10, -0.10, 0.05, -0.20, 0.10]))
    assert p is not None
    assert (p.peak, p.trough) == (day(0), day(3))
    assert p.recovery is pd.NaT
    assert p.drawdown == pytest.approx(-0.244)


def test_drawdown_from_starting_capital_has_no_peak_date():
    # the first day loses 5 %: the peak is the starting capital, before the first date
    r = series([-0.05, 0.10])
    p = m.max_drawdown_period(r)
    assert p is not None
    assert p.peak is pd.NaT
    assert (p.trough, p.recovery) == (day(0), day(1))
    assert m.max_drawdown(r) == pytest.approx(-0.05)


def test_drawdown_details_lists_every_episode_deepest_first():
    # wealth 1.1, 0.99 (-10 %), 1.188 (recovered), 0.594 (-50 %), 0.6534 (not recovered)
    details = m.drawdown_details(series([0.1, -0.1, 0.2, -0.5, 0.1]))
    assert list(details.columns) == ["peak", "trough", "recovery", "drawdown"]
    assert details["peak"].tolist() == [day(2), day(0)]
    assert details["trough"].tolist() == [day(3), day(1)]
    assert details["recovery"].iloc[1] == day(2)
    assert pd.isna(details["recovery"].iloc[0])
    assert details["drawdown"].tolist() == pytest.approx([-0.5, -0.1])
    assert len(m.drawdown_details(series([0.1, -0.1, 0.2, -0.5, 0.1]), top=1)) == 1


def test_no_drawdown_gives_no_period():
    assert m.max_drawdown_period(series([0.01, 0.0, 0.02])) is None
    assert m.drawdown_details(series([0.01, 0.0, 0.02])).empty
    assert m.max_drawdown(series([0.01, 0.0, 0.02])) == 0.0


# --------------------------------------------------------------------------- benchmark


# B4 / S4: strategy and benchmark on four dates
#   b = 0.01, -0.01, 0.02, 0.00   mean 0.005, devs 0.005, -0.015, 0.015, -0.005
#   r = 0.03, -0.01, 0.02, 0.00   mean 0.010, devs 0.020, -0.020, 0.010, -0.010
#   sum dev_b^2 = (25 + 225 + 225 + 25)e-6 = 500e-6
#   sum dev_b * dev_r = (100 + 300 + 150 + 50)e-6 = 600e-6  -> beta = 1.2
#   daily alpha = mean(r) - beta * mean(b) = 0.010 - 0.006 = 0.004
B4 = [0.01, -0.01, 0.02, 0.00]
S4 = [0.03, -0.01, 0.02, 0.00]


def test_alpha_beta_by_hand():
    alpha, beta = m.alpha_beta(series(S4), series(B4), periods_per_year=4)
    assert beta == pytest.approx(1.2)
    # (1 + 0.004) ** 4 - 1 = 1.008016 ** 2 - 1 = 0.016096256256
    assert alpha == pytest.approx(0.016096256256)


def test_alpha_beta_with_risk_free_by_hand():
    # beta is unchanged by a constant rf; daily alpha = (0.010 - rf) - 1.2 * (0.005 - rf)
    #   = 0.004 + 0.2 * rf = 0.0042 for rf = 0.001
    alpha, beta = m.alpha_beta(series(S4), series(B4), risk_free=0.001, periods_per_year=4)
    assert beta == pytest.approx(1.2)
    assert alpha == pytest.approx(1.0042**4 - 1)


def test_information_ratio_by_hand():
    # active = r - b = 0.02, 0, 0, 0; mean 0.005; devs 0.015, -0.005 x3
    #   sum sq = (225 + 3 * 25)e-6 = 300e-6; / 3 = 1e-4; std 0.01
    #   IR = 0.005 / 0.01 * sqrt(4) = 1.0
    assert m.information_ratio(series(S4), series(B4), periods_per_year=4) == pytest.approx(1.0)


def test_benchmark_is_aligned_on_common_dates():
    longer = series([0.05, *B4, -0.03], start="2023-12-29")  # one extra date on each side
    assert m.alpha_beta(series(S4), longer, periods_per_year=4) == pytest.approx(
        m.alpha_beta(series(S4), series(B4), periods_per_year=4))
    assert m.information_ratio(series(S4), longer, periods_per_year=4) == pytest.approx(1.0)


def test_returns_dates_missing_from_benchmark_warn():
    with pytest.warns(DataWarning, match="1 of 4 return dates have no benchmark return"):
        _, beta = m.alpha_beta(series(S4), series(B4).iloc[:3])
    assert np.isfinite(beta)


def test_benchmark_without_overlap_raises():
    with pytest.raises(DataError, match="no date in common"):
        m.alpha_beta(series(S4), series(B4, start="2020-01-01"))
    with pytest.raises(DataError, match="no date in common"):
        m.information_ratio(series(S4), series(B4, start="2020-01-01"))


def test_benchmark_with_nan_raises():
    b = series(B4)
    b.iloc[2] = np.nan
    with pytest.raises(DataError, match=r"benchmark .*2024-01-03"):
        m.alpha_beta(series(S4), b)


# --------------------------------------------------------------------------- Sharpe inference


def test_psr_by_hand():
    # R5 in units of 1e-3: devs 4, -26, 24, -16, 14 (population moments, divisor 5)
    #   m2 = (16 + 676 + 576 + 256 + 196) / 5 = 344            (1e-6)
    #   m3 = (64 - 17576 + 13824 - 4096 + 2744) / 5 = -1008     (1e-9)
    #   m4 = (256 + 456976 + 331776 + 65536 + 38416) / 5 = 178592 (1e-12)
    skew = -1008 / 344**1.5  # -0.157988
    kurt = 178592 / 344**2  # 1.509194 (not excess)
    sr = 0.006 / math.sqrt(4.3e-4)  # per-period Sharpe, ddof=1: 0.289346
    term = 1 - skew * sr + (kurt - 1) / 4 * sr**2  # 1 + 0.045713 + 0.010658 = 1.056371
    z = sr * math.sqrt(5 - 1) / math.sqrt(term)  # 0.578691 / 1.027799 = 0.563040
    assert skew == pytest.approx(-0.157988, abs=1e-6)
    assert kurt == pytest.approx(1.509194, abs=1e-6)
    assert term == pytest.approx(1.056371, abs=1e-6)
    assert z == pytest.approx(0.563040, abs=1e-6)
    psr = m.probabilistic_sharpe_ratio(series(R5), periods_per_year=4)
    assert psr == pytest.approx(PHI.cdf(z), abs=1e-12)
    assert psr == pytest.approx(0.71330, abs=1e-5)  # Φ(0.563) from a normal table: 0.7133
    # annualised SR* = 1 with 4 periods a year is 0.5 a period:
    #   z = (0.289346 - 0.5) * 2 / 1.027799 = -0.409913
    psr1 = m.probabilistic_sharpe_ratio(series(R5), benchmark_sharpe=1.0, periods_per_year=4)
    assert psr1 == pytest.approx(PHI.cdf((sr - 0.5) * 2 / math.sqrt(term)), abs=1e-12)
    # standard error of the annualised Sharpe: sqrt(term / (n - 1)) * sqrt(ppy)
    assert m.sharpe_standard_error(series(R5), periods_per_year=4) == pytest.approx(
        math.sqrt(term / 4) * 2)


def test_sharpe_standard_error_matches_lo_for_normal_returns():
    # normal returns: skew ~ 0, kurt ~ 3 -> Mertens reduces to Lo's sqrt((1 + SR^2 / 2) / n)
    r = random_returns(7, n=20_000, mean=0.001, std=0.01)
    sr = r.mean() / r.std()
    lo = math.sqrt((1 + sr**2 / 2) / len(r))
    assert m.sharpe_standard_error(r, periods_per_year=1) == pytest.approx(lo, rel=0.02)


def test_psr_close_to_one_for_a_strong_long_record():
    r = random_returns(1, n=2520, mean=0.001, std=0.01)  # ~1.6 annual Sharpe over 10 years
    assert m.probabilistic_sharpe_ratio(r) > 0.999
    assert m.probabilistic_sharpe_ratio(-r) < 0.001


def test_psr_is_one_half_at_its_own_sharpe_and_falls_with_the_threshold():
    r = random_returns(2, n=300)
    own = m.sharpe_ratio(r)
    assert m.probabilistic_sharpe_ratio(r, benchmark_sharpe=own) == pytest.approx(0.5)
    thresholds = [-1.0, 0.0, 1.0, 2.0]
    psrs = [m.probabilistic_sharpe_ratio(r, benchmark_sharpe=t) for t in thresholds]
    assert psrs == sorted(psrs, reverse=True)


def test_expected_max_sharpe_by_formula_and_by_simulation():
    # N = 10, V = 0.5: sqrt(0.5) * ((1 - γ) Φ⁻¹(0.9) + γ Φ⁻¹(1 - 1 / (10 e)))
    g = 0.5772156649015329
    by_hand = math.sqrt(0.5) * ((1 - g) * 1.2815516 + g * PHI.inv_cdf(1 - 1 / (10 * math.e)))
    assert m.expected_max_sharpe(10, 0.5) == pytest.approx(by_hand, rel=1e-6)
    # the approximation is close to the simulated mean maximum of 100 standard normals
    draws = np.random.default_rng(0).standard_normal((20_000, 100)).max(axis=1).mean()
    assert m.expected_max_sharpe(100, 1.0) == pytest.approx(draws, abs=0.05)
    assert m.expected_max_sharpe(1, 4.0) == 0.0


def test_deflated_sharpe_ratio_by_hand():
    # DSR is PSR with SR* = expected max Sharpe of the trials, per period:
    #   annual variance 0.5 over 4 periods a year -> per-period sd sqrt(0.5 / 4)
    sr_star = m.expected_max_sharpe(10, 0.5 / 4)
    expected = m.probabilistic_sharpe_ratio(series(R5), benchmark_sharpe=sr_star * 2,
                                            periods_per_year=4)
    dsr = m.deflated_sharpe_ratio(series(R5), n_trials=10, trials_sharpe_variance=0.5,
                                  periods_per_year=4)
    assert dsr == pytest.approx(expected)
    assert dsr < m.probabilistic_sharpe_ratio(series(R5), periods_per_year=4)


def test_deflated_sharpe_ratio_falls_with_more_trials():
    r = random_returns(3, n=750, mean=0.001)
    dsrs = [m.deflated_sharpe_ratio(r, n, 1.0) for n in (1, 10, 100, 1000)]
    assert dsrs[0] == pytest.approx(m.probabilistic_sharpe_ratio(r))
    assert dsrs == sorted(dsrs, reverse=True)


# --------------------------------------------------------------------------- rolling


def test_rolling_by_hand():
    # windows of 3 over 0.02, 0.00, 0.01, 0.02, 0.00, 0.00, 0.00:
    #   {0.02, 0, 0.01}, {0, 0.01, 0.02}, {0.01, 0.02, 0}: mean 0.01, std 0.01 -> SR 1 * sqrt(4)
    #   {0.02, 0, 0}: mean 0.02/3, std 0.02/sqrt(3) -> 1/sqrt(3) * 2; {0, 0, 0}: NaN
    r = series([0.02, 0.00, 0.01, 0.02, 0.00, 0.00, 0.00])
    rs = m.rolling_sharpe(r, 3, periods_per_year=4)
    assert rs.index.equals(r.index)
    assert rs.iloc[:2].isna().all()
    assert rs.iloc[2:6].tolist() == pytest.approx([2.0, 2.0, 2.0, 2 / math.sqrt(3)])
    assert np.isnan(rs.iloc[6])
    rv = m.rolling_volatility(r, 3, periods_per_year=4)
    assert rv.iloc[2:].tolist() == pytest.approx([0.02, 0.02, 0.02, 0.04 / math.sqrt(3), 0.0])


# --------------------------------------------------------------------------- slow references


def slow_mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def slow_std(xs: list[float]) -> float:
    mu = slow_mean(xs)
    return math.sqrt(sum((x - mu) ** 2 for x in xs) / (len(xs) - 1))


def slow_drawdowns(xs: list[float]) -> list[float]:
    wealth, peak, out = 1.0, 1.0, []
    for x in xs:
        wealth *= 1 + x
        peak = max(peak, wealth)
        out.append(wealth / peak - 1)
    return out


def slow_beta(ys: list[float], xs: list[float]) -> float:
    my, mx = slow_mean(ys), slow_mean(xs)
    cov = sum((y - my) * (x - mx) for y, x in zip(ys, xs, strict=True))
    return cov / sum((x - mx) ** 2 for x in xs)


def slow_psr(xs: list[float], sr_star: float) -> float:
    n, mu = len(xs), slow_mean(xs)
    m2 = sum((x - mu) ** 2 for x in xs) / n
    skew = sum((x - mu) ** 3 for x in xs) / n / m2**1.5
    kurt = sum((x - mu) ** 4 for x in xs) / n / m2**2
    sr = mu / slow_std(xs)
    return PHI.cdf((sr - sr_star) * math.sqrt(n - 1)
                   / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_slow_reimplementation(seed: int):
    r = random_returns(seed)
    b = random_returns(seed + 100, mean=0.0003, std=0.012) + 0.5 * r
    xs, bs, ppy = r.tolist(), b.tolist(), 252
    wealth = math.prod(1 + x for x in xs)
    assert m.total_return(r) == pytest.approx(wealth - 1)
    assert m.annual_return(r) == pytest.approx(wealth ** (ppy / len(xs)) - 1)
    assert m.annual_volatility(r) == pytest.approx(slow_std(xs) * math.sqrt(ppy))
    assert m.sharpe_ratio(r, 0.0001) == pytest.approx(
        slow_mean([x - 0.0001 for x in xs]) / slow_std(xs) * math.sqrt(ppy))
    shortfall = math.sqrt(sum(min(x, 0.0) ** 2 for x in xs) / len(xs))
    assert m.sortino_ratio(r) == pytest.approx(slow_mean(xs) / shortfall * math.sqrt(ppy))
    dds = slow_drawdowns(xs)
    assert m.drawdown_series(r).tolist() == pytest.approx(dds)
    assert m.max_drawdown(r) == pytest.approx(min(dds))
    assert m.calmar_ratio(r) == pytest.approx((wealth ** (ppy / len(xs)) - 1) / -min(dds))
    beta = slow_beta(xs, bs)
    alpha = (1 + slow_mean([y - beta * x for y, x in zip(xs, bs, strict=True)])) ** ppy - 1
    assert m.alpha_beta(r, b) == pytest.approx((alpha, beta))
    active = [y - x for y, x in zip(xs, bs, strict=True)]
    assert m.information_ratio(r, b) == pytest.approx(
        slow_mean(active) / slow_std(active) * math.sqrt(ppy))
    assert m.probabilistic_sharpe_ratio(r, benchmark_sharpe=0.5) == pytest.approx(
        slow_psr(xs, 0.5 / math.sqrt(ppy)))
    window = 60
    slow_roll = [slow_mean(xs[i - window + 1:i + 1]) / slow_std(xs[i - window + 1:i + 1])
                 * math.sqrt(ppy) for i in range(window - 1, len(xs))]
    assert m.rolling_sharpe(r, window).iloc[window - 1:].tolist() == pytest.approx(slow_roll)
    slow_vol = [slow_std(xs[i - window + 1:i + 1]) * math.sqrt(ppy)
                for i in range(window - 1, len(xs))]
    assert m.rolling_volatility(r, window).iloc[window - 1:].tolist() == pytest.approx(slow_vol)


def test_drawdown_periods_against_slow_scan():
    r = random_returns(5, n=400, mean=0.0)
    dds = slow_drawdowns(r.tolist())
    trough = int(np.argmin(dds))
    peak = max((i for i in range(trough) if dds[i] == 0.0), default=None)
    recovery = next((i for i in range(trough, len(dds)) if dds[i] == 0.0), None)
    p = m.max_drawdown_period(r)
    assert p is not None
    assert p.trough == r.index[trough]
    assert p.peak == (r.index[peak] if peak is not None else pd.NaT)
    assert p.recovery is pd.NaT if recovery is None else p.recovery == r.index[recovery]


# --------------------------------------------------------------------------- metamorphic


@pytest.mark.parametrize("k", [0.5, 2.0, 10.0])
def test_sharpe_is_scale_invariant_and_volatility_scales(k: float):
    r = random_returns(11, n=250)
    assert m.sharpe_ratio(k * r) == pytest.approx(m.sharpe_ratio(r))
    assert m.sharpe_ratio(-k * r) == pytest.approx(-m.sharpe_ratio(r))
    assert m.annual_volatility(k * r) == pytest.approx(k * m.annual_volatility(r))
    assert m.information_ratio(k * r, 0 * r) == pytest.approx(m.sharpe_ratio(r))


def test_adding_a_constant_raises_cagr():
    r = random_returns(12, n=250)
    cagrs = [m.annual_return(r + c) for c in (-0.001, 0.0, 0.0005, 0.001)]
    assert cagrs == sorted(cagrs)
    assert len(set(cagrs)) == len(cagrs)


def test_monotone_equity_has_no_drawdown():
    r = random_returns(13, n=250).abs()
    assert m.max_drawdown(r) == 0.0
    assert (m.drawdown_series(r) == 0.0).all()


def test_benchmark_against_itself():
    r = random_returns(14, n=250)
    alpha, beta = m.alpha_beta(r, r)
    assert beta == pytest.approx(1.0)
    assert alpha == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(m.information_ratio(r, r))
    assert m.alpha_beta(2 * r, r)[1] == pytest.approx(2.0)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-0.99, max_value=2.0, allow_subnormal=False),
                min_size=1, max_size=60))
def test_drawdown_bounds(values: list[float]):
    r = series(values)
    dd = m.drawdown_series(r)
    assert (dd <= 0.0).all()
    assert (dd >= -1.0).all()
    assert m.max_drawdown(r) == dd.min()
    p = m.max_drawdown_period(r)
    assert (p is None) == (dd.min() == 0.0)
    if p is not None:
        assert p.drawdown == dd.min()
        assert pd.isna(p.peak) or p.peak < p.trough
        assert pd.isna(p.recovery) or p.recovery > p.trough


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(min_value=-0.1, max_value=0.1, allow_subnormal=False),
                min_size=3, max_size=60))
def test_psr_is_a_probability(values: list[float]):
    psr = m.probabilistic_sharpe_ratio(series(values))
    assert np.isnan(psr) or 0.0 <= psr <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=-1.0, max_value=1.0), max_size=40))
def test_scalar_metrics_never_warn_and_return_a_real_float_or_nan(values: list[float]):
    # any RuntimeWarning (0/0, overflow) would fail here: pytest turns warnings into errors
    r = series(values)
    for func in SCALARS:
        out = func(r)
        assert isinstance(out, float), func.__name__
        assert not math.isinf(out) or func is m.annual_return, func.__name__
    alpha, beta = m.alpha_beta(r, r[::-1].set_axis(r.index))
    assert isinstance(alpha, float) and isinstance(beta, float)


def test_total_loss():
    r = series([0.1, -1.0, 0.2])  # wealth 1.1, 0, 0
    assert m.total_return(r) == -1.0
    assert m.annual_return(r) == -1.0
    assert m.max_drawdown(r) == -1.0
    p = m.max_drawdown_period(r)
    assert p is not None and p.recovery is pd.NaT


# --------------------------------------------------------------------------- edge cases


SCALARS = [m.total_return, m.annual_return, m.annual_volatility, m.sharpe_ratio,
           m.sortino_ratio, m.downside_deviation, m.max_drawdown, m.calmar_ratio,
           m.probabilistic_sharpe_ratio, m.sharpe_standard_error]


@pytest.mark.parametrize("func", SCALARS, ids=lambda f: f.__name__)
def test_empty_series_gives_nan(func):
    assert np.isnan(func(pd.Series([], dtype="float64", index=pd.DatetimeIndex([]))))


def test_empty_series_elsewhere():
    empty = pd.Series([], dtype="float64", index=pd.DatetimeIndex([]))
    assert m.drawdown_series(empty).empty
    assert m.max_drawdown_period(empty) is None
    assert m.rolling_sharpe(empty, 5).empty
    assert np.isnan(m.alpha_beta(empty, series(B4))[1])
    s = m.summary(empty)
    assert s["n_periods"] == 0 and s["start"] is pd.NaT and np.isnan(s["sharpe_ratio"])


def test_all_zero_returns_give_nan_ratios_not_inf():
    zero = series([0.0] * 10)
    assert np.isnan(m.sharpe_ratio(zero))
    assert np.isnan(m.sortino_ratio(zero))
    assert np.isnan(m.probabilistic_sharpe_ratio(zero))
    assert np.isnan(m.sharpe_standard_error(zero))
    assert np.isnan(m.calmar_ratio(zero))
    assert m.annual_volatility(zero) == 0.0
    assert m.total_return(zero) == 0.0
    assert m.annual_return(zero) == 0.0
    assert m.max_drawdown(zero) == 0.0
    assert m.rolling_sharpe(zero, 3).isna().all()


def test_constant_nonzero_returns_give_nan_sharpe_not_a_huge_number():
    flat = series([0.001] * 10)  # float std of equal values can be 1e-19, not 0
    assert np.isnan(m.sharpe_ratio(flat))
    assert m.annual_volatility(flat) == 0.0
    assert np.isnan(m.sortino_ratio(flat))  # no shortfall: NaN rather than inf


def test_single_return():
    one = series([0.01])
    assert m.total_return(one) == pytest.approx(0.01)
    assert np.isnan(m.sharpe_ratio(one))
    assert np.isnan(m.annual_volatility(one))


def test_nan_return_raises_naming_the_first_date():
    r = series([0.01, np.nan, 0.02, np.nan])
    with pytest.raises(DataError, match=r"2 NaN or infinite value\(s\); the first \(NaN\) is on "
                                        r"2024-01-02"):
        m.sharpe_ratio(r)
    with pytest.raises(DataError, match="2024-01-02"):
        m.max_drawdown(r)


def test_other_bad_returns_raise():
    with pytest.raises(DataError, match="infinite"):
        m.total_return(series([0.01, np.inf]))
    with pytest.raises(DataError, match="below -1"):
        m.total_return(series([0.01, -1.5]))
    with pytest.raises(DataError, match="sorted"):
        m.total_return(series(R5).iloc[::-1])
    with pytest.raises(DataError, match="duplicate"):
        m.total_return(pd.concat([series(R5), series(R5)]).sort_index())
    with pytest.raises(DataError, match="pandas Series"):
        m.total_return(R5)  # type: ignore[arg-type]


def test_bad_parameters_raise_config_error():
    r = series(R5)
    with pytest.raises(ConfigError, match="periods_per_year"):
        m.sharpe_ratio(r, periods_per_year=0)
    with pytest.raises(ConfigError, match="risk_free"):
        m.sharpe_ratio(r, risk_free=float("nan"))
    with pytest.raises(ConfigError, match="window"):
        m.rolling_sharpe(r, 1)
    with pytest.raises(ConfigError, match="n_trials"):
        m.deflated_sharpe_ratio(r, 0, 1.0)
    with pytest.raises(ConfigError, match="trials_sharpe_variance"):
        m.deflated_sharpe_ratio(r, 5, -1.0)
    with pytest.raises(ConfigError, match="top"):
        m.drawdown_details(r, top=0)


def test_inputs_are_not_mutated():
    r, b = series(S4), series(B4)
    r_before, b_before = r.copy(), b.copy()
    m.summary(r, b)
    pd.testing.assert_series_equal(r, r_before)
    pd.testing.assert_series_equal(b, b_before)


def test_summary_gathers_the_headline_metrics():
    r = series(S4, start="2024-01-02")
    b = series(B4, start="2024-01-02")
    equity = 1_000_000.0 * (1 + r).cumprod()
    log = HAND_LOG.iloc[[0, 1]]  # buys on 2 and 3 Jan, both open
    s = m.summary(r, b, log, equity, periods_per_year=4)
    assert s["start"] == pd.Timestamp("2024-01-02") and s["end"] == pd.Timestamp("2024-01-05")
    assert s["n_periods"] == 4
    assert s["sharpe_ratio"] == m.sharpe_ratio(r, periods_per_year=4)
    assert s["max_drawdown"] == m.max_drawdown(r)
    assert s["max_drawdown_trough"] == pd.Timestamp("2024-01-03")
    assert (s["alpha"], s["beta"]) == pytest.approx(m.alpha_beta(r, b, periods_per_year=4))
    assert s["information_ratio"] == pytest.approx(1.0)
    assert s["benchmark_total_return"] == m.total_return(b)
    assert s["n_trades"] == 2 and s["n_settlements"] == 0 and s["open_shares"] == 1100
    assert "annual_turnover" in s
    assert m.summary(r).keys().isdisjoint({"alpha", "n_trades"})
    # a given periods_per_year: empyrical's convention, recorded
    assert (s["periods_per_year"], s["annualisation"].startswith("annualised with 4 ")) == (
        4.0, True)
    assert math.isnan(s["years"]) and s["annual_return"] == m.annual_return(r, 4)


# --------------------------------------------------------------------------- docs


def test_docstring_examples_pass():
    # testpaths is tests/, so the module's doctests are run here as well
    result = doctest.testmod(m, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0


def test_public_api_is_documented():
    for name in m.__all__:
        obj = getattr(m, name)
        if callable(obj):
            assert obj.__doc__, name
            if not isinstance(obj, type):
                assert "Examples" in obj.__doc__, name
