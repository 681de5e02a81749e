"""The pre-trade validator: the checks, judged in µs against an account state.

:class:`PreTradeValidator` owns an :class:`~workbench.risk.state.AccountState`, forwards
its events to it (fills, prices, day starts, settlements) and judges orders against it,
one at a time (:meth:`~PreTradeValidator.check`) or vectorised
(:meth:`~PreTradeValidator.check_batch`, :mod:`workbench.risk.batch`). See
:mod:`workbench.risk` for the order of checks and the conventions.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from workbench.calendar import MARKET_TZ
from workbench.errors import ConfigError, DataError
from workbench.risk.batch import LAYER_CODES, OUT_OF_HOURS_NS, screen
from workbench.risk.limits import RiskLimits
from workbench.risk.messages import (
    cap_rejection,
    hours_rejection,
    stop_rejection,
    symbol_rejection,
)
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
from workbench.risk.state import UNKNOWN_SECTOR, AccountState, EquityState, SymbolState

__all__ = ["UNKNOWN_SECTOR", "PreTradeValidator", "verdict"]


def verdict(state: EquityState, sec: SymbolState, buy: bool, q: int, fen: int) -> Decision:
    """Steps 3 to 10 of :meth:`PreTradeValidator.check` on a registered symbol.

    The checks after the input, the market hours and the symbol's lookup: the security
    and order-rule layers, the stops and the caps, for an order of ``q`` shares (1 to
    MAX_ORDER_SHARES) of ``sec`` at ``fen`` (a valid limit price in fen), against
    ``state``. The one implementation behind ``check`` and
    :class:`~workbench.risk.session.SessionValidator`.
    """
    s = state
    side = "buy" if buy else "sell"
    if sec.delisted:
        return symbol_rejection(Reason.DELISTED, s, sec, side, q, fen)
    if sec.suspended:
        return symbol_rejection(Reason.SUSPENDED, s, sec, side, q, fen)
    if buy and sec.st and s.limits.block_st_buys:
        return symbol_rejection(Reason.ST_BLOCKED, s, sec, side, q, fen)
    mn, step = sec.min_shares, sec.step_shares
    if buy:
        if q < mn or (q - mn) % step:
            return symbol_rejection(Reason.LOT, s, sec, side, q, fen)
    else:
        if q > sec.sellable:
            return symbol_rejection(Reason.T_PLUS_1, s, sec, side, q, fen)
        if q < mn or (q - mn) % step:
            r = sec.odd
            d = q - r
            if not r or (q != r and (d < mn or (d - mn) % step)):
                return symbol_rejection(Reason.LOT, s, sec, side, q, fen)
    if not sec.limits_known:
        return symbol_rejection(Reason.UNKNOWN_LIMITS, s, sec, side, q, fen)
    if fen > sec.limit_up_fen or fen < sec.limit_down_fen:
        return symbol_rejection(Reason.PRICE_BAND, s, sec, side, q, fen)
    if not buy:
        return ACCEPTED
    if s.buy_block is not None:
        return stop_rejection(s, s.buy_block)
    cost = q * (fen / 100)
    if sec.value + cost > s.position_cap_cny:
        return cap_rejection(Reason.POSITION_SIZE, s, sec, q, sec.value + cost)
    sv = s.sector_values_cny[sec.sector] + cost
    if sv > s.sector_cap_cny:
        return cap_rejection(Reason.SECTOR, s, sec, q, sv)
    if s.gross_cny + cost > s.gross_cap_cny:
        return cap_rejection(Reason.LEVERAGE, s, sec, q, s.gross_cny + cost)
    return ACCEPTED


class PreTradeValidator:
    """Keep a portfolio's state and judge orders against :class:`RiskLimits` and A-share rules.

    The state is an :class:`~workbench.risk.state.AccountState` (:attr:`state`, read-only);
    the events below (``start_day``, ``update_securities``, ``on_price``, ``on_prices``,
    ``on_fill``, ``on_settlement``) change it. Each is transactional: it checks its whole
    input before changing anything, so one that raises (a
    :class:`~workbench.errors.WorkbenchError` naming the bad input) leaves the state as it
    was (:meth:`snapshot`), and a failed ``start_day`` can be retried for the same day. An
    error no check foresaw, once the changes have begun, fails closed: every buy is refused
    (INTERNAL_ERROR, ``state.fault`` says why) until the next ``start_day`` that succeeds.

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

    Raises
    ------
    ConfigError
        Limits that are not a :class:`RiskLimits`, ``cash_cny`` that is not a finite
        number, or ``positions`` that is not a mapping of whole share counts >= 0.
    DataError, LookupFailed
        A bad ``securities`` frame (see :meth:`update_securities`), ``prices`` that is not
        a mapping, or a position or price of a symbol not registered.

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
        self._state = AccountState(self.limits, cash_cny=cash_cny, securities=securities,
                                   positions=positions, prices=prices)

    # ---- events ------------------------------------------------------------------------

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
            Not a DataFrame, missing ``symbol``, duplicate symbols or columns, an unknown
            board, flags other than True/False, a sector that is not a name, a
            ``delist_date`` that is not a date, or limit prices that are not numbers (text
            such as ``'11.x'``), off the tick, one-sided or crossed. The message names the
            symbol, column and value; nothing is changed.
        """
        self._state.update_securities(securities)

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
        yet, the first fully priced equity of the day). While the drawdown stop holds, its
        sessions are counted (``state.stopped_sessions``) and, under
        ``drawdown_rearm='cooloff'``, once they exceed ``drawdown_cooloff_sessions`` the
        peak is reset to the day's starting equity and buys pass again.

        The whole input is checked first: a call that raises changes nothing, and the
        same day can be started again.

        Raises
        ------
        ConfigError
            When ``date`` is not a date (None, NaT, text pandas cannot read, a number) or
            not after the day already started.
        DataError
            A bad ``securities`` frame (as :meth:`update_securities`), or ``prices`` that
            is not a mapping.
        LookupFailed
            ``prices`` for a symbol neither registered nor in ``securities``.
        """
        self._state.start_day(date, securities, prices)

    def on_price(self, symbol: str, price: float) -> None:
        """Mark ``symbol`` at ``price`` CNY; NaN or a non-positive price makes it unpriced.

        Raises
        ------
        LookupFailed
            When ``symbol`` is not registered; nothing is changed.
        """
        self._state.on_price(symbol, price)

    def on_prices(self, prices: Mapping[str, float] | pd.Series) -> None:
        """Mark many symbols at once (e.g. the day's closes), as repeated :meth:`on_price`.

        Raises
        ------
        DataError, LookupFailed
            ``prices`` is not a mapping, or names a symbol not registered; nothing is
            marked.
        """
        self._state.on_prices(prices)

    def on_fill(
        self, symbol: str, side: str, quantity: int, price: float, *, fee_cny: float = 0.0
    ) -> None:
        """Book an executed trade: shares, cash (less ``fee_cny``), mark at the fill price.

        Shares bought today become sellable at the next :meth:`start_day`.

        Raises
        ------
        DataError
            A side other than buy/sell, a quantity that is not a positive whole number, a
            non-positive or NaN price, a negative or NaN fee, or a sell above the sellable
            shares; nothing is changed.
        LookupFailed
            When ``symbol`` is not registered.
        """
        self._state.on_fill(symbol, side, quantity, price, fee_cny=fee_cny)

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
            Holdings or marks that are not mappings, a negative or fractional holding, a
            non-positive or NaN mark, or cash that is not a finite number; nothing is
            changed.
        LookupFailed
            A symbol not registered; nothing is changed.
        """
        self._state.on_settlement(shares, marks, cash_cny)

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
        s = self._state
        # Fields are not trusted (any object may arrive); the branches check their types.
        ts: Any = order.timestamp
        t: float  # ns since the epoch (pd.Timestamp) or s (datetime), matching w
        w: tuple[float, ...]
        if type(ts) is pd.Timestamp:
            if ts.tzinfo is None:
                return reject(Reason.NAIVE_TIMESTAMP, f"timestamp {ts} has no timezone; "
                              f"localize it, e.g. ts.tz_localize({MARKET_TZ!r})")
            try:
                t = ts.value
            except OverflowError:  # beyond the nanosecond range: in no session
                t = OUT_OF_HOURS_NS
            w = s.window_ns
        elif ts is pd.NaT:
            return reject(Reason.NAIVE_TIMESTAMP, f"timestamp {ts!r} is missing; give a "
                          f"timezone-aware datetime, e.g. pd.Timestamp(..., tz={MARKET_TZ!r})")
        elif isinstance(ts, dt.datetime) and ts.utcoffset() is not None:
            t, w = (ts.value, s.window_ns) if isinstance(ts, pd.Timestamp) else (
                ts.timestamp(), s.window_s)
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
        q: int | None = order.quantity
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
            return hours_rejection(s, ts)
        symbol = order.symbol
        sec = s.securities.get(symbol) if isinstance(symbol, str) else None
        if sec is None:
            return reject(Reason.UNKNOWN_SYMBOL, f"{symbol!r} is not registered "
                          f"({len(s.securities)} symbols are); add it with update_securities")
        return verdict(s, sec, buy, q, fen)

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

        Raises
        ------
        DataError
            When ``orders`` is not a table with those columns (each once); a bad value in
            a row is that row's rejection, as in :meth:`check`.
        """
        if isinstance(orders, pd.DataFrame):
            frame = orders
        elif isinstance(orders, Mapping):
            try:
                frame = pd.DataFrame(dict(orders))
            except (ValueError, TypeError) as exc:
                raise DataError(f"orders: the columns do not make a table ({exc}); give "
                                "columns of one length each") from None
        else:
            raise DataError(f"orders must be a pandas DataFrame or a mapping of columns, got "
                            f"{type(orders).__name__}")
        missing = [c for c in ("symbol", "side", "quantity", "limit_price", "timestamp")
                   if c not in frame.columns]
        if missing:
            raise DataError(f"orders lack columns {missing}; need symbol, side, quantity, "
                            "limit_price, timestamp")
        if frame.columns.duplicated().any():
            dup = frame.columns[frame.columns.duplicated()][0]
            raise DataError(f"orders have the column {dup!r} more than once")
        codes = screen(self._state, frame)
        layer = LAYER_CODES[codes]
        return pd.DataFrame({
            "accepted": codes == 0,
            "layer": pd.Categorical.from_codes(layer, categories=[x.value for x in Layer]),
            "reason": pd.Categorical.from_codes(codes, categories=[x.value for x in Reason]),
        }, index=frame.index)

    # ---- read-only state ---------------------------------------------------------------

    @property
    def state(self) -> AccountState:
        """The account state the checks read (read-only; the events above change it)."""
        return self._state

    def snapshot(self) -> dict[str, Any]:
        """A copy of the whole state, field by field
        (:meth:`~workbench.risk.state.AccountState.snapshot`): what a failed event leaves
        unchanged. NaN fields compare unequal; compare snapshots NaN-aware."""
        return self._state.snapshot()

    @property
    def cash_cny(self) -> float:
        """Cash, CNY (negative only on margin)."""
        return self._state.cash_cny

    @property
    def equity_cny(self) -> float:
        """Cash plus marked positions, CNY (NaN while a held symbol is unpriced)."""
        return self._state.equity_cny

    @property
    def peak_equity_cny(self) -> float:
        """Highest fully priced equity seen, CNY (NaN before the first)."""
        return self._state.peak_equity_cny

    @property
    def day_pnl_cny(self) -> float:
        """Equity minus the day's start-of-day equity, CNY (NaN while unknown)."""
        return self._state.day_pnl_cny

    def position(self, symbol: str) -> tuple[int, int]:
        """Return ``(held, sellable)`` shares of ``symbol``."""
        sec = self._state.security(symbol)
        return sec.held, sec.sellable

    def sector_value_cny(self, sector: str) -> float:
        """Marked value of the positions in ``sector``, CNY."""
        return self._state.sector_values_cny.get(sector, 0.0)
