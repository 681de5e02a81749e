"""The pre-trade checks a session at a time, on a fixed universe: the backtester's risk path.

:class:`SessionValidator` is the state and the checks of a
:class:`~workbench.risk.PreTradeValidator`, fed the way a backtest feeds them: symbols are
positions ``0..n-1`` of a universe fixed at the start, and each event takes the arrays of
a session (a day's limit prices and flags for the symbols with orders, the marks of the
holdings, the session's sells, then its buys). The per-order validator, fed by symbol
code (a frame per day, a dict of marks, an :class:`~workbench.risk.Order` per fill, a
start of day that visits every registered symbol), cost a backtest three times the run
itself (a risk-on run of ``ma_trend`` on the real 80-stock sample took 4 × the risk-off
run); fed this way it costs about two thirds of the run
(``benchmarks/bench_risk_backtest.py``).

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
delisting dates (a day's ``delisted`` flags say it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

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

    __slots__ = ("_fresh", "_held", "_held_order", "_limited", "_rank", "_registered", "_secs",
                 "_stamp", "symbols")

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
        self._held_order: list[int] = []  # the same in registration order
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

    # ---- events ------------------------------------------------------------------------

    def register(self, sym: Sequence[int] | np.ndarray) -> None:
        """Register the symbols at positions ``sym`` not yet registered, in that order."""
        rank = self._rank
        for i in _list(sym, "i"):
            if rank[i] < 0:
                rank[i] = self._registered
                self._registered += 1

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
            When ``date`` is not after the day already started.
        DataError
            Limit prices off the tick, one-sided or crossed (nothing is changed).
        """
        syms = _list(sym, "i")
        names = self.symbols
        bands = [limit_fens(names[i], u, d) for i, u, d in
                 zip(syms, _list(limit_up, "f"), _list(limit_down, "f"), strict=True)]
        flags = [(name, _list(v, "b")) for name, v in
                 (("st", is_st), ("suspended", suspended), ("delisted", delisted))
                 if v is not None]
        self.begin_day(date)
        self.register(syms)
        secs = self._secs
        for i in self._limited:
            sec = secs[i]
            sec.limits_known, sec.limit_up_fen, sec.limit_down_fen = False, math.nan, math.nan
        for j, i in enumerate(syms):
            sec = secs[i]
            sec.limit_up_fen, sec.limit_down_fen = bands[j]
            sec.limits_known = True
            for name, values in flags:
                setattr(sec, name, values[j])
        self._limited = syms
        for i in self._fresh:
            sec = secs[i]
            sec.set_sellable(sec.held)
        self._fresh.clear()
        # afresh, in registration order as AccountState adds them (the others add 0)
        gross, sums = 0.0, dict.fromkeys(self.sector_values_cny, 0.0)
        if len(self._held_order) != len(self._held):
            self._held_order = sorted(self._held, key=self._rank.__getitem__)
        for i in self._held_order:
            sec = secs[i]
            value = sec.value
            gross += value
            sums[sec.sector] += value
        self.gross_cny, self.sector_values_cny = gross, sums
        self.rebase_day()

    def mark(self, sym: Sequence[int] | np.ndarray, prices: Sequence[float] | np.ndarray, *,
             keep_missing: bool = False) -> None:
        """Mark the symbols at positions ``sym`` (distinct) at ``prices`` CNY, as
        :meth:`~workbench.risk.PreTradeValidator.on_prices` in that order.

        NaN or a non-positive price makes a holding unpriced, or with ``keep_missing``
        leaves its last mark (a price missing from a feed). Nothing happens when nothing
        is marked.
        """
        if self._mark_all(_list(sym, "i"), _list(prices, "f"), keep_missing):
            self.refresh()

    def settle(self, shares: np.ndarray, cash_cny: float, marks: np.ndarray) -> None:
        """Reconcile holdings and cash moved without a trade (ex-dates, delistings).

        As :meth:`~workbench.risk.PreTradeValidator.on_settlement`: the holdings become
        ``shares`` (one per position; sellable shares capped at the new holding), cash
        ``cash_cny``, and each holding with a finite positive price in ``marks`` (one per
        position, CNY) is marked at it.

        Raises
        ------
        DataError
            A negative holding or a cash amount that is not finite (nothing is changed).
        LookupFailed
            A holding of a symbol that was never registered (nothing is changed).
        """
        shares = np.asarray(shares, dtype=np.int64)
        marks = np.asarray(marks, dtype=float)
        if (shares < 0).any():
            raise DataError(f"settlement: holdings of {self._names(np.flatnonzero(shares < 0))} "
                            "must be whole numbers >= 0")
        cash = float(cash_cny)
        if not math.isfinite(cash):
            raise DataError(f"settlement: cash {cash_cny!r} must be finite CNY")
        now = shares.tolist()
        secs = self._secs
        changed = sorted(i for i in {*np.flatnonzero(shares).tolist(), *self._held}
                         if now[i] != secs[i].held)
        marked = np.flatnonzero((shares != 0) & (marks > 0.0) & (marks < _INF)).tolist()
        self._known(changed)  # the others marked are held, so registered
        self.cash_cny = cash
        for i in changed:
            self.settle_holding(secs[i], now[i])
            self._track(i)
        self._mark_all(marked, marks[marked].tolist(), False)
        self.refresh()

    def book_sells(self, sym: Sequence[int] | np.ndarray, shares: Sequence[int] | np.ndarray,
                   price: Sequence[float] | np.ndarray,
                   fee_cny: Sequence[float] | np.ndarray) -> None:
        """Book executed sells in order, each as
        :meth:`~workbench.risk.PreTradeValidator.on_fill`.

        Raises
        ------
        DataError
            As ``on_fill`` (e.g. a sell above the sellable shares); the fills before it
            stay booked.
        LookupFailed
            A symbol never registered.
        """
        for i, q, px, fee in zip(_list(sym, "i"), _list(shares, "i"), _list(price, "f"),
                                 _list(fee_cny, "f"), strict=True):
            self._known([i])
            self.book_fill(self._secs[i], "sell", q, px, fee)
            self._track(i)
            self.refresh()

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
            A quantity or limit price out of range.
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

        Parameters and errors are those of :meth:`judge_sells` (a fill that ``on_fill``
        refuses raises its DataError).
        """
        return self._judge(sym, shares, limit_price, timestamp, price, fee_cny)

    def _judge(self, sym: Sequence[int] | np.ndarray, shares: Sequence[int] | np.ndarray,
               limit_price: Sequence[float] | np.ndarray, timestamp: dt.datetime,
               price: Sequence[float] | np.ndarray | None,
               fee_cny: Sequence[float] | np.ndarray | None) -> list[Decision]:
        if timestamp is not self._stamp[0]:  # a session's orders share one stamp
            if timestamp.utcoffset() is None:
                raise ConfigError(f"timestamp {timestamp!r} is not a timezone-aware "
                                  "datetime; use pd.Timestamp(..., tz='Asia/Shanghai')")
            self._stamp = (timestamp, timestamp.value if isinstance(timestamp, pd.Timestamp)
                           else (timestamp - _EPOCH) // _MICROSECOND * 1000)
        syms, qs, limits = _list(sym, "i"), _list(shares, "i"), _list(limit_price, "f")
        buy = price is not None and fee_cny is not None
        fills = ([], []) if price is None or fee_cny is None else (_list(price, "f"),
                                                                  _list(fee_cny, "f"))
        self._known(syms)
        fens: list[int] = []
        for i, q, limit in zip(syms, qs, limits, strict=True):
            fen = parse_fen(limit)
            if fen is None or not 0 < q <= MAX_ORDER_SHARES:
                raise DataError(f"order {self.symbols[i]}: {q!r} shares at {limit!r} CNY; "
                                f"give 1..{MAX_ORDER_SHARES:,} shares at a CNY price on the "
                                "0.01 tick")
            fens.append(fen)
        orders = zip(syms, qs, fens, strict=True)
        t, w = self._stamp[1], self.window_ns
        if not (w[0] <= t < w[1] or w[2] <= t < w[3] or w[4] <= t < w[5]):
            return [hours_rejection(self, timestamp)] * len(syms)
        secs, out = self._secs, []
        for j, (i, q, fen) in enumerate(orders):
            sec = secs[i]
            decision = verdict(self, sec, buy, q, fen)
            out.append(decision)
            if buy and decision.accepted:
                self.book_fill(sec, "buy", q, fills[0][j], fills[1][j])
                self._track(i)
                self.refresh()
        return out

    # ---- bookkeeping -------------------------------------------------------------------

    def _mark_all(self, syms: list[int], prices: list[float], keep_missing: bool) -> bool:
        """:meth:`EquityState.mark_symbol` on each symbol in turn, in one loop (without
        the refresh); return whether any was marked."""
        secs, unpriced, sums, rank = self._secs, self.unpriced, self.sector_values_cny, self._rank
        inf = _INF
        gross = self.gross_cny
        marked = False
        for i, px in zip(syms, prices, strict=True):
            if not (px > 0.0 and px < inf):  # NaN too
                if keep_missing:
                    continue
                px = math.nan
            sec = secs[i]
            held = sec.held
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
        visits (the holdings, and the positions whose sellable shares may lag)."""
        held = self._held
        if self._secs[i].held:
            if i not in held:
                held.add(i)
                self._held_order = []  # sorted again at the next day's start
        elif i in held:
            held.discard(i)
            self._held_order = []
        self._fresh.add(i)

    def _known(self, syms: list[int]) -> None:
        rank = self._rank
        if missing := [i for i in syms if rank[i] < 0]:
            raise LookupFailed(f"symbols {self._names(missing)} are not registered; "
                               "start_day or register registers them")

    def _names(self, sym: Sequence[int] | np.ndarray) -> list[str]:
        return [self.symbols[i] for i in list(sym)[:5]]


def _list(values: Sequence[float] | Sequence[int] | Sequence[bool] | np.ndarray,
          kind: str) -> list:
    """``values`` as a list of Python ints (``kind`` ``'i'``), floats (``'f'``) or bools
    (``'b'``); an array of that kind is converted without a copy."""
    if isinstance(values, np.ndarray) and values.dtype.kind == kind:
        return values.tolist()
    return np.asarray(values, dtype={"i": np.int64, "f": float, "b": bool}[kind]).tolist()
