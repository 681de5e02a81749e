"""The rejections of the pre-trade checks, with the sentence that explains each.

One function per kind of rejection, read from an account state: every check that rejects
(:meth:`~workbench.risk.PreTradeValidator.check` one order at a time,
:class:`~workbench.risk.session.SessionValidator` a session at a time) builds its
:class:`~workbench.risk.orders.Decision` here, so the two give the same sentences. The
input-layer rejections (NAIVE_TIMESTAMP, BAD_SIDE, BAD_QUANTITY, BAD_PRICE) and
UNKNOWN_SYMBOL belong to ``check`` alone and stay there.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from workbench.calendar import MARKET_TZ
from workbench.risk.orders import Decision, Reason, reject
from workbench.risk.state import EquityState, SymbolState

__all__ = ["cap_rejection", "day_text", "hours_rejection", "stop_rejection",
           "symbol_rejection"]

_SHANGHAI = ZoneInfo(MARKET_TZ)


def _pct(x: float) -> str:
    return f"{x:.2%}"


def day_text(state: EquityState) -> str:
    """The started day as ``YYYY-MM-DD``, or ``'no day'``."""
    day = state.day
    return "no day" if day is None else str(day.date())


def hours_rejection(state: EquityState, ts: dt.datetime) -> Decision:
    """MARKET_HOURS for an order stamped ``ts`` (tz-aware), saying why the time is out."""
    # datetime arithmetic, not pandas: a rejection should cost microseconds too
    try:
        seconds = ts.value / 1e9 if isinstance(ts, pd.Timestamp) else ts.timestamp()
    except OverflowError:  # a Timestamp beyond the nanosecond range: in no session
        seconds = ts.timestamp()
    try:
        local = dt.datetime.fromtimestamp(seconds, _SHANGHAI)
    except (OverflowError, ValueError, OSError):  # beyond the years datetime holds
        local = ts
    day = state.day
    if day is None:
        why = "no trading day started; call start_day first"
    elif not state.session:
        why = f"{day.date()} is not an XSHG session"
    elif local.date() != day.date():
        why = f"the started day is {day.date()}; call start_day for a new day"
    else:
        auction = ", 09:15-09:25" if state.limits.allow_opening_auction else ""
        why = f"orders are taken 09:30-11:30, 13:00-15:00{auction} China time"
    return reject(Reason.MARKET_HOURS, f"{local:%Y-%m-%d %H:%M:%S} {MARKET_TZ}: {why}")


def symbol_rejection(reason: Reason, state: EquityState, sec: SymbolState, side: str, q: int,
                     fen: float) -> Decision:
    """A rejection by the security or order-rule layer (DELISTED to PRICE_BAND).

    Parameters
    ----------
    reason
        DELISTED, SUSPENDED, ST_BLOCKED, T_PLUS_1, LOT, UNKNOWN_LIMITS or PRICE_BAND.
    state, sec
        The account and the order's symbol, as judged.
    side, q, fen
        The order: ``'buy'`` or ``'sell'``, shares, limit price in fen.
    """
    symbol = sec.symbol
    if reason is Reason.DELISTED:
        return reject(reason, f"{symbol} is delisted")
    if reason is Reason.SUSPENDED:
        return reject(reason, f"{symbol} is suspended on {day_text(state)}")
    if reason is Reason.ST_BLOCKED:
        return reject(reason, f"{symbol} is ST and limits.block_st_buys is on")
    if reason is Reason.T_PLUS_1:
        return reject(reason, f"sell {q} {symbol}: only {sec.sellable} of {sec.held} shares "
                      "are sellable today (T+1)")
    if reason is Reason.LOT:
        rule = (f"lots of {sec.min_shares}" if sec.min_shares == sec.step_shares else
                f"at least {sec.min_shares} then steps of {sec.step_shares}")
        odd = f"; or include the odd lot of {sec.odd}" if side == "sell" and sec.odd else ""
        return reject(reason, f"{side} {q} {symbol}: {sec.board} orders are {rule} "
                      f"shares{odd}")
    if reason is Reason.UNKNOWN_LIMITS:
        return reject(reason, f"no limit prices for {symbol} on {day_text(state)}; pass "
                      "limit_up/limit_down to start_day (NaN for no limit)")
    if reason is Reason.PRICE_BAND:
        return reject(reason, f"{side} {symbol} at {fen / 100:.2f} CNY is outside today's "
                      f"band [{sec.limit_down_fen / 100:.2f}, {sec.limit_up_fen / 100:.2f}]")
    raise ValueError(f"{reason} is not a security or order-rule reason")


def stop_rejection(state: EquityState, reason: Reason) -> Decision:
    """A buy refused while ``state.buy_block`` (INTERNAL_ERROR, MISSING_PRICE, DAILY_LOSS or
    DRAWDOWN) holds."""
    s = state
    if reason is Reason.INTERNAL_ERROR:
        return reject(reason, f"buys refused until the next start_day: {s.fault}")
    if reason is Reason.MISSING_PRICE:
        names = ", ".join(sorted(s.unpriced)[:5])
        return reject(reason, f"no valid price for held {names}: equity unknown, buys "
                      "refused until on_price gives one")
    lim = s.limits
    if reason is Reason.DAILY_LOSS:
        numbers: tuple[float, ...] = (s.priced_equity_cny, s.day_base_cny or 0.0,
                                      lim.max_daily_loss_rate)
        words: tuple[Any, ...] = ()
    else:
        numbers = (s.priced_equity_cny, s.peak_cny or 0.0, lim.max_drawdown_rate,
                   lim.drawdown_release_rate)
        words = (s.stopped_since_day, s.stopped_sessions, lim.drawdown_rearm,
                 lim.drawdown_cooloff_sessions)
    # 0.0 and -0.0 are one key but print differently: a zero is never looked up
    build = _stop_refusal if all(numbers) else _stop_refusal.__wrapped__
    return build(reason, numbers, words)


@lru_cache(maxsize=64)
def _stop_refusal(reason: Reason, numbers: tuple[float, ...], words: tuple[Any, ...]
                  ) -> Decision:
    """The DAILY_LOSS or DRAWDOWN refusal showing ``numbers`` and ``words``. Every buy of a
    stopped session gets the same one (nothing changes while all are refused), so it is
    built once per distinct input: a pure function, kept per process."""
    if reason is Reason.DAILY_LOSS:
        equity, sod, max_loss = numbers
        pnl = equity - sod
        return reject(reason, f"day's P&L {pnl:,.2f} CNY is "
                      f"{_pct(pnl / sod) if sod else 'n/a'} of start-of-day equity "
                      f"{sod:,.2f} CNY, beyond -{_pct(max_loss)}; only risk-reducing sells "
                      "pass")
    equity, peak, max_drawdown, release = numbers
    since_day, sessions, rearm, cooloff = words
    since = "" if since_day is None else f" since {since_day.date()}"
    lifts = f"equity is back within {_pct(release)} of the peak"
    if rearm == "never":
        then = f"until {lifts} (drawdown_rearm='never': the peak is never reset)"
    elif rearm == "recover":
        then = f"until {lifts}"
    else:
        then = (f"until {lifts} or, after {cooloff} more sessions (this is session "
                f"{sessions}), the peak resets")
    return reject(reason, f"equity {equity:,.2f} CNY is "
                  f"{_pct(1 - equity / peak) if peak else 'n/a'} below its peak "
                  f"{peak:,.2f} CNY, limit {_pct(max_drawdown)}; stopped{since}, "
                  f"only risk-reducing sells pass {then}")


def cap_rejection(reason: Reason, state: EquityState, sec: SymbolState, q: int,
                  after: float) -> Decision:
    """A buy of ``q`` shares of ``sec`` that would take a position (POSITION_SIZE), its
    sector (SECTOR) or all positions (LEVERAGE) to ``after`` CNY, over the cap."""
    lim = state.limits
    eq = state.priced_equity_cny
    share = _pct(after / eq) if eq > 0 else "n/a"
    head = f"buy {q} {sec.symbol}: "
    if reason is Reason.POSITION_SIZE:
        what, cap = "position", _pct(lim.max_position_rate)
    elif reason is Reason.SECTOR:
        what, cap = f"sector {sec.sector}", _pct(lim.max_sector_rate)
    elif reason is Reason.LEVERAGE:
        what, cap = "gross exposure", f"{lim.max_gross_leverage:g}x"
        share = f"{after / eq:.4f}x" if eq > 0 else "n/a"
    else:
        raise ValueError(f"{reason} is not a cap reason")
    return reject(reason, f"{head}{what} would be {after:,.2f} CNY = {share} of equity "
                  f"{eq:,.2f} CNY, limit {cap}")
