"""Vectorised screening of many orders against one account state (numpy, no loops).

Each row gets the verdict :meth:`~workbench.risk.PreTradeValidator.check` would give it
alone; the rules are the same, written over arrays, and the tests hold the
two equal. :func:`screen` reads only the public fields of an
:class:`~workbench.risk.state.AccountState`.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.risk.orders import (
    LAYER_OF,
    MAX_ORDER_SHARES,
    MAX_PRICE_CNY,
    TICK_SLACK_FEN,
    Layer,
    Reason,
    parse_fen,
    parse_shares,
)
from workbench.risk.state import AccountState

__all__ = ["LAYER_CODES", "OUT_OF_HOURS_NS", "REASON_CODES", "screen"]

#: UTC nanoseconds standing for a timestamp beyond the nanosecond range (years before 1677
#: or after 2262): inside no session's window, so such an order is MARKET_HOURS.
OUT_OF_HOURS_NS = -(2**63)

_REASONS = list(Reason)
_LAYERS = list(Layer)
#: Reason code (int8 index into ``list(Reason)``) of each reason.
REASON_CODES = {r: np.int8(i) for i, r in enumerate(_REASONS)}
#: Layer code (index into ``list(Layer)``, -1 for accepted) of each reason code.
LAYER_CODES = np.array([-1 if layer is None else _LAYERS.index(layer)
                        for layer in (LAYER_OF[r] for r in _REASONS)], dtype=np.int8)


def screen(state: AccountState, frame: pd.DataFrame) -> np.ndarray:
    """Judge every order of ``frame`` against ``state``, each as if it were the only one.

    Parameters
    ----------
    state
        The account state (read, not changed).
    frame
        Columns ``symbol, side, quantity, limit_price, timestamp`` (checked by the caller).

    Returns
    -------
    numpy.ndarray
        Reason codes (int8, indices into ``list(Reason)``; 0 is ACCEPTED), one per row.
    """
    n = len(frame)
    code = np.zeros(n, dtype=np.int8)
    pending = np.ones(n, dtype=bool)

    def fail(mask: np.ndarray, reason: Reason) -> None:
        hit = pending & mask
        code[hit] = REASON_CODES[reason]
        pending[hit] = False

    t_ns, naive, broken = _batch_times(frame["timestamp"])
    if broken.any():
        fail(broken, Reason.INTERNAL_ERROR)
    fail(naive, Reason.NAIVE_TIMESTAMP)
    buy, sell = _batch_equals(frame["side"], "buy"), _batch_equals(frame["side"], "sell")
    fail(~(buy | sell), Reason.BAD_SIDE)
    q, ok = _batch_shares(frame["quantity"])
    fail(~ok, Reason.BAD_QUANTITY)
    fen, ok = _batch_fen(frame["limit_price"])
    fail(~ok, Reason.BAD_PRICE)
    w = state.window_ns
    fail(~(((w[0] <= t_ns) & (t_ns < w[1])) | ((w[2] <= t_ns) & (t_ns < w[3]))
           | ((w[4] <= t_ns) & (t_ns < w[5]))), Reason.MARKET_HOURS)
    a = state.symbol_arrays()
    idx = _batch_indexer(a["index"], frame["symbol"])
    fail(idx < 0, Reason.UNKNOWN_SYMBOL)
    if not len(a["index"]):
        return code
    j = np.where(idx < 0, 0, idx)
    fail(a["delisted"][j], Reason.DELISTED)
    fail(a["suspended"][j], Reason.SUSPENDED)
    fail(buy & a["st_blocked"][j], Reason.ST_BLOCKED)
    fail(sell & (q > a["sellable"][j]), Reason.T_PLUS_1)
    mn, step, odd = a["min"][j], a["step"][j], a["odd"][j]
    lot_ok = (q >= mn) & ((q - mn) % step == 0)
    d = q - odd
    sell_ok = lot_ok | ((odd > 0) & ((q == odd) | ((d >= mn) & ((d - mn) % step == 0))))
    fail(np.where(buy, ~lot_ok, ~sell_ok), Reason.LOT)
    fail(~a["known"][j], Reason.UNKNOWN_LIMITS)
    fail((fen > a["up"][j]) | (fen < a["down"][j]), Reason.PRICE_BAND)
    if state.buy_block is not None:
        fail(buy, state.buy_block)
        return code
    cost = q * (fen / 100)
    fail(buy & (a["value"][j] + cost > state.position_cap_cny), Reason.POSITION_SIZE)
    fail(buy & (a["sector_value"][j] + cost > state.sector_cap_cny), Reason.SECTOR)
    fail(buy & (state.gross_cny + cost > state.gross_cap_cny), Reason.LEVERAGE)
    return code


def _batch_times(col: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UTC nanoseconds, a naive-or-missing mask (NaT too) and a mask of timestamps whose
    timezone raised (INTERNAL_ERROR in ``check``), by :meth:`PreTradeValidator.check`'s
    rules."""
    n = len(col)
    fine = np.zeros(n, dtype=bool)
    if isinstance(col.dtype, pd.DatetimeTZDtype):
        idx = pd.DatetimeIndex(col)
        try:
            return idx.as_unit("ns").asi8, np.asarray(idx.isna(), dtype=bool), fine
        except (OverflowError, ValueError):  # beyond the nanosecond range: one by one
            pass
    elif col.dtype.kind == "M":
        return np.zeros(n, dtype=np.int64), np.ones(n, dtype=bool), fine
    t_ns = np.zeros(n, dtype=np.int64)
    naive, broken = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for j, x in enumerate(col.tolist()):
        try:
            if x is pd.NaT or not (isinstance(x, dt.datetime) and x.utcoffset() is not None):
                naive[j] = True
                continue
        except Exception:
            broken[j] = True
            continue
        try:
            t_ns[j] = pd.Timestamp(x).as_unit("ns").value
        except (OverflowError, ValueError):
            t_ns[j] = OUT_OF_HOURS_NS
    return t_ns, naive, broken


