"""Pre-trade risk validation: six risk layers plus the A-share exchange's order rules.

A :class:`PreTradeValidator` keeps the portfolio's state (an :class:`AccountState`: cash,
positions, marks, sector values, equity, its peak, the day's P&L base and the drawdown
stop's status), updated in O(1) on each fill and price, and judges every :class:`Order` in
microseconds. It fails closed: whatever it cannot establish (a NaN price, an unknown
symbol, a naive timestamp, missing limit prices, an internal error) rejects the order with
its own reason code.

Checks run in this order and stop at the first failure (the order of :class:`Reason`):

====  ==================  ============================================================
step  layer               reasons
====  ==================  ============================================================
1     ``input``           NAIVE_TIMESTAMP, BAD_SIDE, BAD_QUANTITY, BAD_PRICE
2     ``market_hours``    MARKET_HOURS: outside 09:30-11:30, 13:00-15:00 China time of
                          the started XSHG session (09:15-09:25 too if the opening
                          auction is allowed), or no session started
3     ``security``        UNKNOWN_SYMBOL, DELISTED, SUSPENDED, ST_BLOCKED (buys only)
4     ``order_rules``     T_PLUS_1 (sells), LOT, UNKNOWN_LIMITS, PRICE_BAND
5     ``valuation``       MISSING_PRICE: a held symbol has no valid mark (buys only)
6     ``daily_loss``      DAILY_LOSS (buys only)
7     ``drawdown``        DRAWDOWN (buys only): while the drawdown stop holds (below)
8     ``position_size``   POSITION_SIZE (buys only)
9     ``sector``          SECTOR (buys only)
10    ``leverage``        LEVERAGE (buys only)
–     ``internal``        INTERNAL_ERROR: any exception inside ``check``; and every buy
                          (at step 5) after an event failed part-way (below)
====  ==================  ============================================================

Conventions (what a risk officer signs):

* Long-only cash or margin account: a sell can never exceed the T+1 sellable shares, so
  every valid sell reduces risk and skips steps 5-10; the loss and drawdown stops block
  buys only.
* The daily loss stop holds while equity is more than ``max_daily_loss_rate`` below the
  day's first fully priced equity; the next ``start_day`` rebases it.
* The drawdown stop trips when equity falls more than ``max_drawdown_rate`` below its
  peak (the highest fully priced equity since the start or the last reset) and holds
  until it re-arms by ``RiskLimits.drawdown_rearm``:

  ===========  ==============================================  ============================
  policy       the stop lifts when equity is back within ...   and besides
  ===========  ==============================================  ============================
  ``never``    ``max_drawdown_rate`` of the peak               the peak is never reset
  ``recover``  ``drawdown_recover_rate`` of the peak           the peak is never reset
  ``cooloff``  ``drawdown_recover_rate`` of the peak           after
                                                               ``drawdown_cooloff_sessions``
                                                               XSHG sessions stopped (after
                                                               the tripping one), the peak
                                                               is reset to the equity at
                                                               the next session's start
  ===========  ==============================================  ============================

  ``drawdown_recover_rate`` defaults to ``max_drawdown_rate``. The default policy is
  ``cooloff`` with 20 sessions: a stop that only recovery can lift freezes a portfolio
  that has sold out (its equity no longer moves), so a multi-year backtest would sit in
  cash after its first deep drawdown. ``never`` is the stop as it was before the policy
  existed. The status is public on the :class:`AccountState` (``drawdown_stopped``,
  ``stopped_since_day``, ``stopped_sessions``, ``peak_resets``) and decided by the events
  (``start_day`` counts the sessions and resets the peak, marks and fills trip and lift
  the stop), so ``check`` and ``check_batch`` read one flag (``buy_block``).
* Equity is ``cash + Σ shares × mark`` (CNY), the mark being the last ``on_price`` or
  fill price. A buy is valued at its limit price (the most it can cost); fees are not
  counted. Caps use equity before the order. With ``max_gross_leverage=1.0`` the
  leverage layer is the cash check (cost <= cash).
* A value passes when ``value <= rate × base + TOLERANCE_RATE × |base|``: exactly at the
  limit passes; float rounding of sums (far below a fen) never decides a boundary.
* Times are half-open: 09:30:00 is in, 11:30:00 is out. Limit prices are per day:
  ``start_day`` forgets yesterday's; NaN means "no limit today" (IPO days, as in the bar
  schema); a symbol without limits for today is UNKNOWN_LIMITS. Suspended / ST / delisted
  flags persist until a frame changes them.
* The events (``start_day``, ``update_securities``, ``on_price``, ``on_prices``,
  ``on_fill``, ``on_settlement``) are transactional: each reads and checks its whole input
  first (:mod:`workbench.risk.inputs`), so one that raises (a
  :class:`~workbench.errors.WorkbenchError` naming the bad value) leaves the state as it
  was, and a failed ``start_day`` can be retried for the same day. An error no check
  foresaw, once the changes have begun, fails closed: every buy is refused
  (INTERNAL_ERROR, ``state.fault`` says why) until the next ``start_day`` that succeeds.
  ``snapshot()`` copies the whole state, to compare.
* A sell must be board lots (:func:`workbench.rules.lot_rule`) unless it includes the whole
  odd-lot remainder of the sellable shares (the part below one lot is sold at once).

Modules, bottom to top: ``limits`` (:class:`RiskLimits`), ``orders`` (:class:`Order`,
:class:`Decision`, :class:`Reason`, :class:`Layer`, :func:`rejection_counts`), ``inputs``
(reading the events' dates, frames and prices, changing nothing), ``state``
(:class:`EquityState`, the account-level books, and :class:`AccountState`, updated by
the events), ``batch`` (the vectorised screen behind ``check_batch``, reading a state),
``messages`` (the rejections and their sentences), ``validator``
(:class:`PreTradeValidator`: the checks and the events), ``session``
(:class:`SessionValidator`: the same state and checks on a fixed universe, fed a session
at a time, as the backtester feeds them).
"""

from workbench.risk.limits import DRAWDOWN_REARMS, TOLERANCE_RATE, DrawdownRearm, RiskLimits
from workbench.risk.orders import (
    LAYER_OF,
    MAX_ORDER_SHARES,
    MAX_PRICE_CNY,
    Decision,
    Layer,
    Order,
    Reason,
    rejection_counts,
)
from workbench.risk.session import SessionValidator
from workbench.risk.state import UNKNOWN_SECTOR, AccountState, EquityState
from workbench.risk.validator import PreTradeValidator

__all__ = [
    "DRAWDOWN_REARMS",
    "LAYER_OF",
    "MAX_ORDER_SHARES",
    "MAX_PRICE_CNY",
    "TOLERANCE_RATE",
    "UNKNOWN_SECTOR",
    "AccountState",
    "Decision",
    "DrawdownRearm",
    "EquityState",
    "Layer",
    "Order",
    "PreTradeValidator",
    "Reason",
    "RiskLimits",
    "SessionValidator",
    "rejection_counts",
]
