"""Orders, decisions and the stable reason codes of the pre-trade validator."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "ACCEPTED",
    "LAYER_OF",
    "MAX_ORDER_SHARES",
    "MAX_PRICE_CNY",
    "TICK_SLACK_FEN",
    "Decision",
    "Layer",
    "Order",
    "Reason",
    "parse_fen",
    "parse_shares",
    "reject",
    "rejection_counts",
]

#: Sanity bounds of an order: anything above is BAD_QUANTITY / BAD_PRICE, not a real order.
MAX_ORDER_SHARES = 1_000_000_000
MAX_PRICE_CNY = 1_000_000.0
TICK_SLACK_FEN = 1e-6  # a price is on the 0.01 CNY tick when within 1e-6 fen of it


class Layer(StrEnum):
    """The layer an order failed in (``Decision.layer``; None when accepted)."""

    INPUT = "input"
    MARKET_HOURS = "market_hours"
    SECURITY = "security"
    ORDER_RULES = "order_rules"
    VALUATION = "valuation"
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    POSITION_SIZE = "position_size"
    SECTOR = "sector"
    LEVERAGE = "leverage"
    INTERNAL = "internal"


class Reason(StrEnum):
    """Stable reason codes, declared in the order the checks run."""

    ACCEPTED = "ACCEPTED"
    NAIVE_TIMESTAMP = "NAIVE_TIMESTAMP"  # not a timezone-aware datetime
    BAD_SIDE = "BAD_SIDE"  # side not 'buy' or 'sell'
    BAD_QUANTITY = "BAD_QUANTITY"  # not a whole number in 1..MAX_ORDER_SHARES
    BAD_PRICE = "BAD_PRICE"  # not finite, <= 0, > MAX_PRICE_CNY or off the 0.01 tick
    MARKET_HOURS = "MARKET_HOURS"
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    DELISTED = "DELISTED"
    SUSPENDED = "SUSPENDED"
    ST_BLOCKED = "ST_BLOCKED"
    T_PLUS_1 = "T_PLUS_1"  # sell above today's sellable shares
    LOT = "LOT"
    UNKNOWN_LIMITS = "UNKNOWN_LIMITS"  # no limit prices registered for today
    PRICE_BAND = "PRICE_BAND"
    MISSING_PRICE = "MISSING_PRICE"  # a held symbol has no valid mark: equity unknown
    DAILY_LOSS = "DAILY_LOSS"
    DRAWDOWN = "DRAWDOWN"
    POSITION_SIZE = "POSITION_SIZE"
    SECTOR = "SECTOR"
    LEVERAGE = "LEVERAGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


_L, _R = Layer, Reason
LAYER_OF: dict[Reason, Layer | None] = {
    _R.ACCEPTED: None,
    **dict.fromkeys((_R.NAIVE_TIMESTAMP, _R.BAD_SIDE, _R.BAD_QUANTITY, _R.BAD_PRICE), _L.INPUT),
    _R.MARKET_HOURS: _L.MARKET_HOURS,
    **dict.fromkeys((_R.UNKNOWN_SYMBOL, _R.DELISTED, _R.SUSPENDED, _R.ST_BLOCKED), _L.SECURITY),
    **dict.fromkeys((_R.T_PLUS_1, _R.LOT, _R.UNKNOWN_LIMITS, _R.PRICE_BAND), _L.ORDER_RULES),
    _R.MISSING_PRICE: _L.VALUATION,
    _R.DAILY_LOSS: _L.DAILY_LOSS,
    _R.DRAWDOWN: _L.DRAWDOWN,
    _R.POSITION_SIZE: _L.POSITION_SIZE,
    _R.SECTOR: _L.SECTOR,
    _R.LEVERAGE: _L.LEVERAGE,
    _R.INTERNAL_ERROR: _L.INTERNAL,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Order:
    """A limit order to judge; not validated here, so that the validator can reject it.

    ``side`` is ``'buy'`` or ``'sell'``, ``quantity`` in shares, ``limit_price`` in CNY,
    ``timestamp`` a timezone-aware datetime (``pd.Timestamp`` or ``datetime.datetime``).
    """

    symbol: str
    side: Literal["buy", "sell"]
    quantity: int
    limit_price: float
    timestamp: dt.datetime


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one order; truthy when accepted.

    ``layer`` is the failing :class:`Layer` (None when accepted), ``reason`` a stable
    :class:`Reason`, ``message`` a sentence with the numbers behind the verdict.
    """

    accepted: bool
    layer: Layer | None
    reason: Reason
    message: str

    def __bool__(self) -> bool:
        return self.accepted


ACCEPTED = Decision(True, None, Reason.ACCEPTED, "accepted")


def reject(reason: Reason, message: str) -> Decision:
    """A rejection in the layer its reason belongs to."""
    return Decision(False, LAYER_OF[reason], reason, message)


def parse_shares(q: Any) -> int | None:
    """A whole share count in 1..MAX_ORDER_SHARES, or None (bools, fractions, NaN, text)."""
    if type(q) is int:
        return q if 0 < q <= MAX_ORDER_SHARES else None
    if isinstance(q, (bool, np.bool_)):
        return None
    whole = isinstance(q, (int, np.integer)) or (
        isinstance(q, (float, np.floating)) and math.isfinite(q) and float(q).is_integer()
    )
    if not whole:
        return None
    n = int(q)
    return n if 0 < n <= MAX_ORDER_SHARES else None


def parse_fen(p: Any) -> int | None:
    """The price in whole fen, or None when it is not a valid A-share limit price."""
    if type(p) is not float:
        if isinstance(p, (bool, np.bool_)) or not isinstance(
            p, (int, float, np.integer, np.floating)
        ):
            return None
        p = float(p)
    if not 0.0 < p <= MAX_PRICE_CNY:  # NaN fails too
        return None
    f = p * 100.0
    fen = round(f)
    return fen if abs(f - fen) <= TICK_SLACK_FEN else None


def rejection_counts(decisions: Iterable[Decision] | pd.DataFrame) -> pd.DataFrame:
    """Count rejections per layer and reason, in check order.

    Parameters
    ----------
    decisions
        :class:`Decision` objects from :meth:`PreTradeValidator.check`, or the frame
        :meth:`PreTradeValidator.check_batch` returns.

    Returns
    -------
    pandas.DataFrame
        Columns ``layer, reason, count``, one row per reason that occurred (accepted orders
        are not counted). ``.groupby("layer")["count"].sum()`` gives per-layer totals.

    Examples
    --------
    >>> ok = Decision(True, None, Reason.ACCEPTED, "accepted")
    >>> lot = Decision(False, Layer.ORDER_RULES, Reason.LOT, "odd lot")
    >>> rejection_counts([ok, lot, lot]).to_dict("records")
    [{'layer': 'order_rules', 'reason': 'LOT', 'count': 2}]
    """
    if isinstance(decisions, pd.DataFrame):
        reasons = decisions["reason"].astype(object).tolist()
    else:
        reasons = [d.reason for d in decisions]
    counts = pd.Series(reasons, dtype=object).value_counts()
    rows = [(str(LAYER_OF[r]), r.value, int(counts[r.value])) for r in Reason
            if r is not Reason.ACCEPTED and r.value in counts.index]
    return pd.DataFrame(rows, columns=["layer", "reason", "count"])
