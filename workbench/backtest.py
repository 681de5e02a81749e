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
  "The strategy replaces them": any session on which it returns target weights (not None)
  plans afresh from the holdings, and that plan replaces every pending order.
* **Sealed limits.** A buy whose fill price is at ``limit_up`` (a sell at ``limit_down``)
  does not fill; like a suspended order it is carried or dropped (``limit_orders``), and
  each blocked session is logged as ``limit_up`` (``limit_down``).
* **Delistings.** On the first session on or after ``delist_date`` a holding is settled at
  its last close (``delisting='last_price'``) or at 0 (``'write_off'``).
* **Ex-dates.** ``corporate_actions='cash'`` (default) books the market's
  ``corporate_actions`` events as a broker does (:mod:`workbench.dividend_book`: shares on
  the ex-date, cash on the pay date, dividend tax by holding period on each sale; a market
  without an events table gets events derived from its prices, and a held stock whose
  price goes ex without an event is named in a warning). ``'reinvest'`` is the
  total-return view (:meth:`workbench.portfolio.Portfolio.corporate_actions`).
* **Index universe** (``BacktestConfig(universe='csi300')``). After the close of ``t`` the
  strategy's view holds only that index's members as of ``t``
  (:meth:`~workbench.view.ViewContext.members`, from snapshots on or before ``t``), and
  no order buys a non-member (the cut is an ``unfilled`` row, ``not_in_universe``); a
  holding that left the index may be kept or sold. A run that starts before the index's
  first known membership warns (``DataWarning``): nothing can be bought until then.

**Pre-trade risk** (``BacktestConfig(risk=RiskLimits(...))``; off by default). The engine
keeps a :class:`~workbench.risk.SessionValidator` (the state and checks of a
:class:`~workbench.risk.PreTradeValidator`, fed a session at a time over the run's
symbols) in step with the portfolio and judges every fill before it happens:

* *State.* Fills are booked as ``on_fill`` books them (fees included) and the holdings are
  marked at each close; ex-dates and delistings, which are not trades, set the
  validator's holdings, marks (the ex-rights ``prev_close``) and cash to the portfolio's
  before the session opens. A missing price leaves a holding's last mark.
* *Each session with orders:* the day starts (``start_day``) with the rows of the
  securities that have orders (``is_st``, ``suspended``, ``delisted``, ``limit_up``,
  ``limit_down``; sessions without orders have nothing to judge), then the holdings are
  marked at the fill-time price (open, close or VWAP proxy), then the orders are judged.
* *What is judged.* Orders that can trade (not blocked by a suspension, a missing bar, a
  delisting or a sealed limit, which stay ``unfilled`` with those reasons), at the size
  about to fill (after lots, T+1, the volume cap and, for buys, the cash): the engine's
  sizing stands in for the order system that sizes orders before they reach risk, so
  loose limits leave a run unchanged, except that buys scaled down to the cash are
  fitted at their limit prices (what the validator's cash check and a broker count, at
  most a fen a share above the fill price). The timestamp is the fill time in
  Asia/Shanghai: 09:30 for ``fill_at='open'``, 14:57 (the closing call) for ``'close'``
  and ``'vwap'``. The limit price is the fill price (slippage in) rounded to the fen
  against the trader (up for buys, so a buy is valued at no less than it costs; down for
  sells) and kept inside the day's band, so PRICE_BAND fires only for a fill that would
  print outside it (possible only with ``price_limits=False``).
* *Order.* Sells first, then buys (as they fill), each judged against the state after the
  fills before it: a risk officer's view, in which the second of two buys in one sector
  sees the first. ``check_batch`` judges every order against one state, so it would let
  both through; it gives the same verdicts for the sells only (a valid sell never depends
  on other fills). Each verdict is the one ``check`` gives (the session validator runs
  its code), with its message.
* *Rejections* fill nothing: an ``unfilled`` row with reason ``'risk'`` and a
  ``rejections`` row with the layer, reason and message
  (:meth:`~workbench.result.BacktestResult.risk_summary` counts them). A rejected buy's
  cash is not given to the other buys that session.

