"""The account state a pre-trade validator judges against, kept in O(1) per event.

:class:`AccountState` holds the facts (cash, positions and their T+1 sellable shares,
marks, today's limit prices and flags per symbol, the started session's trading window)
and what follows from them (position and sector values, equity, its peak, the day's P&L
base, the drawdown stop's status, the stop that blocks buys and the caps a buy is compared
with), refreshed on each event: the checks only read these fields, so re-arming the
drawdown stop costs an order nothing. The account-level half (cash, equity, the stops, the
caps, the started day) is :class:`~workbench.risk.equity.EquityState`, which
:class:`AccountState` extends with a :class:`SymbolState` per registered symbol. Every
field is public and read-only: the events
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
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, DataError, LookupFailed, did_you_mean
from workbench.risk.equity import EquityState, day_number
from workbench.risk.limits import RiskLimits
from workbench.risk.orders import parse_fen, parse_shares
from workbench.rules import lot_rule
from workbench.symbols import Board, board_of

__all__ = ["UNKNOWN_SECTOR", "AccountState", "SymbolState"]

#: Sector bucket of securities registered without one (one shared bucket: conservative).
UNKNOWN_SECTOR = "(unknown)"


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


def _limit_fens(symbol: str, up: Any, down: Any) -> tuple[float, float]:
    """Limit prices in fen; both NaN means no limit today (IPO days, as in the bar schema)."""
    up, down = float(up), float(down)
    if math.isnan(up) and math.isnan(down):
        return math.inf, -math.inf
    fen_up, fen_down = parse_fen(up), parse_fen(down)
    if fen_up is None or fen_down is None or fen_down > fen_up:
        raise DataError(f"{symbol}: limit_down {down!r} and limit_up {up!r} must be positive "
                        "CNY prices on the 0.01 tick with down <= up (both NaN: no limit)")
    return float(fen_up), float(fen_down)


def _number(x: Any) -> float:
    """``float(x)`` for real numbers, NaN for anything else (so that checks reject it)."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        return math.nan
    return float(x)


def _holding(q: Any) -> int | None:
    """A whole share count >= 0 (a settled holding may be zero), or None."""
    if isinstance(q, (bool, np.bool_)):
        return None
    if isinstance(q, (int, np.integer)) or (
        isinstance(q, (float, np.floating)) and math.isfinite(q) and float(q).is_integer()
    ):
        return int(q) if int(q) >= 0 else None
    return None


