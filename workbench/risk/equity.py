"""The account-level half of a validator's state: cash, equity, its peak and the stops.

:class:`EquityState` holds what does not depend on any one symbol (cash, the value of all
positions, equity, its peak, the day's P&L base, the drawdown stop's status, the stop that
blocks buys and the caps a buy is compared with) and the started session's trading
window. Two states build on it and differ only in how they keep the positions:
:class:`~workbench.risk.state.AccountState` (a :class:`~workbench.risk.state.SymbolState`
per registered symbol, behind :class:`~workbench.risk.PreTradeValidator`) and
:class:`~workbench.risk.session.SessionValidator` (numpy arrays over a fixed universe,
behind the backtester). Both call :meth:`EquityState.begin_day`,
:meth:`~EquityState.rebase_day` and :meth:`~EquityState.refresh` here, so the stops are
one implementation, float for float.

See :mod:`workbench.risk` for the conventions (equity, the stops, tolerance).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from workbench.calendar import (
    AFTERNOON,
    CALENDAR_END,
    CALENDAR_START,
    MARKET_TZ,
    MORNING,
    OPENING_AUCTION,
    sessions,
)
from workbench.errors import ConfigError
from workbench.risk.limits import TOLERANCE_RATE, RiskLimits
from workbench.risk.orders import Reason

__all__ = ["EquityState", "day_number", "utc_ns"]

_SHANGHAI = ZoneInfo(MARKET_TZ)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


def day_number(value: Any) -> int | None:
    """``value`` (anything ``pd.Timestamp`` reads) as days since 1970-01-01; None for none."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    # days, not Timestamp.value // 86_400 (which is in ns whatever the unit)
    return int(pd.Timestamp(value).to_datetime64().astype("datetime64[D]").astype(np.int64))


def utc_ns(day: dt.date, time: dt.time) -> int:
    """The instant ``time`` China time on ``day``, in UTC nanoseconds since the epoch.

    The value of ``pd.Timestamp(datetime.combine(day, time), tz='Asia/Shanghai')``, in
    integer arithmetic (a few µs less than pandas).

    Examples
    --------
    >>> utc_ns(dt.date(2024, 1, 2), dt.time(9, 30)) == pd.Timestamp(
    ...     "2024-01-02 09:30", tz="Asia/Shanghai").value
    True
    """
    local = dt.datetime.combine(day, time, tzinfo=_SHANGHAI)
    return (local - _EPOCH) // _MICROSECOND * 1000


