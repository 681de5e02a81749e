"""Risk sessions: a :class:`~workbench.risk.PreTradeValidator` per session, on the served
market, and the conversions between JSON and the validator's arguments.

A session is opened on one session of the market (:func:`open_validator`): every security
of the market is registered (board, sector, delisting date); the day is started with that
session's bars (limit prices, suspension and ST flags, for the symbols with a bar that
day; the others have no limits, so orders for them are UNKNOWN_LIMITS); positions are
marked at the day's ``prev_close`` (the exchange's reference price before the open) unless
``prices`` gives a mark. From then on the session is the validator: ``check`` is
:meth:`~workbench.risk.PreTradeValidator.check`, ``check-batch`` is
:meth:`~workbench.risk.PreTradeValidator.check_batch`, ``fills`` and ``prices`` are
:meth:`~workbench.risk.PreTradeValidator.on_fill` and
:meth:`~workbench.risk.PreTradeValidator.on_prices`.

Timestamps arrive as ISO 8601 text and become ``pd.Timestamp(text)``: an order sent with
``"2024-01-02T10:00:00+08:00"`` is judged exactly as
``check(Order(..., timestamp=pd.Timestamp("2024-01-02T10:00:00+08:00")))`` in a notebook,
and a time without an offset is rejected (NAIVE_TIMESTAMP), as in process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.data.market import Market
from workbench.errors import ConfigError, LookupFailed
from workbench.risk import Order, PreTradeValidator, RiskLimits
from workbench.serve.problems import Problem

__all__ = ["RiskSession", "RiskSessions", "account", "open_validator", "orders_frame",
           "parse_timestamp", "risk_limits", "session_day"]

_RISK_FIELDS = tuple(f.name for f in dataclasses.fields(RiskLimits))


def risk_limits(data: Mapping[str, Any] | None) -> RiskLimits:
    """:class:`~workbench.risk.RiskLimits` from a JSON object (missing fields: defaults).

    Raises
    ------
    ConfigError
        An unknown field (the valid ones are listed) or a value RiskLimits refuses.

    Examples
    --------
    >>> risk_limits({"max_position_rate": 0.05}).max_position_rate
    0.05
    >>> risk_limits({"max_position": 0.05})
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: unknown risk limit fields ['max_position']; valid: \
['allow_opening_auction', 'block_st_buys', 'drawdown_cooloff_sessions', 'drawdown_rearm', \
'drawdown_recover_rate', 'max_daily_loss_rate', 'max_drawdown_rate', 'max_gross_leverage', \
'max_position_rate', 'max_sector_rate']
    """
    values = dict(data or {})
    if unknown := sorted(set(values) - set(_RISK_FIELDS)):
        raise ConfigError(f"unknown risk limit fields {unknown}; valid: {sorted(_RISK_FIELDS)}")
    return RiskLimits(**values)


def session_day(market: Market, date: str | None) -> int:
    """The row of ``date`` in the market's calendar (None: the last session).

    Raises
    ------
    ConfigError
        A date that is not a session of the market.
    """
    cal = market.calendar
    if len(cal) == 0:
        raise ConfigError(f"market {market.name!r} has no sessions to open a risk session on")
    if date is None:
        return len(cal) - 1
    try:
        day = pd.Timestamp(date)
    except (TypeError, ValueError):
        raise ConfigError(f"date {date!r} is not a date; write e.g. "
                          f"{cal[-1].date().isoformat()!r}") from None
    if pd.isna(day) or day.tzinfo is not None or day != day.normalize():
        raise ConfigError(f"date {date!r} must be a day such as {cal[-1].date().isoformat()!r} "
                          "(no time, no time zone)")
    row = int(cal.searchsorted(day))
    if row >= len(cal) or cal[row] != day:
        raise ConfigError(f"date {day.date()} is not a session of market {market.name!r} "
                          f"({cal[0].date()}..{cal[-1].date()}); give one of its sessions, or "
                          "leave it out for the last one")
    return row


def _master(market: Market) -> pd.DataFrame:
    sec = market.securities
    return pd.DataFrame({"symbol": sec["symbol"].astype(str).to_numpy(),
                         "board": sec["board"].astype(str).to_numpy(),
                         "sector": sec["sector"].to_numpy(dtype=object),
                         "delist_date": sec["delist_date"].to_numpy()})


def open_validator(market: Market, *, cash_cny: float, date: str | None = None,
                   limits: RiskLimits | None = None, positions: Mapping[str, int] | None = None,
                   prices: Mapping[str, float] | None = None
                   ) -> tuple[PreTradeValidator, pd.Timestamp]:
    """A validator on ``market``, its day started on ``date`` (see the module docstring).

    Parameters
    ----------
    market
        The served market.
    cash_cny
        Cash at the start, CNY.
    date
        A session of the market (ISO date); None: the last one.
    limits
        The limits; RiskLimits defaults when None.
    positions
        Shares held at the start (all sellable), symbol -> shares.
    prices
        Marks, CNY per share, over the day's ``prev_close``.

    Returns
    -------
    tuple
        The validator and the started day.

    Raises
    ------
    ConfigError
        A date that is not a session, cash that is not finite, a fractional position.
    LookupFailed
        A symbol the market does not have.
    """
    row = session_day(market, date)
    day = market.calendar[row]
    symbols = np.asarray(market.symbols, dtype=object)
    index = {s: i for i, s in enumerate(symbols.tolist())}
    for what, names in (("positions", positions or {}), ("prices", prices or {})):
        if unknown := [s for s in names if s not in index][:1]:
            raise LookupFailed(f"{what}: unknown symbol {unknown[0]!r}; the market has "
                               f"{len(index)} symbols (GET /v1/market lists them)")
    reference = market.grid("prev_close")[row]
    marks = {s: float(reference[index[s]]) for s, q in (positions or {}).items() if q}
    marks = {s: p for s, p in marks.items() if math.isfinite(p)} | dict(prices or {})
    validator = PreTradeValidator(limits, cash_cny=cash_cny,
                                  securities=market.memo("serve:master", lambda: _master(market)),
                                  positions=positions, prices=marks)
    has_bar = np.isfinite(market.grid("close")[row])
    validator.start_day(day, pd.DataFrame({
        "symbol": symbols[has_bar],
        "limit_up": market.grid("limit_up")[row][has_bar],
        "limit_down": market.grid("limit_down")[row][has_bar],
        "suspended": market.grid("suspended")[row][has_bar].astype(bool),
        "is_st": market.grid("is_st")[row][has_bar].astype(bool),
    }))
    return validator, day


def parse_timestamp(text: str, where: str = "timestamp") -> pd.Timestamp:
    """``pd.Timestamp(text)``, or a ConfigError that says how to write one.

    Examples
    --------
    >>> parse_timestamp("2024-01-02T10:00:00+08:00")
    Timestamp('2024-01-02 10:00:00+0800', tz='UTC+08:00')
    """
    try:
        ts = pd.Timestamp(text)
    except (TypeError, ValueError, OverflowError):
        ts = pd.NaT
    if pd.isna(ts):
        raise ConfigError(f"{where} {text!r} is not an ISO 8601 time; write e.g. "
                          "'2024-01-02T10:00:00+08:00' (China time, with its offset)")
    return ts


def order_of(data: Mapping[str, Any]) -> Order:
    """The :class:`~workbench.risk.Order` of a JSON order (fields already type-checked)."""
    return Order(symbol=data["symbol"], side=data["side"], quantity=data["quantity"],
                 limit_price=data["limit_price"],
                 timestamp=parse_timestamp(data["timestamp"]))


def orders_frame(orders: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """The frame :meth:`~workbench.risk.PreTradeValidator.check_batch` reads, from JSON
    orders: one row per order, timestamps as ``pd.Timestamp(text)``."""
    stamps = []
    for i, o in enumerate(orders):
        stamps.append(parse_timestamp(o["timestamp"], f"orders[{i}].timestamp"))
    return pd.DataFrame({"symbol": [o["symbol"] for o in orders],
                         "side": [o["side"] for o in orders],
                         "quantity": np.array([o["quantity"] for o in orders], dtype=object),
                         "limit_price": [float(o["limit_price"]) for o in orders],
                         "timestamp": stamps})


def _number(x: float) -> float | None:
    return x if math.isfinite(x) else None


def account(validator: PreTradeValidator) -> dict[str, Any]:
    """The validator's account as JSON: cash, equity, P&L, the stops and the positions."""
    state = validator.state
    positions = [{"symbol": s.symbol, "held": s.held, "sellable": s.sellable,
                  "mark": _number(s.mark), "value_cny": s.value}
                 for s in state.securities.values() if s.held]
    block = state.buy_block
    return {"day": None if state.day is None else state.day.date().isoformat(),
            "cash_cny": state.cash_cny, "equity_cny": _number(validator.equity_cny),
            "peak_equity_cny": _number(validator.peak_equity_cny),
            "day_pnl_cny": _number(validator.day_pnl_cny),
            "buy_block": None if block is None else block.value,
            "drawdown_stopped": state.drawdown_stopped,
            "limits": dataclasses.asdict(validator.limits), "positions": positions}