**Exposure and warnings.** ``daily["invested_rate"]`` is the holdings' value over equity at
each close. After the run the result gets its warnings (:mod:`workbench.result`): the
strategy's ``coverage(view)``, when it has one, is sampled on the first session and on the
first session of each month; the invested fraction and the risk rejections are counted
over every session.
"""

from __future__ import annotations

import datetime as dt
import math
import warnings
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from workbench import rules
from workbench.calendar import MARKET_TZ
from workbench.config import FILL_TIMES, BacktestConfig
from workbench.dividend_book import DividendBook, Entitlements
from workbench.errors import ConfigError, DataError, DataWarning
from workbench.portfolio import (
    FILL_REASONS,
    SIDES,
    UNFILLED_REASONS,
    Orders,
    Portfolio,
    SessionBars,
    block_codes,
)
from workbench.result import (
    DAILY_COLUMNS,
    BacktestResult,
    coverage_warning,
    dividend_warning,
    invested_warning,
    rejection_warning,
    rejections_frame,
)
from workbench.risk import Decision, RiskLimits, SessionValidator
from workbench.strategies.base import Strategy, normalize_weights
from workbench.symbols import Board
from workbench.view import MarketView, ViewContext

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["run"]

_SHANGHAI = ZoneInfo(MARKET_TZ)


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


class _Blocks:
    """:func:`~workbench.portfolio.block_codes` of the symbols with orders, one session at
    a time, written into full-width arrays (what :class:`SessionBars` carries)."""

    def __init__(self, ctx: ViewContext, price: np.ndarray, limit_up: np.ndarray,
                 limit_down: np.ndarray, suspended: np.ndarray, *, price_limits: bool) -> None:
        self.list_row, self.delist_row = ctx.list_row, ctx.delist_row
        self.price, self.limit_up, self.limit_down = price, limit_up, limit_down
        self.suspended, self.price_limits = suspended, price_limits
        n = len(ctx.symbols)
        self.buy, self.sell = np.zeros(n, dtype=np.int8), np.zeros(n, dtype=np.int8)

    def at(self, row: int, sym: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Buy and sell codes of session ``row``, current at the positions ``sym``."""
        gone = self.delist_row[sym]
        self.buy[sym], self.sell[sym] = block_codes(
            self.price[row][sym], self.limit_up[row][sym], self.limit_down[row][sym],
            self.suspended[row][sym], (self.list_row[sym] <= row) & (row < gone),
            row >= gone, price_limits=self.price_limits)
        return self.buy, self.sell


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


