"""Daily backtests that trade the way the A-share exchanges let you trade.

``run(market, strategy, config)`` walks the sessions of ``config``'s period. After the
close of session ``t`` the strategy sees a point-in-time :class:`~workbench.strategies.
MarketView` and returns target weights (or None: no change); the engine turns them into
lot-sized orders at ``t``'s close and equity, and fills them on session ``t + 1`` at the
open (or the close, or the VWAP proxy ``amount / volume``), sells before buys, under the
rules described in :mod:`workbench.portfolio` and the costs of :mod:`workbench.costs`.
Orders decided on the last session of the period are not filled.

Every rule can be switched off in :class:`BacktestConfig` (all are on by default), so its
effect can be measured. The loop runs over sessions; all work across symbols inside a
session is vectorised over dense sessions × symbols numpy arrays. Same inputs give
bit-identical results.

What is modelled on special days:

* **IPO days.** The bars carry ``limit_up``/``limit_down`` = NaN on a new listing's
  unlimited days (see :mod:`workbench.rules`), so orders fill there at any price.
* **Suspensions.** No fills; orders are carried to the next session (retried until they
  fill, the strategy replaces them, or the stock delists) or dropped
  (``suspended_orders``); either way each blocked session is logged as ``suspended``.
* **Delistings.** On the first session on or after ``delist_date`` a holding is settled at
  its last close (``delisting='last_price'``) or at 0 (``'write_off'``).
* **Ex-dates.** See ``corporate_actions`` and :meth:`workbench.portfolio.Portfolio.
  corporate_actions`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from workbench import rules
from workbench.costs import Costs
from workbench.errors import ConfigError, DataError
from workbench.portfolio import (
    FILL_REASONS,
    SIDES,
    UNFILLED_REASONS,
    Orders,
    Portfolio,
    SessionBars,
    block_codes,
)
from workbench.result import DAILY_COLUMNS, BacktestResult, load_result
from workbench.strategies.base import MarketView, Strategy, ViewContext, normalize_weights
from workbench.symbols import Board

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["BacktestConfig", "BacktestResult", "load_result", "run"]

FillAt = Literal["open", "close", "vwap"]
_FILL_AT: tuple[str, ...] = ("open", "close", "vwap")
_CHOICES: dict[str, tuple[str, ...]] = {
    "fill_at": _FILL_AT,
    "suspended_orders": ("carry", "drop"),
    "delisting": ("last_price", "write_off"),
    "corporate_actions": ("reinvest", "cash"),
}


def _day(value: Any, name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        day = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} {value!r} is not a date; write e.g. '2024-01-02'") from None
    if pd.isna(day):
        raise ConfigError(f"{name} is NaT; give a date such as '2024-01-02' or None")
    return day.normalize()


@dataclass(frozen=True, kw_only=True)
class BacktestConfig:
    """How a backtest trades. Every A-share rule is on by default and can be switched off.

    Parameters
    ----------
    capital_cny
        Starting cash, CNY (> 0).
    start, end
        First and last session of the period (inclusive); None for the market's first or
        last session. Strategies still see the history before ``start``.
    fill_at
        Price orders fill at on the session after the decision: ``'open'``, ``'close'`` or
        ``'vwap'`` (``amount / volume``).
    costs
        :class:`~workbench.costs.Costs`; ``Costs.zero()`` for none, ``Costs().scale(2)``
        for double.
    board_lots
        Buys in board lots (100; STAR 200 then 1; BSE 100 then 1), sells in lots or the
        whole holding. Off: any whole number of shares.
    t_plus_1
        Shares bought in a session can be sold from the next session only.
    price_limits
        No buy fill at the limit-up price, no sell fill at the limit-down price.
    max_participation_rate
        Most of the fill session's volume one fill may take (fraction, default 0.10; the
        whole day's volume, even for fills at the open); None for no cap.
    suspended_orders
        ``'carry'``: retry orders blocked by a suspension on the next session;
        ``'drop'``: forget them.
    delisting
        ``'last_price'``: settle a delisted holding at its last close; ``'write_off'``: at 0.
    corporate_actions
        On ex-dates, ``'reinvest'`` the value taken out of the price in whole shares at the
        ex-rights price (the total-return view; the new shares are trade-log rows with
        reason ``'corporate_action'``), or keep it as ``'cash'`` (a dividend view).

    Raises
    ------
    ConfigError
        For a value outside what is allowed; the message names it and the fix.

    Examples
    --------
    >>> BacktestConfig(capital_cny=500_000, fill_at="close").fill_at
    'close'
    >>> BacktestConfig(capital_cny=-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: capital_cny must be a positive amount of CNY, got -1; ...
    """

    capital_cny: float = 1_000_000.0
    start: pd.Timestamp | str | None = None
    end: pd.Timestamp | str | None = None
    fill_at: FillAt = "open"
    costs: Costs = field(default_factory=Costs)
    board_lots: bool = True
    t_plus_1: bool = True
    price_limits: bool = True
    max_participation_rate: float | None = 0.10
    suspended_orders: Literal["carry", "drop"] = "carry"
    delisting: Literal["last_price", "write_off"] = "last_price"
    corporate_actions: Literal["reinvest", "cash"] = "reinvest"

    def __post_init__(self) -> None:
        cap = self.capital_cny
        if isinstance(cap, bool) or not isinstance(cap, (int, float)) or not (
                math.isfinite(cap) and cap > 0):
            raise ConfigError(f"capital_cny must be a positive amount of CNY, got {cap!r}; "
                              "e.g. capital_cny=1_000_000")
        start, end = _day(self.start, "start"), _day(self.end, "end")
        if start is not None and end is not None and end < start:
            raise ConfigError(f"end {end.date()} is before start {start.date()}; swap them or "
                              "give an end on or after the start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {list(allowed)}, got "
                                  f"{getattr(self, name)!r}")
        if not isinstance(self.costs, Costs):
            raise ConfigError(f"costs must be a workbench.costs.Costs, got "
                              f"{type(self.costs).__name__}; e.g. Costs(commission_rate=0.0003)")
        for name in ("board_lots", "t_plus_1", "price_limits"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        rate = self.max_participation_rate
        if rate is not None and (isinstance(rate, bool) or not isinstance(rate, (int, float))
                                 or not (0 < rate <= 1)):
            raise ConfigError(f"max_participation_rate must be a fraction in (0, 1] or None, "
                              f"got {rate!r}; write 10 % as 0.1")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, costs as a dict)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, pd.Timestamp):
                value = value.date().isoformat()
            elif isinstance(value, Costs):
                value = value.to_dict()
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestConfig:
        """Inverse of :meth:`to_dict`; an unknown key raises ConfigError."""
        valid = {f.name for f in fields(cls)}
        if unknown := set(data) - valid:
            raise ConfigError(f"unknown config fields {sorted(unknown)}; valid: {sorted(valid)}")
        values = dict(data)
        if isinstance(values.get("costs"), dict):
            values["costs"] = Costs.from_dict(values["costs"])
        return cls(**values)


# -- the run ------------------------------------------------------------------------------------
def _period(market: Market, config: BacktestConfig) -> tuple[int, int]:
    cal = market.calendar
    if len(cal) == 0:
        raise DataError(f"market {market.name!r} has no bars; nothing to backtest")
    first, last = cal[0], cal[-1]
    start = config.start if config.start is not None else first
    end = config.end if config.end is not None else last
    if start < first or end > last:
        raise ConfigError(
            f"period {pd.Timestamp(start).date()}..{pd.Timestamp(end).date()} reaches outside "
            f"the market's data {first.date()}..{last.date()}; choose start and end within it "
            "(or None for the full range)")
    r0 = int(cal.searchsorted(start, side="left"))
    r1 = int(cal.searchsorted(end, side="right")) - 1
    if r1 < r0:
        raise ConfigError(f"no session between {pd.Timestamp(start).date()} and "
                          f"{pd.Timestamp(end).date()}; widen the period")
    return r0, r1


def _lots(ctx: ViewContext, board_lots: bool) -> tuple[np.ndarray, np.ndarray]:
    n = len(ctx.symbols)
    if not board_lots:
        return np.ones(n, dtype=np.int64), np.ones(n, dtype=np.int64)
    boards = ctx.securities["board"].astype(str).to_numpy()
    lot_min = np.empty(n, dtype=np.int64)
    lot_step = np.empty(n, dtype=np.int64)
    for board in pd.unique(boards):
        try:
            rule = rules.lot_rule(board)
        except ValueError:
            raise DataError(f"securities: board {board!r} is not one of "
                            f"{[b.value for b in Board]}") from None
        mask = boards == board
        lot_min[mask], lot_step[mask] = rule.min_shares, rule.step_shares
    return lot_min, lot_step


def _blocks(ctx: ViewContext, price: np.ndarray, limit_up: np.ndarray,
            limit_down: np.ndarray, suspended: np.ndarray, r0: int, r1: int, *,
            price_limits: bool, chunk: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~workbench.portfolio.block_codes` for every session of the run (int8 arrays)."""
    shape = (r1 - r0 + 1, price.shape[1])
    buy, sell = np.zeros(shape, dtype=np.int8), np.zeros(shape, dtype=np.int8)
    for lo in range(r0, r1 + 1, chunk):
        hi = min(lo + chunk, r1 + 1)
        rows = np.arange(lo, hi)[:, None]
        buy[lo - r0 : hi - r0], sell[lo - r0 : hi - r0] = block_codes(
            price[lo:hi], limit_up[lo:hi], limit_down[lo:hi], suspended[lo:hi],
            (ctx.list_row <= rows) & (rows < ctx.delist_row), rows >= ctx.delist_row,
            price_limits=price_limits)
    return buy, sell


def _ex_date_rows(close: np.ndarray, prev_close: np.ndarray, r0: int, r1: int,
                  chunk: int = 256) -> np.ndarray:
    """Per run session: may some stock have an ex-date (``prev_close`` != last close)?

    Conservative: a reference price after a missing bar also counts, the exact check is
    :meth:`~workbench.portfolio.Portfolio.corporate_actions` on the holdings.
    """
    out = np.zeros(r1 - r0 + 1, dtype=bool)
    for lo in range(max(r0, 1), r1 + 1, chunk):
        hi = min(lo + chunk, r1 + 1)
        before, ref = close[lo - 1 : hi - 1], prev_close[lo:hi]
        with np.errstate(invalid="ignore"):
            moved = (np.abs(before - ref) > 1e-12 * before) | (
                np.isnan(before) & np.isfinite(ref))
        out[lo - r0 : hi - r0] = moved.any(axis=1)
    return out


def run(market: Market, strategy: Strategy,
        config: BacktestConfig | None = None) -> BacktestResult:
    """Backtest ``strategy`` on ``market`` under ``config``.

    Parameters
    ----------
    market
        The data (:class:`~workbench.data.Market`).
    strategy
        An object with ``name`` and ``target_weights(view)`` (see
        :mod:`workbench.strategies.base`).
    config
        How to trade; default :class:`BacktestConfig` ().

    Returns
    -------
    BacktestResult
        Daily equity and cash, trade log, orders, unfilled orders, positions, sector
        exposure, turnover, and the config and strategy description.

    Raises
    ------
    ConfigError
        For a period outside the data, or a strategy returning invalid weights (NaN,
        negative, summing above 1, unknown symbols).
    DataError
        For a market without bars or with an unknown board.
    """
    config = BacktestConfig() if config is None else config
    if not isinstance(config, BacktestConfig):
        raise ConfigError(f"config must be a BacktestConfig, got {type(config).__name__}")
    if not callable(getattr(strategy, "target_weights", None)):
        raise ConfigError(f"strategy {strategy!r} has no target_weights(view) method; build "
                          "one with workbench.strategies.get(name, **params)")
    name = str(getattr(strategy, "name", type(strategy).__name__))
    r0, r1 = _period(market, config)
    ctx = ViewContext(market, start_row=r0)
    n = len(ctx.symbols)

    # Dense arrays, built once: sessions × symbols.
    close = ctx.array("close")
    if config.fill_at == "vwap":
        amount, volume_ = ctx.array("amount"), ctx.array("volume")
        with np.errstate(divide="ignore", invalid="ignore"):
            fill_px = np.where(volume_ > 0, amount / volume_, np.nan)
    else:
        fill_px = ctx.array(config.fill_at)
    prev_close = ctx.array("prev_close")
    limit_up, limit_down = ctx.array("limit_up"), ctx.array("limit_down")
    suspended, volume = ctx.array("suspended"), ctx.array("volume")
    ex_dates = _ex_date_rows(close, prev_close, r0, r1)
    buy_block, sell_block = _blocks(ctx, fill_px, limit_up, limit_down, suspended, r0, r1,
                                    price_limits=config.price_limits)
    lot_min, lot_step = _lots(ctx, config.board_lots)
    sectors = ctx.securities["sector"].astype(str).fillna("unknown").to_numpy()
    sector_names, sector_code = np.unique(sectors, return_inverse=True)

    pf = Portfolio(config.capital_cny, lot_min=lot_min, lot_step=lot_step, costs=config.costs,
                   t_plus_1=config.t_plus_1, price_limits=config.price_limits,
                   max_participation_rate=config.max_participation_rate,
                   carry_suspended=config.suspended_orders == "carry")
    daily: list[tuple[float, ...]] = []
    positions: list[tuple[int, np.ndarray, np.ndarray]] = []
    orders = Orders.empty()
    days = list(ctx.calendar[r0 : r1 + 1])
    zeros = np.zeros(n)
    # Symbols whose delisting falls on each row (settled there, or at the run's start).
    gone_at: dict[int, np.ndarray] = {}
    for sym in np.flatnonzero(ctx.delist_row <= r1):
        at = max(int(ctx.delist_row[sym]), r0 + 1)
        gone_at[at] = np.append(gone_at.get(at, np.zeros(0, dtype=np.int64)), sym)

    # ``last`` is the last close up to the current row (carried across gaps): the price
    # holdings are valued at, orders sized at and delistings settled at.
    last = np.full(n, np.nan)
    for i in range(r0):
        np.copyto(last, close[i], where=np.isfinite(close[i]))

    for k, r in enumerate(range(r0, r1 + 1)):
        pf.traded_cny = pf.fees_cny = pf.slippage_cny = 0.0
        corporate = 0.0
        if k > 0 and ex_dates[k]:  # ``last`` still holds the previous session's close
            corporate = pf.corporate_actions(r, last, prev_close[r],
                                             mode=config.corporate_actions)
        np.copyto(last, close[r], where=np.isfinite(close[r]))
        if k > 0:
            if r in gone_at:
                pf.settle_delisted(r, gone_at[r],
                                   zeros if config.delisting == "write_off" else last)
            pf.start_session()
            if len(orders):
                bars = SessionBars(fill_px[r], limit_up[r], limit_down[r], volume[r],
                                   buy_block[k], sell_block[k])
                orders = pf.execute(r, days[k], orders, bars)  # what is left: carried
        held = np.flatnonzero(pf.shares)
        price = last[held]  # a held stock always has a last close
        values = pf.shares[held] * price
        equity = pf.cash + float(np.sum(values))
        daily.append((equity, pf.cash, pf.traded_cny, pf.fees_cny, pf.slippage_cny, corporate,
                      held.size))
        if held.size:
            positions.append((r, held, pf.shares[held], price))
        if r < r1:
            view = MarketView(ctx, r, holdings=pf.shares, cash_cny=pf.cash, equity_cny=equity)
            raw = strategy.target_weights(view)
            if raw is not None:
                w = normalize_weights(raw, ctx.symbols, date=days[k], strategy=name)
                orders = pf.plan(w, equity_cny=equity, price=last, listed=ctx.listed(r),
                                 row=r, fill_row=r + 1)
            pf.log_orders(orders, r + 1)

    return _result(market, strategy, config, ctx, pf, r0, r1, np.array(daily), sector_code,
                   sector_names, positions)


def _labels(codes: np.ndarray, names: tuple[str, ...] | pd.Index) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=list(names))