@dataclass(eq=False)
class RiskSession:
    """One session: its validator, and a lock that orders the events and checks on it."""

    id: str
    validator: PreTradeValidator
    created: float = field(default_factory=time.time)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class RiskSessions:
    """The open sessions, at most ``limit`` at once.

    Parameters
    ----------
    limit
        Most sessions held; one more is refused (429) until one is deleted.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sessions: dict[str, RiskSession] = {}

    def add(self, validator: PreTradeValidator) -> RiskSession:
        """Hold ``validator`` as a new session; raise a 429 Problem when full."""
        if len(self.sessions) >= self.limit:
            raise Problem(429, f"{len(self.sessions)} risk sessions are open, the most this "
                          "service holds (--max-sessions); DELETE /v1/risk/sessions/{id} the "
                          "ones you no longer need", headers={"Retry-After": "1"})
        session = RiskSession(secrets.token_hex(8), validator)
        self.sessions[session.id] = session
        return session

    def get(self, session_id: str) -> RiskSession:
        """The session ``session_id``; a 404 Problem when there is none."""
        session = self.sessions.get(session_id)
        if session is None:
            raise Problem(404, f"no risk session {session_id!r}: it was deleted, never "
                          "created, or the service restarted; POST /v1/risk/sessions opens "
                          "one")
        return session

    def remove(self, session_id: str) -> None:
        """Close the session ``session_id`` (404 Problem when there is none)."""
        self.get(session_id)
        del self.sessions[session_id]
