"""The cash account and how one session's orders fill under A-share rules (vectorised).

:class:`Portfolio` holds cash, shares and sellable shares per symbol as dense numpy arrays
and applies, in this order on every session:

1. **Corporate actions.** With a :class:`~workbench.dividend_book.DividendBook` (the
   ``'cash'`` mode, the default) the events are booked as a broker books them: bonus and
   transfer shares credited on the ex-date, cash dividends on the pay date less the tax
   withheld, and the dividend tax by holding period charged on each sale (the trade log's
   ``dividend_tax``; see :mod:`workbench.dividend_book`). The ``'reinvest'`` mode (the
   total-return view, no tax) detects ex-dates as ``prev_close`` differing from the
   previous close and reinvests the value the ex-date takes out of the price,
   ``shares * (close_prev - prev_close)``, in whole shares at the ex-rights price
   (``floor(shares * close_prev / prev_close)`` held afterwards, the leftover stays
   cash). Share changes are trade-log rows with reason ``'corporate_action'`` at the
   ex-rights price and no charges, so buys minus sells always equal the holdings.
2. **Delistings**: a holding whose ``delist_date`` has arrived is settled at its last close
   (or written off at 0): a trade-log row with reason ``'delisted'`` and no charges, since
   it is a settlement, not an exchange trade.
3. **T+1**: sellable shares are reset to the shares held at the start of the session;
   shares bought in a session cannot be sold in it.
4. **Orders**, sells before buys, each checked in turn: listed, has a bar, not suspended,
   not at the price limit against it (no buy at ``limit_up``, no sell at ``limit_down``; a
   NaN limit, as on IPO days, means no limit), lot size (buys in board lots: 100 shares,
   STAR 200 then steps of 1, BSE 100 then 1; a sell is lots or the whole holding, so an
   odd-lot remainder goes in one piece), T+1, the volume participation cap, and for buys
   the cash left after the sells: buys are scaled down together, in whole lots, until they
   and their costs fit. Whatever does not fill is logged with its reason. Orders blocked
   by a suspension or a sealed limit are handed back, whole, to be retried on the next
   session (``carry_suspended``, ``carry_limit_blocked``); every other shortfall is lost.
5. **Pre-trade risk** (only with a :class:`Gate`, see :func:`workbench.backtest.run`): once
   the sells are sized, each is judged and the rejected ones cancelled; the accepted sells
   are booked, the buys fitted to the cash (valued at their limit prices, as the validator
   and a broker value them), and then each buy is judged in turn, after the fills before
   it have been booked. A rejected order fills nothing (reason ``'risk'``); a rejected
   buy's cash is not handed to the other buys.

Orders are planned by :meth:`Portfolio.plan` from target weights at the decision-day close:
target shares floored, buys rounded down to board lots, and with ``lot_rounding='fill'``
the cash that leaves idle spent on extra lots (:func:`fill_lots`).

Fill prices move against the trader by the slippage rate and are clamped to the day's
limits (nothing prints outside them); see :mod:`workbench.costs` for charges and rounding.
Orders are sparse (only the symbols that trade), so a session costs a fixed number of
numpy calls on short arrays, whatever the size of the market. On such arrays a call's
overhead is its cost, so the hot paths test masks with ``np.count_nonzero(mask)`` (about a
fifth of the time of ``mask.any()``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol

import numpy as np
import pandas as pd

from workbench.costs import Costs
from workbench.dividend_book import DividendBook
from workbench.errors import ConfigError
from workbench.trades import FILL_REASONS

__all__ = [
    "FILL_BUFFER_RATE",
    "FILL_REASONS",
    "LOT_ROUNDINGS",
    "SIDES",
    "UNFILLED_REASONS",
    "Gate",
    "Log",
    "LotRounding",
    "Orders",
    "Portfolio",
    "SessionBars",
    "block_codes",
    "fill_lots",
    "lot_floor",
    "sell_floor",
]

#: Why an order (or part of it) did not fill.
UNFILLED_REASONS: tuple[str, ...] = (
    "limit_up",  # buy at a sealed limit-up price (carried or dropped, see BacktestConfig)
    "limit_down",  # sell at a sealed limit-down price (carried or dropped, likewise)
    "suspended",  # no trading that session (carried or dropped, see BacktestConfig)
    "lot_too_small",  # less than one board lot (or not a whole-lot sell of part of a holding)
    "volume_cap",  # beyond the participation cap of the session's volume
    "t_plus_1",  # shares bought this session cannot be sold in it
    "insufficient_cash",  # buys scaled down to the cash available after costs
    "delisted",  # the stock left the market before the order could fill
    "not_listed",  # the stock is not listed (yet) on the decision or fill day
    "no_bar",  # listed but no bar that session (a data gap)
    "risk",  # rejected by the pre-trade risk validator (BacktestResult.rejections says why)
    "not_in_universe",  # a buy of a stock outside BacktestConfig.universe that day: not made
)
#: How :meth:`Portfolio.plan` rounds buys to board lots: ``'floor'`` rounds each down,
#: ``'fill'`` then spends the cash that leaves idle on extra lots (:func:`fill_lots`).
LotRounding = Literal["floor", "fill"]
LOT_ROUNDINGS: tuple[str, ...] = ("floor", "fill")
#: Margin :func:`fill_lots` keeps back on the planned buys (a fraction of their cost) for
#: the price moving between the decision-day close and the fill: on the default synthetic
#: market, without it about a third of the rebalancing sessions of ``low_volatility``,
#: ``momentum`` and ``value_quality`` had a buy cut for cash at the fill; with 1 %, 2 to 7
#: sessions of about 110, while ``buy_and_hold`` starts 98.4 % invested (99.4 % without).
FILL_BUFFER_RATE = 0.01

#: Sides, coded 0 and 1 in the logs.
SIDES: tuple[str, ...] = ("buy", "sell")

_R = {name: code for code, name in enumerate(UNFILLED_REASONS, start=1)}
_NONE = np.zeros(0, dtype=np.int64)  # no positions (read-only)
_NONE.flags.writeable = False
_LIMIT_EPS = 1e-9
# 0 signal and 1 carried are logged as bools
_DELISTED, _CORPORATE = FILL_REASONS.index("delisted"), FILL_REASONS.index("corporate_action")


def lot_floor(shares: np.ndarray, lot_min: np.ndarray, lot_step: np.ndarray) -> np.ndarray:
    """Round share counts down to a valid buy size: 0, or ``lot_min + k * lot_step``.

    Examples
    --------
    >>> lot_floor(np.array([99, 250, 199, 201]), np.array([100, 100, 200, 200]),
    ...           np.array([100, 100, 1, 1])).tolist()
    [0, 200, 0, 201]
    """
    q = np.asarray(shares, dtype=np.int64)
    return np.where(q >= lot_min, lot_min + (q - lot_min) // lot_step * lot_step, 0)


def sell_floor(shares: np.ndarray, holding: np.ndarray, lot_min: np.ndarray,
               lot_step: np.ndarray) -> np.ndarray:
    """Round sell sizes down to what may be sold: the whole holding, or whole lots of it.

    Examples
    --------
    >>> one = np.array([100, 100, 100])
    >>> sell_floor(np.array([150, 120, 50]), np.array([150, 150, 150]), one, one).tolist()
    [150, 100, 0]
    """
    q = np.minimum(np.asarray(shares, dtype=np.int64), holding)
    return np.where(q >= holding, holding, lot_floor(q, lot_min, lot_step))


def fill_lots(qty: np.ndarray, sell: np.ndarray, *, goal: np.ndarray, held: np.ndarray,
              price: np.ndarray, lot_min: np.ndarray, lot_step: np.ndarray, cash_cny: float,
              costs: Costs, stamp_rate: float, transfer_rate: float,
              buffer_rate: float = FILL_BUFFER_RATE) -> np.ndarray:
    """Buy sizes that spend the cash left idle by rounding buys down to board lots.

    The budget is ``cash_cny`` plus the sells' net proceeds, divided by ``1 +
    buffer_rate``, which keeps back a margin for the price moving between the decision
    and the fill. Sells and buys are costed at ``price`` moved by the slippage rate, plus
    their charges (commission with its minimum, stamp duty on sells, transfer fee, each
    rounded to the fen).

    * If the floored buys and their charges exceed the budget, they are scaled down
      together in whole lots until they fit, as the fill would scale them.
    * Else the names furthest below their target value get one more buy increment each
      (``lot_min`` shares where the order buys nothing yet, else ``lot_step``), in order
      of their shortfall ``(goal - held - qty) * price`` (largest first, ties by
      position), while it fits: an increment that does not fit in what is left is
      skipped and the next names are tried. A name is eligible when it is bought (not
      sold), holds with its buy fewer shares than its floored target ``floor(goal)``, and
      the increment leaves it less than one board lot (``lot_min``) above that target: so
      it ends within its target plus one increment, and the next plan at the same prices
      does not sell the increment back. Each name gets at most one.

    Parameters
    ----------
    qty
        Floored order sizes, shares (>= 0; sells as positive sizes).
    sell
        True where the order sells.
    goal
        Target holding, shares, not rounded: ``weight * equity / price``.
    held
        Shares held now.
    price
        Price the orders are costed at (the decision-day close), CNY.
    lot_min, lot_step
        Buy-size rule per order, shares (see :func:`lot_floor`).
    cash_cny
        Cash before the orders, CNY.
    costs
        The broker's terms (:class:`~workbench.costs.Costs`).
    stamp_rate, transfer_rate
        Rates of the fill day (:meth:`Costs.stamp_duty_rate`, :meth:`Costs.transfer_fee_rate`).
    buffer_rate
        Margin kept back, a fraction of the buys' cost (default :data:`FILL_BUFFER_RATE`).

    Returns
    -------
    numpy.ndarray
        Order sizes, shares (int64): the sells as given, the buys filled or scaled down.

    Examples
    --------
    25,000 CNY less 9,000 for the floored 300 shares leaves 16,000, one more lot: the
    150 CNY stock, about 10,000 CNY short of its target, gets it before the 30 CNY stock,
    about 1,000 CNY short, which then no longer fits.

    >>> one = np.array([100, 100])
    >>> fill_lots(np.array([0, 300]), np.array([False, False]), goal=np.array([66.7, 333.3]),
    ...           held=np.array([0, 0]), price=np.array([150.0, 30.0]), lot_min=one,
    ...           lot_step=one, cash_cny=25_000.0, costs=Costs.zero(), stamp_rate=0.0,
    ...           transfer_rate=0.0, buffer_rate=0.0).tolist()
    [100, 300]
    """
    buy = ~sell
    slip = costs.slippage_rate
    px = price * np.where(sell, 1.0 - slip, 1.0 + slip)

    def charge(q: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """``(value, charges, fees)`` of the orders ``keep`` (default all) at sizes ``q``."""
        value = q * (px if keep is None else px[keep])
        ch = costs.charge_table(value, sell if keep is None else sell[keep],
                                stamp_rate=stamp_rate, transfer_rate=transfer_rate,
                                slippage_cny=np.zeros(len(value)))
        return value, ch, ch[0] + ch[1] + ch[2]

    value, _, fees = charge(qty)
    cost = np.where(sell, 0.0, value + fees)
    budget = (cash_cny + float(np.where(sell, value - fees, 0.0).sum())) / (1.0 + buffer_rate)
    left = budget - float(cost.sum())
    if left < 0.0:
        b = np.flatnonzero(buy)
        out = qty.copy()
        out[b] = (np.zeros(b.size, dtype=np.int64) if budget <= 0.0 else Portfolio._fit_to_cash(
            qty[b], lot_min[b], lot_step[b], budget, lambda q: charge(q, b)))
        return out
    inc = np.where(qty > 0, lot_step, lot_min)
    now = held + qty
    floor = goal.astype(np.int64)  # truncation is floor for these non-negative goals
    cand = (buy & (now < floor) & (now + inc - floor < lot_min)).nonzero()[0]
    if not cand.size:
        return qty
    value, _, fees = charge(qty[cand] + inc[cand], cand)
    step = value + fees - cost[cand]
    # furthest below target first; the stable sort keeps symbol order among equals
    order = np.argsort(-(goal[cand] - now[cand]) * price[cand], kind="stable")
    cand, step = cand[order], step[order]
    take = np.zeros(cand.size, dtype=bool)
    # A pass takes the increments that fit one after another; the next pass skips the one
    # that did not fit and goes on down the list, as a trader would.
    while (fits := (~take & (step <= left)).nonzero()[0]).size:
        got = fits[np.cumsum(step[fits]) <= left]
        take[got] = True
        left -= float(step[got].sum())
    out = qty.copy()
    out[cand[take]] += inc[cand[take]]
    return out


def _valid(q: np.ndarray, held: np.ndarray, sell: np.ndarray, lot_min: np.ndarray,
           lot_step: np.ndarray) -> np.ndarray:
    """Buys: :func:`lot_floor`; sells: :func:`sell_floor` (``q <= held`` for sells)."""
    return np.where(sell & (q >= held), held, lot_floor(q, lot_min, lot_step))


def block_codes(price: np.ndarray, limit_up: np.ndarray, limit_down: np.ndarray,
                suspended: np.ndarray, listed: np.ndarray, delisted: np.ndarray, *,
                price_limits: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Why a buy and why a sell cannot fill, elementwise (0: they can; else a reason code).

    Works on one session (vectors; the engine passes the symbols with orders only) or many
    (sessions × symbols). Reason codes index :data:`UNFILLED_REASONS` from 1; where several
    apply, the first of delisted, not listed, suspended, no bar wins, and only a stock free
    of them all can be blocked by its price limit.
    """
    base = np.zeros(np.broadcast(price, suspended, listed, delisted).shape, dtype=np.int8)
    # the reasons in rising precedence, each overwriting the ones before it
    np.copyto(base, _R["no_bar"], where=~np.isfinite(price))
    np.copyto(base, _R["suspended"], where=suspended)
    np.copyto(base, _R["not_listed"], where=~listed)
    np.copyto(base, _R["delisted"], where=delisted)
    if not price_limits:
        return base, base.copy()
    free = base == 0
    buy, sell = base, base.copy()
    with np.errstate(invalid="ignore"):  # NaN limits: no limit
        np.copyto(buy, _R["limit_up"], where=free & (price >= limit_up - _LIMIT_EPS))
        np.copyto(sell, _R["limit_down"], where=free & (price <= limit_down + _LIMIT_EPS))
    return buy, sell