# -- pre-trade risk -----------------------------------------------------------------------------
class _RiskGate:
    """Keeps a :class:`~workbench.risk.SessionValidator` in step with the portfolio.

    Every fill is judged by the validator before it happens.

    Implements :class:`workbench.portfolio.Gate`. Rejections are collected as rows of
    :data:`workbench.result.REJECTION_COLUMNS`.
    """

    def __init__(self, limits: RiskLimits, ctx: ViewContext, capital_cny: float, *,
                 fill_at: str, fill_px: np.ndarray, close: np.ndarray,
                 limit_up: np.ndarray, limit_down: np.ndarray, suspended: np.ndarray,
                 sectors: np.ndarray) -> None:
        self.v = SessionValidator(limits, cash_cny=capital_cny,
                                  symbols=[str(s) for s in ctx.symbols],
                                  boards=ctx.securities["board"].astype(str).tolist(),
                                  sectors=sectors.tolist())
        self.delist_row = ctx.delist_row
        self.is_st = ctx.array("is_st") if "is_st" in ctx.market.bar_columns else None
        self.fill_px, self.close = fill_px, close
        self.limit_up, self.limit_down, self.suspended = limit_up, limit_down, suspended
        self.time = FILL_TIMES[fill_at]
        self.row = 0
        self.stamp = dt.datetime(1970, 1, 1, tzinfo=_SHANGHAI)
        self.rejected: list[tuple[int, int, int, int, str, str]] = []

    def _mark(self, prices: np.ndarray, held: np.ndarray) -> None:
        """Mark the holdings (positions ``held``) at ``prices`` where there is a price (else
        the last mark stays)."""
        self.v.mark(held, prices[held], keep_missing=True)

    # -- state ----------------------------------------------------------------------------
    def settle(self, shares: np.ndarray, cash_cny: float, reference: np.ndarray) -> None:
        """After ex-dates and delistings: the portfolio's holdings and cash, marked at
        ``reference`` (the ex-rights ``prev_close``)."""
        self.v.settle(shares, cash_cny, reference)

    def open(self, row: int, day: pd.Timestamp, sym: np.ndarray, held: np.ndarray) -> None:
        """Start session ``row`` with the rows of the symbols ``sym`` that have orders; mark
        the holdings (positions ``held``) at the fill-time price."""
        self.row = row
        self.stamp = dt.datetime.combine(day.date(), self.time, tzinfo=_SHANGHAI)
        up, down = self.limit_up[row][sym], self.limit_down[row][sym]
        no_limit = ~(np.isfinite(up) & np.isfinite(down))  # as the engine reads the band
        if np.count_nonzero(no_limit):
            up, down = np.where(no_limit, np.nan, up), np.where(no_limit, np.nan, down)
        self.v.start_day(day, sym, limit_up=up, limit_down=down,
                         is_st=None if self.is_st is None else self.is_st[row][sym],
                         suspended=self.suspended[row][sym],
                         delisted=row >= self.delist_row[sym])
        self._mark(self.fill_px[row], held)

    def close_session(self, row: int, held: np.ndarray) -> None:
        """Mark the holdings (positions ``held``) at the session's close."""
        self._mark(self.close[row], held)

    # -- Gate -----------------------------------------------------------------------------
    def _limits(self, sym: np.ndarray, price: np.ndarray, buy: bool) -> list[float]:
        """Limit prices in CNY: the fill price rounded to the fen against the trader, kept
        in the day's band unless the fill itself is outside it."""
        band = (self.limit_up if buy else self.limit_down)[self.row][sym].tolist()
        out = []
        isfinite, ceil, floor = math.isfinite, math.ceil, math.floor
        if buy:
            for cents, edge in zip((price * 100.0).tolist(), band, strict=True):
                fen = ceil(cents - 1e-6)
                if isfinite(edge):  # else no limit
                    bound = round(edge * 100.0)
                    if cents <= bound + 1e-6 and bound < fen:
                        fen = bound
                out.append(fen / 100.0)
        else:
            for cents, edge in zip((price * 100.0).tolist(), band, strict=True):
                fen = floor(cents + 1e-6)
                if isfinite(edge):
                    bound = round(edge * 100.0)
                    if cents >= bound - 1e-6 and bound > fen:
                        fen = bound
                out.append(fen / 100.0)
        return out

    def _verdicts(self, sym: np.ndarray, shares: np.ndarray, decisions: list[Decision],
                  buy: bool) -> list[bool]:
        ok = [d.accepted for d in decisions]
        if not all(ok):
            for j, d in enumerate(decisions):
                if not d.accepted:
                    self.rejected.append((self.row, int(sym[j]), int(not buy),
                                          int(shares[j]), d.reason.value, d.message))
        return ok

    def judge_sells(self, sym: np.ndarray, shares: np.ndarray,
                    price: np.ndarray) -> list[bool]:
        found = self.v.judge_sells(sym, shares, self._limits(sym, price, False), self.stamp)
        return self._verdicts(sym, shares, found, False)

    def book_sells(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
                   fee_cny: np.ndarray) -> None:
        self.v.book_sells(sym, shares, price, fee_cny)

    def judge_buys(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
                   fee_cny: np.ndarray, limit_price: np.ndarray) -> list[bool]:
        found = self.v.judge_buys(sym, shares, limit_price, self.stamp, price=price,
                                  fee_cny=fee_cny)
        return self._verdicts(sym, shares, found, True)

    def buy_limits(self, sym: np.ndarray, price: np.ndarray) -> np.ndarray:
        return np.array(self._limits(sym, price, True), dtype=float)