def _result(market: Market, strategy: Any, config: BacktestConfig, ctx: ViewContext,
            pf: Portfolio, r0: int, r1: int, daily: np.ndarray, sector_code: np.ndarray,
            sector_names: np.ndarray,
            pos: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]) -> BacktestResult:
    dates = ctx.calendar[r0 : r1 + 1]
    dates64 = ctx.dates64
    daily_df = pd.DataFrame(daily, index=dates, columns=list(DAILY_COLUMNS))
    daily_df["n_positions"] = daily_df["n_positions"].astype(np.int64)

    t = pf.trade_log()
    trades = pd.DataFrame({
        "date": dates64[t["row"]],
        "symbol": _labels(t["symbol"], ctx.symbols),
        "side": _labels(t["side"], SIDES),
        "shares": t["shares"],
        "price": t["price"],
        "commission": t["commission"],
        "stamp_duty": t["stamp_duty"],
        "transfer_fee": t["transfer_fee"],
        "slippage": t["slippage"],
        "reason": _labels(t["reason"], FILL_REASONS),
    })
    o = pf.orders.arrays()
    orders = pd.DataFrame({
        "date": dates64[o["row"]],
        "decided": dates64[o["decided"]],
        "symbol": _labels(o["symbol"], ctx.symbols),
        "side": _labels(o["side"], SIDES),
        "shares": o["shares"],
        "carried": o["carried"],
    })
    u = pf.unfilled.arrays()
    unfilled = pd.DataFrame({
        "date": dates64[u["row"]],
        "symbol": _labels(u["symbol"], ctx.symbols),
        "side": _labels(u["side"], SIDES),
        "shares": u["shares"],
        "reason": _labels(u["reason"] - 1, UNFILLED_REASONS),
    })
    empty = np.zeros(0, dtype=np.int64)
    rows = np.repeat([p[0] for p in pos], [len(p[1]) for p in pos]).astype(np.int64)
    cols = np.concatenate([p[1] for p in pos]) if pos else empty
    shares = np.concatenate([p[2] for p in pos]) if pos else empty
    px = np.concatenate([p[3] for p in pos]) if pos else np.zeros(0)
    value = shares * px
    equity = daily_df["equity_cny"].to_numpy()[rows - r0]
    positions = pd.DataFrame({
        "date": dates64[rows],
        "symbol": _labels(cols, ctx.symbols),
        "shares": shares,
        "close": px,
        "value_cny": value,
        "weight": value / equity,
    })
    n_sectors = len(sector_names)
    exposure = np.bincount((rows - r0) * n_sectors + sector_code[cols], weights=value / equity,
                           minlength=len(dates) * n_sectors).reshape(len(dates), n_sectors)
    sector_df = pd.DataFrame(exposure, index=dates,
                             columns=pd.Index([str(s) for s in sector_names], dtype="str"))
    describe = getattr(strategy, "describe", None)
    strat = describe() if callable(describe) else {"name": str(getattr(strategy, "name", "")),
                                                     "params": {}}
    meta = {
        "market": market.name,
        "market_source": str(market.meta.get("source", "unknown")),
        "symbols": len(ctx.symbols),
        "sessions": int(r1 - r0 + 1),
        "start": str(dates[0].date()),
        "end": str(dates[-1].date()),
    }
    return BacktestResult(daily=daily_df, trades=trades, orders=orders, unfilled=unfilled,
                          positions=positions, sector_exposure=sector_df, config=config,
                          strategy=strat, meta=meta)