class Gate(Protocol):
    """Pre-trade checks on a session's fills, in the order they fill (see ``execute``).

    ``sym`` are symbol positions, ``shares`` the sizes about to fill (> 0), ``price`` the
    fill prices (slippage in), ``fee_cny`` the charges of each fill.
    """

    def judge_sells(self, sym: np.ndarray, shares: np.ndarray,
                    price: np.ndarray) -> Sequence[bool] | np.ndarray:
        """Accept (True) or reject each sell; nothing is booked yet."""
        ...

    def book_sells(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
                   fee_cny: np.ndarray) -> None:
        """Book the accepted sells as filled."""
        ...

    def judge_buys(self, sym: np.ndarray, shares: np.ndarray, price: np.ndarray,
                   fee_cny: np.ndarray, limit_price: np.ndarray) -> Sequence[bool] | np.ndarray:
        """Judge each buy in turn at ``limit_price`` (what :meth:`buy_limits` gave for
        it), booking each accepted one before judging the next: True (accepted) or False
        for each."""
        ...

    def buy_limits(self, sym: np.ndarray, price: np.ndarray) -> np.ndarray:
        """The limit price each buy is judged at (CNY, >= ``price``)."""
        ...


class SessionBars(NamedTuple):
    """What the fill session's bars say, one value per symbol (full-width arrays).

    :meth:`Portfolio.execute` reads them at the orders' symbols only, so the engine fills
    ``buy_block`` and ``sell_block`` there alone (:func:`block_codes` of those symbols).
    """

    price: np.ndarray  # market price at the fill time (open, close or VWAP proxy), CNY
    limit_up: np.ndarray  # NaN: no limit
    limit_down: np.ndarray
    volume: np.ndarray  # shares (float, NaN without a bar)
    buy_block: np.ndarray  # int8 reason code why a buy cannot fill (0: it can)
    sell_block: np.ndarray  # the same for a sell

    @classmethod
    def from_bars(cls, *, price: np.ndarray, limit_up: np.ndarray, limit_down: np.ndarray,
                  suspended: np.ndarray, volume: np.ndarray, listed: np.ndarray,
                  delisted: np.ndarray, price_limits: bool = True) -> SessionBars:
        """Build from one session's bar values (computing the block codes)."""
        buy, sell = block_codes(price, limit_up, limit_down, suspended, listed, delisted,
                                price_limits=price_limits)
        return cls(price, limit_up, limit_down, volume, buy, sell)