def _rejection_table(ctx: ViewContext, rows: list[tuple[int, int, int, int, str, str]],
                     symbols: pd.CategoricalDtype) -> pd.DataFrame:
    col: list[Any] = list(zip(*rows, strict=True)) if rows else [[] for _ in range(6)]
    return rejections_frame(
        ctx.dates64[np.asarray(col[0], dtype=np.int64)],
        _labels(np.asarray(col[1], dtype=np.int64), symbols),
        _labels(np.asarray(col[2], dtype=np.int64), SIDES),
        np.asarray(col[3], dtype=np.int64), list(col[4]), list(col[5]))


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
        Daily equity, cash, invested fraction and benchmark close, trade log, orders,
        unfilled orders, positions, sector exposure, turnover, risk rejections, warnings,
        and the config and strategy description.

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
    members = None
    if config.universe is not None:
        members = ctx.members(config.universe)
        _warn_before_membership(ctx, members, config.universe, r0, r1)

    # Dense arrays, built once: sessions × symbols (the stored panels checked together).
    fill = ("amount", "volume") if config.fill_at == "vwap" else (config.fill_at,)
    screens = ("is_st",) if config.risk is not None and "is_st" in market.bar_columns else ()
    close, prev_close, limit_up, limit_down, suspended, volume, *fill_arrays = ctx.arrays(
        ("close", "prev_close", "limit_up", "limit_down", "suspended", "volume", *screens,
         *fill))
    if config.fill_at == "vwap":
        amount, volume_ = fill_arrays[-2:]
        with np.errstate(divide="ignore", invalid="ignore"):
            fill_px = np.where(volume_ > 0, amount / volume_, np.nan)
    else:
        fill_px = fill_arrays[-1]
    blocks = _Blocks(ctx, fill_px, limit_up, limit_down, suspended,
                     price_limits=config.price_limits)
    lot_min, lot_step = _lots(ctx, config.board_lots)
    sectors = ctx.securities["sector"].astype(str).fillna("unknown").to_numpy()
    sector_names, sector_code = np.unique(sectors, return_inverse=True)

    pf = Portfolio(config.capital_cny, lot_min=lot_min, lot_step=lot_step, costs=config.costs,
                   t_plus_1=config.t_plus_1, price_limits=config.price_limits,
                   max_participation_rate=config.max_participation_rate,
                   carry_suspended=config.suspended_orders == "carry",
                   carry_limit_blocked=config.limit_orders == "carry")
    pf.cache_rates(ctx.calendar[r0 : r1 + 1])
    book = None
    if config.corporate_actions == "cash":
        events = (Entitlements.from_table(market.corporate_actions, ctx.symbols,
                                          ctx.dates64, close, r0, r1)
                  if len(market.corporate_actions) else
                  Entitlements.from_prices(close, prev_close, ctx.dates64, r0, r1))
        book = DividendBook(events, ctx.dates64, n)
        pf.dividends = book
    # sessions on which some stock may go ex: the 'reinvest' mode looks at the holdings
    # there (the book of the 'cash' mode has the events, and checks the holdings for an
    # unexplained ex-date every session)
    ex_dates = None if book is not None else _ex_date_rows(close, prev_close, r0, r1)
    gate = None if config.risk is None else _RiskGate(
        config.risk, ctx, config.capital_cny, fill_at=config.fill_at, fill_px=fill_px,
        close=close, limit_up=limit_up, limit_down=limit_down, suspended=suspended,
        sectors=sectors)
    daily: list[tuple[float, ...]] = []
    positions: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []
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

    # positions held, kept from the end of each session (a mask's nonzero: an int array's
    # costs several times more)
    held = (pf.shares != 0).nonzero()[0]
    for k, r in enumerate(range(r0, r1 + 1)):
        pf.traded_cny = pf.fees_cny = pf.slippage_cny = pf.dividend_tax_cny = 0.0
        corporate = paid = 0.0
        # ``last`` still holds the previous session's close
        entitled = k > 0 and book is not None and book.has_events(r)
        if k > 0 and ex_dates is not None and ex_dates[k]:
            corporate = pf.corporate_actions(r, last, prev_close[r])
        elif k > 0 and book is not None:
            book.note_unexplained(r, pf.shares, last, prev_close[r], held=held)
            if entitled:
                corporate = pf.entitle(r, last, prev_close[r])
            paid = pf.pay_dividends(r)
        np.copyto(last, close[r], where=np.isfinite(close[r]))
        if k > 0:
            if r in gone_at:
                pf.settle_delisted(r, gone_at[r],
                                   zeros if config.delisting == "write_off" else last)
            if gate is not None and (entitled or (ex_dates is not None and ex_dates[k])
                                     or r in gone_at):
                gate.settle(pf.shares, pf.cash + pf.receivable_cny, prev_close[r])
                held = (pf.shares != 0).nonzero()[0]  # a settlement may end or add some
            pf.start_session()
            if len(orders):
                bars = SessionBars(fill_px[r], limit_up[r], limit_down[r], volume[r],
                                   *blocks.at(r, orders.symbol))
                if gate is not None:
                    gate.open(r, days[k], orders.symbol, held)
                orders = pf.execute(r, days[k], orders, bars, gate)  # what is left: carried
        held = (pf.shares != 0).nonzero()[0]
        if gate is not None:
            gate.close_session(r, held)
        price = last[held]  # a held stock always has a last close
        values = pf.shares[held] * price
        invested = float(values.sum())
        receivable = pf.receivable_cny
        equity = pf.cash + invested + receivable
        daily.append((equity, pf.cash, pf.traded_cny, pf.fees_cny, pf.slippage_cny, corporate,
                      paid, pf.dividend_tax_cny, receivable, held.size,
                      invested / equity if equity > 0 else 0.0))
        if held.size:
            positions.append((r, held, pf.shares[held], price))
        if r < r1:
            member = None if members is None else members[r]
            view = MarketView(ctx, r, holdings=pf.shares, cash_cny=pf.cash, equity_cny=equity,
                              universe=member)
            raw = strategy.target_weights(view)
            if raw is not None:
                w = normalize_weights(raw, ctx.symbols, date=days[k], strategy=name)
                orders = pf.plan(w, equity_cny=equity, price=last, listed=ctx.listed(r),
                                 row=r, fill_row=r + 1, buyable=member,
                                 lot_rounding=config.lot_rounding, day=days[k + 1])
            pf.log_orders(orders, r + 1)

    return _result(market, strategy, config, ctx, pf, r0, r1, np.array(daily), sector_code,
                   sector_names, positions, gate)


