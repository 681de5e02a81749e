"""Performance statistics of a daily return series.

Every function takes *simple* (not log) returns, one per trading session, as a
``pd.Series`` indexed by date in ascending order: ``r_t = equity_t / equity_{t-1} - 1``.
The conventions follow `empyrical <https://github.com/quantopian/empyrical>`_ (the library
behind pyfolio and zipline) unless a docstring says otherwise, so figures can be compared
with it:

* **Periods per year.** The single-metric functions default to ``PERIODS_PER_YEAR =
  252``, empyrical's daily factor, so that each compares with empyrical and pyfolio; every
  one takes ``periods_per_year`` (243 for A-shares, 12 for monthly returns).
* **Annualisation of a backtest** (:func:`summary`, and through it
  ``BacktestResult.metrics()``, the research tables and the reports) follows the market's
  own calendar instead, as :func:`annualisation` decides: China's A-share exchanges trade
  only about 242-244 sessions a year (long Spring Festival and National Day closures), so
  252 would overstate annual returns by about 3.7 % (relative) and Sharpe ratios by about
  1.9 %. Volatility, Sharpe, Sortino, alpha, the information ratio and turnover use
  :func:`workbench.calendar.sessions_per_year` of the returns' dates (the XSHG calendar's
  mean over the calendar years they span), and the annual return is the CAGR over elapsed
  calendar time, :func:`calendar_annual_return`. Passing ``periods_per_year`` gives
  empyrical's convention with that figure (the CAGR then counts sessions). The summary
  records the convention (``periods_per_year``, ``years``, ``annualisation``) so that
  reports can state it.
* **Standard deviations** use ``ddof=1`` (the sample estimate), as empyrical does for
  volatility, Sharpe and the information ratio. Downside deviation is the root mean square
  of the shortfalls over *all* periods, as in empyrical.
* **Risk-free and required returns are per period** (a daily rate for daily returns), as
  in empyrical: 2 % a year is about ``0.02 / 252``.
* **Degenerate input gives NaN, never inf and never an exception**: an empty series, fewer
  than two returns where a standard deviation is needed, or a series with no dispersion
  (all returns equal, e.g. all zero: Sharpe is 0/0) yields ``nan``.
* **Bad input raises** :class:`~workbench.errors.DataError`: a NaN or infinite return (the
  message names the first such date; returns from the backtester must be complete, so
  nothing is dropped silently), a return below -100 %, an unsorted or duplicated index.
* **Drawdowns** are measured from the starting capital too (as empyrical does): a loss on
  the first day is a drawdown.
* **Benchmarks** are aligned to the dates both series share; dates of ``returns`` with no
  benchmark return raise a :class:`~workbench.errors.DataWarning`, no common date at all
  raises :class:`~workbench.errors.DataError`.

* **Tails and periods** (:func:`tail_metrics`, :func:`period_metrics`): value at risk and
  expected shortfall are historical (empyrical's quantile and tail mean, not quantstats'
  normal approximation); skewness and excess kurtosis are the bias-corrected sample
  estimators of pandas (and so quantstats); months and years are calendar periods
  compounded (:func:`period_returns`).
* **Active returns** are geometric, ``(1 + r) / (1 + b) - 1`` (:func:`active_returns`):
  compounded, they give the strategy's wealth relative to the benchmark's.

Trade statistics live in :mod:`workbench.trades` (re-exported here: ``round_trips``,
``trade_statistics``, ``turnover``, ``annual_turnover``); :func:`summary` adds them to the
headline figures when given a trade log.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from workbench.calendar import (
    CALENDAR_END,
    CALENDAR_START,
    DAYS_PER_YEAR,
    PERIODS_PER_YEAR,
    elapsed_years,
    sessions_per_year,
)
from workbench.checks import periods_per_year_arg, real_number, whole_number
from workbench.errors import ConfigError, DataError, DataWarning
from workbench.indicators import rolling_mean_array, rolling_std_array
from workbench.series import clean_series, label
from workbench.trades import (
    COST_COLUMNS,
    TRADE_COLUMNS,
    annual_turnover,
    round_trips,
    trade_statistics,
    turnover,
)

__all__ = [
    "COST_COLUMNS",
    "PERIODS",
    "PERIODS_PER_YEAR",
    "TRADE_COLUMNS",
    "Annualisation",
    "DrawdownPeriod",
    "active_returns",
    "alpha_beta",
    "annual_return",
    "annual_turnover",
    "annual_volatility",
    "annualisation",
    "calendar_annual_return",
    "calmar_ratio",
    "conditional_value_at_risk",
    "deflated_sharpe_ratio",
    "downside_deviation",
    "drawdown_details",
    "drawdown_series",
    "excess_kurtosis",
    "expected_max_sharpe",
    "information_ratio",
    "max_drawdown",
    "max_drawdown_period",
    "period_metrics",
    "period_returns",
    "probabilistic_sharpe_ratio",
    "rolling_beta",
    "rolling_sharpe",
    "rolling_volatility",
    "round_trips",
    "sharpe_ratio",
    "sharpe_standard_error",
    "skewness",
    "sortino_ratio",
    "summary",
    "tail_metrics",
    "to_date_return",
    "total_return",
    "trade_statistics",
    "trailing_annual_return",
    "turnover",
    "value_at_risk",
]

_EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


# --------------------------------------------------------------------------- validation


def check_rate(value: float, name: str) -> float:
    """A per-period rate (a fraction) as a float if finite, else ConfigError."""
    return real_number(value, name, hint="2 % a year on daily returns is about 0.02 / 252")


def check_window(window: int) -> int:
    """A rolling window in sessions as an int if >= 2, else ConfigError."""
    return whole_number(window, "window", minimum=2,
                        hint="e.g. 126 for half a year of daily returns")


def _align(returns: pd.Series, benchmark: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return both series restricted to the dates they share (see the module docstring)."""
    r = clean_series(returns)
    b = clean_series(benchmark, "benchmark")
    if r.empty or b.empty:
        return r.iloc[:0], b.iloc[:0]
    common = r.index.intersection(b.index)
    if common.empty:
        raise DataError(
            f"returns ({label(r.index[0])} to {label(r.index[-1])}) and benchmark "
            f"({label(b.index[0])} to {label(b.index[-1])}) have no date in common; pass a "
            "benchmark covering the backtest and check both are indexed by naive session dates")
    if len(common) < len(r):
        missing = r.index.difference(common)
        warnings.warn(
            f"{len(missing)} of {len(r)} return dates have no benchmark return (the first is "
            f"{label(missing[0])}); benchmark statistics use the {len(common)} common dates",
            DataWarning, stacklevel=3)
    return r.loc[common], b.loc[common]


def _constant(values: np.ndarray) -> bool:
    """True if every value is equal: the dispersion is exactly zero, whatever float says."""
    return bool(values.size == 0 or values.max() == values.min())


def _mean_over_std(values: np.ndarray) -> float:
    """``mean / std(ddof=1)``, or NaN for fewer than two values or no dispersion.

    Equal values can leave a float standard deviation of 1e-19 instead of 0, hence the
    exact test; a spread so tiny that the variance underflows to 0 is treated alike.
    """
    if values.size < 2 or _constant(values):
        return math.nan
    std = float(np.std(values, ddof=1))
    return float(values.mean()) / std if std > 0.0 else math.nan


# --------------------------------------------------------------------------- returns