class EquityState:
    """Cash, equity, its peak, the stops and the caps of an account, under :class:`RiskLimits`.

    A base class: its subclasses keep the positions, add their value to ``gross_cny`` and
    call :meth:`refresh` after every event. All fields are read-only outside the state.

    Parameters
    ----------
    limits
        The limits (validated by the caller).
    cash_cny
        Cash at the start, CNY.

    Attributes
    ----------
    limits : RiskLimits
        The limits the stop and caps below are computed from.
    cash_cny : float
        Cash, CNY (negative only on margin).
    unpriced : set[str]
        Held symbols without a valid mark; while any, equity is unknown.
    gross_cny : float
        Marked value of all positions, CNY (unpriced ones count 0).
    priced_equity_cny : float
        ``cash_cny + gross_cny`` at the last event, CNY.
    peak_cny, day_base_cny : float or None
        Highest fully priced equity seen since the start or the last reset of the peak
        (see ``peak_resets``), and the day's P&L base (the first fully priced equity of
        the day), CNY; None until known.
    drawdown_stopped : bool
        Whether the drawdown stop holds: it trips when equity falls more than
        ``limits.max_drawdown_rate`` below ``peak_cny`` and lifts by the
        ``limits.drawdown_rearm`` policy (recovery within ``drawdown_release_rate``, or a
        reset of the peak after ``drawdown_cooloff_sessions``). Kept as of the last fully
        priced event while equity is unknown.
    stopped_since_day : pandas.Timestamp or None
        The first day started after the stop tripped, from which its sessions are counted;
        None while the stop does not hold or no day has been started since it tripped.
        (A mark may arrive after the started day: a backtest marks every close but starts
        only sessions with orders. So the session of the trip is known only as "before
        this day", and the count begins with the next one.)
    stopped_sessions : int
        XSHG sessions from ``stopped_since_day`` to ``day``, both counted, including
        sessions on which no day was started (0 until then); set by :meth:`rebase_day`.
    peak_resets : int
        How many times a cool-off has reset the peak.
    day : pandas.Timestamp or None
        The started trading day (naive, midnight), None before :meth:`begin_day`.
    day_number : int or None
        ``day`` as days since 1970-01-01.
    session : bool
        Whether ``day`` is an XSHG session.
    window_ns, window_s : tuple
        Six bounds, ``[lo, hi)`` pairs for the morning, the afternoon and (if allowed) the
        opening auction of ``day``, in UTC nanoseconds and in seconds; all 0 (no time
        inside) when no session is started.
    buy_block : Reason or None
        MISSING_PRICE (equity unknown), DAILY_LOSS, or DRAWDOWN (``drawdown_stopped``)
        while buys are refused, else None: the one flag the checks read.
    position_cap_cny, sector_cap_cny, gross_cap_cny : float
        The most a position, a sector and all positions may be worth after a buy, CNY
        (each limit rate × equity, plus ``TOLERANCE_RATE × |equity|``); NaN while equity
        is unknown.
    """

    __slots__ = ("_cooloff", "_release_rate", "_session_days", "buy_block", "cash_cny", "day",
                 "day_base_cny", "day_number", "drawdown_stopped", "gross_cap_cny",
                 "gross_cny", "limits", "peak_cny", "peak_resets", "position_cap_cny",
                 "priced_equity_cny", "sector_cap_cny", "session", "stopped_sessions",
                 "stopped_since_day", "unpriced", "window_ns", "window_s")

    def __init__(self, limits: RiskLimits, *, cash_cny: float) -> None:
        self.limits = limits
        cash = float(cash_cny)
        if not math.isfinite(cash):
            raise ConfigError(f"cash_cny must be a finite amount in CNY, got {cash_cny!r}")
        self.cash_cny = cash
        self.unpriced: set[str] = set()
        self.gross_cny = 0.0
        self.priced_equity_cny = cash
        self.day: pd.Timestamp | None = None
        self.day_number: int | None = None
        self.session = False
        # [lo, hi) pairs: morning, afternoon, auction
        self.window_ns: tuple[int, ...] = (0, 0, 0, 0, 0, 0)
        self.window_s: tuple[float, ...] = (0.0,) * 6
        self.day_base_cny: float | None = None
        self.peak_cny: float | None = None
        self.drawdown_stopped = False
        self.stopped_since_day: pd.Timestamp | None = None
        self.stopped_sessions = 0
        self.peak_resets = 0
        self._release_rate = limits.drawdown_release_rate
        self._cooloff = (limits.drawdown_cooloff_sessions if limits.drawdown_rearm == "cooloff"
                         else None)
        self._session_days: np.ndarray | None = None  # XSHG sessions, datetime64[D]
        self.buy_block: Reason | None = None
        self.position_cap_cny = self.sector_cap_cny = self.gross_cap_cny = math.nan

    # ---- derived values ----------------------------------------------------------------

    @property
    def equity_cny(self) -> float:
        """Cash plus marked positions, CNY (NaN while a held symbol is unpriced)."""
        return math.nan if self.unpriced else self.priced_equity_cny

    @property
    def peak_equity_cny(self) -> float:
        """Highest fully priced equity seen, CNY (NaN before the first)."""
        return math.nan if self.peak_cny is None else self.peak_cny

    @property
    def day_pnl_cny(self) -> float:
        """Equity minus the day's start-of-day equity, CNY (NaN while unknown)."""
        if self.day_base_cny is None or self.unpriced:
            return math.nan
        return self.priced_equity_cny - self.day_base_cny

    # ---- the day -----------------------------------------------------------------------

    def begin_day(self, date: str | dt.date | pd.Timestamp) -> pd.Timestamp:
        """Make ``date`` the started day: its number, whether it is a session, its window.

        The first step of a subclass's ``start_day``; :meth:`rebase_day` is the last.

        Returns
        -------
        pandas.Timestamp
            The day, naive midnight (a tz-aware ``date`` is read in China time).

        Raises
        ------
        ConfigError
            When ``date`` is not after the day already started.
        """
        day = pd.Timestamp(date)
        if day.tzinfo is not None:
            day = day.tz_convert(MARKET_TZ).tz_localize(None)
        day = day.normalize()
        if self.day is not None and day <= self.day:
            raise ConfigError(f"start_day({day.date()}) must come after the current day "
                              f"{self.day.date()}; use update_securities for intraday changes")
        self.day, self.day_number = day, day_number(day)
        date_ = day.date()
        days = self._sessions()
        at = int(days.searchsorted(np.datetime64(date_, "D")))
        self.session = at < len(days) and days[at] == np.datetime64(date_, "D")
        wins = [MORNING, AFTERNOON]
        if self.limits.allow_opening_auction:
            wins.append(OPENING_AUCTION)
        ns = [utc_ns(date_, t) if self.session else 0 for lo, hi in wins for t in (lo, hi)]
        ns += [0] * (6 - len(ns))
        self.window_ns = tuple(ns)
        self.window_s = tuple(x / 1e9 for x in ns)
        return day

    def rebase_day(self) -> None:
        """Close a subclass's ``start_day``: a new P&L base, the stopped sessions counted
        (and, under ``'cooloff'``, the peak reset once they are over), then :meth:`refresh`."""
        self.day_base_cny = None
        if self.drawdown_stopped and self.day is not None:
            if self.stopped_since_day is None:
                self.stopped_since_day = self.day
            self.stopped_sessions = self._count_sessions(self.stopped_since_day, self.day)
        self.refresh()

    def _sessions(self) -> np.ndarray:
        """The XSHG sessions the calendar knows, as datetime64[D] (built on first use)."""
        if self._session_days is None:
            all_days = sessions(CALENDAR_START, CALENDAR_END).to_numpy()
            self._session_days = all_days.astype("datetime64[D]")
        return self._session_days

    def _count_sessions(self, first: pd.Timestamp, last: pd.Timestamp) -> int:
        """XSHG sessions from ``first`` to ``last``, both included."""
        days = self._sessions()
        lo = int(days.searchsorted(np.datetime64(first.date(), "D"), side="left"))
        hi = int(days.searchsorted(np.datetime64(last.date(), "D"), side="right"))
        return max(hi - lo, 0)

    # ---- after every event -------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute equity, the stops and the caps from ``cash_cny`` and ``gross_cny``.

        A few float operations; every event of a subclass ends with it.
        """
        self.priced_equity_cny = equity = self.cash_cny + self.gross_cny
        if self.unpriced:
            self.buy_block = Reason.MISSING_PRICE
            self.position_cap_cny = self.sector_cap_cny = self.gross_cap_cny = math.nan
            return
        if self.day_base_cny is None:
            self.day_base_cny = equity
        if self.peak_cny is None or equity > self.peak_cny:
            self.peak_cny = equity
        lim, sod, peak = self.limits, self.day_base_cny, self.peak_cny
        if self.drawdown_stopped:
            if self._cooloff is not None and self.stopped_sessions > self._cooloff:
                self.peak_cny = equity  # a new high-water mark: the stop re-arms from here
                self.peak_resets += 1
                self._lift_drawdown_stop()
            elif peak - equity <= self._release_rate * peak + TOLERANCE_RATE * abs(peak):
                self._lift_drawdown_stop()
        elif peak - equity > lim.max_drawdown_rate * peak + TOLERANCE_RATE * abs(peak):
            self.drawdown_stopped = True  # counted from the next start_day
        self.buy_block = None
        if sod - equity > lim.max_daily_loss_rate * sod + TOLERANCE_RATE * abs(sod):
            self.buy_block = Reason.DAILY_LOSS
        elif self.drawdown_stopped:
            self.buy_block = Reason.DRAWDOWN
        tol = TOLERANCE_RATE * abs(equity)
        self.position_cap_cny = lim.max_position_rate * equity + tol
        self.sector_cap_cny = lim.max_sector_rate * equity + tol
        self.gross_cap_cny = lim.max_gross_leverage * equity + tol

    def _lift_drawdown_stop(self) -> None:
        self.drawdown_stopped = False
        self.stopped_since_day = None
        self.stopped_sessions = 0
