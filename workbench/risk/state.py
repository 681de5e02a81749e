"""The account state a pre-trade validator judges against, kept in O(1) per event.

:class:`AccountState` holds the facts (cash, positions and their T+1 sellable shares,
marks, today's limit prices and flags per symbol, the started session's trading window)
and what follows from them (position and sector values, equity, its peak, the day's P&L
base, the drawdown stop's status, the stop that blocks buys and the caps a buy is compared
with), refreshed on each event: the checks only read these fields, so re-arming the
drawdown stop costs an order nothing. :class:`EquityState` is the account-level half
(cash, sector values, equity, the stops, the caps, the started day) with the steps the
events are made of; :class:`AccountState` extends it with a :class:`SymbolState` per
registered symbol, found by code, and :class:`~workbench.risk.session.SessionValidator`
with one per position of a fixed universe, so that the two keep the books with the same
code, float for float. Every field is public and read-only: the events
(:meth:`AccountState.start_day`, :meth:`~AccountState.on_fill`,
:meth:`~AccountState.on_price`, :meth:`~AccountState.on_settlement`,
:meth:`~AccountState.update_securities`) change them.
:class:`~workbench.risk.PreTradeValidator` owns one and forwards its events to it; the
checks read it, one order at a time or vectorised (:mod:`workbench.risk.batch`).

See :mod:`workbench.risk` for the conventions (equity, marks, tolerance, T+1, odd lots).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from workbench.calendar import (
    AFTERNOON,
    MARKET_TZ,
    MORNING,
    OPENING_AUCTION,
    session_days,
)
from workbench.errors import ConfigError, DataError
from workbench.risk.inputs import (
    UNKNOWN_SECTOR,
    SecurityRows,
    day_number,
    holding_shares,
    limit_fens,
    market_day,
    number_or_nan,
    parse_marks,
    parse_securities,
    unknown_symbol,
)
from workbench.risk.limits import TOLERANCE_RATE, RiskLimits
from workbench.risk.orders import Reason, parse_shares
from workbench.rules import lot_rule
from workbench.symbols import Board

__all__ = ["UNKNOWN_SECTOR", "AccountState", "EquityState", "SymbolState", "day_number",
           "limit_fens", "market_day"]

_SHANGHAI = ZoneInfo(MARKET_TZ)
_MICROSECOND = dt.timedelta(microseconds=1)
_NS_PER_DAY = 86_400_000_000_000


def _ns_of_day(t: dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000_000 + t.microsecond * 1000


#: The session's window as ns after local midnight: morning, afternoon, and the opening
#: auction when allowed (-1: no bound, read as 0).
_BOUNDS_NS = {auction: tuple(_ns_of_day(t) for w in (MORNING, AFTERNOON) for t in w)
              + (tuple(_ns_of_day(t) for t in OPENING_AUCTION) if auction else (-1, -1))
              for auction in (False, True)}


@lru_cache(maxsize=16_384)
def _day_window(number: int, auction: bool) -> tuple[bool, tuple[int, ...], tuple[float, ...]]:
    """Whether day ``number`` (whole days since 1970-01-01) is an XSHG session, and its
    trading windows as UTC epoch nanoseconds and seconds (zeros on other days); with the
    opening auction when ``auction``. A pure function of its arguments, kept per process
    (the same days recur in every run)."""
    days = session_days()
    at = int(days.searchsorted(number))
    if not (at < len(days) and int(days[at]) == number):
        return False, (0,) * 6, (0.0,) * 6
    # China has not moved its clocks within trading hours: one offset per day
    day = dt.date(1970, 1, 1) + dt.timedelta(days=number)
    offset = (dt.datetime.combine(day, MORNING[0], tzinfo=_SHANGHAI).utcoffset()
              or dt.timedelta(0))  # never None: the zone is set
    base = number * _NS_PER_DAY - offset // _MICROSECOND * 1000
    ns = tuple([base + x if x >= 0 else 0 for x in _BOUNDS_NS[auction]])
    return True, ns, tuple([x / 1e9 for x in ns])


class SymbolState:
    """One registered symbol: its rules, today's limits and flags, and the position in it.

    Fields are read-only outside :class:`AccountState` (slots keep the checks' reads
    cheap). Prices are in fen (0.01 CNY) where named ``*_fen``, values in CNY.

    Attributes
    ----------
    symbol, board, sector
        The code, its :class:`~workbench.symbols.Board`, and its sector bucket.
    min_shares, step_shares
        The board's lot rule (:func:`workbench.rules.lot_rule`), shares.
    st, suspended, delisted
        Flags; they persist until a securities frame changes them.
    delist_day
        First day no longer listed, as days since 1970-01-01, or None.
    limits_known, limit_up_fen, limit_down_fen
        Whether today's limit prices are known, and the band in fen (``inf``/``-inf``:
        no limit today).
    held, sellable, odd
        Shares held, shares sellable today (T+1), and the odd-lot remainder of the
        sellable shares (what may be sold outside the lot rule).
    mark, value
        The last valid price, CNY per share (NaN: none), and ``held × mark`` in CNY (0
        while unpriced).
    """

    __slots__ = ("board", "delist_day", "delisted", "held", "limit_down_fen", "limit_up_fen",
                 "limits_known", "mark", "min_shares", "odd", "sector", "sellable", "st",
                 "step_shares", "suspended", "symbol", "value")

    def __init__(self, symbol: str, board: Board, sector: str) -> None:
        self.symbol, self.sector = symbol, sector
        self.set_board(board)
        self.st = self.suspended = self.delisted = self.limits_known = False
        self.delist_day: int | None = None  # days since 1970-01-01
        self.limit_up_fen = self.limit_down_fen = math.nan
        self.held = self.sellable = self.odd = 0
        self.mark = math.nan
        self.value = 0.0  # held × mark, 0 while unpriced

    def set_board(self, board: Board) -> None:
        """Take ``board`` and its lot rule."""
        rule = lot_rule(board)
        self.board, self.min_shares, self.step_shares = board, rule.min_shares, rule.step_shares

    def set_sellable(self, shares: int) -> None:
        """Set the sellable shares and their odd-lot remainder."""
        self.sellable = shares
        mn = self.min_shares
        self.odd = shares if shares < mn else (shares - mn) % self.step_shares

    def snapshot(self) -> dict[str, Any]:
        """Every field, by name (see :meth:`EquityState.snapshot`)."""
        return {name: getattr(self, name) for name in self.__slots__}


class EquityState:
    """Cash, equity, its peak, the stops and the caps of an account, under :class:`RiskLimits`.

    A base class: its subclasses keep the :class:`SymbolState` of each symbol and make
    their events of the steps below (:meth:`begin_day` and :meth:`rebase_day` around a
    day's start; :meth:`book_fill`, :meth:`mark_symbol`, :meth:`settle_holding`,
    :meth:`revalue` on one symbol), each ending with :meth:`refresh`. The steps leave the
    derived values (equity, the stops, the caps) stale until :meth:`refresh`; outside a
    subclass, use the events. All fields are read-only outside the state.

    The events are transactional: each parses and checks all its input before it changes
    a field, so one that raises (a :class:`~workbench.errors.WorkbenchError` naming the
    bad input) leaves the state as it was (:meth:`snapshot` compares). An error no check
    foresaw, once the changes have begun, fails closed instead (:meth:`fail_closed`).

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
    sector_values_cny : dict[str, float]
        Marked value of the positions per sector bucket, CNY.
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
        INTERNAL_ERROR (``fault``), MISSING_PRICE (equity unknown), DAILY_LOSS, or
        DRAWDOWN (``drawdown_stopped``) while buys are refused, else None: the one flag the
        checks read.
    fault : str or None
        Why the books may be inconsistent: an event that failed part-way (see
        :meth:`fail_closed`); every buy is refused (INTERNAL_ERROR) until the next day
        started without error. None otherwise.
    position_cap_cny, sector_cap_cny, gross_cap_cny : float
        The most a position, a sector and all positions may be worth after a buy, CNY
        (each limit rate × equity, plus ``TOLERANCE_RATE × |equity|``); NaN while equity
        is unknown.

    Examples
    --------
    >>> s = EquityState(RiskLimits(), cash_cny=100_000.0)
    >>> s.refresh()
    >>> s.peak_cny, s.position_cap_cny
    (100000.0, 10000.0001)
    >>> s.begin_day("2024-01-06").date(), s.session  # a Saturday: no window
    (datetime.date(2024, 1, 6), False)
    """

    __slots__ = ("_cooloff", "_release_rate", "buy_block", "cash_cny", "day",
                 "day_base_cny", "day_number", "drawdown_stopped", "fault", "gross_cap_cny",
                 "gross_cny", "limits", "peak_cny", "peak_resets", "position_cap_cny",
                 "priced_equity_cny", "sector_cap_cny", "sector_values_cny", "session",
                 "stopped_sessions", "stopped_since_day", "unpriced", "window_ns", "window_s")

    #: The fields :meth:`snapshot` leaves out: caches, and constants of ``limits``.
    SNAPSHOT_SKIPS = frozenset({"_cooloff", "_release_rate"})

    def __init__(self, limits: RiskLimits, *, cash_cny: float) -> None:
        self.limits = limits
        cash = number_or_nan(cash_cny)
        if not math.isfinite(cash):
            raise ConfigError(f"cash_cny must be a finite amount in CNY (a number), got "
                              f"{cash_cny!r}")
        self.cash_cny = cash
        self.sector_values_cny: dict[str, float] = {}
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
        self.buy_block: Reason | None = None
        self.fault: str | None = None
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

    def next_day(self, date: str | dt.date | pd.Timestamp) -> pd.Timestamp:
        """Read ``date`` as the day to start next (:func:`market_day`); change nothing.

        Raises
        ------
        ConfigError
            When ``date`` is not a date, or not after the day already started.
        """
        day = market_day(date, "start_day date")
        if self.day is not None and day <= self.day:
            raise ConfigError(f"start_day({day.date()}) must come after the current day "
                              f"{self.day.date()}; use update_securities for intraday changes")
        return day

    def begin_day(self, date: str | dt.date | pd.Timestamp) -> pd.Timestamp:
        """Make ``date`` the started day: its number, whether it is a session, its window.

        The first step of a subclass's ``start_day`` (after :meth:`next_day` has checked
        ``date`` and the rest of the input); :meth:`rebase_day` is the last.

        Returns
        -------
        pandas.Timestamp
            The day, naive midnight (a tz-aware ``date`` is read in China time).

        Raises
        ------
        ConfigError
            As :meth:`next_day`; nothing is changed.
        """
        return self.enter_day(self.next_day(date))

    def enter_day(self, day: pd.Timestamp) -> pd.Timestamp:
        """:meth:`begin_day` for a ``day`` :meth:`next_day` returned (not checked again)."""
        number = day.value // _NS_PER_DAY  # naive midnight: whole days since 1970-01-01
        self.day, self.day_number = day, number
        self.session, self.window_ns, self.window_s = _day_window(
            number, self.limits.allow_opening_auction)
        return day

    def rebase_day(self) -> None:
        """Close a subclass's ``start_day``: a new P&L base, the stopped sessions counted
        (and, under ``'cooloff'``, the peak reset once they are over), then :meth:`refresh`.
        A day started without error clears ``fault``."""
        self.day_base_cny = None
        self.fault = None
        if self.drawdown_stopped and self.day is not None:
            if self.stopped_since_day is None:
                self.stopped_since_day = self.day
            self.stopped_sessions = self._count_sessions(self.stopped_since_day, self.day)
        self.refresh()

    def _count_sessions(self, first: pd.Timestamp, last: pd.Timestamp) -> int:
        """XSHG sessions from ``first`` to ``last`` (naive midnights), both included."""
        days = session_days()
        lo = int(days.searchsorted(first.value // _NS_PER_DAY, side="left"))
        hi = int(days.searchsorted(last.value // _NS_PER_DAY, side="right"))
        return max(hi - lo, 0)

    # ---- the steps of the events, on one symbol -----------------------------------------

    def check_fill(self, sec: SymbolState, side: str, quantity: Any, price: Any,
                   fee_cny: Any = 0.0, *, sold: int = 0) -> tuple[int, float, float]:
        """Check a trade of ``sec`` for :meth:`book_fill`, ``sold`` shares of it having
        been sold before it in the same batch; change nothing.

        Returns
        -------
        tuple
            ``(shares, price, fee_cny)`` as :meth:`apply_fill` takes them.

        Raises
        ------
        DataError
            As :meth:`~workbench.risk.PreTradeValidator.on_fill`.
        """
        symbol = sec.symbol
        q, px, fee = parse_shares(quantity), number_or_nan(price), number_or_nan(fee_cny)
        if not isinstance(side, str) or side not in ("buy", "sell"):
            raise DataError(f"fill {symbol}: side {side!r} must be 'buy' or 'sell'")
        if q is None or not (px > 0.0 and math.isfinite(px)) or not (
            fee >= 0.0 and math.isfinite(fee)
        ):
            raise DataError(f"fill {symbol}: quantity {quantity!r}, price {price!r} and "
                            f"fee {fee_cny!r} must be a positive whole number, a positive "
                            "finite CNY price and a finite fee >= 0")
        if side == "sell" and q + sold > sec.sellable:
            before = f" after {sold} sold before it" if sold else ""
            raise DataError(f"fill {symbol}: sold {q} shares but only {sec.sellable - sold} "
                            f"were sellable{before} (T+1; {sec.held} held)")
        return q, px, fee

    def apply_fill(self, sec: SymbolState, side: str, q: int, px: float, fee: float) -> None:
        """Book a trade :meth:`check_fill` returned: shares, cash (less the fee), the mark
        at the fill price. Shares bought become sellable at the next day's start."""
        if side == "buy":
            sec.held += q
            self.cash_cny -= q * px + fee
        else:
            sec.held -= q
            sec.set_sellable(sec.sellable - q)
            self.cash_cny += q * px - fee
        self.mark_symbol(sec, px)

    def book_fill(self, sec: SymbolState, side: str, quantity: Any, price: Any,
                  fee_cny: Any = 0.0) -> None:
        """Book an executed trade of ``sec``: :meth:`check_fill`, then :meth:`apply_fill`.

        Raises
        ------
        DataError
            As :meth:`~workbench.risk.PreTradeValidator.on_fill`; nothing is changed.
        """
        self.apply_fill(sec, side, *self.check_fill(sec, side, quantity, price, fee_cny))

    def settle_holding(self, sec: SymbolState, shares: int) -> None:
        """Set the holding of ``sec`` to ``shares`` (>= 0) without a trade; the sellable
        shares are capped at it."""
        sec.held = shares
        sec.set_sellable(min(sec.sellable, sec.held))
        self.revalue(sec)

    def mark_symbol(self, sec: SymbolState, price: Any) -> None:
        """Mark ``sec`` at ``price`` CNY (NaN, a non-positive price or a non-number leave
        it unpriced) and revalue it."""
        px = number_or_nan(price)
        sec.mark = px if px > 0.0 and math.isfinite(px) else math.nan
        self.revalue(sec)

    def revalue(self, sec: SymbolState) -> None:
        """Value the position in ``sec`` at its mark; add the change to ``gross_cny`` and
        its sector's value (in the order of the calls: sums are kept, not recomputed)."""
        if sec.held == 0:
            value = 0.0
            self.unpriced.discard(sec.symbol)
        elif sec.mark != sec.mark:
            value = 0.0
            self.unpriced.add(sec.symbol)
        else:
            value = sec.held * sec.mark
            self.unpriced.discard(sec.symbol)
        delta = value - sec.value
        sec.value = value
        self.gross_cny += delta
        self.sector_values_cny[sec.sector] += delta

    # ---- after every event -------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute equity, the stops and the caps from ``cash_cny`` and ``gross_cny``.

        A few float operations; every event of a subclass ends with it.
        """
        self.priced_equity_cny = equity = self.cash_cny + self.gross_cny
        if self.unpriced or self.fault is not None:
            # the books are not to be trusted: no base, peak or stop is taken from them
            self.buy_block = (Reason.MISSING_PRICE if self.fault is None else
                              Reason.INTERNAL_ERROR)
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

    # ---- failures ----------------------------------------------------------------------

    def fail_closed(self, event: str, exc: BaseException) -> None:
        """Refuse every buy after ``event`` failed part-way with ``exc``.

        The events check their input before changing anything, so this is for what no
        check foresaw (an internal error, an interrupt): the books may be half-updated, so
        ``fault`` says why and buys are refused (INTERNAL_ERROR) until the next day started
        without error (:meth:`rebase_day`). The caller re-raises ``exc``.
        """
        self.fault = (f"{event} failed part-way ({type(exc).__name__}: {exc}); the books "
                      "may be inconsistent")
        self.buy_block = Reason.INTERNAL_ERROR
        self.position_cap_cny = self.sector_cap_cny = self.gross_cap_cny = math.nan

    # ---- comparing states --------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """A copy of the state, field by field, for comparing two states.

        Every field but caches and the constants taken from ``limits``
        (``SNAPSHOT_SKIPS``), by name; containers as lists in their order (sector values
        as ``(sector, CNY)`` pairs, ``unpriced`` sorted). Subclasses add their symbols. A
        failed event leaves it equal to the snapshot before, NaN fields aside: compare
        them NaN-aware (NaN != NaN).
        """
        skip = self.SNAPSHOT_SKIPS
        out = {name: getattr(self, name) for cls in type(self).__mro__
               for name in getattr(cls, "__slots__", ()) if name not in skip}
        out["sector_values_cny"] = list(self.sector_values_cny.items())
        out["unpriced"] = sorted(self.unpriced)
        return out


class AccountState(EquityState):
    """Cash, positions, marks and today's rules of an account, under :class:`RiskLimits`.

    Parameters are those of :class:`~workbench.risk.PreTradeValidator` (which validates
    ``limits``). All fields are read-only; events change them.

    Attributes
    ----------
    securities : dict[str, SymbolState]
        Registered symbols, in registration order.

    The account-level fields (cash, sector values, equity, its peak, the stops, the caps,
    the started day and its window) are those of :class:`EquityState`.

    Examples
    --------
    >>> s = AccountState(RiskLimits(), cash_cny=100_000.0,
    ...                  securities=pd.DataFrame({"symbol": ["600000.SH"]}),
    ...                  positions={"600000.SH": 1_000}, prices={"600000.SH": 10.0})
    >>> s.securities["600000.SH"].value, s.priced_equity_cny, s.position_cap_cny
    (10000.0, 110000.0, 11000.00011)
    >>> s.on_price("600000.SH", float("nan"))
    >>> s.unpriced, s.buy_block, s.equity_cny
    ({'600000.SH'}, <Reason.MISSING_PRICE: 'MISSING_PRICE'>, nan)
    """

    __slots__ = ("_arrays", "securities")

    SNAPSHOT_SKIPS = EquityState.SNAPSHOT_SKIPS | {"_arrays"}

    def __init__(
        self,
        limits: RiskLimits,
        *,
        cash_cny: float,
        securities: pd.DataFrame | None = None,
        positions: Mapping[str, int] | None = None,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(limits, cash_cny=cash_cny)
        self.securities: dict[str, SymbolState] = {}
        self._arrays: dict[str, Any] | None = None
        if securities is not None:
            self.update_securities(securities)
        if positions is not None and not isinstance(positions, (Mapping, pd.Series)):
            raise ConfigError(f"positions must map symbols to shares held (a dict), got "
                              f"{type(positions).__name__}")
        for symbol, shares in (positions or {}).items():
            sec = self.security(symbol)
            held = holding_shares(shares)
            if held is None:
                raise ConfigError(f"position {symbol}: {shares!r} is not a whole number of "
                                  "shares >= 0")
            sec.held = held
            sec.set_sellable(held)
            self.revalue(sec)
        for symbol, price in parse_marks(prices, "prices", self.securities):
            self.mark_symbol(self.securities[symbol], price)
        self.refresh()

    # ---- lookups ----------------------------------------------------------------------

    def security(self, symbol: str) -> SymbolState:
        """Return the state of ``symbol``.

        Raises
        ------
        LookupFailed
            When ``symbol`` is not registered.
        """
        sec = self.securities.get(symbol) if isinstance(symbol, str) else None
        if sec is None:
            raise unknown_symbol(symbol, self.securities)
        return sec

    def symbol_arrays(self) -> dict[str, Any]:
        """Per-symbol fields as arrays in registration order, cached until the next event.

        Keys: ``index`` (the symbols, a :class:`pandas.Index`), ``delisted``,
        ``suspended``, ``st_blocked`` (ST and ``limits.block_st_buys``), ``known`` (limit
        prices known today), bools; ``min``, ``step`` (lot rule), ``sellable``, ``odd``,
        shares (int64); ``up``, ``down`` (today's band, fen), ``value`` (the position,
        CNY), ``sector_value`` (its sector's positions, CNY), floats.
        """
        if self._arrays is None:
            secs = list(self.securities.values())
            col = lambda name, dtype: np.array([getattr(s, name) for s in secs], dtype=dtype)  # noqa: E731
            self._arrays = {
                "index": pd.Index([s.symbol for s in secs], dtype=object),
                "delisted": col("delisted", bool), "suspended": col("suspended", bool),
                "st_blocked": col("st", bool) & self.limits.block_st_buys,
                "min": col("min_shares", np.int64), "step": col("step_shares", np.int64),
                "sellable": col("sellable", np.int64), "odd": col("odd", np.int64),
                "known": col("limits_known", bool), "up": col("limit_up_fen", float),
                "down": col("limit_down_fen", float), "value": col("value", float),
                "sector_value": np.array([self.sector_values_cny[s.sector] for s in secs],
                                         float),
            }
        return self._arrays

    def snapshot(self) -> dict[str, Any]:
        """A copy of the state (:meth:`EquityState.snapshot`) with ``securities`` as
        ``(symbol, fields)`` pairs in registration order."""
        out = super().snapshot()
        out["securities"] = [(s, sec.snapshot()) for s, sec in self.securities.items()]
        return out

    # ---- events ------------------------------------------------------------------------
    # Each reads and checks its whole input first (raising before any change), then
    # applies it; an error while applying fails closed (EquityState.fail_closed).

    def update_securities(self, securities: pd.DataFrame) -> None:
        """Register and update symbols from a frame; see
        :meth:`~workbench.risk.PreTradeValidator.update_securities`.
        """
        rows = parse_securities(securities, self.securities)
        try:
            self._apply_securities(rows)
        except BaseException as exc:
            self.fail_closed("update_securities", exc)
            raise

    def start_day(
        self,
        date: str | dt.date | pd.Timestamp,
        securities: pd.DataFrame | None = None,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        """Open a trading day; see
        :meth:`~workbench.risk.PreTradeValidator.start_day`.
        """
        day = self.next_day(date)
        rows = None if securities is None else parse_securities(securities, self.securities)
        marks = parse_marks(prices, "start_day prices", self.securities,
                            () if rows is None else rows.symbols)
        try:
            self.enter_day(day)
            for sec in self.securities.values():
                sec.limits_known, sec.limit_up_fen, sec.limit_down_fen = (False, math.nan,
                                                                          math.nan)
                sec.delisted = sec.delisted or self._is_delisted(sec)
            if rows is not None:
                self._apply_securities(rows)
            for symbol, price in marks:
                self.mark_symbol(self.securities[symbol], price)
            self.gross_cny = 0.0
            self.sector_values_cny = dict.fromkeys(self.sector_values_cny, 0.0)
            for sec in self.securities.values():
                sec.set_sellable(sec.held)
                self.gross_cny += sec.value
                self.sector_values_cny[sec.sector] += sec.value
            self.rebase_day()
        except BaseException as exc:
            self.fail_closed("start_day", exc)
            raise

    def on_price(self, symbol: str, price: float) -> None:
        """Mark ``symbol`` at ``price`` CNY; NaN or a non-positive price makes it unpriced."""
        sec = self.security(symbol)
        try:
            self.mark_symbol(sec, price)
            self.refresh()
        except BaseException as exc:
            self.fail_closed("on_price", exc)
            raise

    def on_prices(self, prices: Mapping[str, float] | pd.Series) -> None:
        """Mark many symbols at once, as repeated :meth:`on_price`.

        Raises
        ------
        DataError, LookupFailed
            ``prices`` is not a mapping, or names a symbol not registered; nothing is
            marked.
        """
        marks = parse_marks(prices, "on_prices", self.securities)
        try:
            for symbol, price in marks:
                self.mark_symbol(self.securities[symbol], price)
            self.refresh()
        except BaseException as exc:
            self.fail_closed("on_prices", exc)
            raise

    def on_fill(
        self, symbol: str, side: str, quantity: int, price: float, *, fee_cny: float = 0.0
    ) -> None:
        """Book an executed trade; see
        :meth:`~workbench.risk.PreTradeValidator.on_fill`.
        """
        sec = self.security(symbol)
        fill = self.check_fill(sec, side, quantity, price, fee_cny)
        try:
            self.apply_fill(sec, side, *fill)
            self.refresh()
        except BaseException as exc:
            self.fail_closed("on_fill", exc)
            raise

    def on_settlement(self, shares: Mapping[str, int], marks: Mapping[str, float],
                      cash_cny: float) -> None:
        """Reconcile holdings and cash moved without a trade; see
        :meth:`~workbench.risk.PreTradeValidator.on_settlement`.
        """
        for name, given in (("shares", shares), ("marks", marks)):
            if not isinstance(given, (Mapping, pd.Series)):
                raise DataError(f"settlement: {name} must map symbols to "
                                f"{'shares' if name == 'shares' else 'CNY prices'} (a dict), "
                                f"got {type(given).__name__}")
        parsed = {sym: holding_shares(q) for sym, q in shares.items()}
        if bad := [sym for sym, q in parsed.items() if q is None]:
            raise DataError(f"settlement: holdings of {bad[:5]} must be whole numbers >= 0")
        held = {sym: q for sym, q in parsed.items() if q is not None}
        px = {sym: number_or_nan(p) for sym, p in marks.items()}
        if bad := [sym for sym, p in px.items() if not (p > 0.0 and math.isfinite(p))]:
            raise DataError(f"settlement: marks of {bad[:5]} must be positive finite CNY")
        cash = number_or_nan(cash_cny)
        if not math.isfinite(cash):
            raise DataError(f"settlement: cash {cash_cny!r} must be finite CNY")
        secs = {sym: self.security(sym) for sym in {*held, *px}}
        try:
            self.cash_cny = cash
            for sym, q in held.items():
                self.settle_holding(secs[sym], q)
            for sym, p in px.items():
                self.mark_symbol(secs[sym], p)
            self.refresh()
        except BaseException as exc:
            self.fail_closed("on_settlement", exc)
            raise

    # ---- reading the input -------------------------------------------------------------

    # ---- bookkeeping -------------------------------------------------------------------

    def _apply_securities(self, rows: SecurityRows) -> None:
        for i, symbol in enumerate(rows.symbols):
            sec = self.securities.get(symbol)
            board = rows.boards[i]
            if sec is None:
                assert board is not None  # parsed for every new symbol
                sec = self.securities[symbol] = SymbolState(symbol, board, UNKNOWN_SECTOR)
                self.sector_values_cny.setdefault(UNKNOWN_SECTOR, 0.0)
            elif board is not None:
                sec.set_board(board)
                sec.set_sellable(sec.sellable)
            if rows.sectors is not None:
                self._move_sector(sec, rows.sectors[i])
            if rows.st is not None:
                sec.st = rows.st[i]
            if rows.suspended is not None:
                sec.suspended = rows.suspended[i]
            if rows.delist_days is not None:
                sec.delist_day = rows.delist_days[i]
            if rows.delisted is not None:
                sec.delisted = rows.delisted[i]
            elif rows.delist_days is not None:
                sec.delisted = self._is_delisted(sec)
            if rows.limits is not None:
                sec.limit_up_fen, sec.limit_down_fen = rows.limits[i]
                sec.limits_known = True
        self._arrays = None

    def _move_sector(self, sec: SymbolState, sector: str) -> None:
        if sector != sec.sector:
            self.sector_values_cny[sec.sector] -= sec.value
            self.sector_values_cny[sector] = self.sector_values_cny.get(sector, 0.0) + sec.value
            sec.sector = sector

    def _is_delisted(self, sec: SymbolState) -> bool:
        return (sec.delist_day is not None and self.day_number is not None
                and sec.delist_day <= self.day_number)

    def refresh(self) -> None:
        """Recompute equity, the stops and the caps (:meth:`EquityState.refresh`) and drop
        the cached :meth:`symbol_arrays`."""
        self._arrays = None
        super().refresh()

    def fail_closed(self, event: str, exc: BaseException) -> None:
        """Refuse every buy until the next good day (:meth:`EquityState.fail_closed`) and
        drop the cached :meth:`symbol_arrays`."""
        self._arrays = None
        super().fail_closed(event, exc)

