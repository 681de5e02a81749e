"""The pre-trade checks a session at a time, on a fixed universe: the backtester's risk path.

:class:`SessionValidator` is the state and the checks of a
:class:`~workbench.risk.PreTradeValidator`, fed the way a backtest feeds them: symbols are
positions ``0..n-1`` of a universe fixed at the start, and each event takes the arrays of
a session (a day's limit prices and flags for the symbols with orders, the marks of the
holdings, the session's sells, then its buys). The per-order validator, fed by symbol
code (a frame per day, a dict of marks, an :class:`~workbench.risk.Order` per fill, a
start of day that visits every registered symbol), cost a backtest three times the run
itself (a risk-on run of ``ma_trend`` on the real 80-stock sample took 4 × the risk-off
run); fed this way it costs about half the risk-off run (1.35-1.5 x on a 2-core machine,
``benchmarks/bench_risk_backtest.py``).

It is the per-order validator in another form, not another set of rules. The books are
:class:`~workbench.risk.state.EquityState` (with a
:class:`~workbench.risk.state.SymbolState` per position), each order is judged by
:func:`~workbench.risk.validator.verdict` (the body of ``check``) with the sentences of
:mod:`workbench.risk.messages`, and every sum is taken in the order
:class:`~workbench.risk.state.AccountState` takes it. So a :class:`PreTradeValidator` fed
the same events one at a time (symbols registered in the same order, each fill checked
with ``check`` and booked with ``on_fill``) gives the same decisions and messages and the
same state, float for float; ``tests/risk/test_session.py`` holds the two equal on random
sessions. What differs is where the work goes: a day's start visits only the symbols in
play (yesterday's and today's, those bought since, and the holdings), and the marks are
one loop.

The inputs come from an engine that sizes orders, so a quantity outside
``1..MAX_ORDER_SHARES``, a limit price off the tick, a naive timestamp or a symbol never
registered raise instead of being rejected (``check`` rejects them); and there are no
delisting dates (a day's ``delisted`` flags say it). As the per-order validator's, the
events are transactional (a session's arrays are all checked before the first change, so
one that raises changes nothing) and fail closed on an error no check foresaw.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, DataError, LookupFailed
from workbench.risk.limits import RiskLimits
from workbench.risk.messages import hours_rejection
from workbench.risk.orders import MAX_ORDER_SHARES, Decision, parse_fen
from workbench.risk.state import UNKNOWN_SECTOR, EquityState, SymbolState, limit_fens
from workbench.risk.validator import verdict
from workbench.symbols import Board

__all__ = ["SessionValidator"]

_INF = math.inf
_PYTHON = {"i": int, "f": float, "b": bool}  # what _list gives, by kind
_NDARRAY = np.ndarray
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


class SessionValidator(EquityState):
    """A pre-trade validator over a fixed universe of symbols, fed a session at a time.

    Symbols are positions into ``symbols``; events take arrays (or sequences) of
    positions. A symbol is registered when it first appears in :meth:`start_day` (or
    :meth:`register`); sums over the positions are taken in registration order. The
    account-level fields (cash, sector values, equity, its peak, the stops, the caps, the
    started day) are those of :class:`~workbench.risk.state.EquityState`.

    Parameters
    ----------
    limits
        The limits; :class:`RiskLimits` defaults when omitted.
    cash_cny
        Cash at the start, CNY.
    symbols, boards, sectors
        The universe: codes, their :class:`~workbench.symbols.Board` values, and sector
        buckets (NaN: ``'(unknown)'``), one per position.

    Raises
    ------
    ConfigError
        Limits that are not a :class:`RiskLimits`, or cash that is not finite.
    DataError
        An unknown board, or lists of different lengths.

    Examples
    --------
    >>> v = SessionValidator(cash_cny=1_000_000.0, symbols=["600000.SH", "600036.SH"],
    ...                      boards=["SH main", "SH main"], sectors=["Banks", "Banks"])
    >>> v.start_day("2024-01-02", [0, 1], limit_up=[11.0, 33.0], limit_down=[9.0, 27.0])
    >>> at = pd.Timestamp("2024-01-02 09:30", tz="Asia/Shanghai")
    >>> [d.reason.value for d in v.judge_buys([0, 1], [10_000, 3_500], [10.0, 30.0], at,
    ...                                       price=[10.0, 30.0], fee_cny=[5.0, 5.0])]
    ['ACCEPTED', 'POSITION_SIZE']
    >>> v.position(0), v.cash_cny
    ((10000, 0), 899995.0)
    """

    __slots__ = ("_fresh", "_held", "_held_order", "_held_ranks", "_limited", "_rank",
                 "_registered", "_secs", "_stamp", "symbols")

    SNAPSHOT_SKIPS = EquityState.SNAPSHOT_SKIPS | {
        "_fresh", "_held", "_held_order", "_held_ranks", "_limited", "_rank", "_registered",
        "_secs", "_stamp"}

    def __init__(self, limits: RiskLimits | None = None, *, cash_cny: float,
                 symbols: Sequence[str], boards: Sequence[str],
                 sectors: Sequence[str]) -> None:
        limits = RiskLimits() if limits is None else limits
        if not isinstance(limits, RiskLimits):
            raise ConfigError(f"limits must be a RiskLimits, got {type(limits).__name__}")
        super().__init__(limits, cash_cny=cash_cny)
        n = len(symbols)
        if len(boards) != n or len(sectors) != n:
            raise DataError(f"symbols, boards and sectors must be as long as each other; got "
                            f"{n}, {len(boards)} and {len(sectors)}")
        self.symbols: list[str] = [str(s) for s in symbols]
        self._secs: list[SymbolState] = []
        for symbol, board, sector in zip(self.symbols, boards, sectors, strict=True):
            try:
                b = Board(board)
            except ValueError:
                raise DataError(f"{symbol}: board {board!r} is not one of "
                                f"{[b.value for b in Board]}") from None
            bucket = UNKNOWN_SECTOR if pd.isna(sector) else str(sector)
            self._secs.append(SymbolState(symbol, b, bucket))
            self.sector_values_cny.setdefault(bucket, 0.0)
        self._rank = [-1] * n  # registration order, -1 until registered
        self._registered = 0
        self._held: set[int] = set()  # positions held (the sums visit these)
        self._held_order: list[SymbolState] = []  # their states in registration order
        self._held_ranks: list[int] = []  # and their ranks (kept in step by _track)
        self._fresh: set[int] = set()  # positions whose sellable shares may be below held
        self._limited: list[int] = []  # positions with today's limit prices
        self._stamp: tuple[dt.datetime | None, int] = (None, 0)  # the last timestamp, in ns
        self.refresh()

    # ---- reading the state -------------------------------------------------------------

    def symbol_state(self, i: int) -> SymbolState:
        """The :class:`~workbench.risk.state.SymbolState` of the symbol at position ``i``
        (the live object: read it, do not change it)."""
        return self._secs[i]

    def position(self, i: int) -> tuple[int, int]:
        """Return ``(held, sellable)`` shares of the symbol at position ``i``."""
        sec = self._secs[i]
        return sec.held, sec.sellable

    def snapshot(self) -> dict[str, Any]:
        """A copy of the state (:meth:`EquityState.snapshot`) with the symbols' fields in
        position order and the registration (``rank``: -1 until registered), the holdings,
        the positions whose sellable shares may lag and those with today's limits."""
        out = super().snapshot()
        out["symbols"] = [sec.snapshot() for sec in self._secs]
        out["rank"], out["registered"] = list(self._rank), self._registered
        out["held"], out["fresh"] = sorted(self._held), sorted(self._fresh)
        out["limited"] = list(self._limited)
        return out

    # ---- events ------------------------------------------------------------------------
    # Each reads and checks its whole input first (raising before any change), then
    # applies it; an error while applying fails closed (EquityState.fail_closed).

    def register(self, sym: Sequence[int] | np.ndarray) -> None:
        """Register the symbols at positions ``sym`` not yet registered, in that order.

        Raises
        ------
        DataError
            A position outside the universe (nothing is registered).
        """
        syms = _list(sym, "i", "sym")
        self._check_positions(syms)
        self._register(syms)

    def start_day(self, date: str | dt.date | pd.Timestamp, sym: Sequence[int] | np.ndarray,
                  *, limit_up: Sequence[float] | np.ndarray,
                  limit_down: Sequence[float] | np.ndarray,
                  is_st: Sequence[bool] | np.ndarray | None = None,
                  suspended: Sequence[bool] | np.ndarray | None = None,
                  delisted: Sequence[bool] | np.ndarray | None = None) -> None:
        """Open a trading day for the symbols at positions ``sym`` (registered if new).

        As :meth:`~workbench.risk.PreTradeValidator.start_day` with a frame of these
        symbols: yesterday's limit prices are forgotten, ``sym`` get today's
        (``limit_up``, ``limit_down`` in CNY; both NaN: no limit today) and, where given,
        their flags (kept until a later day changes them); every held share becomes
        sellable; the sums are recomputed from the positions; the day's P&L base is reset
        and the drawdown stop's sessions are counted.

        Raises
        ------
        ConfigError
            When ``date`` is not a date, or not after the day already started.
        DataError
            Limit prices off the tick, one-sided or crossed, a position outside the
            universe, or arrays of other lengths than ``sym`` (nothing is changed).
        """
        syms = _list(sym, "i", "sym")
        self._check_positions(syms)
        ups, downs = _list(limit_up, "f", "limit_up"), _list(limit_down, "f", "limit_down")
        st_ = None if is_st is None else _list(is_st, "b", "st")
        halted = None if suspended is None else _list(suspended, "b", "suspended")
        gone = None if delisted is None else _list(delisted, "b", "delisted")
        n = len(syms)
        if (len(ups) != n or len(downs) != n or (st_ is not None and len(st_) != n)
                or (halted is not None and len(halted) != n)
                or (gone is not None and len(gone) != n)):
            _same_length(syms, limit_up=ups, limit_down=downs, **{
                name: v for name, v in (("st", st_), ("suspended", halted), ("delisted", gone))
                if v is not None})
        names = self.symbols
        bands = [(_INF, -_INF) if u != u and d != d else limit_fens(names[i], u, d)
                 for i, u, d in zip(syms, ups, downs, strict=True)]
        day = self.next_day(date)
        try:
            self.enter_day(day)
            self._register(syms)
            secs = self._secs
            for i in self._limited:
                sec = secs[i]
                sec.limits_known, sec.limit_up_fen, sec.limit_down_fen = (False, math.nan,
                                                                          math.nan)
            for i, band in zip(syms, bands, strict=True):
                sec = secs[i]
                sec.limit_up_fen, sec.limit_down_fen = band
                sec.limits_known = True
            if st_ is not None and halted is not None and gone is not None:  # the engine's
                for i, a, b, c in zip(syms, st_, halted, gone, strict=True):
                    sec = secs[i]
                    sec.st, sec.suspended, sec.delisted = a, b, c
            else:
                for flags, name in ((st_, "st"), (halted, "suspended"), (gone, "delisted")):
                    if flags is not None:
                        for i, flag in zip(syms, flags, strict=True):
                            setattr(secs[i], name, flag)
            self._limited = syms
            for i in self._fresh:
                sec = secs[i]
                sec.set_sellable(sec.held)
            self._fresh.clear()
            # afresh, in registration order as AccountState adds them (the others add 0)
            gross, sums = 0.0, dict.fromkeys(self.sector_values_cny, 0.0)
            for sec in self._held_order:
                value = sec.value
                gross += value
                sums[sec.sector] += value
            self.gross_cny, self.sector_values_cny = gross, sums
            self.rebase_day()
        except BaseException as exc:
            self.fail_closed("start_day", exc)
            raise

    def mark(self, sym: Sequence[int] | np.ndarray, prices: Sequence[float] | np.ndarray, *,
             keep_missing: bool = False) -> None:
        """Mark the symbols at positions ``sym`` (distinct) at ``prices`` CNY, as
        :meth:`~workbench.risk.PreTradeValidator.on_prices` in that order.

        NaN or a non-positive price makes a holding unpriced, or with ``keep_missing``
        leaves its last mark (a price missing from a feed). Nothing happens when nothing
        is marked.

        Raises
        ------
        DataError
            A position outside the universe, or ``prices`` of another length than ``sym``
            (nothing is marked).
        LookupFailed
            A price for a symbol never registered (nothing is marked).
        """
        syms, pxs = _list(sym, "i", "sym"), _list(prices, "f", "prices")
        rank = self._rank
        # the usual case in one C call: the holdings (registered, in the universe)
        fine = self._held.issuperset(syms)
        if not fine:
            try:  # else one pass: registered positions
                fine = min(syms) >= 0 and min([rank[i] for i in syms]) >= 0
            except IndexError:
                fine = False
        if not fine or len(pxs) != len(syms):
            _same_length(syms, prices=pxs)
            self._known(syms if not keep_missing else  # a missing price marks nothing
                        [i for i, px in zip(syms, pxs, strict=True) if px > 0.0 and px < _INF])
        try:
            if self._mark_all(syms, pxs, keep_missing):
                self.refresh()
        except BaseException as exc:
            self.fail_closed("mark", exc)
            raise

    def settle(self, shares: np.ndarray, cash_cny: float, marks: np.ndarray) -> None:
        """Reconcile holdings and cash moved without a trade (ex-dates, delistings).

        As :meth:`~workbench.risk.PreTradeValidator.on_settlement`: the holdings become
        ``shares`` (one per position; sellable shares capped at the new holding), cash
        ``cash_cny``, and each holding with a finite positive price in ``marks`` (one per
        position, CNY) is marked at it.

        Raises
        ------
        DataError
            A negative or fractional holding, arrays that are not one value per position,
            or a cash amount that is not finite (nothing is changed).
        LookupFailed
            A holding of a symbol that was never registered (nothing is changed).
        """
        n = len(self._secs)
        try:
            given = np.asarray(shares)
            marks = np.asarray(marks, dtype=float)
        except (ValueError, TypeError) as exc:
            raise DataError(f"settlement: shares and marks must be arrays of numbers ({exc})"
                            ) from None
        if given.shape != (n,) or marks.shape != (n,):
            raise DataError(f"settlement: shares {given.shape} and marks {marks.shape} must "
                            f"hold one value per position of the universe ({n},)")
        if given.dtype.kind not in "iu" and not (
            given.dtype.kind in "fb" and np.array_equal(given, np.floor(given))
        ):
            raise DataError("settlement: holdings must be whole numbers >= 0")
        shares = given.astype(np.int64, copy=False)
        if (shares < 0).any():
            raise DataError(f"settlement: holdings of {self._names(np.flatnonzero(shares < 0))} "
                            "must be whole numbers >= 0")
        try:
            cash = float(cash_cny)
        except (TypeError, ValueError):
            cash = math.nan
        if not math.isfinite(cash):
            raise DataError(f"settlement: cash {cash_cny!r} must be finite CNY")
        secs = self._secs
        nonzero = shares != 0
        held_now = nonzero.nonzero()[0].tolist()
        # the holdings now and before: one Python int each (not the whole universe's)
        now = dict(zip(held_now, shares[held_now].tolist(), strict=True))
        changed = sorted(i for i in {*held_now, *self._held} if now.get(i, 0) != secs[i].held)
        marked = (nonzero & (marks > 0.0) & (marks < _INF)).nonzero()[0].tolist()
        self._known(changed)  # the others marked are held, so registered
        try:
            self.cash_cny = cash
            for i in changed:
                self.settle_holding(secs[i], now.get(i, 0))
                self._track(i)
            self._mark_all(marked, marks[marked].tolist(), False)
            self.refresh()
        except BaseException as exc:
            self.fail_closed("settle", exc)
            raise

    def book_sells(self, sym: Sequence[int] | np.ndarray, shares: Sequence[int] | np.ndarray,
                   price: Sequence[float] | np.ndarray,
                   fee_cny: Sequence[float] | np.ndarray) -> None:
        """Book executed sells in order, each as
        :meth:`~workbench.risk.PreTradeValidator.on_fill`.

        Raises
        ------
        DataError
            As ``on_fill`` (e.g. sells of a symbol above its sellable shares), or arrays of
            other lengths; nothing is booked.
        LookupFailed
            A symbol never registered; nothing is booked.
        """
        syms, qs = _list(sym, "i", "sym"), _list(shares, "i", "shares")
        pxs, fees = _list(price, "f", "price"), _list(fee_cny, "f", "fee_cny")
        n = len(syms)
        if len(qs) != n or len(pxs) != n or len(fees) != n:
            _same_length(syms, shares=qs, price=pxs, fee_cny=fees)
        self._known(syms)
        secs, sold, fills = self._secs, dict.fromkeys(syms, 0), []
        for i, q, px, fee in zip(syms, qs, pxs, fees, strict=True):
            # what check_fill passes, read as it reads it (ints and floats from _list)
            if (0 < q <= MAX_ORDER_SHARES and 0.0 < px < _INF and 0.0 <= fee < _INF
                    and q + sold[i] <= secs[i].sellable):
                fill = (q, px, fee)
            else:  # raises, with its message
                fill = self.check_fill(secs[i], "sell", q, px, fee, sold=sold[i])
            sold[i] += fill[0]
            fills.append(fill)
        try:
            for i, fill in zip(syms, fills, strict=True):
                self.apply_fill(secs[i], "sell", *fill)
                self._track(i)
                self.refresh()
        except BaseException as exc:
            self.fail_closed("book_sells", exc)
            raise

    # ---- checks ------------------------------------------------------------------------

    def judge_sells(self, sym: Sequence[int] | np.ndarray, shares: Sequence[int] | np.ndarray,
                    limit_price: Sequence[float] | np.ndarray,
                    timestamp: dt.datetime) -> list[Decision]:
        """Judge sells against the current state, none booked: one decision per order.

        A valid sell depends on no other fill, so judging them all against one state gives
        the decisions ``check`` gives each in turn.

        Parameters
        ----------
        sym, shares, limit_price
            Positions, shares (1..MAX_ORDER_SHARES) and limit prices (CNY, on the tick).
        timestamp
            When the orders arrive (tz-aware), one time for all.

        Raises
        ------
        ConfigError
            A naive timestamp.
        DataError
            A quantity or limit price out of range, a position outside the universe, or
            arrays of other lengths.
        LookupFailed
            A symbol never registered.
        """
        return self._judge(sym, shares, limit_price, timestamp, None, None)

    def judge_buys(self, sym: Sequence[int] | np.ndarray, shares: Sequence[int] | np.ndarray,
                   limit_price: Sequence[float] | np.ndarray, timestamp: dt.datetime, *,
                   price: Sequence[float] | np.ndarray,
                   fee_cny: Sequence[float] | np.ndarray) -> list[Decision]:
        """Judge buys in order, booking each accepted one (at ``price`` CNY, less
        ``fee_cny``, as ``on_fill``) before judging the next: one decision per order.

        Parameters and errors are those of :meth:`judge_sells`, and a fill that
        ``on_fill`` refuses (a price or fee that is not a positive or non-negative finite
        number) raises its DataError; every order is checked before the first is booked,
        so an error books nothing.
        """
        return self._judge(sym, shares, limit_price, timestamp, price, fee_cny)

    def _judge(self, sym: Sequence[int] | np.ndarray, shares: Sequence[int] | np.ndarray,
               limit_price: Sequence[float] | np.ndarray, timestamp: dt.datetime,
               price: Sequence[float] | np.ndarray | None,
               fee_cny: Sequence[float] | np.ndarray | None) -> list[Decision]:
        if timestamp is not self._stamp[0]:  # a session's orders share one stamp
            if (not isinstance(timestamp, dt.datetime) or timestamp is pd.NaT
                    or timestamp.utcoffset() is None):
                raise ConfigError(f"timestamp {timestamp!r} is not a timezone-aware "
                                  "datetime; use pd.Timestamp(..., tz='Asia/Shanghai')")
            self._stamp = (timestamp, timestamp.value if isinstance(timestamp, pd.Timestamp)
                           else (timestamp - _EPOCH) // _MICROSECOND * 1000)
        syms, qs = _list(sym, "i", "sym"), _list(shares, "i", "shares")
        limits = _list(limit_price, "f", "limit_price")
        buy = price is not None and fee_cny is not None
        fills = ([], []) if price is None or fee_cny is None else (_list(price, "f", "price"),
                                                                  _list(fee_cny, "f", "fee_cny"))
        n = len(syms)
        if len(qs) != n or len(limits) != n or (buy and (len(fills[0]) != n
                                                         or len(fills[1]) != n)):
            _same_length(syms, shares=qs, limit_price=limits,
                         **({"price": fills[0], "fee_cny": fills[1]} if buy else {}))
        self._known(syms)
        secs = self._secs
        fens: list[int] = []
        for j, (i, q, limit) in enumerate(zip(syms, qs, limits, strict=True)):
            fen = parse_fen(limit)
            if fen is None or not 0 < q <= MAX_ORDER_SHARES:
                raise DataError(f"order {self.symbols[i]}: {q!r} shares at {limit!r} CNY; "
                                f"give 1..{MAX_ORDER_SHARES:,} shares at a CNY price on the "
                                "0.01 tick")
            if buy and not (0.0 < fills[0][j] < _INF and 0.0 <= fills[1][j] < _INF):
                self.check_fill(secs[i], "buy", q, fills[0][j], fills[1][j])  # raises
            fens.append(fen)
        orders = zip(syms, qs, fens, strict=True)
        t, w = self._stamp[1], self.window_ns
        if not (w[0] <= t < w[1] or w[2] <= t < w[3] or w[4] <= t < w[5]):
            return [hours_rejection(self, timestamp)] * len(syms)
        out = []
        try:
            for j, (i, q, fen) in enumerate(orders):
                sec = secs[i]
                decision = verdict(self, sec, buy, q, fen)
                out.append(decision)
                if buy and decision.accepted:
                    self.apply_fill(sec, "buy", q, fills[0][j], fills[1][j])
                    self._track(i)
                    self.refresh()
        except BaseException as exc:
            self.fail_closed("judge_buys", exc)
            raise
        return out

    # ---- bookkeeping -------------------------------------------------------------------

    def _register(self, syms: list[int]) -> None:
        rank = self._rank
        for i in syms:
            if rank[i] < 0:
                rank[i] = self._registered
                self._registered += 1

    def _check_positions(self, syms: list[int]) -> None:
        n = len(self._secs)
        if syms and (min(syms) < 0 or max(syms) >= n):
            bad = [i for i in syms if not 0 <= i < n][:5]
            raise DataError(f"positions {bad} are outside the universe of {n} symbols "
                            f"(0..{n - 1})")

    def _mark_all(self, syms: list[int], prices: list[float], keep_missing: bool) -> bool:
        """:meth:`EquityState.mark_symbol` on each symbol in turn, in one loop (without
        the refresh); return whether any was marked."""
        secs, unpriced, sums, rank = self._secs, self.unpriced, self.sector_values_cny, self._rank
        inf = _INF
        gross = self.gross_cny
        marked = False
        if keep_missing and not unpriced:  # the engine's marks: the loop below, shortened
            # (mark() has checked that every symbol with a price to mark is registered)
            sec = None
            for i, px in zip(syms, prices, strict=True):
                if not (px > 0.0 and px < inf):  # NaN too: the last mark stays
                    continue
                sec = secs[i]
                sec.mark = px
                value = sec.held * px  # 0.0 when not held (px is finite), as revalue's
                delta = value - sec.value
                sec.value = value
                gross += delta
                sums[sec.sector] += delta
            self.gross_cny = gross
            return sec is not None  # marked one
        for i, px in zip(syms, prices, strict=True):
            if not (px > 0.0 and px < inf):  # NaN too
                if keep_missing:
                    continue
                px = math.nan
            sec = secs[i]
            held = sec.held
            if px == sec.mark and held:  # priced at px already: every change below is 0
                marked = True
                continue
            if held == 0:  # a holding is registered (it was judged or settled), else check
                if rank[i] < 0:
                    self.gross_cny = gross
                    self._known([i])
                value = 0.0
                if unpriced:
                    unpriced.discard(sec.symbol)
            elif px != px:
                value = 0.0
                unpriced.add(sec.symbol)
            else:
                value = held * px
                if unpriced:
                    unpriced.discard(sec.symbol)
            marked = True
            sec.mark = px
            delta = value - sec.value
            sec.value = value
            gross += delta
            sums[sec.sector] += delta
        self.gross_cny = gross
        return marked

    def _track(self, i: int) -> None:
        """After a fill or a settlement of position ``i``: keep the sets the day's start
        visits (the holdings, in registration order, and the positions whose sellable
        shares may lag)."""
        held = self._held
        if self._secs[i].held:
            if i not in held:
                held.add(i)
                rank = self._rank[i]
                k = bisect.bisect(self._held_ranks, rank)
                self._held_ranks.insert(k, rank)
                self._held_order.insert(k, self._secs[i])
        elif i in held:
            held.discard(i)
            k = bisect.bisect_left(self._held_ranks, self._rank[i])
            del self._held_ranks[k], self._held_order[k]
        self._fresh.add(i)

    def _known(self, syms: list[int]) -> None:
        """Raise unless every position of ``syms`` is in the universe and registered."""
        rank = self._rank
        try:
            missing = [i for i in syms if rank[i] < 0]
        except IndexError:
            missing = None
        if missing is None or (syms and min(syms) < 0):
            self._check_positions(syms)
        if missing:
            raise LookupFailed(f"symbols {self._names(missing)} are not registered; "
                               "start_day or register registers them")

    def _names(self, sym: Sequence[int] | np.ndarray) -> list[str]:
        return [self.symbols[i] for i in list(sym)[:5]]


def _list(values: Sequence[float] | Sequence[int] | Sequence[bool] | np.ndarray,
          kind: str, name: str) -> list:
    """``values`` (the argument ``name``) as a list of Python ints (``kind`` ``'i'``),
    floats (``'f'``) or bools (``'b'``); an array of that kind is converted without a copy.

    Raises
    ------
    DataError
        When ``values`` is not a flat sequence of such numbers.
    """
    if type(values) is _NDARRAY and values.ndim == 1 and values.dtype.kind == kind:
        return values.tolist()  # the engine's case (a subclass takes the general path)
    if type(values) is list and all(type(v) is _PYTHON[kind] for v in values):
        return list(values)  # already what the conversion below would give
    try:
        array: np.ndarray | None = np.asarray(values,
                                              dtype={"i": np.int64, "f": float, "b": bool}[kind])
    except (ValueError, TypeError, OverflowError):
        array = None
    if array is None or array.ndim != 1:
        what = {"i": "whole numbers", "f": "numbers", "b": "True/False flags"}[kind]
        raise DataError(f"{name} must be a flat sequence of {what}, got {values!r:.80}")
    return array.tolist()


def _same_length(syms: list, **others: list) -> None:
    """Raise DataError unless every list of ``others`` is as long as ``syms``."""
    n = len(syms)
    if any(len(v) != n for v in others.values()):
        lengths = ", ".join(f"{k} {len(v)}" for k, v in others.items())
        raise DataError(f"{n} positions in sym but {lengths}; give one value per position")
