"""The pre-trade validator: portfolio state kept in O(1) per event, orders judged in µs.

See :mod:`workbench.risk` for the order of checks and the conventions.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from workbench.calendar import AFTERNOON, MARKET_TZ, MORNING, OPENING_AUCTION, is_session
from workbench.errors import ConfigError, DataError, LookupFailed, did_you_mean
from workbench.risk.batch import LAYER_CODES, screen
from workbench.risk.limits import TOLERANCE_RATE, RiskLimits
from workbench.risk.orders import (
    ACCEPTED,
    MAX_ORDER_SHARES,
    MAX_PRICE_CNY,
    Decision,
    Layer,
    Order,
    Reason,
    parse_fen,
    parse_shares,
    reject,
)
from workbench.rules import lot_rule
from workbench.symbols import Board, board_of

__all__ = ["UNKNOWN_SECTOR", "PreTradeValidator"]

_SHANGHAI = ZoneInfo(MARKET_TZ)
#: Sector bucket of securities registered without one (one shared bucket: conservative).
UNKNOWN_SECTOR = "(unknown)"


class _Security:
    """Mutable per-symbol state; slots keep the hot path's attribute reads cheap."""

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
        rule = lot_rule(board)
        self.board, self.min_shares, self.step_shares = board, rule.min_shares, rule.step_shares

    def set_sellable(self, shares: int) -> None:
        self.sellable = shares
        mn = self.min_shares
        self.odd = shares if shares < mn else (shares - mn) % self.step_shares


