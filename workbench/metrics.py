"""Performance statistics of a daily return series and of a trade log.

Every function takes *simple* (not log) returns, one per trading session, as a
``pd.Series`` indexed by date in ascending order: ``r_t = equity_t / equity_{t-1} - 1``.
The conventions follow `empyrical <https://github.com/quantopian/empyrical>`_ (the library
behind pyfolio and zipline) unless a docstring says otherwise, so figures can be compared
with it:

* **Periods per year.** ``PERIODS_PER_YEAR = 252``, empyrical's daily factor. China's
  A-share exchanges trade only about 242-244 sessions a year (long Spring Festival and
  National Day closures), so 252 overstates the number of sessions by about 3.5 %. The
  project keeps 252 so that Sharpe ratios, volatilities and CAGRs are comparable with
  empyrical, pyfolio and most published figures; every function takes
  ``periods_per_year`` so a caller can pass 243 (or 12 for monthly returns). This module is
  the only place the constant lives.
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

Trade statistics read the backtester's trade log (one row per fill) with columns
``date, symbol, side, shares, price, commission, stamp_duty, transfer_fee, slippage,
reason``; ``price`` is the fill price in CNY (slippage already in it), ``shares`` is
positive, costs are CNY.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections import deque
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, DataError, DataWarning

__all__ = [
    "COST_COLUMNS",
    "PERIODS_PER_YEAR",
    "TRADE_COLUMNS",
    "DrawdownPeriod",
    "alpha_beta",
    "annual_return",
    "annual_turnover",
    "annual_volatility",
    "calmar_ratio",
    "deflated_sharpe_ratio",
    "downside_deviation",
    "drawdown_details",
    "drawdown_series",
    "expected_max_sharpe",
    "information_ratio",
    "max_drawdown",
    "max_drawdown_period",
    "probabilistic_sharpe_ratio",
    "rolling_sharpe",
    "rolling_volatility",
    "round_trips",
    "sharpe_ratio",
    "sharpe_standard_error",
    "sortino_ratio",
    "summary",
    "total_return",
    "trade_statistics",
    "turnover",
]

#: Periods (sessions) per year used to annualise daily figures; see the module docstring.
PERIODS_PER_YEAR: int = 252

#: Trade-log reasons that are settlements, not trades: left out of turnover.
NON_TRADING_REASONS: tuple[str, ...] = ("delisted", "corporate_action")

#: Columns of the backtester's trade log, one row per fill.
TRADE_COLUMNS: tuple[str, ...] = (
    "date",  # session of the fill
    "symbol",  # '600519.SH'
    "side",  # 'buy' or 'sell'
    "shares",  # positive
    "price",  # fill price, CNY, slippage included
    "commission",  # CNY
    "stamp_duty",  # CNY (sells only in practice)
    "transfer_fee",  # CNY
    "slippage",  # CNY, for attribution only: already in ``price``
    "reason",  # free text
)

#: Trade-log columns paid on top of the fill price; summed into a fill's cost.
COST_COLUMNS: tuple[str, ...] = ("commission", "stamp_duty", "transfer_fee")

_REQUIRED_TRADE_COLUMNS: tuple[str, ...] = ("date", "symbol", "side", "shares", "price",
                                            *COST_COLUMNS)
_EULER_GAMMA = 0.5772156649015329
_NORMAL = NormalDist()


# --------------------------------------------------------------------------- validation


def _label(key: object) -> str:
    """Format an index label for a message: a midnight timestamp as its date."""
    if isinstance(key, pd.Timestamp) and key == key.normalize():
        return str(key.date())
    return str(key)


def _check_periods(periods_per_year: float) -> float:
    if (isinstance(periods_per_year, bool) or not isinstance(periods_per_year, numbers.Real)
            or not math.isfinite(periods_per_year) or periods_per_year <= 0):
        raise ConfigError(f"periods_per_year must be a positive number, got "
                          f"{periods_per_year!r}; use {PERIODS_PER_YEAR} for daily returns "
                          "(or 243 for the A-share session count), 12 for monthly")
    return float(periods_per_year)


def _check_rate(value: float, name: str) -> float:
    if (isinstance(value, bool) or not isinstance(value, numbers.Real)
            or not math.isfinite(value)):
        raise ConfigError(f"{name} must be a finite per-period rate (a fraction), got "
                          f"{value!r}; 2 % a year on daily returns is about 0.02 / 252")
    return float(value)


def _clean(returns: pd.Series, name: str = "returns", *, are_returns: bool = True) -> pd.Series:
    """Return ``returns`` as a new float64 Series, or raise DataError on what cannot be used."""
    if not isinstance(returns, pd.Series):
        raise DataError(f"{name} must be a pandas Series of simple returns indexed by date, "
                        f"got {type(returns).__name__}; for a one-column DataFrame pass "
                        "frame.iloc[:, 0]")
    try:
        values = returns.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must hold numbers (simple returns as fractions), got dtype "
                        f"{returns.dtype}: {exc}") from exc
    arr = values.to_numpy()
    if (bad := ~np.isfinite(arr)).any():
        where = np.flatnonzero(bad)
        kind = "NaN" if np.isnan(arr[where[0]]) else "infinite"
        raise DataError(
            f"{name} has {len(where)} NaN or infinite value(s); the first ({kind}) is on "
            f"{_label(values.index[where[0]])}. {name.capitalize()} must be complete (nothing "
            "is dropped silently): find where the gap comes from (e.g. a missing price)"
            + ("; a session with no position has a return of 0.0, not NaN." if are_returns
               else "."))
    if are_returns and (arr < -1.0).any():
        first = int(np.flatnonzero(arr < -1.0)[0])
        raise DataError(f"{name} has a return of {arr[first]!r} on "
                        f"{_label(values.index[first])}, below -1 (-100 %), which would make "
                        "equity negative; pass simple returns as fractions (-5 % is -0.05)")
    index = values.index
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise DataError(f"{name} has duplicate index label {_label(dup)}; expected one return "
                        "per session. Aggregate intraday returns first.")
    if not index.is_monotonic_increasing:
        raise DataError(f"{name} must be sorted by date ascending; call .sort_index() first")
    return values


def _align(returns: pd.Series, benchmark: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Return both series restricted to the dates they share (see the module docstring)."""
    r = _clean(returns)
    b = _clean(benchmark, "benchmark")
    if r.empty or b.empty:
        return r.iloc[:0], b.iloc[:0]
    common = r.index.intersection(b.index)
    if common.empty:
        raise DataError(
            f"returns ({_label(r.index[0])} to {_label(r.index[-1])}) and benchmark "
            f"({_label(b.index[0])} to {_label(b.index[-1])}) have no date in common; pass a "
            "benchmark covering the backtest and check both are indexed by naive session dates")
    if len(common) < len(r):
        missing = r.index.difference(common)
        warnings.warn(
            f"{len(missing)} of {len(r)} return dates have no benchmark return (the first is "
            f"{_label(missing[0])}); benchmark statistics use the {len(common)} common dates",
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
    r = _clean(returns)
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
    ppy = _check_periods(periods_per_year)
    r = _clean(returns)
    if r.empty:
        return math.nan
    growth = float(np.prod(1.0 + r.to_numpy()))
    try:
        return growth ** (ppy / len(r)) - 1.0
    except OverflowError:  # a few days of enormous gains annualised: beyond float range
        return math.inf


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
    ppy = _check_periods(periods_per_year)
    arr = _clean(returns).to_numpy()
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
    ppy = _check_periods(periods_per_year)
    rf = _check_rate(risk_free, "risk_free")
    return _mean_over_std(_clean(returns).to_numpy() - rf) * math.sqrt(ppy)


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
    ppy = _check_periods(periods_per_year)
    req = _check_rate(required_return, "required_return")
    arr = _clean(returns).to_numpy()
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
    ppy = _check_periods(periods_per_year)
    req = _check_rate(required_return, "required_return")
    arr = _clean(returns).to_numpy()
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
    r = _clean(returns)
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
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ConfigError(f"top must be a positive integer or None, got {top!r}")
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
    ppy = _check_periods(periods_per_year)
    rf = _check_rate(risk_free, "risk_free")
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
    ppy = _check_periods(periods_per_year)
    r, b = _align(returns, benchmark)
    return _mean_over_std(r.to_numpy() - b.to_numpy()) * math.sqrt(ppy)


# --------------------------------------------------------------------------- Sharpe inference


def _sharpe_moments(returns: pd.Series, risk_free: float) -> tuple[float, float, float, int]:
    """Per-period Sharpe (ddof=1), skewness and (non-excess) kurtosis, and n; NaN if degenerate.

    Skewness and kurtosis are the plain moment estimators ``m3 / m2**1.5`` and
    ``m4 / m2**2`` (central moments with divisor n, as ``scipy.stats`` by default).
    """
    excess = _clean(returns).to_numpy() - _check_rate(risk_free, "risk_free")
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
    ppy = _check_periods(periods_per_year)
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
    ppy = _check_periods(periods_per_year)
    threshold = _check_rate(benchmark_sharpe, "benchmark_sharpe") / math.sqrt(ppy)
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
    if isinstance(n_trials, bool) or not isinstance(n_trials, int | np.integer) or n_trials < 1:
        raise ConfigError(f"n_trials must be a whole number of strategy trials >= 1, got "
                          f"{n_trials!r}")
    if (isinstance(trials_sharpe_variance, bool)
            or not isinstance(trials_sharpe_variance, int | float)
            or not math.isfinite(trials_sharpe_variance) or trials_sharpe_variance < 0):
        raise ConfigError(f"trials_sharpe_variance must be a finite variance >= 0, got "
                          f"{trials_sharpe_variance!r}; it is the variance of the (annualised) "
                          "Sharpe ratios of all trials, e.g. np.var(trial_sharpes, ddof=1)")
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
    ppy = _check_periods(periods_per_year)
    threshold = expected_max_sharpe(n_trials, trials_sharpe_variance) / math.sqrt(ppy)
    return _psr(returns, threshold, risk_free)


# --------------------------------------------------------------------------- rolling


def _check_window(window: int) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 2:
        raise ConfigError(f"window must be a whole number of sessions >= 2, got {window!r}; "
                          "e.g. 126 for half a year of daily returns")
    return int(window)


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
    ppy = _check_periods(periods_per_year)
    w = _check_window(window)
    r = _clean(returns)
    roll = r.rolling(w, min_periods=w)
    flat = (roll.max() - roll.min()) == 0.0
    # a flat window has no dispersion; the online variance may leave float dust there
    std = roll.std(ddof=1).mask(flat, 0.0)
    return (std * math.sqrt(ppy)).rename("rolling_volatility")


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
    ppy = _check_periods(periods_per_year)
    rf = _check_rate(risk_free, "risk_free")
    w = _check_window(window)
    excess = _clean(returns) - rf
    roll = excess.rolling(w, min_periods=w)
    std = roll.std(ddof=1)
    std = std.where(((roll.max() - roll.min()) > 0.0) & (std > 0.0))
    return (roll.mean() / std * math.sqrt(ppy)).rename("rolling_sharpe")


# --------------------------------------------------------------------------- trades


def _clean_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """Validate a trade log and return a copy sorted by date (log order kept within a date)."""
    if not isinstance(trades, pd.DataFrame):
        raise DataError(f"trades must be a DataFrame with columns {list(TRADE_COLUMNS)}, got "
                        f"{type(trades).__name__}")
    if missing := set(_REQUIRED_TRADE_COLUMNS).difference(trades.columns):
        raise DataError(f"trades: missing columns {sorted(missing)}; expected "
                        f"{list(TRADE_COLUMNS)} (slippage and reason are optional)")
    t = trades.reset_index(drop=True).copy()
    try:
        t["date"] = pd.to_datetime(t["date"])
        for col in ("shares", "price", *COST_COLUMNS):
            t[col] = t[col].astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"trades: cannot read dates and numbers: {exc}") from exc
    for col in ("date", "shares", "price", *COST_COLUMNS):
        if (bad := t[col].isna()).any():
            raise DataError(f"trades row {int(bad.idxmax())}: column {col!r} is missing; every "
                            "fill needs a date, shares, price and its costs (0.0 if none)")
    t["side"] = t["side"].astype(str).str.lower()
    if (bad := ~t["side"].isin(["buy", "sell"])).any():
        row = int(bad.idxmax())
        raise DataError(f"trades row {row}: side {trades['side'].iloc[row]!r} is not allowed; "
                        "use 'buy' or 'sell'")
    reason = t["reason"].astype(str) if "reason" in t.columns else pd.Series("", index=t.index)
    written_off = (reason == "delisted") & (t["price"] == 0)  # a delisting written down to 0
    for col in ("shares", "price"):
        bad = t[col] <= 0
        if col == "price":
            bad &= ~written_off
        if bad.any():
            row = int(bad.idxmax())
            raise DataError(f"trades row {row}: {col} must be positive, got {t[col][row]!r}; "
                            "the side says the direction, shares are always positive (a price "
                            "of 0 is allowed only for a delisting written off)")
    if (bad := (t[list(COST_COLUMNS)] < 0).any(axis=1)).any():
        raise DataError(f"trades row {int(bad.idxmax())}: costs {list(COST_COLUMNS)} must be "
                        ">= 0 CNY")
    return t.sort_values("date", kind="stable")