def total_return(returns: pd.Series) -> float:
    """Compounded return over the whole series, ``prod(1 + r) - 1``.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.

    Returns
    -------
    float
        Total return as a fraction; NaN for an empty series (as empyrical).

    Raises
    ------
    DataError
        If ``returns`` has a NaN or infinite value (named by date) or is unsorted.

    Examples
    --------
    >>> r = pd.Series([0.10, -0.10], index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    >>> round(total_return(r), 10)  # 1.1 * 0.9 - 1
    -0.01
    """
    r = clean_series(returns)
    if r.empty:
        return math.nan
    return float(np.prod(1.0 + r.to_numpy()) - 1.0)


def annual_return(returns: pd.Series, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Compound annual growth rate (CAGR), ``(1 + total) ** (periods_per_year / n) - 1``.

    As empyrical's ``annual_return``: the number of years is the number of returns divided
    by ``periods_per_year``, not the calendar span of the index.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        CAGR as a fraction; NaN for an empty series; -1.0 if equity reached zero.

    Examples
    --------
    >>> r = pd.Series([0.01] * 126)  # half a year of +1 % a day
    >>> round(annual_return(r), 6) == round(1.01 ** 252 - 1, 6)
    True
    """
    ppy = periods_per_year_arg(periods_per_year)
    r = clean_series(returns)
    if r.empty:
        return math.nan
    return _compound(float(np.prod(1.0 + r.to_numpy())), ppy / len(r))


def _compound(growth: float, per_year: float) -> float:
    """``growth ** per_year - 1``; inf beyond float range (days of huge gains annualised)."""
    try:
        return growth ** per_year - 1.0
    except OverflowError:
        return math.inf


def calendar_annual_return(returns: pd.Series) -> float:
    """CAGR over elapsed calendar time, ``(1 + total) ** (365.25 / days) - 1``.

    ``days`` runs from the day before the first return to the last return's date,
    ``(last - first).days + 1`` (:func:`workbench.calendar.elapsed_years`): the first
    return is measured from the starting capital, so its session counts as one day. Unlike
    :func:`annual_return` it needs no sessions-per-year figure: a year is a year of the
    calendar, whatever the exchange's holidays.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date (a ``DatetimeIndex``), ascending.

    Returns
    -------
    float
        CAGR as a fraction; NaN for an empty series; -1.0 if equity reached zero.

    Raises
    ------
    DataError
        If the index holds no dates, or as :func:`total_return`.

    Examples
    --------
    >>> days = pd.to_datetime(["2024-01-02", "2024-07-01"])  # 182 days: from 1 Jan to 1 Jul
    >>> r = pd.Series([0.05, 0.05], index=days)  # total 10.25 % over 182 / 365.25 years
    >>> round(calendar_annual_return(r), 6) == round(1.1025 ** (365.25 / 182) - 1, 6)
    True
    """
    r = clean_series(returns)
    if not isinstance(r.index, pd.DatetimeIndex):
        raise DataError(f"calendar_annual_return needs returns indexed by date (a "
                        f"DatetimeIndex), got {type(r.index).__name__}; use "
                        "annual_return(returns, periods_per_year) for a series without dates")
    if r.empty:
        return math.nan
    return _compound(float(np.prod(1.0 + r.to_numpy())), 1.0 / elapsed_years(r.index))


@dataclass(frozen=True, kw_only=True)
class Annualisation:
    """How a run's daily figures are annualised: what :func:`summary` used and reports state.

    Attributes
    ----------
    periods_per_year : float
        Sessions per year for volatility, Sharpe, Sortino, alpha, the information ratio and
        turnover.
    years : float
        Elapsed calendar years over which the annual return compounds
        (:func:`calendar_annual_return`); NaN when the CAGR counts sessions instead
        (:func:`annual_return` with ``periods_per_year``).
    source : str
        ``'calendar'`` (measured from the XSHG calendar over the returns' dates),
        ``'given'`` (the caller's ``periods_per_year``) or ``'default'``
        (:data:`PERIODS_PER_YEAR`: no dates inside the XSHG calendar to measure from).
    text : str
        The convention in a sentence, for a report's footnote.
    """

    periods_per_year: float
    years: float
    source: str
    text: str

    def annual_return(self, returns: pd.Series) -> float:
        """The CAGR of ``returns`` under this convention."""
        if math.isnan(self.years):
            return annual_return(returns, self.periods_per_year)
        return calendar_annual_return(returns)


def annualisation(returns: pd.Series | pd.Index,
                  periods_per_year: float | None = None) -> Annualisation:
    """The annualisation convention for a series (or its index): measured, given or default.

    Parameters
    ----------
    returns : pd.Series or pd.Index
        The daily returns of a run, or their index.
    periods_per_year : float, optional
        None (the default): follow the market's calendar when the index holds dates, with
        :func:`workbench.calendar.sessions_per_year` (the default 252 for dates outside the
        XSHG calendar's years) and the CAGR over :func:`workbench.calendar.elapsed_years`.
        A number: empyrical's convention with that figure, the CAGR counting sessions.

    Returns
    -------
    Annualisation

    Examples
    --------
    >>> a = annualisation(pd.Series(0.0, index=pd.bdate_range("2016-01-04", "2024-12-31")))
    >>> a.periods_per_year, round(a.years, 4), a.source  # 3,285 days / 365.25
    (243.0, 8.9938, 'calendar')
    >>> annualisation(pd.Series([0.01, 0.02]), periods_per_year=243).source
    'given'
    """
    index = returns.index if isinstance(returns, pd.Series) else pd.Index(returns)
    if periods_per_year is not None:
        ppy = periods_per_year_arg(periods_per_year)
        return Annualisation(periods_per_year=ppy, years=math.nan, source="given",
                             text=f"annualised with {ppy:g} periods a year (given); the annual "
                                  "return is the CAGR over the number of periods / "
                                  f"{ppy:g}")
    if not isinstance(index, pd.DatetimeIndex) or index.empty:
        return Annualisation(periods_per_year=float(PERIODS_PER_YEAR), years=math.nan,
                             source="default",
                             text=f"annualised with {PERIODS_PER_YEAR} periods a year (no "
                                  "dates to read a calendar from); the annual return is the "
                                  f"CAGR over the number of periods / {PERIODS_PER_YEAR}")
    first, last = index.min(), index.max()
    years = elapsed_years(index)
    days = round(years * DAYS_PER_YEAR)
    cagr = (f"the annual return is the CAGR over elapsed calendar time, {days:,} days "
            f"(from the day before {first.date()} to {last.date()}) / "
            f"{DAYS_PER_YEAR} = {years:.2f} years")
    if CALENDAR_START.year <= first.year and last.year <= CALENDAR_END.year:
        ppy = sessions_per_year(index)
        span = str(first.year) if first.year == last.year else f"{first.year}-{last.year}"
        return Annualisation(
            periods_per_year=ppy, years=years, source="calendar",
            text=f"volatility, Sharpe, Sortino, alpha, information ratio and turnover "
                 f"annualised with {ppy:.1f} sessions a year (the XSHG calendar's mean over "
                 f"{span}); {cagr}")
    return Annualisation(
        periods_per_year=float(PERIODS_PER_YEAR), years=years, source="default",
        text=f"annualised with {PERIODS_PER_YEAR} sessions a year (dates outside the XSHG "
             f"calendar's years {CALENDAR_START.year}-{CALENDAR_END.year}); {cagr}")


def annual_volatility(returns: pd.Series, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised volatility, ``std(r, ddof=1) * sqrt(periods_per_year)``.

    empyrical also uses the sample standard deviation (``ddof=1``).

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        Annualised volatility as a fraction; NaN for fewer than two returns; 0.0 if every
        return is equal.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.01, 0.01, -0.01])  # mean 0, sum of squares 4e-4, var 4e-4/3
    >>> round(annual_volatility(r, periods_per_year=3), 6)  # sqrt(4e-4 / 3 * 3)
    0.02
    """
    ppy = periods_per_year_arg(periods_per_year)
    arr = clean_series(returns).to_numpy()
    if arr.size < 2:
        return math.nan
    if _constant(arr):
        return 0.0
    return float(np.std(arr, ddof=1) * math.sqrt(ppy))


def sharpe_ratio(returns: pd.Series, risk_free: float = 0.0,
                 periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised Sharpe ratio, ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(periods_per_year)``.

    As empyrical's ``sharpe_ratio``: ``risk_free`` is a constant per-period rate and the
    standard deviation is the sample one (``ddof=1``).

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    risk_free : float
        Risk-free return per period (a daily rate for daily returns).
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        The Sharpe ratio; NaN for fewer than two returns or when every excess return is
        equal (all-zero returns give 0/0: NaN, not inf).

    Examples
    --------
    >>> r = pd.Series([0.02, 0.00, 0.01])  # mean 0.01, std (ddof=1) 0.01
    >>> round(sharpe_ratio(r, periods_per_year=4), 10)  # 0.01 / 0.01 * sqrt(4)
    2.0
    >>> sharpe_ratio(pd.Series([0.0, 0.0, 0.0]))
    nan
    """
    ppy = periods_per_year_arg(periods_per_year)
    rf = check_rate(risk_free, "risk_free")
    return _mean_over_std(clean_series(returns).to_numpy() - rf) * math.sqrt(ppy)


def downside_deviation(returns: pd.Series, required_return: float = 0.0,
                       periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised downside deviation below ``required_return``, empyrical's ``downside_risk``.

    ``sqrt(mean(min(r - required_return, 0) ** 2)) * sqrt(periods_per_year)``: the mean is
    over *all* periods (periods above the threshold count as zero shortfall), no ``ddof``.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    required_return : float
        Minimum acceptable return per period.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        Downside deviation as a fraction; NaN for an empty series.

    Examples
    --------
    >>> r = pd.Series([0.02, -0.02, 0.01, -0.02])  # shortfalls 0, -0.02, 0, -0.02
    >>> round(downside_deviation(r, periods_per_year=4), 10)  # sqrt(8e-4 / 4) * 2
    0.0282842712
    """
    ppy = periods_per_year_arg(periods_per_year)
    req = check_rate(required_return, "required_return")
    arr = clean_series(returns).to_numpy()
    if arr.size == 0:
        return math.nan
    shortfall = np.minimum(arr - req, 0.0)
    return float(math.sqrt(np.mean(shortfall**2)) * math.sqrt(ppy))


def sortino_ratio(returns: pd.Series, required_return: float = 0.0,
                  periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised Sortino ratio, empyrical-style.

    ``mean(r - required_return) * periods_per_year / downside_deviation(...)``, i.e.
    ``mean(r - req) / sqrt(mean(min(r - req, 0) ** 2)) * sqrt(periods_per_year)``.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    required_return : float
        Minimum acceptable return per period (a daily rate for daily returns).
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        The Sortino ratio; NaN for fewer than two returns or when no return falls below
        ``required_return`` (empyrical returns inf there; NaN keeps inf out of reports).

    Examples
    --------
    >>> r = pd.Series([0.03, -0.01, 0.02, -0.02])  # mean 0.005; mean shortfall^2 = 5e-4 / 4
    >>> round(sortino_ratio(r, periods_per_year=4), 6)  # 0.005 / sqrt(1.25e-4) * 2
    0.894427
    """
    ppy = periods_per_year_arg(periods_per_year)
    req = check_rate(required_return, "required_return")
    arr = clean_series(returns).to_numpy()
    if arr.size < 2:
        return math.nan
    shortfall = np.minimum(arr - req, 0.0)
    downside = math.sqrt(np.mean(shortfall**2))
    if downside == 0.0:
        return math.nan
    return float(np.mean(arr - req) / downside * math.sqrt(ppy))


# --------------------------------------------------------------------------- drawdowns


def drawdown_series(returns: pd.Series) -> pd.Series:
    """Underwater curve: ``wealth / running peak - 1`` on each date, 0 at a new high.

    Wealth starts at 1 before the first return and the running peak includes that
    starting capital, so a loss on the first day is already a drawdown.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.

    Returns
    -------
    pd.Series
        Drawdown (a fraction ≤ 0) on the same index, named ``"drawdown"``.

    Examples
    --------
    >>> r = pd.Series([-0.10, 0.05, 0.10])  # wealth 0.9, 0.945, 1.0395; peak 1, 1, 1.0395
    >>> drawdown_series(r).round(6).tolist()
    [-0.1, -0.055, 0.0]
    """
    r = clean_series(returns)
    wealth = np.cumprod(1.0 + r.to_numpy())
    # the running peak starts at the initial capital of 1, so it is never below 1
    peak = np.maximum.accumulate(np.maximum(wealth, 1.0))
    return pd.Series(wealth / peak - 1.0, index=r.index, name="drawdown")


def max_drawdown(returns: pd.Series) -> float:
    """Maximum drawdown: the most negative value of :func:`drawdown_series`.

    As empyrical's ``max_drawdown``: a negative fraction (-0.25 is a 25 % fall from the
    peak), measured from the starting capital too.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.

    Returns
    -------
    float
        Maximum drawdown ≤ 0; 0.0 if equity never falls; NaN for an empty series.

    Examples
    --------
    >>> r = pd.Series([0.10, -0.10, -0.10, 0.25])  # wealth 1.1, 0.99, 0.891, 1.11375
    >>> round(max_drawdown(r), 10)  # 0.891 / 1.1 - 1
    -0.19
    """
    dd = drawdown_series(returns)
    if dd.empty:
        return math.nan
    return float(dd.min())


@dataclass(frozen=True, kw_only=True)
class DrawdownPeriod:
    """One drawdown episode: from a peak to the trough to the recovery.

    Attributes
    ----------
    peak : pd.Timestamp
        Last date at the running high before the fall (NaT when the high is the starting
        capital, i.e. the series opens with a loss).
    trough : pd.Timestamp
        Date of the lowest wealth in the episode.
    recovery : pd.Timestamp
        First date wealth is back at or above the peak; NaT if not recovered by the end.
    drawdown : float
        Depth at the trough, a negative fraction.
    """

    peak: pd.Timestamp
    trough: pd.Timestamp
    recovery: pd.Timestamp
    drawdown: float


def drawdown_details(returns: pd.Series, top: int | None = None) -> pd.DataFrame:
    """Every drawdown episode, deepest first.

    An episode starts on the first date below the running peak and ends on the first date
    back at it (the recovery). See :class:`DrawdownPeriod` for the meaning of the dates.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    top : int, optional
        Keep only the ``top`` deepest episodes.

    Returns
    -------
    pd.DataFrame
        Columns ``peak, trough, recovery`` (index labels; NaT where described above) and
        ``drawdown`` (negative fraction), sorted by ``drawdown`` ascending.

    Examples
    --------
    >>> r = pd.Series([0.1, -0.1, 0.2, -0.5, 0.1],
    ...               index=pd.bdate_range("2024-01-01", periods=5))
    >>> drawdown_details(r)  # wealth 1.1, 0.99, 1.188, 0.594, 0.6534
            peak     trough   recovery  drawdown
    0 2024-01-03 2024-01-04        NaT      -0.5
    1 2024-01-01 2024-01-02 2024-01-03      -0.1
    """
    if top is not None:
        top = whole_number(top, "top", hint="e.g. top=5, or None for every drawdown")
    dd = drawdown_series(returns)
    values = dd.to_numpy()
    # episodes as positions [peak, trough, recovery, depth]; -1 marks "no such date"
    episodes: list[list[Any]] = []
    current: list[Any] | None = None
    for i, depth in enumerate(values):
        if depth < 0.0:
            if current is None:
                current = [i - 1, i, -1, depth]
            elif depth < current[3]:
                current[1], current[3] = i, depth
        elif current is not None:
            current[2] = i
            episodes.append(current)
            current = None
    if current is not None:
        episodes.append(current)
    pos = np.array([e[:3] for e in episodes], dtype=np.intp).reshape(-1, 3)

    def dates(column: np.ndarray) -> pd.Series:
        return pd.Series(dd.index.take(np.maximum(column, 0))).where(column >= 0)

    details = pd.DataFrame({"peak": dates(pos[:, 0]), "trough": dates(pos[:, 1]),
                            "recovery": dates(pos[:, 2]),
                            "drawdown": np.array([e[3] for e in episodes], dtype="float64")})
    details = details.sort_values("drawdown", kind="stable").reset_index(drop=True)
    return details if top is None else details.head(top)


def max_drawdown_period(returns: pd.Series) -> DrawdownPeriod | None:
    """Peak, trough and recovery dates of the deepest drawdown.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.

    Returns
    -------
    DrawdownPeriod or None
        The deepest episode (the earliest if two are equally deep); None if equity never
        falls below its running peak (or the series is empty).

    Examples
    --------
    >>> r = pd.Series([0.1, -0.1, -0.1, 0.25, 0.05],
    ...               index=pd.bdate_range("2024-01-01", periods=5))
    >>> p = max_drawdown_period(r)  # wealth 1.1, 0.99, 0.891, 1.11375, ...
    >>> str(p.peak.date()), str(p.trough.date()), str(p.recovery.date()), round(p.drawdown, 6)
    ('2024-01-01', '2024-01-03', '2024-01-04', -0.19)
    """
    details = drawdown_details(returns, top=1)
    if details.empty:
        return None
    row = details.iloc[0]
    return DrawdownPeriod(peak=row["peak"], trough=row["trough"], recovery=row["recovery"],
                          drawdown=float(row["drawdown"]))


def calmar_ratio(returns: pd.Series, periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Calmar ratio, ``annual_return / abs(max_drawdown)`` over the whole series (as empyrical).

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        The Calmar ratio; NaN for an empty series or when there is no drawdown.

    Examples
    --------
    >>> r = pd.Series([0.10, -0.10, -0.10, 0.25])  # total 0.11375, max drawdown -0.19
    >>> round(calmar_ratio(r, periods_per_year=4), 6)  # 0.11375 / 0.19
    0.598684
    """
    mdd = max_drawdown(returns)
    if math.isnan(mdd) or mdd == 0.0:
        return math.nan
    return annual_return(returns, periods_per_year) / abs(mdd)


# --------------------------------------------------------------------------- benchmark


def alpha_beta(returns: pd.Series, benchmark: pd.Series, risk_free: float = 0.0,
               periods_per_year: float = PERIODS_PER_YEAR) -> tuple[float, float]:
    """Annualised alpha and beta against a benchmark, as empyrical's ``alpha_beta``.

    ``beta = cov(r - rf, b - rf) / var(b - rf)``; the daily alphas are
    ``(r - rf) - beta * (b - rf)`` and alpha is annualised by compounding their mean:
    ``(1 + mean(daily alpha)) ** periods_per_year - 1``. Only dates both series share are
    used.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns of the strategy (fractions), indexed by date, ascending.
    benchmark : pd.Series
        Daily simple returns of the benchmark (e.g. CSI 300), same convention.
    risk_free : float
        Risk-free return per period.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    tuple of float
        ``(alpha, beta)``; both NaN for fewer than two common dates or a constant benchmark.

    Raises
    ------
    DataError
        If the two series share no date, or either has a NaN.

    Examples
    --------
    >>> b = pd.Series([0.01, -0.01, 0.02, 0.00])
    >>> a, beta = alpha_beta(2 * b + 0.001, b, periods_per_year=4)
    >>> round(beta, 10), round(a, 12)  # daily alpha 0.001: a = 1.001 ** 4 - 1
    (2.0, 0.004006004001)
    """
    ppy = periods_per_year_arg(periods_per_year)
    rf = check_rate(risk_free, "risk_free")
    r, b = _align(returns, benchmark)
    y = r.to_numpy() - rf
    x = b.to_numpy() - rf
    if x.size < 2 or _constant(x):
        return math.nan, math.nan
    xd = x - x.mean()
    sxx = float(np.dot(xd, xd))
    if sxx == 0.0:  # the spread underflowed
        return math.nan, math.nan
    beta = float(np.dot(xd, y - y.mean())) / sxx
    daily_alpha = float(np.mean(y - beta * x))
    if daily_alpha <= -1.0:  # compounding a loss of 100 % a day or worse: everything lost
        return -1.0, beta
    return (1.0 + daily_alpha) ** ppy - 1.0, beta


def information_ratio(returns: pd.Series, benchmark: pd.Series,
                      periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Annualised information ratio, ``mean(a) / std(a, ddof=1) * sqrt(periods_per_year)``.

    ``a = r - b`` is the daily active return on the dates both series share. Unlike
    empyrical, whose ``excess_sharpe``/``information_ratio`` is left per period, the ratio is
    annualised like :func:`sharpe_ratio` so the two can be read side by side.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns of the strategy (fractions), indexed by date, ascending.
    benchmark : pd.Series
        Daily simple returns of the benchmark, same convention.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        The information ratio; NaN for fewer than two common dates or a constant active
        return (e.g. the benchmark itself).

    Examples
    --------
    >>> b = pd.Series([0.01, 0.00, -0.01])
    >>> r = b + pd.Series([0.02, 0.00, 0.01])  # active mean 0.01, std (ddof=1) 0.01
    >>> round(information_ratio(r, b, periods_per_year=4), 10)
    2.0
    """
    ppy = periods_per_year_arg(periods_per_year)
    r, b = _align(returns, benchmark)
    return _mean_over_std(r.to_numpy() - b.to_numpy()) * math.sqrt(ppy)


# --------------------------------------------------------------------------- Sharpe inference


def _sharpe_moments(returns: pd.Series, risk_free: float) -> tuple[float, float, float, int]:
    """Per-period Sharpe (ddof=1), skewness and (non-excess) kurtosis, and n; NaN if degenerate.

    Skewness and kurtosis are the plain moment estimators ``m3 / m2**1.5`` and
    ``m4 / m2**2`` (central moments with divisor n, as ``scipy.stats`` by default).
    """
    excess = clean_series(returns).to_numpy() - check_rate(risk_free, "risk_free")
    n = excess.size
    if n < 2 or _constant(excess):
        return math.nan, math.nan, math.nan, n
    sr = _mean_over_std(excess)
    dev = excess - excess.mean()
    dev = dev / np.abs(dev).max()  # the moment ratios are scale-free; this avoids underflow
    m2 = float(np.mean(dev**2))
    if math.isnan(sr) or m2 == 0.0:
        return math.nan, math.nan, math.nan, n
    skew = float(np.mean(dev**3)) / m2**1.5
    kurt = float(np.mean(dev**4)) / m2**2
    return sr, skew, kurt, n


def _sharpe_variance_term(sr: float, skew: float, kurt: float) -> float:
    # Mertens (2002): n * Var(SR) ≈ 1 - skew * SR + (kurt - 1) / 4 * SR^2; never negative
    # because kurt >= 1 + skew^2 for any distribution.
    return 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2


def sharpe_standard_error(returns: pd.Series, risk_free: float = 0.0,
                          periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Standard error of the annualised Sharpe ratio, allowing for skew and fat tails.

    Lo (2002) gives ``sqrt((1 + SR**2 / 2) / n)`` for normal i.i.d. returns; Mertens
    (2002) extends it to non-normal i.i.d. returns as
    ``sqrt((1 - skew * SR + (kurt - 1) / 4 * SR**2) / (n - 1))`` with the per-period SR
    (kurt is the ordinary, not excess, kurtosis, so normal returns give Lo's figure up
    to ``n - 1``). The result is scaled by ``sqrt(periods_per_year)`` to be in the units
    of :func:`sharpe_ratio`. Serial correlation is not corrected for.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    risk_free : float
        Risk-free return per period.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        Standard error of the annualised Sharpe ratio; NaN when the Sharpe ratio is NaN.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.01] * 50)  # SR 0, so SE = sqrt(1 / 99) per period
    >>> round(sharpe_standard_error(r, periods_per_year=1), 6)
    0.100504
    """
    ppy = periods_per_year_arg(periods_per_year)
    sr, skew, kurt, n = _sharpe_moments(returns, risk_free)
    if math.isnan(sr):
        return math.nan
    term = _sharpe_variance_term(sr, skew, kurt)
    if term <= 0.0:
        return math.nan
    return math.sqrt(term / (n - 1)) * math.sqrt(ppy)


def _psr(returns: pd.Series, benchmark_per_period: float, risk_free: float) -> float:
    sr, skew, kurt, n = _sharpe_moments(returns, risk_free)
    if math.isnan(sr):
        return math.nan
    term = _sharpe_variance_term(sr, skew, kurt)
    if term <= 0.0:
        return math.nan
    return _NORMAL.cdf((sr - benchmark_per_period) * math.sqrt(n - 1) / math.sqrt(term))


def probabilistic_sharpe_ratio(returns: pd.Series, benchmark_sharpe: float = 0.0,
                               risk_free: float = 0.0,
                               periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Probabilistic Sharpe ratio: P(true Sharpe > ``benchmark_sharpe``), Bailey & López de Prado.

    PSR = Φ((SR - SR*) · sqrt(n - 1) / sqrt(1 - skew · SR + (kurt - 1) / 4 · SR²)), with
    per-period SR (``ddof=1``), skewness and ordinary (non-excess) kurtosis of the excess
    returns, Φ the standard normal CDF (Bailey & López de Prado, "The Sharpe Ratio
    Efficient Frontier", 2012).

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    benchmark_sharpe : float
        The threshold SR*, **annualised** like :func:`sharpe_ratio`; it is divided by
        ``sqrt(periods_per_year)`` to compare with the per-period SR.
    risk_free : float
        Risk-free return per period.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        A probability in [0, 1]; NaN when the Sharpe ratio is NaN.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.01] * 50)  # SR = 0 exactly: z = 0, PSR = Φ(0)
    >>> probabilistic_sharpe_ratio(r)
    0.5
    """
    ppy = periods_per_year_arg(periods_per_year)
    threshold = check_rate(benchmark_sharpe, "benchmark_sharpe") / math.sqrt(ppy)
    return _psr(returns, threshold, risk_free)


def expected_max_sharpe(n_trials: int, trials_sharpe_variance: float) -> float:
    """Expected maximum Sharpe ratio of ``n_trials`` unskilled strategies (False Strategy Theorem).

    ``sqrt(V) * ((1 - γ) Φ⁻¹(1 - 1/N) + γ Φ⁻¹(1 - 1/(N e)))`` with γ the Euler-Mascheroni
    constant (Bailey & López de Prado 2014). One trial gives 0: no selection, no bias.

    Parameters
    ----------
    n_trials : int
        Number of independent strategy configurations tried, ≥ 1.
    trials_sharpe_variance : float
        Variance across those trials of their Sharpe ratios, in the same (annualised) units
        as the result.

    Returns
    -------
    float
        The expected maximum Sharpe ratio, in the units of ``sqrt(trials_sharpe_variance)``.

    Examples
    --------
    >>> round(expected_max_sharpe(100, 1.0), 4)
    2.5306
    """
    n_trials = whole_number(n_trials, "n_trials (strategy trials)", hint="e.g. n_trials=64")
    trials_sharpe_variance = real_number(
        trials_sharpe_variance, "trials_sharpe_variance", minimum=0.0,
        hint="it is the variance of the (annualised) Sharpe ratios of all trials, "
                "np.var(trial_sharpes, ddof=1)")
    if n_trials == 1:
        return 0.0
    n = float(n_trials)
    z = ((1.0 - _EULER_GAMMA) * _NORMAL.inv_cdf(1.0 - 1.0 / n)
         + _EULER_GAMMA * _NORMAL.inv_cdf(1.0 - 1.0 / (n * math.e)))
    return math.sqrt(trials_sharpe_variance) * z


def deflated_sharpe_ratio(returns: pd.Series, n_trials: int, trials_sharpe_variance: float,
                          risk_free: float = 0.0,
                          periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Deflated Sharpe ratio (Bailey & López de Prado 2014): PSR against the expected best of N.

    The threshold SR* is :func:`expected_max_sharpe` of the trials, i.e. the Sharpe ratio
    the best of ``n_trials`` skill-less strategies would show by luck; the DSR is the
    probability that the true Sharpe ratio of ``returns`` exceeds it.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns of the selected strategy (fractions), indexed by date, ascending.
    n_trials : int
        Number of independent configurations tried before selecting this one, ≥ 1.
    trials_sharpe_variance : float
        Variance of the **annualised** Sharpe ratios across the trials (divided by
        ``periods_per_year`` internally to get the per-period variance).
    risk_free : float
        Risk-free return per period.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        A probability in [0, 1]; NaN when the Sharpe ratio is NaN.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.01] * 50)
    >>> deflated_sharpe_ratio(r, n_trials=1, trials_sharpe_variance=0.0)  # PSR(0)
    0.5
    """
    ppy = periods_per_year_arg(periods_per_year)
    threshold = expected_max_sharpe(n_trials, trials_sharpe_variance) / math.sqrt(ppy)
    return _psr(returns, threshold, risk_free)


# --------------------------------------------------------------------------- rolling


def rolling_volatility(returns: pd.Series, window: int,
                       periods_per_year: float = PERIODS_PER_YEAR) -> pd.Series:
    """Annualised volatility over a trailing window of ``window`` returns.

    Each value is :func:`annual_volatility` of the ``window`` returns ending on that date
    (``ddof=1``); the first ``window - 1`` values are NaN.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    window : int
        Number of returns in each window, ≥ 2.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    pd.Series
        Same index as ``returns``, named ``"rolling_volatility"``.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.01, 0.01, 0.01])
    >>> rolling_volatility(r, 2, periods_per_year=2).round(6).tolist()  # std 0.01414 * 1.414
    [nan, 0.02, 0.02, 0.0]
    """
    ppy = periods_per_year_arg(periods_per_year)
    w = check_window(window)
    r = clean_series(returns)
    std = rolling_std_array(r.to_numpy(), w)  # exactly 0 on a flat window
    return pd.Series(std * math.sqrt(ppy), index=r.index, name="rolling_volatility")


def rolling_sharpe(returns: pd.Series, window: int, risk_free: float = 0.0,
                   periods_per_year: float = PERIODS_PER_YEAR) -> pd.Series:
    """Annualised Sharpe ratio over a trailing window of ``window`` returns.

    Each value is :func:`sharpe_ratio` of the ``window`` returns ending on that date; the
    first ``window - 1`` values, and windows where every return is equal, are NaN.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date, ascending.
    window : int
        Number of returns in each window, ≥ 2.
    risk_free : float
        Risk-free return per period.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    pd.Series
        Same index as ``returns``, named ``"rolling_sharpe"``.

    Examples
    --------
    >>> r = pd.Series([0.02, 0.00, 0.01, 0.02, 0.00, 0.00, 0.00])
    >>> rolling_sharpe(r, 3, periods_per_year=4).round(6).tolist()  # 2 / sqrt(3) = 1.154701
    [nan, nan, 2.0, 2.0, 2.0, 1.154701, nan]
    """
    ppy = periods_per_year_arg(periods_per_year)
    rf = check_rate(risk_free, "risk_free")
    w = check_window(window)
    excess = clean_series(returns) - rf
    values = excess.to_numpy()
    std = rolling_std_array(values, w)
    std[~(std > 0.0)] = np.nan  # no dispersion: the ratio is undefined
    sharpe = rolling_mean_array(values, w) / std * math.sqrt(ppy)
    return pd.Series(sharpe, index=excess.index, name="rolling_sharpe")


def rolling_beta(returns: pd.Series, benchmark: pd.Series, window: int) -> pd.Series:
    """Beta against a benchmark over a trailing window of ``window`` common sessions.

    Each value is the beta of :func:`alpha_beta` over the ``window`` dates (shared by both
    series) ending on that date, ``cov(r, b) / var(b)``; a constant risk-free rate leaves it
    unchanged. The first ``window - 1`` values, and windows where the benchmark does not
    move, are NaN.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns of the strategy (fractions), indexed by date, ascending.
    benchmark : pd.Series
        Daily simple returns of the benchmark, same convention.
    window : int
        Number of common sessions in each window, ≥ 2.

    Returns
    -------
    pd.Series
        Indexed by the dates both series share, named ``"rolling_beta"``.

    Examples
    --------
    >>> b = pd.Series([0.01, -0.01, 0.02, 0.00, 0.00, 0.00])
    >>> rolling_beta(2 * b + 0.001, b, 3).round(10).tolist()  # r = 2b + c: beta 2; then flat
    [nan, nan, 2.0, 2.0, 2.0, nan]
    """
    w = check_window(window)
    r, b = _align(returns, benchmark)
    x = b.rolling(w)
    cov = r.rolling(w).cov(b)
    var = x.var()
    flat = (x.max() == x.min()).to_numpy() | ~(var.to_numpy() > 0.0)
    beta = np.where(flat, np.nan, cov.to_numpy() / np.where(flat, 1.0, var.to_numpy()))
    return pd.Series(beta, index=r.index, name="rolling_beta")


# --------------------------------------------------------------------------- active returns


def active_returns(returns: pd.Series, benchmark: pd.Series) -> pd.Series:
    """Daily geometric active return, ``(1 + r) / (1 + b) - 1``, on the dates both share.

    Compounded, it is the strategy's wealth relative to the benchmark's:
    ``prod(1 + active) = prod(1 + r) / prod(1 + b)``, so the active return curve is
    ``cumprod(1 + active) - 1`` and its drawdown is :func:`drawdown_series` of it.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns of the strategy (fractions), indexed by date, ascending.
    benchmark : pd.Series
        Daily simple returns of the benchmark, same convention.

    Returns
    -------
    pd.Series
        Active return per common date (a fraction), named ``"active"``.

    Raises
    ------
    DataError
        If the benchmark loses 100 % on a date (nothing to be relative to).

    Examples
    --------
    >>> b = pd.Series([0.10, -0.10])
    >>> active_returns(pd.Series([0.21, -0.10]), b).round(10).tolist()  # 1.21 / 1.1 - 1
    [0.1, 0.0]
    """
    r, b = _align(returns, benchmark)
    if (b == -1.0).any():
        raise DataError(f"benchmark loses 100 % on {label(b.index[(b == -1.0).argmax()])}; "
                        "active returns are relative to it and undefined there")
    return ((1.0 + r) / (1.0 + b) - 1.0).rename("active")


# --------------------------------------------------------------------------- tails


def _cutoff(level: float) -> float:
    """The tail fraction ``1 - level`` of a confidence level in (0, 1)."""
    level = real_number(level, "level", above=0.0, below=1.0, kind="confidence level",
                        hint="e.g. level=0.95 for the worst 5 % of sessions")
    return 1.0 - level


def value_at_risk(returns: pd.Series, level: float = 0.95) -> float:
    """Historical value at risk: the ``1 - level`` quantile of the returns, as empyrical.

    ``np.percentile(r, 100 * (1 - level))`` with linear interpolation between order
    statistics (empyrical's ``value_at_risk(returns, cutoff=0.05)``). A loss is negative:
    -0.03 means that on 95 % of sessions the return was above -3 %. Historical, not
    parametric (quantstats' ``var`` assumes normal returns).

    Parameters
    ----------
    returns : pd.Series
        Simple returns (fractions), one per session (or per month), indexed by date.
    level : float
        Confidence level in (0, 1); default 0.95.

    Returns
    -------
    float
        The quantile, a fraction; NaN for an empty series.

    Examples
    --------
    >>> r = pd.Series([-0.05 + 0.01 * k for k in range(20)])  # -5 %, -4 %, ..., +14 %
    >>> round(value_at_risk(r), 10)  # position 19 * 0.05 = 0.95: -0.05 + 0.95 * 0.01
    -0.0405
    """
    cutoff = _cutoff(level)
    arr = clean_series(returns).to_numpy()
    return math.nan if arr.size == 0 else float(np.percentile(arr, 100.0 * cutoff))


def conditional_value_at_risk(returns: pd.Series, level: float = 0.95) -> float:
    """Historical conditional value at risk (expected shortfall), as empyrical.

    The mean of the ``k + 1`` lowest returns, ``k = floor((n - 1) * (1 - level))``
    (empyrical's ``conditional_value_at_risk``): the average return of the worst
    ``1 - level`` of sessions, never above :func:`value_at_risk`.

    Parameters
    ----------
    returns : pd.Series
        Simple returns (fractions), one per session (or per month), indexed by date.
    level : float
        Confidence level in (0, 1); default 0.95.

    Returns
    -------
    float
        The mean of the tail, a fraction (negative for losses); NaN for an empty series.

    Examples
    --------
    >>> r = pd.Series([-0.05 + 0.001 * k for k in range(41)])  # -5.0 %, -4.9 %, ..., -1.0 %
    >>> round(conditional_value_at_risk(r), 10)  # k = floor(40 * 0.05) = 2: mean of 3 lowest
    -0.049
    """
    cutoff = _cutoff(level)
    arr = clean_series(returns).to_numpy()
    if arr.size == 0:
        return math.nan
    k = int(round((arr.size - 1) * cutoff, 9))  # 0.95 is not exact in binary
    return float(np.mean(np.partition(arr, k)[: k + 1]))


def _central_moments(returns: pd.Series, minimum: int) -> tuple[int, float, float, float]:
    """n and the central moments m2, m3, m4 (divisor n); NaNs below ``minimum`` or if flat."""
    arr = clean_series(returns).to_numpy()
    if arr.size < minimum or _constant(arr):
        return arr.size, math.nan, math.nan, math.nan
    dev = arr - arr.mean()
    dev = dev / np.abs(dev).max()  # the ratios are scale-free; this avoids underflow
    return (arr.size, float(np.mean(dev**2)), float(np.mean(dev**3)),
            float(np.mean(dev**4)))


def skewness(returns: pd.Series) -> float:
    """Sample skewness, adjusted Fisher-Pearson: ``sqrt(n (n - 1)) / (n - 2) * m3 / m2**1.5``.

    The estimator of pandas' ``Series.skew`` (and so of quantstats), with ``m_k`` the
    central moments with divisor ``n``. Negative: a longer left tail (crashes).

    Parameters
    ----------
    returns : pd.Series
        Simple returns (fractions), indexed by date, ascending.

    Returns
    -------
    float
        The skewness; NaN for fewer than three returns or when every return is equal.

    Examples
    --------
    >>> # mean 0.01, m2 = 3e-4, m3 = 6e-6: sqrt(4 * 3) / 2 * 6e-6 / 3e-4 ** 1.5 = 2
    >>> round(skewness(pd.Series([0.0, 0.0, 0.0, 0.04])), 10)
    2.0
    """
    n, m2, m3, _ = _central_moments(returns, 3)
    if math.isnan(m2):
        return math.nan
    return math.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5


def excess_kurtosis(returns: pd.Series) -> float:
    """Sample excess kurtosis, ``(n - 1) / ((n - 2)(n - 3)) * ((n + 1) g2 + 6)``.

    ``g2 = m4 / m2**2 - 3`` with central moments of divisor ``n`` (in the example m2 = 3e-4,
    m4 = 2.1e-7, g2 = 7/3 - 3 = -2/3): the bias-corrected
    estimator of pandas' ``Series.kurt`` (and so of quantstats). 0 for normal returns;
    positive: fatter tails than the normal.

    Parameters
    ----------
    returns : pd.Series
        Simple returns (fractions), indexed by date, ascending.

    Returns
    -------
    float
        The excess kurtosis; NaN for fewer than four returns or when every return is equal.

    Examples
    --------
    >>> round(excess_kurtosis(pd.Series([0.0, 0.0, 0.0, 0.04])), 10)  # 3/2 * (5 g2 + 6)
    4.0
    """
    n, m2, _, m4 = _central_moments(returns, 4)
    if math.isnan(m2):
        return math.nan
    g2 = m4 / m2**2 - 3.0
    return (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * g2 + 6.0)


# --------------------------------------------------------------------------- periods

#: The calendar periods of :func:`period_returns`, as pandas period frequencies.
PERIODS: dict[str, str] = {"month": "M", "year": "Y"}


def _dated(returns: pd.Series, what: str) -> pd.Series:
    r = clean_series(returns)
    if not isinstance(r.index, pd.DatetimeIndex):
        raise DataError(f"{what} needs returns indexed by date (a DatetimeIndex), got "
                        f"{type(r.index).__name__}; index the returns by session date")
    return r


def period_returns(returns: pd.Series, period: str = "month") -> pd.Series:
    """Compounded return of each calendar month or year, ``prod(1 + r) - 1`` within it.

    A period at either end of the series that the series covers only in part (a backtest
    starting mid-year) counts the sessions it has.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date (a ``DatetimeIndex``), ascending.
    period : {'month', 'year'}
        The calendar period.

    Returns
    -------
    pd.Series
        One return per period holding a session (a fraction), indexed by a ``PeriodIndex``,
        named ``"return"``.

    Examples
    --------
    >>> r = pd.Series([0.1, 0.1, -0.5], index=pd.to_datetime(
    ...     ["2023-12-29", "2024-01-02", "2024-01-03"]))
    >>> period_returns(r, "year").round(6).to_dict()  # 1.1 * 0.5 - 1 in 2024
    {Period('2023', 'Y-DEC'): 0.1, Period('2024', 'Y-DEC'): -0.45}
    """
    if period not in PERIODS:
        raise ConfigError(f"period must be one of {sorted(PERIODS)}, got {period!r}")
    r = _dated(returns, "period_returns")
    growth = (1.0 + r).groupby(r.index.to_period(PERIODS[period])).prod() - 1.0
    return growth.rename("return")


def to_date_return(returns: pd.Series, period: str = "month") -> float:
    """Month-to-date or year-to-date return: compounded over the last date's month or year.

    From the last close before the period (or the series' start, if later) to the last
    date of the series: MTD with ``period='month'``, YTD with ``period='year'``.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date (a ``DatetimeIndex``), ascending.
    period : {'month', 'year'}
        The calendar period that holds the last date.

    Returns
    -------
    float
        The return as a fraction; NaN for an empty series.

    Examples
    --------
    >>> r = pd.Series([0.5, 0.1, 0.1], index=pd.to_datetime(
    ...     ["2024-01-31", "2024-02-01", "2024-02-02"]))
    >>> round(to_date_return(r, "month"), 10), round(to_date_return(r, "year"), 10)
    (0.21, 0.815)
    """
    periods = period_returns(returns, period)
    return math.nan if periods.empty else float(periods.iloc[-1])


def trailing_annual_return(returns: pd.Series, years: int) -> float:
    """Annualised return over the last ``years`` calendar years (3Y, 5Y), NaN if shorter.

    The window starts on the date ``years`` before the last date (the same month and day);
    the returns dated after it compound from the close on or before that day, over exactly
    ``years`` years: ``(prod(1 + r) ** (1 / years)) - 1``. The series must reach back to
    the window's start (hold a date on or before it); otherwise the result is NaN, since a
    shorter history is not a ``years``-year figure.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date (a ``DatetimeIndex``), ascending.
    years : int
        Length of the window in calendar years, ≥ 1.

    Returns
    -------
    float
        The CAGR over the window, a fraction.

    Examples
    --------
    >>> r = pd.Series([0.5, 0.1, 0.1], index=pd.to_datetime(
    ...     ["2023-02-01", "2023-02-02", "2024-02-02"]))  # 1 year: the returns after 2023-02-02
    >>> round(trailing_annual_return(r, 1), 10), trailing_annual_return(r, 2)
    (0.1, nan)
    """
    years = whole_number(years, "years", hint="e.g. years=3 for the 3-year return")
    r = _dated(returns, "trailing_annual_return")
    if r.empty:
        return math.nan
    start = r.index[-1] - pd.DateOffset(years=years)
    if r.index[0] > start:
        return math.nan
    return _compound(float(np.prod(1.0 + r.loc[r.index > start].to_numpy())), 1.0 / years)


def tail_metrics(returns: pd.Series, level: float = 0.95) -> dict[str, float]:
    """The tails of a daily return series: VaR, CVaR, skew, kurtosis, extreme days and months.

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date (a ``DatetimeIndex``), ascending.
    level : float
        Confidence level of the value at risk; default 0.95.

    Returns
    -------
    dict
        ``value_at_risk`` and ``conditional_value_at_risk`` (historical, of the daily
        returns, fractions: :func:`value_at_risk`, :func:`conditional_value_at_risk`),
        ``skewness``, ``excess_kurtosis`` (of the daily returns), ``best_day_return``,
        ``worst_day_return``, ``best_month_return``, ``worst_month_return`` (calendar months
        compounded, :func:`period_returns`); NaN where undefined.

    Examples
    --------
    >>> r = pd.Series([0.02, -0.01, 0.03], index=pd.to_datetime(
    ...     ["2024-01-31", "2024-02-01", "2024-02-02"]))
    >>> m = tail_metrics(r)
    >>> m["worst_day_return"], round(m["worst_month_return"], 4)  # Feb: 0.99 * 1.03 - 1
    (-0.01, 0.0197)
    """
    r = _dated(returns, "tail_metrics")
    months = period_returns(r, "month")
    empty = r.empty
    return {
        "value_at_risk": value_at_risk(r, level),
        "conditional_value_at_risk": conditional_value_at_risk(r, level),
        "skewness": skewness(r),
        "excess_kurtosis": excess_kurtosis(r),
        "best_day_return": math.nan if empty else float(r.max()),
        "worst_day_return": math.nan if empty else float(r.min()),
        "best_month_return": math.nan if empty else float(months.max()),
        "worst_month_return": math.nan if empty else float(months.min()),
    }


def period_metrics(returns: pd.Series) -> dict[str, float]:
    """Returns over the periods ending on the last date: MTD, YTD, 3 and 5 years (annualised).

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns (fractions), indexed by date (a ``DatetimeIndex``), ascending.

    Returns
    -------
    dict
        ``mtd_return``, ``ytd_return`` (:func:`to_date_return`, fractions),
        ``three_year_annual_return`` and ``five_year_annual_return``
        (:func:`trailing_annual_return`, fractions a year; NaN for a shorter history).

    Examples
    --------
    >>> r = pd.Series(0.001, index=pd.bdate_range("2024-01-01", "2024-03-29"))
    >>> m = period_metrics(r)
    >>> round(m["mtd_return"], 6) == round(1.001 ** 21 - 1, 6), m["three_year_annual_return"]
    (True, nan)
    """
    r = _dated(returns, "period_metrics")
    return {"mtd_return": to_date_return(r, "month"), "ytd_return": to_date_return(r, "year"),
            "three_year_annual_return": trailing_annual_return(r, 3),
            "five_year_annual_return": trailing_annual_return(r, 5)}


# --------------------------------------------------------------------------- summary


def summary(returns: pd.Series, benchmark: pd.Series | None = None,
            trades: pd.DataFrame | None = None, equity: pd.Series | None = None, *,
            risk_free: float = 0.0,
            periods_per_year: float | None = None) -> dict[str, Any]:
    """Headline metrics in one flat dict, for reports, annualised by the market's calendar.

    With dates in the index and no ``periods_per_year``, annualised figures use the XSHG
    calendar's sessions per year over the period and the annual return (and so Calmar) is
    the CAGR over elapsed calendar time (:func:`annualisation`, :func:`calendar_annual_return`).

    Parameters
    ----------
    returns : pd.Series
        Daily simple returns of the strategy (fractions), indexed by date, ascending.
    benchmark : pd.Series, optional
        Daily simple returns of the benchmark; adds ``alpha``, ``beta``,
        ``information_ratio`` and the benchmark's total and annual return.
    trades : pd.DataFrame, optional
        Trade log; adds the keys of :func:`trade_statistics`.
    equity : pd.Series, optional
        End-of-day equity in CNY; with ``trades`` adds ``annual_turnover``.
    risk_free : float
        Risk-free return per period (Sharpe, PSR, alpha; the Sortino required return).
    periods_per_year : float, optional
        None (default): the market's calendar, as above. A number: empyrical's convention
        with that figure (``periods_per_year=252`` gives empyrical's figures).

    Returns
    -------
    dict
        ``start``, ``end``, ``n_periods``, ``total_return``, ``annual_return``,
        ``annual_volatility``, ``sharpe_ratio``, ``sharpe_standard_error``,
        ``probabilistic_sharpe_ratio`` (against SR* = 0), ``sortino_ratio``,
        ``max_drawdown``, ``max_drawdown_peak``, ``max_drawdown_trough``,
        ``max_drawdown_recovery`` (NaT when absent), ``calmar_ratio``, the convention used
        (:class:`Annualisation`): ``periods_per_year``, ``years`` (elapsed calendar years
        of the CAGR, NaN when it counts sessions) and ``annualisation`` (a sentence), plus
        the optional groups above.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.02, 0.03], index=pd.bdate_range("2024-01-01", periods=3))
    >>> s = summary(r)
    >>> round(s["total_return"], 6), s["n_periods"], str(s["max_drawdown_trough"].date())
    (0.019494, 3, '2024-01-02')
    >>> s["periods_per_year"], round(s["years"] * 365.25)  # 2024 has 242 sessions; 3 days
    (242.0, 3)
    """
    r = clean_series(returns)
    convention = annualisation(r, periods_per_year)
    ppy = convention.periods_per_year
    period = max_drawdown_period(r)
    cagr = convention.annual_return(r)
    mdd = max_drawdown(r)
    out: dict[str, Any] = {
        "start": r.index[0] if len(r) else pd.NaT,
        "end": r.index[-1] if len(r) else pd.NaT,
        "n_periods": len(r),
        "total_return": total_return(r),
        "annual_return": cagr,
        "annual_volatility": annual_volatility(r, ppy),
        "sharpe_ratio": sharpe_ratio(r, risk_free, ppy),
        "sharpe_standard_error": sharpe_standard_error(r, risk_free, ppy),
        "probabilistic_sharpe_ratio": probabilistic_sharpe_ratio(r, 0.0, risk_free, ppy),
        "sortino_ratio": sortino_ratio(r, risk_free, ppy),
        "max_drawdown": mdd,
        "max_drawdown_peak": period.peak if period else pd.NaT,
        "max_drawdown_trough": period.trough if period else pd.NaT,
        "max_drawdown_recovery": period.recovery if period else pd.NaT,
        # as calmar_ratio, with the convention's annual return
        "calmar_ratio": math.nan if math.isnan(mdd) or mdd == 0.0 else cagr / abs(mdd),
        "periods_per_year": ppy,
        "years": convention.years,
        "annualisation": convention.text,
    }
    if benchmark is not None:
        r_common, b_common = _align(r, benchmark)
        alpha, beta = alpha_beta(r_common, b_common, risk_free, ppy)
        out |= {
            "alpha": alpha,
            "beta": beta,
            "information_ratio": information_ratio(r_common, b_common, ppy),
            "benchmark_total_return": total_return(b_common),
            "benchmark_annual_return": convention.annual_return(b_common),
        }
    if trades is not None:
        out |= trade_statistics(trades, equity, ppy)
    return out
