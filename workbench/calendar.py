"""The Shanghai Stock Exchange trading calendar (XSHG) and A-share market hours.

Sessions come from ``exchange_calendars`` (calendar ``XSHG``), which carries the real
holiday schedule (Spring Festival, National Day, ad-hoc closures), not weekdays.
"""

from __future__ import annotations

import datetime as dt
import warnings
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

from workbench.errors import ConfigError

__all__ = [
    "CALENDAR_END",
    "CALENDAR_START",
    "MARKET_TZ",
    "PERIODS_PER_YEAR",
    "is_session",
    "parse_day",
    "sessions",
    "xshg",
]

MARKET_TZ = "Asia/Shanghai"
#: Periods (sessions) per year used to annualise daily figures: empyrical's 252, kept so
#: figures compare with empyrical and pyfolio (XSHG has about 242-244 sessions a year; see
#: :mod:`workbench.metrics`). The one place the constant lives.
PERIODS_PER_YEAR: int = 252
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