def _day_number(value: Any) -> int | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    return int(pd.Timestamp(value).as_unit("s").value // 86_400)


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


def _pct(x: float) -> str:
    return f"{x:.2%}"


def _holding(q: Any) -> int | None:
    """A whole share count >= 0 (a settled holding may be zero), or None."""
    if isinstance(q, (bool, np.bool_)):
        return None
    if isinstance(q, (int, np.integer)) or (
        isinstance(q, (float, np.floating)) and math.isfinite(q) and float(q).is_integer()
    ):
        return int(q) if int(q) >= 0 else None
    return None


class PreTradeValidator:
    """Keep a portfolio's state and judge orders against :class:`RiskLimits` and A-share rules.

    Parameters
    ----------
    limits
        The limits; :class:`RiskLimits` defaults when omitted.
    cash_cny
        Cash at the start, CNY.
    securities
        Securities to register (see :meth:`update_securities`).
    positions
        Shares held at the start, all sellable (bought on earlier days).
    prices
        Marks at the start, CNY per share. A held symbol without a price blocks buys
        (MISSING_PRICE) until :meth:`on_price` gives one.

    Examples
    --------
    >>> v = PreTradeValidator(cash_cny=1_000_000.0, securities=pd.DataFrame(
    ...     {"symbol": ["600000.SH"], "sector": ["Banks"]}))
    >>> v.start_day("2024-01-02", pd.DataFrame(
    ...     {"symbol": ["600000.SH"], "limit_up": [11.0], "limit_down": [9.0]}))
    >>> at = pd.Timestamp("2024-01-02 10:00", tz="Asia/Shanghai")
    >>> v.check(Order(symbol="600000.SH", side="buy", quantity=10_000, limit_price=10.0,
    ...               timestamp=at)).accepted
    True
    >>> print(v.check(Order(symbol="600000.SH", side="buy", quantity=10_100,
    ...                     limit_price=10.0, timestamp=at)).message)
    buy 10100 600000.SH: position would be 101,000.00 CNY = 10.10% of equity \
1,000,000.00 CNY, limit 10.00%
    """

    def __init__(
        self,
        limits: RiskLimits | None = None,
        *,
        cash_cny: float,
        securities: pd.DataFrame | None = None,
        positions: Mapping[str, int] | None = None,
        prices: Mapping[str, float] | None = None,
    ) -> None:
        self.limits = RiskLimits() if limits is None else limits
        if not isinstance(self.limits, RiskLimits):
            raise ConfigError(f"limits must be a RiskLimits, got {type(self.limits).__name__}")
        cash = float(cash_cny)
        if not math.isfinite(cash):
            raise ConfigError(f"cash_cny must be a finite amount in CNY, got {cash_cny!r}")
        self._cash = cash
        self._secs: dict[str, _Security] = {}
        self._sector_value: dict[str, float] = {}
        self._unpriced: set[str] = set()
        self._gross = 0.0
        self._day: pd.Timestamp | None = None
        self._day_number: int | None = None
        self._session = False
        self._win_ns = (0, 0, 0, 0, 0, 0)  # [lo, hi) pairs: morning, afternoon, auction
        self._win_s = (0.0,) * 6
        self._sod: float | None = None
        self._peak: float | None = None
        self._arrays: dict[str, Any] | None = None
        if securities is not None:
            self.update_securities(securities)
        for symbol, shares in (positions or {}).items():
            sec = self._security(symbol)
            held = parse_shares(shares) if shares != 0 else 0
            if held is None:
                raise ConfigError(f"position {symbol}: {shares!r} is not a whole number of "
                                  "shares >= 0")
            sec.held = held
            sec.set_sellable(held)
            self._revalue(sec)
        for symbol, price in (prices or {}).items():
            self._mark(self._security(symbol), price)
        self._refresh()

    # ---- state updates -----------------------------------------------------------------

    def update_securities(self, securities: pd.DataFrame) -> None:
        """Register new symbols and update known ones from a frame, one row per symbol.

        Columns: ``symbol`` (required); ``board`` (a :class:`~workbench.symbols.Board`
        value, derived from the code when absent), ``sector`` (NaN: ``'(unknown)'``, one
        shared bucket), ``is_st``, ``suspended``, ``delisted`` (bools), ``delist_date``
        (first day no longer listed), ``limit_up`` and ``limit_down`` (today's limit
        prices, CNY; both NaN: no limit today). Absent columns leave values unchanged.

        Raises
        ------
        DataError
            Missing ``symbol``, duplicate symbols, an unknown board, NaN flags, or limit
            prices that are off the tick, one-sided or crossed.
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
        limits: list[tuple[float, float] | None] = []
        for i, symbol in enumerate(symbols):
            board = None
            if "board" in cols:
                try:
                    board = Board(cols["board"][i])
                except ValueError:
                    raise DataError(f"{symbol}: board {cols['board'][i]!r} is not one of "
                                    f"{[b.value for b in Board]}") from None
            elif symbol not in self._secs:
                board = board_of(symbol)
            boards.append(board)
            if "limit_up" in cols:
                limits.append(_limit_fens(symbol, cols["limit_up"][i], cols["limit_down"][i]))
        for i, symbol in enumerate(symbols):
            sec = self._secs.get(symbol)
            board = boards[i]
            if sec is None:
                assert board is not None  # set above for every new symbol
                sec = self._secs[symbol] = _Security(symbol, board, UNKNOWN_SECTOR)
                self._sector_value.setdefault(UNKNOWN_SECTOR, 0.0)
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
                sec.delist_day = _day_number(cols["delist_date"][i])
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
        """Open a trading day: today's limits and flags, marks, T+1 release, new P&L base.

        In order: yesterday's limit prices are forgotten; ``securities`` (today's rows of
        the bars, e.g. ``symbol, limit_up, limit_down, suspended, is_st``) is applied with
        :meth:`update_securities`; ``prices`` marks positions; every held share becomes
        sellable; sums are recomputed from the positions (clearing float drift); the
        start-of-day equity becomes the day's P&L base (or, if a held symbol has no price
        yet, the first fully priced equity of the day).

        Raises
        ------
        ConfigError
            When ``date`` is not after the day already started.
        """
        day = pd.Timestamp(date)
        if day.tzinfo is not None:
            day = day.tz_convert(MARKET_TZ).tz_localize(None)
        day = day.normalize()
        if self._day is not None and day <= self._day:
            raise ConfigError(f"start_day({day.date()}) must come after the current day "
                              f"{self._day.date()}; use update_securities for intraday changes")
        self._day, self._day_number = day, _day_number(day)
        self._session = is_session(day)
        wins = [MORNING, AFTERNOON]
        if self.limits.allow_opening_auction:
            wins.append(OPENING_AUCTION)
        ns = []
        for lo, hi in wins:
            for t in (lo, hi):
                stamp = pd.Timestamp(dt.datetime.combine(day.date(), t)).tz_localize(MARKET_TZ)
                ns.append(stamp.as_unit("ns").value if self._session else 0)
        ns += [0] * (6 - len(ns))
        self._win_ns = tuple(ns)
        self._win_s = tuple(x / 1e9 for x in ns)
        for sec in self._secs.values():
            sec.limits_known, sec.limit_up_fen, sec.limit_down_fen = False, math.nan, math.nan
            sec.delisted = sec.delisted or self._is_delisted(sec)
        if securities is not None:
            self.update_securities(securities)
        for symbol, price in (prices or {}).items():
            self._mark(self._security(symbol), price)
        self._gross = 0.0
        self._sector_value = dict.fromkeys(self._sector_value, 0.0)
        for sec in self._secs.values():
            sec.set_sellable(sec.held)
            self._gross += sec.value
            self._sector_value[sec.sector] += sec.value
        self._sod = None
        self._refresh()

    def on_price(self, symbol: str, price: float) -> None:
        """Mark ``symbol`` at ``price`` CNY; NaN or a non-positive price makes it unpriced."""
        self._mark(self._security(symbol), price)
        self._refresh()

    def on_prices(self, prices: Mapping[str, float] | pd.Series) -> None:
        """Mark many symbols at once (e.g. the day's closes), as repeated :meth:`on_price`."""
        for symbol, price in prices.items():
            self._mark(self._security(symbol), price)
        self._refresh()

    def on_fill(
        self, symbol: str, side: str, quantity: int, price: float, *, fee_cny: float = 0.0
    ) -> None:
        """Book an executed trade: shares, cash (less ``fee_cny``), mark at the fill price.

        Shares bought today become sellable at the next :meth:`start_day`.

        Raises
        ------
        DataError
            A side other than buy/sell, a quantity that is not a positive whole number, a
            non-positive or NaN price or fee, or a sell above the sellable shares.
        """
        sec = self._security(symbol)
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
            self._cash -= q * px + fee
        else:
            sec.held -= q
            sec.set_sellable(sec.sellable - q)
            self._cash += q * px - fee
        self._mark(sec, px)
        self._refresh()

    def on_settlement(self, shares: Mapping[str, int], marks: Mapping[str, float],
                      cash_cny: float) -> None:
        """Reconcile holdings and cash moved without a trade, as a back office does.

        Ex-dates (bonus shares, dividends paid or reinvested) and delisting settlements
        change shares and cash without an exchange fill, which :meth:`on_fill` cannot
        express. Holdings in ``shares`` are set (sellable shares capped at the new
        holding), symbols in ``marks`` are marked (CNY), cash is set to ``cash_cny``, and
        equity and the stops are refreshed.

        Raises
        ------
        DataError
            A negative or fractional holding, a non-positive or NaN mark, or NaN cash; the
            state is left unchanged.
        """
        held = {sym: _holding(q) for sym, q in shares.items()}
        if bad := [sym for sym, q in held.items() if q is None]:
            raise DataError(f"settlement: holdings of {bad[:5]} must be whole numbers >= 0")
        px = {sym: _number(p) for sym, p in marks.items()}
        if bad := [sym for sym, p in px.items() if not (p > 0.0 and math.isfinite(p))]:
            raise DataError(f"settlement: marks of {bad[:5]} must be positive finite CNY")
        cash = _number(cash_cny)
        if not math.isfinite(cash):
            raise DataError(f"settlement: cash {cash_cny!r} must be finite CNY")
        secs = {sym: self._security(sym) for sym in {*held, *px}}
        self._cash = cash
        for sym, q in held.items():
            sec = secs[sym]
            sec.held = int(q)
            sec.set_sellable(min(sec.sellable, sec.held))
            self._revalue(sec)
        for sym, p in px.items():
            self._mark(secs[sym], p)
        self._refresh()

    # ---- checks ------------------------------------------------------------------------

    def check(self, order: Order) -> Decision:
        """Judge one order against the current state; never raises, never accepts in doubt.

        Returns
        -------
        Decision
            ``ACCEPTED`` or the first failing check (see the module docstring for the
            order); any internal exception becomes an INTERNAL_ERROR rejection.
        """
        try:
            return self._check(order)
        except Exception as exc:
            try:
                what = repr(order)
            except Exception:
                what = f"<{type(order).__name__}>"
            return reject(Reason.INTERNAL_ERROR, f"internal error checking {what}: "
                          f"{type(exc).__name__}: {exc}")

    def _check(self, order: Order) -> Decision:
        ts = order.timestamp
        if type(ts) is pd.Timestamp:
            if ts.tzinfo is None:
                return reject(Reason.NAIVE_TIMESTAMP, f"timestamp {ts} has no timezone; "
                              f"localize it, e.g. ts.tz_localize({MARKET_TZ!r})")
            t, w = ts.value, self._win_ns
        elif isinstance(ts, dt.datetime) and ts.utcoffset() is not None:
            t, w = (ts.value, self._win_ns) if isinstance(ts, pd.Timestamp) else (
                ts.timestamp(), self._win_s)
        else:
            return reject(Reason.NAIVE_TIMESTAMP, f"timestamp {ts!r} is not a timezone-aware "
                          f"datetime; use pd.Timestamp(..., tz={MARKET_TZ!r})")
        side = order.side
        if not isinstance(side, str):
            return reject(Reason.BAD_SIDE, f"side {side!r} must be 'buy' or 'sell'")
        if side == "buy":
            buy = True
        elif side == "sell":
            buy = False
        else:
            return reject(Reason.BAD_SIDE, f"side {side!r} must be 'buy' or 'sell'")
        q = order.quantity
        if type(q) is not int or not 0 < q <= MAX_ORDER_SHARES:
            q = parse_shares(q)
            if q is None:
                return reject(Reason.BAD_QUANTITY, f"quantity {order.quantity!r} must be a "
                              f"whole number of shares in 1..{MAX_ORDER_SHARES:,}")
        fen = parse_fen(order.limit_price)
        if fen is None:
            return reject(Reason.BAD_PRICE, f"limit price {order.limit_price!r} must be a "
                          f"finite CNY price in (0, {MAX_PRICE_CNY:,.0f}] on the 0.01 tick")
        if not (w[0] <= t < w[1] or w[2] <= t < w[3] or w[4] <= t < w[5]):
            return self._hours_reject(ts)
        symbol = order.symbol
        sec = self._secs.get(symbol) if isinstance(symbol, str) else None
        if sec is None:
            return reject(Reason.UNKNOWN_SYMBOL, f"{symbol!r} is not registered "
                          f"({len(self._secs)} symbols are); add it with update_securities")
        if sec.delisted:
            return reject(Reason.DELISTED, f"{symbol} is delisted")
        if sec.suspended:
            return reject(Reason.SUSPENDED, f"{symbol} is suspended on {self._day_str()}")
        if buy and sec.st and self.limits.block_st_buys:
            return reject(Reason.ST_BLOCKED, f"{symbol} is ST and limits.block_st_buys is on")
        mn, step = sec.min_shares, sec.step_shares
        if buy:
            if q < mn or (q - mn) % step:
                return self._lot_reject(order, sec, q)
        else:
            if q > sec.sellable:
                return reject(Reason.T_PLUS_1, f"sell {q} {symbol}: only {sec.sellable} of "
                              f"{sec.held} shares are sellable today (T+1)")
            if q < mn or (q - mn) % step:
                r = sec.odd
                d = q - r
                if not r or (q != r and (d < mn or (d - mn) % step)):
                    return self._lot_reject(order, sec, q)
        if not sec.limits_known:
            return reject(Reason.UNKNOWN_LIMITS, f"no limit prices for {symbol} on "
                          f"{self._day_str()}; pass limit_up/limit_down to start_day "
                          "(NaN for no limit)")
        if fen > sec.limit_up_fen or fen < sec.limit_down_fen:
            return reject(Reason.PRICE_BAND, f"{side} {symbol} at {fen / 100:.2f} CNY is "
                          f"outside today's band [{sec.limit_down_fen / 100:.2f}, "
                          f"{sec.limit_up_fen / 100:.2f}]")
        if not buy:
            return ACCEPTED
        if self._buy_block is not None:
            return self._stop_reject(self._buy_block)
        cost = q * (fen / 100)
        if sec.value + cost > self._pos_cap:
            return self._cap_reject(Reason.POSITION_SIZE, order, q, sec.value + cost,
                                    self.limits.max_position_rate)
        sv = self._sector_value[sec.sector] + cost
        if sv > self._sector_cap:
            return self._cap_reject(Reason.SECTOR, order, q, sv, self.limits.max_sector_rate)
        if self._gross + cost > self._gross_cap:
            return self._cap_reject(Reason.LEVERAGE, order, q, self._gross + cost,
                                    self.limits.max_gross_leverage)
        return ACCEPTED

    def check_batch(self, orders: pd.DataFrame | Mapping[str, Any]) -> pd.DataFrame:
        """Screen many orders at once, each as if it were the only order (vectorised).

        Parameters
        ----------
        orders
            Columns (or a mapping of arrays) ``symbol, side, quantity, limit_price,
            timestamp``; a tz-aware datetime column is fastest.

        Returns
        -------
        pandas.DataFrame
            ``accepted`` (bool), ``layer`` and ``reason`` (categoricals; layer NaN when
            accepted), the same verdicts :meth:`check` gives on the current state, on the
            input's index. No messages: call :meth:`check` on a row for its sentence.
        """
        frame = orders if isinstance(orders, pd.DataFrame) else pd.DataFrame(dict(orders))
        missing = [c for c in ("symbol", "side", "quantity", "limit_price", "timestamp")
                   if c not in frame.columns]
        if missing:
            raise DataError(f"orders lack columns {missing}; need symbol, side, quantity, "
                            "limit_price, timestamp")
        codes = screen(self, frame)
        layer = LAYER_CODES[codes]
        return pd.DataFrame({
            "accepted": codes == 0,
            "layer": pd.Categorical.from_codes(layer, categories=[x.value for x in Layer]),
            "reason": pd.Categorical.from_codes(codes, categories=[x.value for x in Reason]),
        }, index=frame.index)

    # ---- read-only state ---------------------------------------------------------------

    @property
    def cash_cny(self) -> float:
        """Cash, CNY (negative only on margin)."""
        return self._cash

    @property
    def equity_cny(self) -> float:
        """Cash plus marked positions, CNY (NaN while a held symbol is unpriced)."""
        return math.nan if self._unpriced else self._equity

    @property
    def peak_equity_cny(self) -> float:
        """Highest fully priced equity seen, CNY (NaN before the first)."""
        return math.nan if self._peak is None else self._peak

    @property
    def day_pnl_cny(self) -> float:
        """Equity minus the day's start-of-day equity, CNY (NaN while unknown)."""
        return math.nan if self._sod is None or self._unpriced else self._equity - self._sod

    def position(self, symbol: str) -> tuple[int, int]:
        """Return ``(held, sellable)`` shares of ``symbol``."""
        sec = self._security(symbol)
        return sec.held, sec.sellable

    def sector_value_cny(self, sector: str) -> float:
        """Marked value of the positions in ``sector``, CNY."""
        return self._sector_value.get(sector, 0.0)

    # ---- internals ---------------------------------------------------------------------

    def _security(self, symbol: str) -> _Security:
        sec = self._secs.get(symbol)
        if sec is None:
            raise LookupFailed(f"symbol {symbol!r} is not registered; add it with "
                               f"update_securities. {did_you_mean(str(symbol), self._secs)}")
        return sec

    def _mark(self, sec: _Security, price: Any) -> None:
        px = _number(price)
        sec.mark = px if px > 0.0 and math.isfinite(px) else math.nan
        self._revalue(sec)

    def _revalue(self, sec: _Security) -> None:
        if sec.held == 0:
            value = 0.0
            self._unpriced.discard(sec.symbol)
        elif sec.mark != sec.mark:
            value = 0.0
            self._unpriced.add(sec.symbol)
        else:
            value = sec.held * sec.mark
            self._unpriced.discard(sec.symbol)
        delta = value - sec.value
        sec.value = value
        self._gross += delta
        self._sector_value[sec.sector] += delta

    def _move_sector(self, sec: _Security, sector: str) -> None:
        if sector != sec.sector:
            self._sector_value[sec.sector] -= sec.value
            self._sector_value[sector] = self._sector_value.get(sector, 0.0) + sec.value
            sec.sector = sector

    def _is_delisted(self, sec: _Security) -> bool:
        return (sec.delist_day is not None and self._day_number is not None
                and sec.delist_day <= self._day_number)

    def _refresh(self) -> None:
        """Recompute equity, stops and caps after a state change (a few float operations)."""
        self._arrays = None
        self._equity = equity = self._cash + self._gross
        if self._unpriced:
            self._buy_block: Reason | None = Reason.MISSING_PRICE
            return
        if self._sod is None:
            self._sod = equity
        if self._peak is None or equity > self._peak:
            self._peak = equity
        lim, sod, peak = self.limits, self._sod, self._peak
        self._buy_block = None
        if sod - equity > lim.max_daily_loss_rate * sod + TOLERANCE_RATE * abs(sod):
            self._buy_block = Reason.DAILY_LOSS
        elif peak - equity > lim.max_drawdown_rate * peak + TOLERANCE_RATE * abs(peak):
            self._buy_block = Reason.DRAWDOWN
        tol = TOLERANCE_RATE * abs(equity)
        self._pos_cap = lim.max_position_rate * equity + tol
        self._sector_cap = lim.max_sector_rate * equity + tol
        self._gross_cap = lim.max_gross_leverage * equity + tol

    def _day_str(self) -> str:
        return "no day" if self._day is None else str(self._day.date())

    def _hours_reject(self, ts: dt.datetime) -> Decision:
        # datetime arithmetic, not pandas: a rejection should cost microseconds too
        seconds = ts.value / 1e9 if isinstance(ts, pd.Timestamp) else ts.timestamp()
        local = dt.datetime.fromtimestamp(seconds, _SHANGHAI)
        if self._day is None:
            why = "no trading day started; call start_day first"
        elif not self._session:
            why = f"{self._day.date()} is not an XSHG session"
        elif local.date() != self._day.date():
            why = f"the started day is {self._day.date()}; call start_day for a new day"
        else:
            auction = ", 09:15-09:25" if self.limits.allow_opening_auction else ""
            why = f"orders are taken 09:30-11:30, 13:00-15:00{auction} China time"
        return reject(Reason.MARKET_HOURS, f"{local:%Y-%m-%d %H:%M:%S} {MARKET_TZ}: {why}")

    def _lot_reject(self, order: Order, sec: _Security, q: int) -> Decision:
        rule = (f"lots of {sec.min_shares}" if sec.min_shares == sec.step_shares else
                f"at least {sec.min_shares} then steps of {sec.step_shares}")
        odd = f"; or include the odd lot of {sec.odd}" if order.side == "sell" and sec.odd else ""
        return reject(Reason.LOT, f"{order.side} {q} {order.symbol}: {sec.board} orders are "
                      f"{rule} shares{odd}")

    def _stop_reject(self, reason: Reason) -> Decision:
        if reason is Reason.MISSING_PRICE:
            names = ", ".join(sorted(self._unpriced)[:5])
            return reject(reason, f"no valid price for held {names}: equity unknown, buys "
                          "refused until on_price gives one")
        if reason is Reason.DAILY_LOSS:
            sod, pnl = self._sod or 0.0, self._equity - (self._sod or 0.0)
            return reject(reason, f"day's P&L {pnl:,.2f} CNY is "
                          f"{_pct(pnl / sod) if sod else 'n/a'} of start-of-day equity "
                          f"{sod:,.2f} CNY, beyond -{_pct(self.limits.max_daily_loss_rate)}; "
                          "only risk-reducing sells pass")
        peak = self._peak or 0.0
        return reject(reason, f"equity {self._equity:,.2f} CNY is "
                      f"{_pct(1 - self._equity / peak) if peak else 'n/a'} below its peak "
                      f"{peak:,.2f} CNY, limit {_pct(self.limits.max_drawdown_rate)}; only "
                      "risk-reducing sells pass")

    def _cap_reject(self, reason: Reason, order: Order, q: int, after: float,
                    limit: float) -> Decision:
        eq = self._equity
        share = _pct(after / eq) if eq > 0 else "n/a"
        head = f"buy {q} {order.symbol}: "
        if reason is Reason.POSITION_SIZE:
            what, lim = "position", _pct(limit)
        elif reason is Reason.SECTOR:
            what, lim = f"sector {self._secs[order.symbol].sector}", _pct(limit)
        else:
            what, lim = "gross exposure", f"{limit:g}x"
            share = f"{after / eq:.4f}x" if eq > 0 else "n/a"
        return reject(reason, f"{head}{what} would be {after:,.2f} CNY = {share} of equity "
                      f"{eq:,.2f} CNY, limit {lim}")

    def _batch_arrays(self) -> dict[str, Any]:
        if self._arrays is None:
            secs = list(self._secs.values())
            col = lambda name, dtype: np.array([getattr(s, name) for s in secs], dtype=dtype)  # noqa: E731
            self._arrays = {
                "index": pd.Index([s.symbol for s in secs], dtype=object),
                "delisted": col("delisted", bool), "suspended": col("suspended", bool),
                "st_blocked": col("st", bool) & self.limits.block_st_buys,
                "min": col("min_shares", np.int64), "step": col("step_shares", np.int64),
                "sellable": col("sellable", np.int64), "odd": col("odd", np.int64),
                "known": col("limits_known", bool), "up": col("limit_up_fen", float),
                "down": col("limit_down_fen", float), "value": col("value", float),
                "sector_value": np.array([self._sector_value[s.sector] for s in secs], float),
            }
        return self._arrays