def _batch_equals(col: pd.Series, text: str) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = col.cat.categories
        hit = np.array([c == text for c in cats], dtype=bool)
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, hit[codes] if len(cats) else False, False)
    if isinstance(col.dtype, pd.StringDtype):
        return (col == text).to_numpy(dtype=bool, na_value=False)
    values = col.to_numpy()
    if values.dtype.kind == "U":
        return values == text
    return np.array([v == text if isinstance(v, str) else False for v in values], dtype=bool)


def _batch_shares(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = col.to_numpy()
    kind = values.dtype.kind
    if kind in "iu":
        ok = (values > 0) & (values <= MAX_ORDER_SHARES)
        return np.where(ok, values, 0).astype(np.int64), ok
    if kind == "f":
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(values) & (values > 0) & (values <= MAX_ORDER_SHARES)
            ok &= np.floor(np.where(ok, values, 0)) == np.where(ok, values, 0)
        return np.where(ok, values, 0).astype(np.int64), ok
    shares = [None if kind == "b" else parse_shares(v) for v in values]
    ok = np.array([s is not None for s in shares], dtype=bool)
    return np.array([s or 0 for s in shares], dtype=np.int64), ok


def _batch_fen(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    values = col.to_numpy()
    kind = values.dtype.kind
    if kind in "iuf":
        p = values.astype(float)
        with np.errstate(invalid="ignore"):
            ok = (p > 0.0) & (p <= MAX_PRICE_CNY)
            f = np.where(ok, p, 0.0) * 100.0
            fen = np.rint(f)
            ok &= np.abs(f - fen) <= TICK_SLACK_FEN
        return np.where(ok, fen, 0.0), ok
    fens = [None if kind == "b" else parse_fen(v) for v in values]
    ok = np.array([f is not None for f in fens], dtype=bool)
    return np.array([f or 0 for f in fens], dtype=float), ok


def _batch_indexer(index: pd.Index, col: pd.Series) -> np.ndarray:
    if isinstance(col.dtype, pd.CategoricalDtype):
        cat_idx = index.get_indexer(col.cat.categories.astype(object))
        codes = col.cat.codes.to_numpy()
        return np.where(codes >= 0, cat_idx[codes] if len(cat_idx) else -1, -1)
    values = col.to_numpy(dtype=object)
    if not pd.api.types.is_string_dtype(col.dtype) or col.dtype == object:
        values = np.array([v if isinstance(v, str) else None for v in values], dtype=object)
    return index.get_indexer(values)