@dataclass
class Orders:
    """Pending orders, one entry per symbol that trades (``symbol`` ascending positions).

    ``qty > 0`` buys and ``qty < 0`` sells that many shares; ``sell_all`` sells whatever is
    held at fill time (a target of zero); ``decided`` is the calendar row of the decision;
    ``carried`` marks orders retried after a suspension or a sealed price limit.
    """

    symbol: np.ndarray
    qty: np.ndarray
    sell_all: np.ndarray
    decided: np.ndarray
    carried: np.ndarray
    #: Sizes already valid for the holdings (set by :meth:`Portfolio.plan`), so the fill
    #: need not re-check lots unless a corporate action changed the holdings in between.
    sized: bool = False

    @classmethod
    def empty(cls) -> Orders:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, np.zeros(0, dtype=bool), z, np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.symbol)

    def subset(self, keep: np.ndarray) -> Orders:
        return Orders(self.symbol[keep], self.qty[keep], self.sell_all[keep],
                      self.decided[keep], self.carried[keep])


class Log:
    """Column-wise accumulator of numpy chunks; scalars are broadcast when read."""

    def __init__(self, columns: dict[str, type | str]) -> None:
        self.dtypes = {c: np.dtype(t) for c, t in columns.items()}
        self.chunks: list[tuple[int, dict[str, np.ndarray | float | int]]] = []

    def add(self, n: int, **values: np.ndarray | float | int) -> None:
        if n:
            self.chunks.append((n, values))

    def arrays(self) -> dict[str, np.ndarray]:
        lengths = np.array([n for n, _ in self.chunks], dtype=np.int64)
        out = {}
        for c, dtype in self.dtypes.items():
            values = [v[c] for _, v in self.chunks]
            if not values:
                out[c] = np.zeros(0, dtype=dtype)
            elif not any(type(v) is np.ndarray for v in values):
                out[c] = np.repeat(np.array(values, dtype=dtype), lengths)
            else:
                parts = [v if type(v) is np.ndarray else np.full(n, v)
                         for n, v in zip(lengths.tolist(), values, strict=True)]
                out[c] = np.concatenate(parts).astype(dtype, copy=False)
        return out