def round_trips(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed round trips, matching each sell FIFO against earlier buys of the same symbol.

    A round trip is the part of one buy fill closed by one sell fill: a sell spanning two
    buy lots makes two round trips. Its costs are the buy and sell fills' costs
    (:data:`COST_COLUMNS`) pro rata by shares; ``slippage`` is *not* subtracted again
    because it is already in the fill price. Fills on the same date keep their log order.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS` (prices and costs CNY).

    Returns
    -------
    pd.DataFrame
        One row per round trip, in closing order: ``symbol, entry_date, exit_date, shares,
        entry_price, exit_price, costs_cny, pnl_cny`` (net of costs), ``return`` (``pnl_cny``
        over the entry value) and ``holding_days`` (calendar days from entry to exit).

    Raises
    ------
    DataError
        If a column is missing or invalid, or a sell exceeds the shares held (A-shares
        cannot be sold short).

    Examples
    --------
    >>> log = pd.DataFrame({"date": ["2024-01-02", "2024-01-03", "2024-01-05"],
    ...     "symbol": "000001.SZ", "side": ["buy", "buy", "sell"],
    ...     "shares": [100, 100, 150], "price": [10.0, 12.0, 11.0],
    ...     "commission": 0.0, "stamp_duty": 0.0, "transfer_fee": 0.0})
    >>> round_trips(log)[["shares", "entry_price", "pnl_cny", "holding_days"]]
       shares  entry_price  pnl_cny  holding_days
    0   100.0         10.0    100.0             3
    1    50.0         12.0    -50.0             2
    """
    t = _clean_trades(trades)
    cost = t[list(COST_COLUMNS)].sum(axis=1).to_numpy()
    lots: dict[str, deque[list[Any]]] = {}
    rows: list[dict[str, Any]] = []
    for (row, fill), fill_cost in zip(t.iterrows(), cost, strict=True):
        symbol, shares, price, date = fill["symbol"], fill["shares"], fill["price"], fill["date"]
        queue = lots.setdefault(symbol, deque())
        if fill["side"] == "buy":
            queue.append([date, shares, price, fill_cost / shares])
            continue
        remaining, sell_cost_per_share = shares, fill_cost / shares
        while remaining > 0:
            if not queue:
                held = shares - remaining
                raise DataError(f"trades row {row}: sell of {shares:g} {symbol} on "
                                f"{_label(date)} exceeds the {held:g} shares held; A-shares "
                                "cannot be sold short, check the log for a missing buy")
            lot = queue[0]
            qty = min(lot[1], remaining)
            costs = qty * (lot[3] + sell_cost_per_share)
            pnl = qty * (price - lot[2]) - costs
            rows.append({"symbol": symbol, "entry_date": lot[0], "exit_date": date,
                         "shares": qty, "entry_price": lot[2], "exit_price": price,
                         "costs_cny": costs, "pnl_cny": pnl, "return": pnl / (qty * lot[2]),
                         "holding_days": (date - lot[0]).days})
            lot[1] -= qty
            remaining -= qty
            if lot[1] <= 0:
                queue.popleft()
    columns = ["symbol", "entry_date", "exit_date", "shares", "entry_price", "exit_price",
               "costs_cny", "pnl_cny", "return", "holding_days"]
    return pd.DataFrame(rows, columns=columns)


def trade_statistics(trades: pd.DataFrame, equity: pd.Series | None = None,
                     periods_per_year: float = PERIODS_PER_YEAR) -> dict[str, float]:
    """Headline statistics of a trade log: fills, round trips, win rate, profit factor.

    Round trips are matched FIFO per symbol by :func:`round_trips`; only closed round trips
    enter the win rate, profit factor, P&L and holding period.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS`.
    equity : pd.Series, optional
        End-of-day equity in CNY indexed by session; adds ``annual_turnover``.
    periods_per_year : float
        Sessions per year for ``annual_turnover``; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    dict
        ``n_fills``, ``n_buys``, ``n_sells``, ``n_round_trips``, ``n_wins``, ``n_losses``
        (P&L net of costs > 0 and < 0; exactly 0 is neither), ``win_rate`` (wins / closed
        round trips, NaN if none), ``profit_factor`` (gross profit / gross loss of closed
        round trips; NaN if none, inf if there are profits but no loss), ``gross_profit_cny``,
        ``gross_loss_cny`` (a positive amount), ``net_pnl_cny`` (closed round trips),
        ``avg_holding_days`` (calendar days, share-weighted mean over round trips),
        ``costs_cny`` (all fills' :data:`COST_COLUMNS`), ``slippage_cny`` (all fills, 0 if the
        column is absent), ``open_shares`` (bought, not yet sold) and, with ``equity``,
        ``annual_turnover``.

    Examples
    --------
    >>> log = pd.DataFrame({"date": ["2024-01-02", "2024-01-05"], "symbol": "600000.SH",
    ...     "side": ["buy", "sell"], "shares": [1000, 1000], "price": [10.0, 10.5],
    ...     "commission": [5.0, 5.0], "stamp_duty": [0.0, 5.25], "transfer_fee": [0.1, 0.105]})
    >>> s = trade_statistics(log)  # 1000 * 0.5 - (5.1 + 10.355) = 484.545
    >>> s["n_round_trips"], s["win_rate"], round(s["net_pnl_cny"], 3), s["avg_holding_days"]
    (1, 1.0, 484.545, 3.0)
    """
    t = _clean_trades(trades)
    trips = round_trips(trades)
    pnl = trips["pnl_cny"].to_numpy()
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())
    n = len(trips)
    if n == 0:
        profit_factor = math.nan
    elif gross_loss > 0:
        profit_factor = gross_profit / gross_loss
    else:
        profit_factor = math.inf if gross_profit > 0 else math.nan
    shares = trips["shares"].to_numpy()
    bought = float(t.loc[t["side"] == "buy", "shares"].sum())
    stats: dict[str, float] = {
        "n_fills": len(t),
        "n_buys": int((t["side"] == "buy").sum()),
        "n_sells": int((t["side"] == "sell").sum()),
        "n_round_trips": n,
        "n_wins": int((pnl > 0).sum()),
        "n_losses": int((pnl < 0).sum()),
        "win_rate": float((pnl > 0).mean()) if n else math.nan,
        "profit_factor": profit_factor,
        "gross_profit_cny": gross_profit,
        "gross_loss_cny": gross_loss,
        "net_pnl_cny": float(pnl.sum()),
        "avg_holding_days": (float(np.average(trips["holding_days"], weights=shares))
                             if n else math.nan),
        "costs_cny": float(t[list(COST_COLUMNS)].to_numpy().sum()),
        "slippage_cny": float(t["slippage"].astype("float64").sum())
        if "slippage" in t else 0.0,
        "open_shares": bought - float(shares.sum()),
    }
    if equity is not None:
        stats["annual_turnover"] = annual_turnover(trades, equity, periods_per_year)
    return stats


def turnover(trades: pd.DataFrame, equity: pd.Series) -> pd.Series:
    """Daily turnover: value traded that day / 2 / end-of-day equity.

    Halving counts a full switch of the portfolio (sell everything, buy something else)
    as a turnover of 1.0 (100 %), and a buy-and-hold entry as 0.5: it is the mean of the
    bought and sold value as a fraction of equity. Traded value is ``shares * price``
    summed over all fills of the day, costs excluded; settlement rows (reasons in
    :data:`NON_TRADING_REASONS`: delistings, bonus shares) are not trades and are left out.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS`.
    equity : pd.Series
        End-of-day equity in CNY indexed by session date (the backtest's equity curve).

    Returns
    -------
    pd.Series
        Daily turnover (fraction) on the index of ``equity``, 0.0 on days without fills,
        named ``"turnover"``.

    Raises
    ------
    DataError
        If a fill falls on a date not in ``equity``, or equity is not positive.

    Examples
    --------
    >>> equity = pd.Series(100_000.0, index=pd.bdate_range("2024-01-01", periods=3))
    >>> log = pd.DataFrame({"date": ["2024-01-01", "2024-01-03"], "symbol": "600000.SH",
    ...     "side": ["buy", "sell"], "shares": [5000, 5000], "price": [10.0, 10.0],
    ...     "commission": 5.0, "stamp_duty": 0.0, "transfer_fee": 0.0})
    >>> turnover(log, equity).tolist()  # 50 000 / 2 / 100 000
    [0.25, 0.0, 0.25]
    """
    eq = _clean(equity, "equity", are_returns=False)
    if (eq <= 0).any():
        bad = eq.index[np.flatnonzero(eq.to_numpy() <= 0)[0]]
        raise DataError(f"equity must be positive CNY, got {eq[bad]!r} on {_label(bad)}")
    t = _clean_trades(trades)
    if "reason" in t.columns:  # forced settlements are not trading decisions
        t = t.loc[~t["reason"].astype(str).isin(NON_TRADING_REASONS)]
    traded = (t["shares"] * t["price"]).groupby(t["date"]).sum()
    if missing := traded.index.difference(eq.index).tolist():
        raise DataError(f"trades on {len(missing)} date(s) not in the equity index (the first "
                        f"is {_label(missing[0])}); pass the equity curve of the same backtest")
    daily = traded.reindex(eq.index, fill_value=0.0) / 2.0 / eq
    return daily.rename("turnover")


def annual_turnover(trades: pd.DataFrame, equity: pd.Series,
                    periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Average daily :func:`turnover` times ``periods_per_year``; NaN if ``equity`` is empty.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS`.
    equity : pd.Series
        End-of-day equity in CNY indexed by session date.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        Annual turnover as a fraction (2.0 is the portfolio replaced twice a year).

    Examples
    --------
    >>> equity = pd.Series(100_000.0, index=pd.bdate_range("2024-01-01", periods=4))
    >>> log = pd.DataFrame({"date": ["2024-01-01"], "symbol": "600000.SH", "side": ["buy"],
    ...     "shares": [8000], "price": [10.0], "commission": 5.0, "stamp_duty": 0.0,
    ...     "transfer_fee": 0.0})
    >>> round(annual_turnover(log, equity, periods_per_year=252), 10)  # (0.4 + 0 + 0 + 0) / 4 * 252
    25.2
    """
    ppy = _check_periods(periods_per_year)
    daily = turnover(trades, equity)
    if daily.empty:
        return math.nan
    return float(daily.mean() * ppy)


# --------------------------------------------------------------------------- summary


def summary(returns: pd.Series, benchmark: pd.Series | None = None,
            trades: pd.DataFrame | None = None, equity: pd.Series | None = None, *,
            risk_free: float = 0.0,
            periods_per_year: float = PERIODS_PER_YEAR) -> dict[str, Any]:
    """Headline metrics in one flat dict, for reports.

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
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    dict
        ``start``, ``end``, ``n_periods``, ``total_return``, ``annual_return``,
        ``annual_volatility``, ``sharpe_ratio``, ``sharpe_standard_error``,
        ``probabilistic_sharpe_ratio`` (against SR* = 0), ``sortino_ratio``,
        ``max_drawdown``, ``max_drawdown_peak``, ``max_drawdown_trough``,
        ``max_drawdown_recovery`` (NaT when absent), ``calmar_ratio``, plus the optional
        groups above.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.02, 0.03], index=pd.bdate_range("2024-01-01", periods=3))
    >>> s = summary(r)
    >>> round(s["total_return"], 6), s["n_periods"], str(s["max_drawdown_trough"].date())
    (0.019494, 3, '2024-01-02')
    """
    ppy = _check_periods(periods_per_year)
    r = _clean(returns)
    period = max_drawdown_period(r)
    out: dict[str, Any] = {
        "start": r.index[0] if len(r) else pd.NaT,
        "end": r.index[-1] if len(r) else pd.NaT,
        "n_periods": len(r),
        "total_return": total_return(r),
        "annual_return": annual_return(r, ppy),
        "annual_volatility": annual_volatility(r, ppy),
        "sharpe_ratio": sharpe_ratio(r, risk_free, ppy),
        "sharpe_standard_error": sharpe_standard_error(r, risk_free, ppy),
        "probabilistic_sharpe_ratio": probabilistic_sharpe_ratio(r, 0.0, risk_free, ppy),
        "sortino_ratio": sortino_ratio(r, risk_free, ppy),
        "max_drawdown": max_drawdown(r),
        "max_drawdown_peak": period.peak if period else pd.NaT,
        "max_drawdown_trough": period.trough if period else pd.NaT,
        "max_drawdown_recovery": period.recovery if period else pd.NaT,
        "calmar_ratio": calmar_ratio(r, ppy),
    }
    if benchmark is not None:
        r_common, b_common = _align(r, benchmark)
        alpha, beta = alpha_beta(r_common, b_common, risk_free, ppy)
        out |= {
            "alpha": alpha,
            "beta": beta,
            "information_ratio": information_ratio(r_common, b_common, ppy),
            "benchmark_total_return": total_return(b_common),
            "benchmark_annual_return": annual_return(b_common, ppy),
        }
    if trades is not None:
        out |= trade_statistics(trades, equity, ppy)
    return out
