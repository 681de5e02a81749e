"""The Shanghai Stock Exchange trading calendar (XSHG) and A-share market hours.

Sessions come from ``exchange_calendars`` (calendar ``XSHG``), which carries the real
holiday schedule (Spring Festival, National Day, ad-hoc closures), not weekdays.

Annualisation reads the calendar too: :func:`sessions_per_year` is the market's own number
of sessions a year (about 242-244, against the 252 of US-centric libraries), and
:func:`elapsed_years` the calendar time a run spans, for compound annual growth rates.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import lru_cache

import exchange_calendars as xcals
import numpy as np
import pandas as pd

from workbench.errors import ConfigError

__all__ = [
    "CALENDAR_END",
    "CALENDAR_START",
    "DAYS_PER_YEAR",
    "MARKET_TZ",
    "PERIODS_PER_YEAR",
    "elapsed_years",
    "is_session",
    "parse_day",
    "session_days",
    "sessions",
    "sessions_per_year",
    "xshg",
]

MARKET_TZ = "Asia/Shanghai"
#: empyrical's 252 periods (sessions) a year: the default of the single-metric functions of
#: :mod:`workbench.metrics`, so that they compare with empyrical and pyfolio, and the figure
#: used when there are no XSHG dates to measure from. Backtest figures use the market's own
#: :func:`sessions_per_year` (about 242-244) instead. The one place the constant lives.
PERIODS_PER_YEAR: int = 252
#: Mean length of a calendar year in days (the Julian year): elapsed days / 365.25 = years.
DAYS_PER_YEAR: float = 365.25
#: Range of the calendar object we build; exchange_calendars needs explicit bounds.
CALENDAR_START = pd.Timestamp("2005-01-04")
CALENDAR_END = pd.Timestamp("2026-12-31")

# Continuous trading and the opening call auction, China time.
MORNING = (dt.time(9, 30), dt.time(11, 30))
AFTERNOON = (dt.time(13, 0), dt.time(15, 0))
OPENING_AUCTION = (dt.time(9, 15), dt.time(9, 25))


@lru_cache(maxsize=1)
def xshg() -> xcals.ExchangeCalendar:
    """Return the XSHG calendar from exchange_calendars (built once per process)."""
    with warnings.catch_warnings():
        # exchange_calendars 4.x reads Series.values on tz-aware data, which pandas 3.1
        # deprecates; the values it reads are correct (UTC). Silence only that message.
        warnings.filterwarnings("ignore", message="Series.values returning an ndarray that drops")
        return xcals.get_calendar("XSHG", start=CALENDAR_START, end=CALENDAR_END)


@lru_cache(maxsize=64)
def _sessions(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    cal = xshg()
    lo = max(start, cal.first_session)
    hi = min(end, cal.last_session)
    if lo > hi:
        return pd.DatetimeIndex([], name="date")
    out = cal.sessions_in_range(lo, hi)
    return pd.DatetimeIndex(out.values, name="date")


@lru_cache(maxsize=1)
def session_days() -> np.ndarray:
    """Every XSHG session of the calendar (:data:`CALENDAR_START` to :data:`CALENDAR_END`)
    as whole days since 1970-01-01 (int64, ascending, read-only; built once per process).

    For code that looks sessions up by day number, e.g. with ``searchsorted``.

    >>> days = session_days()
    >>> int(days[0]) == CALENDAR_START.value // 86_400_000_000_000, days.flags.writeable
    (True, False)
    """
    days = sessions(CALENDAR_START, CALENDAR_END).to_numpy()
    out = days.astype("datetime64[D]").astype(np.int64)
    out.flags.writeable = False
    return out


def sessions(start: str | pd.Timestamp, end: str | pd.Timestamp) -> pd.DatetimeIndex:
    """Return the XSHG trading sessions between ``start`` and ``end`` inclusive.

    Parameters
    ----------
    start, end
        Calendar dates (any form ``pd.Timestamp`` accepts). Days outside the supported
        range (2005-01-04 to 2026-12-31) raise ``ConfigError``.

    Returns
    -------
    pandas.DatetimeIndex
        Naive midnight timestamps named ``date``, one per session.

    Examples
    --------
    >>> sessions("2024-02-08", "2024-02-19").strftime("%m-%d").tolist()  # Spring Festival
    ['02-08', '02-19']
    """
    lo, hi = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if lo < CALENDAR_START or hi > CALENDAR_END:
        raise ConfigError(
            f"dates {lo.date()}..{hi.date()} fall outside the supported XSHG calendar "
            f"{CALENDAR_START.date()}..{CALENDAR_END.date()}"
        )
    if lo > hi:
        raise ConfigError(f"start {lo.date()} is after end {hi.date()}")
    return _sessions(lo, hi).copy()


def is_session(day: str | pd.Timestamp) -> bool:
    """Return True when ``day`` is an XSHG trading session.

    Examples
    --------
    >>> is_session("2024-10-08"), is_session("2024-10-01")
    (True, False)
    """
    ts = pd.Timestamp(day).normalize()
    if not CALENDAR_START <= ts <= CALENDAR_END:
        return False
    return bool(xshg().is_session(ts))


def parse_day(value: object, name: str) -> pd.Timestamp | None:
    """Read a configuration date (midnight), or None; a clear ``ConfigError`` otherwise.

    Parameters
    ----------
    value
        Anything ``pd.Timestamp`` reads (``'2024-01-02'``, a date, a Timestamp) or None.
    name
        The parameter's name, for the message.

    Examples
    --------
    >>> parse_day("2024-01-02 15:00", "start"), parse_day(None, "end")
    (Timestamp('2024-01-02 00:00:00'), None)
    """
    if value is None:
        return None
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} {value!r} is not a date; write e.g. '2024-01-02'") from None
    if pd.isna(day):
        raise ConfigError(f"{name} is NaT; give a date such as '2024-01-02' or None")
    return day.normalize()


@lru_cache(maxsize=256)
def _sessions_per_year(first_year: int, last_year: int) -> float:
    lo = pd.Timestamp(year=first_year, month=1, day=1)
    hi = pd.Timestamp(year=last_year, month=12, day=31)
    return len(_sessions(lo, hi)) / (last_year - first_year + 1)


def sessions_per_year(dates: pd.DatetimeIndex | pd.Series | list[pd.Timestamp]) -> float:
    """The XSHG calendar's mean number of sessions per calendar year over the years of ``dates``.

    Every XSHG session from 1 January of the first date's year to 31 December of the last
    date's year, divided by the number of those years. Whole calendar years are counted so
    that a period's ends, which often fall in the New Year or Spring Festival closures, do not
    bias the figure, and a period shorter than a year gets its own year's figure. Only the
    first and last dates matter; they need not be sessions.

    Parameters
    ----------
    dates
        The period's dates (e.g. a backtest's sessions), ascending or not.

    Returns
    -------
    float
        Sessions per year: 242 to 246 over 2005-2026 (243.0 over 2016-2024), against the
        252 of :data:`PERIODS_PER_YEAR`.

    Raises
    ------
    ConfigError
        For no dates, or dates in years outside the supported calendar (2005 to 2026).

    Examples
    --------
    >>> sessions_per_year(sessions("2024-03-01", "2024-06-28"))  # 2024 has 242 sessions
    242.0
    >>> sessions_per_year(sessions("2016-01-04", "2024-12-31"))  # 2,187 sessions in 9 years
    243.0
    """
    index = pd.DatetimeIndex(dates)
    if index.empty:
        raise ConfigError("sessions_per_year needs at least one date; pass the period's "
                          "sessions, e.g. sessions('2024-01-02', '2024-12-31')")
    first, last = int(index.min().year), int(index.max().year)
    if first < CALENDAR_START.year or last > CALENDAR_END.year:
        raise ConfigError(
            f"dates in {first}..{last} fall outside the supported XSHG calendar years "
            f"{CALENDAR_START.year}..{CALENDAR_END.year}; pass periods_per_year explicitly "
            f"(e.g. {PERIODS_PER_YEAR})")
    return _sessions_per_year(first, last)


def elapsed_years(dates: pd.DatetimeIndex | pd.Series | list[pd.Timestamp]) -> float:
    """Calendar years a run over ``dates`` spans: ``((last - first).days + 1) / 365.25``.

    The days run from the day before the first date to the last: a run's first return is
    measured from its starting capital, so the first session counts as one day. A run over
    every session of 2024 (2 January to 31 December) spans 365 days, 0.9993 years; this is
    the time over which :func:`workbench.metrics.calendar_annual_return` compounds.

    Parameters
    ----------
    dates
        The run's dates (sessions), ascending or not.

    Returns
    -------
    float
        Elapsed time in years of :data:`DAYS_PER_YEAR` days.

    Raises
    ------
    ConfigError
        For no dates.

    Examples
    --------
    >>> round(elapsed_years(sessions("2024-01-01", "2024-12-31")), 6)  # 365 / 365.25
    0.999316
    >>> elapsed_years(pd.DatetimeIndex(["2024-01-02"])) * DAYS_PER_YEAR  # one session: a day
    1.0
    """
    index = pd.DatetimeIndex(dates)
    if index.empty:
        raise ConfigError("elapsed_years needs at least one date; pass the run's sessions")
    return ((index.max() - index.min()).days + 1) / DAYS_PER_YEAR