class AccountState(EquityState):
    """Cash, positions, marks and today's rules of an account, under :class:`RiskLimits`.

    Parameters are those of :class:`~workbench.risk.PreTradeValidator` (which validates
    ``limits``). All fields are read-only; events change them.

    Attributes
    ----------
    securities : dict[str, SymbolState]
        Registered symbols, in registration order.
    sector_values_cny : dict[str, float]
        Marked value of the positions per sector bucket, CNY.

    The account-level fields (cash, equity, its peak, the stops, the caps, the started
    day and its window) are those of :class:`~workbench.risk.equity.EquityState`.

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

    __slots__ = ("_arrays", "sector_values_cny", "securities")

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
        self.sector_values_cny: dict[str, float] = {}
        self._arrays: dict[str, Any] | None = None
        if securities is not None:
            self.update_securities(securities)
        for symbol, shares in (positions or {}).items():
            sec = self.security(symbol)
            held = parse_shares(shares) if shares != 0 else 0
            if held is None:
                raise ConfigError(f"position {symbol}: {shares!r} is not a whole number of "
                                  "shares >= 0")
            sec.held = held
            sec.set_sellable(held)
            self._revalue(sec)
        for symbol, price in (prices or {}).items():
            self._mark(self.security(symbol), price)
        self.refresh()

    # ---- lookups ----------------------------------------------------------------------

    def security(self, symbol: str) -> SymbolState:
        """Return the state of ``symbol``.

        Raises
        ------
        LookupFailed
            When ``symbol`` is not registered.
        """
        sec = self.securities.get(symbol)
        if sec is None:
            raise LookupFailed(f"symbol {symbol!r} is not registered; add it with "
                               f"update_securities. {did_you_mean(str(symbol), self.securities)}")
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

    # ---- events ------------------------------------------------------------------------

    def update_securities(self, securities: pd.DataFrame) -> None:
        """Register and update symbols from a frame; see
        :meth:`~workbench.risk.PreTradeValidator.update_securities`.
        """
        if "symbol" not in securities.columns:
            raise DataError(f"securities frame needs a 'symbol' column; got "
                            f"{list(securities.columns)}")
        cols = {c: securities[c].tolist() for c in securities.columns}
        symbols = cols["symbol"]
        if bad := [s for s in symbols if not isinstance(s, str)][:1]:
            raise DataError(f"securities frame: symbol {bad[0]!r} is not text like '600000.SH'")
        if len(set(symbols)) != len(symbols):
            dup = pd.Index(symbols)[pd.Index(symbols).duplicated()][0]
            raise DataError(f"securities frame lists {dup} more than once; one row per symbol")
        for flag in ("is_st", "suspended", "delisted"):
            if bad := [x for x in cols.get(flag, ()) if x not in (True, False)][:1]:
                raise DataError(f"securities column {flag!r} holds {bad[0]!r}; give True or False")
        if ("limit_up" in cols) != ("limit_down" in cols):
            raise DataError("securities frame needs both 'limit_up' and 'limit_down' or neither")
        # Validate every row before changing anything, so that a bad frame leaves no trace.
        boards: list[Board | None] = []
        limits: list[tuple[float, float]] = []
        for i, symbol in enumerate(symbols):
            board = None
            if "board" in cols:
                try:
                    board = Board(cols["board"][i])
                except ValueError:
                    raise DataError(f"{symbol}: board {cols['board'][i]!r} is not one of "
                                    f"{[b.value for b in Board]}") from None
            elif symbol not in self.securities:
                board = board_of(symbol)
            boards.append(board)
            if "limit_up" in cols:
                limits.append(_limit_fens(symbol, cols["limit_up"][i], cols["limit_down"][i]))
        for i, symbol in enumerate(symbols):
            sec = self.securities.get(symbol)
            board = boards[i]
            if sec is None:
                assert board is not None  # set above for every new symbol
                sec = self.securities[symbol] = SymbolState(symbol, board, UNKNOWN_SECTOR)
                self.sector_values_cny.setdefault(UNKNOWN_SECTOR, 0.0)
            elif board is not None:
                sec.set_board(board)
                sec.set_sellable(sec.sellable)
            if "sector" in cols:
                sector = cols["sector"][i]
                self._move_sector(sec, UNKNOWN_SECTOR if pd.isna(sector) else str(sector))
            if "is_st" in cols:
                sec.st = bool(cols["is_st"][i])
            if "suspended" in cols:
                sec.suspended = bool(cols["suspended"][i])
            if "delist_date" in cols:
                sec.delist_day = day_number(cols["delist_date"][i])
            if "delisted" in cols:
                sec.delisted = bool(cols["delisted"][i])
            elif "delist_date" in cols:
                sec.delisted = self._is_delisted(sec)
            if limits:
                sec.limit_up_fen, sec.limit_down_fen = limits[i]
                sec.limits_known = True
        self._arrays = None

    def start_day(
        self,
        date: str | dt.date | pd.Timestamp,
        securities: pd.DataFrame | None = None,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        """Open a trading day; see
        :meth:`~workbench.risk.PreTradeValidator.start_day`.
        """
        self.begin_day(date)
        for sec in self.securities.values():
            sec.limits_known, sec.limit_up_fen, sec.limit_down_fen = False, math.nan, math.nan
            sec.delisted = sec.delisted or self._is_delisted(sec)
        if securities is not None:
            self.update_securities(securities)
        for symbol, price in (prices or {}).items():
            self._mark(self.security(symbol), price)
        self.gross_cny = 0.0
        self.sector_values_cny = dict.fromkeys(self.sector_values_cny, 0.0)
        for sec in self.securities.values():
            sec.set_sellable(sec.held)
            self.gross_cny += sec.value
            self.sector_values_cny[sec.sector] += sec.value
        self.rebase_day()

    def on_price(self, symbol: str, price: float) -> None:
        """Mark ``symbol`` at ``price`` CNY; NaN or a non-positive price makes it unpriced."""
        self._mark(self.security(symbol), price)
        self.refresh()

    def on_prices(self, prices: Mapping[str, float] | pd.Series) -> None:
        """Mark many symbols at once, as repeated :meth:`on_price`."""
        for symbol, price in prices.items():
            self._mark(self.security(symbol), price)
        self.refresh()

    def on_fill(
        self, symbol: str, side: str, quantity: int, price: float, *, fee_cny: float = 0.0
    ) -> None:
        """Book an executed trade; see
        :meth:`~workbench.risk.PreTradeValidator.on_fill`.
        """
        sec = self.security(symbol)
        q, px, fee = parse_shares(quantity), _number(price), _number(fee_cny)
        if side not in ("buy", "sell"):
            raise DataError(f"fill {symbol}: side {side!r} must be 'buy' or 'sell'")
        if q is None or not (px > 0.0 and math.isfinite(px)) or not (
            fee >= 0.0 and math.isfinite(fee)
        ):
            raise DataError(f"fill {symbol}: quantity {quantity!r}, price {price!r} and "
                            f"fee {fee_cny!r} must be a positive whole number, a positive "
                            "finite CNY price and a finite fee >= 0")
        if side == "sell" and q > sec.sellable:
            raise DataError(f"fill {symbol}: sold {q} shares but only {sec.sellable} were "
                            f"sellable (T+1; {sec.held} held)")
        if side == "buy":
            sec.held += q
            self.cash_cny -= q * px + fee
        else:
            sec.held -= q
            sec.set_sellable(sec.sellable - q)
            self.cash_cny += q * px - fee
        self._mark(sec, px)
        self.refresh()

    def on_settlement(self, shares: Mapping[str, int], marks: Mapping[str, float],
                      cash_cny: float) -> None:
        """Reconcile holdings and cash moved without a trade; see
        :meth:`~workbench.risk.PreTradeValidator.on_settlement`.
        """
        parsed = {sym: _holding(q) for sym, q in shares.items()}
        if bad := [sym for sym, q in parsed.items() if q is None]:
            raise DataError(f"settlement: holdings of {bad[:5]} must be whole numbers >= 0")
        held = {sym: q for sym, q in parsed.items() if q is not None}
        px = {sym: _number(p) for sym, p in marks.items()}
        if bad := [sym for sym, p in px.items() if not (p > 0.0 and math.isfinite(p))]:
            raise DataError(f"settlement: marks of {bad[:5]} must be positive finite CNY")
        cash = _number(cash_cny)
        if not math.isfinite(cash):
            raise DataError(f"settlement: cash {cash_cny!r} must be finite CNY")
        secs = {sym: self.security(sym) for sym in {*held, *px}}
        self.cash_cny = cash
        for sym, q in held.items():
            sec = secs[sym]
            sec.held = q
            sec.set_sellable(min(sec.sellable, sec.held))
            self._revalue(sec)
        for sym, p in px.items():
            self._mark(secs[sym], p)
        self.refresh()

    # ---- bookkeeping -------------------------------------------------------------------

    def _mark(self, sec: SymbolState, price: Any) -> None:
        px = _number(price)
        sec.mark = px if px > 0.0 and math.isfinite(px) else math.nan
        self._revalue(sec)

    def _revalue(self, sec: SymbolState) -> None:
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