class Portfolio:
    """Cash, shares and sellable shares; fills orders session by session.

    Parameters
    ----------
    capital_cny
        Starting cash.
    lot_min, lot_step
        Buy-size rule per symbol in shares (from :func:`workbench.rules.lot_rule`); ones
        when board lots are switched off.
    costs
        Commission, slippage and statutory charges.
    t_plus_1
        Shares bought in a session become sellable in the next one.
    price_limits
        Block buys at ``limit_up`` and sells at ``limit_down``.
    max_participation_rate
        Most a fill may take of the session's volume (None: no cap).
    carry_suspended
        Retry orders blocked by a suspension on the next session (else drop them).
    carry_limit_blocked
        Retry orders blocked by a sealed price limit (``limit_up`` buys, ``limit_down``
        sells) on the next session (else drop them).
    dividends
        The run's dividend book (``'cash'`` corporate actions), or None (``'reinvest'``).
    """

    def __init__(self, capital_cny: float, *, lot_min: np.ndarray, lot_step: np.ndarray,
                 costs: Costs, t_plus_1: bool = True, price_limits: bool = True,
                 max_participation_rate: float | None = 0.1,
                 carry_suspended: bool = True, carry_limit_blocked: bool = True,
                 dividends: DividendBook | None = None) -> None:
        n = len(lot_min)
        self.n = n
        self.cash = float(capital_cny)
        self.shares = np.zeros(n, dtype=np.int64)
        self.sellable = np.zeros(n, dtype=np.int64)
        self.lot_min = np.asarray(lot_min, dtype=np.int64)
        self.lot_step = np.asarray(lot_step, dtype=np.int64)
        self.costs = costs
        self.t_plus_1 = t_plus_1
        self.price_limits = price_limits
        self.max_participation_rate = max_participation_rate
        self.carry_suspended = carry_suspended
        self.carry_limit_blocked = carry_limit_blocked
        self.dividends = dividends
        self.trades = Log({"row": np.int64, "symbol": np.int64, "side": np.int8,
                           "shares": np.int64, "price": float, "commission": float,
                           "stamp_duty": float, "transfer_fee": float, "slippage": float,
                           "dividend_tax": float, "reason": np.int8})
        self.unfilled = Log({"row": np.int64, "symbol": np.int64, "side": np.int8,
                             "shares": np.int64, "reason": np.int8})
        self.orders = Log({"row": np.int64, "decided": np.int64, "symbol": np.int64,
                           "side": np.int8, "shares": np.int64, "carried": bool})
        self._rates_of: dict[pd.Timestamp, tuple[float, float]] = {}
        self._adjusted = False  # a corporate action changed holdings since the last fills
        #: Totals of the current session's exchange fills, reset by the engine: value
        #: traded, fees, slippage, dividend tax charged on the sales (settlements and
        #: corporate actions are not trades).
        self.traded_cny = 0.0
        self.fees_cny = 0.0
        self.slippage_cny = 0.0
        self.dividend_tax_cny = 0.0

    # -- session start ------------------------------------------------------------------------
    def start_session(self) -> None:
        """Make every share held so far sellable (T+1 settlement)."""
        np.copyto(self.sellable, self.shares)

    def entitle(self, row: int, prev_close_price: np.ndarray, reference: np.ndarray) -> float:
        """Book the dividend events of session ``row`` (``'cash'`` mode); return the value
        paid out: cash before tax plus the new shares at the ex-rights price (CNY).

        ``prev_close_price`` is the last close before ``row``, ``reference`` the row's
        ``prev_close`` (ex-rights; where missing, the last close over the new share count).
        """
        if self.dividends is None:
            raise RuntimeError("entitle needs a DividendBook (corporate_actions='cash')")
        sym, new, gross = self.dividends.entitle(row, self.shares)
        if not sym.size:
            return 0.0
        held = self.shares[sym]
        after = held + new
        ref = reference[sym]
        fallback = prev_close_price[sym] * held / np.maximum(after, 1)
        ref = np.where(np.isfinite(ref) & (ref > 0), ref, fallback)
        self.shares[sym] = after
        self.sellable[sym] = np.minimum(self.sellable[sym], after)
        self._adjusted = True
        moved = new != 0
        if moved.any():
            self.trades.add(int(moved.sum()), row=row, symbol=sym[moved], side=new[moved] < 0,
                            shares=np.abs(new[moved]), price=ref[moved], commission=0.0,
                            stamp_duty=0.0, transfer_fee=0.0, slippage=0.0, dividend_tax=0.0,
                            reason=_CORPORATE)
        return gross + float((new * ref).sum())

    def pay_dividends(self, row: int) -> float:
        """Credit the dividends paid on session ``row``; return them (CNY, after withholding)."""
        paid = 0.0 if self.dividends is None else self.dividends.pay(row)
        self.cash += paid
        return paid

    @property
    def receivable_cny(self) -> float:
        """Dividends gone ex but not yet paid (CNY, after withholding); part of equity."""
        return 0.0 if self.dividends is None else self.dividends.receivable_cny

    def corporate_actions(self, row: int, prev_close_price: np.ndarray,
                          reference: np.ndarray) -> float:
        """Reinvest the value ex-dates take out of prices (the ``'reinvest'`` mode); return it
        (CNY, before reinvestment).

        ``prev_close_price`` is the previous session's close, ``reference`` this session's
        ``prev_close`` (ex-rights). See the module docstring.
        """
        held = (self.shares != 0).nonzero()[0]
        if not held.size:
            return 0.0
        c, pc = prev_close_price[held], reference[held]
        hit = np.isfinite(c) & np.isfinite(pc) & (pc > 0) & (np.abs(c - pc) > 1e-12 * c)
        if not hit.any():
            return 0.0
        sym, c, pc = held[hit], c[hit], pc[hit]
        old = self.shares[sym]
        new = np.floor(old * c / pc).astype(np.int64)
        # cash in = payout - reinvested = old * c - new * pc >= 0 (floor); clip float noise
        self.cash += float(np.maximum(old * c - new * pc, 0.0).sum())
        self.shares[sym] = new
        self.sellable[sym] = np.minimum(self.sellable[sym], new)
        self._adjusted = True
        delta = new - old
        moved = delta != 0
        if moved.any():
            self.trades.add(int(moved.sum()), row=row, symbol=sym[moved], side=delta[moved] < 0,
                            shares=np.abs(delta[moved]), price=pc[moved], commission=0.0,
                            stamp_duty=0.0, transfer_fee=0.0, slippage=0.0, dividend_tax=0.0,
                            reason=_CORPORATE)
        return float((old * (c - pc)).sum())

    def settle_delisted(self, row: int, candidates: np.ndarray, price: np.ndarray) -> None:
        """Close holdings among ``candidates`` (delisted symbols) at ``price`` (or 0)."""
        sym = candidates[self.shares[candidates] > 0]
        if not sym.size:
            return
        q = self.shares[sym]
        p = np.where(np.isfinite(price[sym]), price[sym], 0.0)
        value = q * p
        self.cash += float(value.sum())
        self.shares[sym] = 0
        self.sellable[sym] = 0
        if self.dividends is not None:
            self.dividends.close_out(sym)
        self.trades.add(len(sym), row=row, symbol=sym, side=1, shares=q, price=p,
                        commission=0.0, stamp_duty=0.0, transfer_fee=0.0, slippage=0.0,
                        dividend_tax=0.0, reason=_DELISTED)

    # -- planning ---------------------------------------------------------------------------
    def plan(self, weights: np.ndarray, *, equity_cny: float, price: np.ndarray,
             listed: np.ndarray, row: int, fill_row: int,
             buyable: np.ndarray | None = None, lot_rounding: LotRounding = "floor",
             day: pd.Timestamp | None = None) -> Orders:
        """Turn target weights into lot-sized orders for the next session.

        Target shares are ``floor(weight * equity / price)`` at the decision-day close;
        buys are rounded down to board lots, partial sells to whole lots (a target of zero
        sells everything, odd lots included). With ``lot_rounding='fill'``
        (:func:`fill_lots`) the orders are then fitted to ``self.cash`` plus the planned
        sells' net proceeds, all costed at ``price`` with the slippage and charges of
        ``day`` (the fill session's date, required then) and a margin of
        :data:`FILL_BUFFER_RATE`: the cash the rounding leaves idle buys extra lots, or,
        when even the floored buys do not fit, they are scaled down in whole lots and the
        cut is logged as ``insufficient_cash``.
        Orders that round to nothing are logged as ``lot_too_small``; weights on stocks
        that are not listed or have no price yet as ``not_listed`` (0 shares: they cannot
        be sized). Where ``buyable`` (a mask over the symbols, e.g. an index's members that
        day) is False, a target above the holding is cut to the holding and the cut logged
        as ``not_in_universe``: such a stock may be held or sold, not bought. All are dated
        ``fill_row``.

        Examples
        --------
        Two stocks at 10 % each of 100,000 CNY, one at 150 CNY (a lot costs 15,000 CNY,
        target 66 shares), one at 30 CNY (target 333 shares): flooring buys 0 and 300
        shares; filling gives the 150 CNY stock its first lot (10,000 CNY short, the
        larger shortfall), then the 30 CNY stock one more (400 shares, 67 above its target,
        under a lot), both well inside the cash.

        >>> pf = Portfolio(100_000, lot_min=np.array([100, 100]),
        ...                lot_step=np.array([100, 100]), costs=Costs())
        >>> args = {"equity_cny": 100_000, "price": np.array([150.0, 30.0]),
        ...         "listed": np.array([True, True]), "row": 0, "fill_row": 1}
        >>> pf.plan(np.array([0.1, 0.1]), **args).qty.tolist()
        [300]
        >>> pf.plan(np.array([0.1, 0.1]), **args, lot_rounding="fill",
        ...         day=pd.Timestamp("2024-01-03")).qty.tolist()
        [100, 400]
        """
        if lot_rounding not in LOT_ROUNDINGS:
            raise ConfigError(f"lot_rounding must be one of {list(LOT_ROUNDINGS)}, got "
                              f"{lot_rounding!r}")
        rel = ((weights > 0) | (self.shares != 0)).nonzero()[0]
        w, p, held = weights[rel], price[rel], self.shares[rel]
        bad = (w > 0) & ~(listed[rel] & (p > 0))  # NaN price compares False
        if np.count_nonzero(bad):
            self.unfilled.add(int(bad.sum()), row=fill_row, symbol=rel[bad], side=0, shares=0,
                              reason=_R["not_listed"])
            p = np.where(bad, 1.0, p)
        # truncation is floor for these non-negative numbers; w = 0 gives 0
        target = (w * equity_cny / p).astype(np.int64)
        if np.count_nonzero(bad):
            target = np.where(bad, held, target)  # no order for what cannot be sized
        if buyable is not None:
            barred = (target > held) & ~buyable[rel]
            if np.count_nonzero(barred):
                self.unfilled.add(int(barred.sum()), row=fill_row, symbol=rel[barred], side=0,
                                  shares=target[barred] - held[barred],
                                  reason=_R["not_in_universe"])
                target = np.where(barred, held, target)
        delta = target - held
        move = delta != 0
        if not move.all():
            rel, delta, target, held = rel[move], delta[move], target[move], held[move]
        sell = delta < 0
        lot_min, lot_step = self.lot_min[rel], self.lot_step[rel]
        qty = _valid(np.abs(delta), held, sell, lot_min, lot_step)
        filled = qty
        if lot_rounding == "fill" and not sell.all():
            if day is None:
                raise ConfigError("plan(lot_rounding='fill') needs day=, the fill session's "
                                  "date, to cost the extra lots; or use lot_rounding='floor'")
            if not move.all():
                w, p = w[move], p[move]
            stamp_rate, transfer_rate = self._rates(day)
            filled = fill_lots(qty, sell, goal=w * equity_cny / p, held=held, price=p,
                               lot_min=lot_min, lot_step=lot_step, cash_cny=self.cash,
                               costs=self.costs, stamp_rate=stamp_rate,
                               transfer_rate=transfer_rate)
            cut = qty > filled  # buys that do not fit even as floored
            if np.count_nonzero(cut):
                self.unfilled.add(int(cut.sum()), row=fill_row, symbol=rel[cut], side=0,
                                  shares=qty[cut] - filled[cut],
                                  reason=_R["insufficient_cash"])
        sell_all = sell & (target == 0)
        small = (qty == 0) & ~sell_all
        if filled is not qty:
            qty, small = filled, small & (filled == 0)
        if np.count_nonzero(small):
            self.unfilled.add(int(small.sum()), row=fill_row, symbol=rel[small],
                              side=sell[small], shares=np.abs(delta[small]),
                              reason=_R["lot_too_small"])
        if np.count_nonzero(none := (qty == 0) & ~sell_all):
            keep = ~none
            rel, qty, sell, sell_all = rel[keep], qty[keep], sell[keep], sell_all[keep]
        m = len(rel)
        return Orders(rel, np.where(sell, -qty, qty), sell_all,
                      np.full(m, row, dtype=np.int64), np.zeros(m, dtype=bool), sized=True)

    def log_orders(self, orders: Orders, due_row: int) -> None:
        """Record ``orders`` as submitted to session ``due_row`` (sell-alls as the holding)."""
        if len(orders):
            shares = np.where(orders.sell_all, self.shares[orders.symbol], np.abs(orders.qty))
            self.orders.add(len(orders), row=due_row, decided=orders.decided,
                            symbol=orders.symbol, side=orders.sell_all | (orders.qty < 0),
                            shares=shares, carried=orders.carried)

    # -- execution --------------------------------------------------------------------------
    def execute(self, row: int, day: pd.Timestamp, orders: Orders, bars: SessionBars,
                gate: Gate | None = None) -> Orders:
        """Fill ``orders`` in session ``row`` (sells first, then buys); return carried orders.

        Updates cash, shares and sellable shares; appends to :attr:`trades` and
        :attr:`unfilled`. With a ``gate``, each fill is judged before it is booked (step 5
        of the module docstring).
        """
        if not len(orders):
            return orders
        sym = orders.symbol
        held = self.shares[sym]
        sell = orders.sell_all | (orders.qty < 0)
        want = np.where(orders.sell_all, held, np.abs(orders.qty))
        want = np.where(sell, np.minimum(want, held), want)
        live = want > 0  # a sell of nothing (the holding is gone) is no order at all
        if not live.all():
            orders = orders.subset(live)
            sym, held, sell, want = sym[live], held[live], sell[live], want[live]
            if not len(orders):
                return orders

        # 1. Could the stock trade at all today?
        price = bars.price[sym]
        status = np.where(sell, bars.sell_block[sym], bars.buy_block[sym])
        carry = Orders.empty()
        blocked = status != 0
        if np.count_nonzero(blocked):
            self.unfilled.add(int(blocked.sum()), row=row, symbol=sym[blocked],
                              side=sell[blocked], shares=want[blocked], reason=status[blocked])
            if self.carry_suspended or self.carry_limit_blocked:
                waiting = np.zeros(len(status), dtype=bool)
                if self.carry_suspended:
                    waiting |= status == _R["suspended"]
                if self.carry_limit_blocked:  # a limit_up code is a buy's, limit_down a sell's
                    waiting |= (status == _R["limit_up"]) | (status == _R["limit_down"])
                if np.count_nonzero(waiting):
                    carry = orders.subset(waiting)
                    carry.carried = np.ones(len(carry), dtype=bool)
            ok = ~blocked
            sym, held, sell, want, price = sym[ok], held[ok], sell[ok], want[ok], price[ok]
            carried = orders.carried[ok]
        else:
            carried = orders.carried
        if not len(sym):
            return carry

        # 2. How much may trade: lots, T+1, volume cap (each cut logged with its reason).
        lot_min, lot_step = self.lot_min[sym], self.lot_step[sym]
        cuts: list[tuple[int, np.ndarray]] = []
        q = want  # plan() made every order a valid size for the holding it saw ...
        if not orders.sized or self._adjusted:  # ... unless that holding has changed
            q = _valid(want, held, sell, lot_min, lot_step)
            if np.count_nonzero(want != q):
                cuts.append((_R["lot_too_small"], want - q))
        if self.t_plus_1:
            over = sell & (q > self.sellable[sym])
            if np.count_nonzero(over):
                q1 = np.where(over, _valid(np.minimum(q, self.sellable[sym]), held, sell,
                                           lot_min, lot_step), q)
                cuts.append((_R["t_plus_1"], q - q1))
                q = q1
        if self.max_participation_rate is not None:
            # fmax(NaN, 0) is 0: no bar, no volume
            cap = np.floor(np.fmax(bars.volume[sym], 0.0) * self.max_participation_rate
                           + 1e-9).astype(np.int64)
            over = q > cap
            if np.count_nonzero(over):
                q1 = np.where(over, _valid(np.minimum(q, cap), held, sell, lot_min, lot_step),
                              q)
                cuts.append((_R["volume_cap"], q - q1))
                q = q1

        # 3. Prices and charges.
        slip = self.costs.slippage_rate
        px = price * np.where(sell, 1.0 - slip, 1.0 + slip)
        if self.price_limits:  # nothing prints outside the band (fmax/fmin ignore NaN)
            px = np.where(sell, np.fmax(px, bars.limit_down[sym]),
                          np.fmin(px, bars.limit_up[sym]))
        stamp_rate, transfer_rate = self._rates(day)

        def charge(qty: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
            s, p, r = (sell, px, price) if keep is None else (sell[keep], px[keep], price[keep])
            value = qty * p
            ch = self.costs.charge_table(value, s, stamp_rate=stamp_rate,
                                         transfer_rate=transfer_rate,
                                         slippage_cny=qty * np.abs(p - r))
            return value, ch, ch[0] + ch[1] + ch[2]

        if gate is not None:  # judge the sells before their proceeds are counted on
            q = self._gated(q, sell & (q > 0), cuts,
                            lambda s: gate.judge_sells(sym[s], q[s], px[s]))
        value, ch, fees = charge(q)
        net = value - fees
        proceeds = float(net[sell].sum())
        if self.cash + proceeds < 0:  # fees above proceeds with no cash to pay them
            losing = sell & (net < 0)
            cuts.append((_R["insufficient_cash"], np.where(losing, q, 0)))
            q = np.where(losing, 0, q)
            value, ch, fees = charge(q)
            proceeds = float((value - fees)[sell].sum())
        tax = np.zeros(len(q))
        sold = _NONE if self.dividends is None and gate is None else (sell & (q > 0)).nonzero()[0]
        if sold.size and self.dividends is not None:
            tax[sold] = self.dividends.sale_tax(row, sym[sold], q[sold])
            proceeds -= float(tax.sum())
        if sold.size and gate is not None:
            gate.book_sells(sym[sold], q[sold], px[sold], fees[sold] + tax[sold])
        cash = self.cash + proceeds
        # Sum buy costs over the buy entries alone, exactly as _fit_to_cash does, so that
        # "spend <= cash" there means cash - spend >= 0 here, bit for bit.
        buy = ~sell
        spend = float((value + fees)[buy].sum())
        fit = charge
        if gate is not None:  # cash counted at the limit prices, as the validator counts it
            limit = gate.buy_limits(sym, px)

            def fit(qty: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
                _, c, f = charge(qty, keep)
                return qty * (limit if keep is None else limit[keep]), c, f

            need = float((q * limit + fees)[buy].sum())
        if (spend if gate is None else need) > cash:
            b = np.flatnonzero(buy)
            qb = self._fit_to_cash(q[b], lot_min[b], lot_step[b], cash,
                                   lambda qty: fit(qty, b))
            lost = np.zeros_like(q)
            lost[b] = q[b] - qb
            cuts.append((_R["insufficient_cash"], lost))
            q = q.copy()
            q[b] = qb
            value, ch, fees = charge(q)
            spend = float((value + fees)[buy].sum())
        if gate is not None:  # each buy judged after the fills before it are booked
            fee_now = fees
            q1 = self._gated(q, buy & (q > 0), cuts,
                             lambda b: gate.judge_buys(sym[b], q[b], px[b], fee_now[b],
                                                       limit[b]))
            if q1 is not q:
                q = q1
                value, ch, fees = charge(q)
                spend = float((value + fees)[buy].sum())

        # 4. Book it: sells first, then buys.
        self._adjusted = False
        self.cash = cash - spend
        signed = np.where(sell, -q, q)
        if self.dividends is not None:
            self.dividends.record(row, sym, signed, held)
        self.shares[sym] += signed
        if self.t_plus_1:
            self.sellable[sym] -= np.where(sell, q, 0)
        else:
            self.sellable[sym] = self.shares[sym]
        # Logged as is, zero fills included; trade_log() drops those and puts sells first.
        self.trades.add(len(sym), row=row, symbol=sym, side=sell, shares=q, price=px,
                        commission=ch[0], stamp_duty=ch[1], transfer_fee=ch[2],
                        slippage=ch[3], dividend_tax=tax,
                        reason=carried)  # False/True: signal/carried
        if cuts:
            lost = np.stack([c for _, c in cuts])
            k, j = np.nonzero(lost)
            reasons = np.array([r for r, _ in cuts], dtype=np.int8)
            self.unfilled.add(k.size, row=row, symbol=sym[j], side=sell[j],
                              shares=lost[k, j], reason=reasons[k])
        self.traded_cny += float(value.sum())
        self.fees_cny += float(fees.sum())
        self.slippage_cny += float(ch[3].sum())
        self.dividend_tax_cny += float(tax.sum())
        return carry

    @staticmethod
    def _gated(q: np.ndarray, mask: np.ndarray, cuts: list[tuple[int, np.ndarray]],
               judge: Callable[[np.ndarray], Sequence[bool] | np.ndarray]) -> np.ndarray:
        """Zero the orders of ``mask`` that ``judge(positions)`` rejects, logging them as
        ``'risk'``; return ``q`` itself when all pass."""
        at = mask.nonzero()[0]
        if not at.size:
            return q
        verdicts = judge(at)
        if all(verdicts):  # the usual case, a few orders: no array needed
            return q
        out = at[~np.asarray(verdicts, dtype=bool)]
        lost = np.zeros_like(q)
        lost[out] = q[out]
        cuts.append((_R["risk"], lost))
        q = q.copy()
        q[out] = 0
        return q

    def _rates(self, day: pd.Timestamp) -> tuple[float, float]:
        """Stamp duty and transfer fee rates of ``day`` (looked up once per day)."""
        found = self._rates_of.get(day)
        if found is None:
            found = self._rates_of[day] = (self.costs.stamp_duty_rate(day),
                                           self.costs.transfer_fee_rate(day))
        return found

    def cache_rates(self, days: pd.DatetimeIndex) -> None:
        """Look up the rates of every session of a run at once (:meth:`Costs.rates_on`)."""
        self._rates_of.update(self.costs.rates_on(days))

    @staticmethod
    def _fit_to_cash(q: np.ndarray, lot_min: np.ndarray, lot_step: np.ndarray, cash: float,
                     charge: object) -> np.ndarray:
        """Scale buys down together, in whole lots, until they and their fees fit in cash.

        ``charge(qty)`` returns ``(value, charges, fees)`` of the buys for share counts
        ``qty``. After the proportional cut, cash left over by rounding down buys one more
        lot for the orders cut most (in that order) while it fits.
        """
        def cost(qty: np.ndarray) -> np.ndarray:
            value, _, fees = charge(qty)  # type: ignore[operator]
            return value + fees

        c = cost(q)
        factor = cash / float(c.sum())
        for _ in range(200):
            qq = np.minimum(lot_floor(np.floor(q * factor), lot_min, lot_step), q)
            c = cost(qq)
            total = float(c.sum())
            if total <= cash:
                break
            factor *= min(cash / total, 0.999)
        else:  # pragma: no cover - the factor shrinks geometrically
            return np.zeros_like(q)
        step = np.where(qq > 0, lot_step, lot_min)
        cand = np.flatnonzero(qq + step <= q)
        if cand.size:
            shortfall = (q[cand] * factor - qq[cand]) / step[cand]
            cand = cand[np.argsort(-shortfall, kind="stable")]
            trial = qq.copy()
            trial[cand] += step[cand]
            extra = cost(trial)[cand] - c[cand]
            take = cand[np.cumsum(extra) <= cash - total]
            if take.size:
                trial = qq.copy()
                trial[take] += step[take]
                if float(cost(trial).sum()) <= cash:
                    qq = trial
        return qq

    def trade_log(self) -> dict[str, np.ndarray]:
        """The fills as arrays: session by session; corporate actions, delistings, sells,
        buys."""
        t = self.trades.arrays()
        filled = t["shares"] > 0
        t = {c: v[filled] for c, v in t.items()}
        first = np.select([t["reason"] == _CORPORATE, t["reason"] == _DELISTED, t["side"] == 1],
                          [0, 1, 2], 3)
        order = np.lexsort((first, t["row"]))  # stable: symbol order kept within a group
        return {c: v[order] for c, v in t.items()}