def _warn_before_membership(ctx: ViewContext, members: np.ndarray, index: str, r0: int,
                            r1: int) -> None:
    """Warn when the run's first sessions have no known member of its index universe."""
    known = np.flatnonzero(members[r0 : r1 + 1].any(axis=1))
    if known.size and known[0] == 0:
        return
    start = ctx.calendar[r0].date()
    if not known.size:
        warnings.warn(f"universe {index!r} has no member with data in this market from "
                      f"{start} to {ctx.calendar[r1].date()}: the run buys nothing",
                      DataWarning, stacklevel=3)
        return
    first = ctx.calendar[r0 + int(known[0])].date()
    warnings.warn(f"universe {index!r}: no membership is known before {first} (its first "
                  f"snapshot with a member in this market), so the run from {start} buys "
                  f"nothing until then; start on or after {first}", DataWarning, stacklevel=3)


def _labels(codes: np.ndarray, names: tuple[str, ...] | pd.CategoricalDtype) -> pd.Categorical:
    if isinstance(names, pd.CategoricalDtype):  # the symbols: their dtype built once per run
        return pd.Categorical.from_codes(codes.astype(np.int64), dtype=names)
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=list(names))


def _result(market: Market, strategy: Any, config: BacktestConfig, ctx: ViewContext,
            pf: Portfolio, r0: int, r1: int, daily: np.ndarray, sector_code: np.ndarray,
            sector_names: np.ndarray,
            pos: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]],
            gate: _RiskGate | None) -> BacktestResult:
    dates = ctx.calendar[r0 : r1 + 1]
    dates64 = ctx.dates64
    daily_df = pd.DataFrame(daily, index=dates,
                            columns=[c for c in DAILY_COLUMNS if c != "benchmark_close"])
    daily_df["n_positions"] = daily_df["n_positions"].astype(np.int64)
    daily_df["benchmark_close"] = _benchmark_close(market, dates)

    symbols = pd.CategoricalDtype(list(ctx.symbols))
    t = pf.trade_log()
    trades = pd.DataFrame({
        "date": dates64[t["row"]],
        "symbol": _labels(t["symbol"], symbols),
        "side": _labels(t["side"], SIDES),
        "shares": t["shares"],
        "price": t["price"],
        "commission": t["commission"],
        "stamp_duty": t["stamp_duty"],
        "transfer_fee": t["transfer_fee"],
        "slippage": t["slippage"],
        "dividend_tax": t["dividend_tax"],
        "reason": _labels(t["reason"], FILL_REASONS),
    })
    o = pf.orders.arrays()
    orders = pd.DataFrame({
        "date": dates64[o["row"]],
        "decided": dates64[o["decided"]],
        "symbol": _labels(o["symbol"], symbols),
        "side": _labels(o["side"], SIDES),
        "shares": o["shares"],
        "carried": o["carried"],
    })
    u = pf.unfilled.arrays()
    unfilled = pd.DataFrame({
        "date": dates64[u["row"]],
        "symbol": _labels(u["symbol"], symbols),
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
        "symbol": _labels(cols, symbols),
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
        "corporate_actions": _actions_source(market, pf),
    }
    rejections = _rejection_table(ctx, [] if gate is None else gate.rejected, symbols)
    book = pf.dividends
    unexplained = pd.DataFrame(book.unexplained if book is not None else [],
                               columns=["row", "symbol", "value_cny"])
    unexplained["date"] = dates64[unexplained["row"].to_numpy(dtype=np.int64)]
    unexplained["symbol"] = ctx.symbols[unexplained["symbol"].to_numpy(dtype=np.int64)]
    found = (coverage_warning(str(strat.get("name", "")), _coverage_samples(strategy, ctx, r0, r1),
                              dates),
             invested_warning(daily_df["invested_rate"]),
             rejection_warning(orders, rejections),
             dividend_warning(unexplained))
    return BacktestResult(daily=daily_df, trades=trades, orders=orders, unfilled=unfilled,
                          positions=positions, sector_exposure=sector_df, config=config,
                          strategy=strat, meta=meta, rejections=rejections,
                          warnings=tuple(w for w in found if w is not None),
                          **({} if book is None else {"dividends": book.frame(ctx.symbols, r1)}))


def _actions_source(market: Market, pf: Portfolio) -> str:
    """How the run booked corporate actions, for the result's provenance."""
    if pf.dividends is None:
        return "reinvested at the ex-rights price (total-return view, no dividend tax)"
    if pf.dividends.events.source == "prices":
        return "cash, events derived from the bars' prev_close (the market has no events table)"
    kinds = sorted(set(market.corporate_actions["source"].astype(str).unique()))
    return f"cash, {len(market.corporate_actions):,} events ({', '.join(kinds)})"


def _coverage_samples(strategy: Any, ctx: ViewContext, r0: int, r1: int) -> pd.DataFrame:
    """The strategy's ``coverage(view)`` on the run's first session and each month's first.

    Columns ``rate`` (fraction of the listed stocks it can score) and ``reason``, index
    ``date``; empty when the strategy has no ``coverage`` or it returns None. Monthly
    samples keep the check cheap: a strategy's inputs appear and vanish over months.
    """
    coverage = getattr(strategy, "coverage", None)
    none = pd.DataFrame({"rate": [], "reason": []})
    if not callable(coverage):
        return none
    months = ctx.dates64[r0 : r1 + 1].astype("datetime64[M]")
    rows = r0 + np.flatnonzero(np.concatenate([[True], months[1:] != months[:-1]]))
    rates, reasons = [], []
    for r in rows.tolist():
        view = MarketView(ctx, r)
        found = coverage(view)
        if found is None:
            return none
        rates.append(found.rate(view.listed))
        reasons.append(str(found.reason))
    return pd.DataFrame({"rate": rates, "reason": reasons}, index=ctx.calendar[rows])


def _benchmark_close(market: Market, dates: pd.DatetimeIndex) -> np.ndarray:
    """The benchmark's close on ``dates`` (index points), NaN where it has none."""
    bench = market.benchmark
    if bench is None or not {"date", "close"} <= set(bench.columns) or bench.empty:
        return np.full(len(dates), np.nan)
    close = pd.Series(bench["close"].to_numpy(dtype=float),
                      index=pd.DatetimeIndex(bench["date"]).normalize())
    close = close[~close.index.duplicated(keep="last")]
    return close.reindex(dates).to_numpy(dtype=float)
