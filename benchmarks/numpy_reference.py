"""A plain numpy reference of the ``ma_trend`` workload, for speed comparisons only.

It implements the decision rule of :class:`workbench.strategies.technical.MATrend` with its
defaults (MA 20 / MA 60 of the backward-adjusted close, up to 50 names in slots of 1/50 of
equity, strongest ``fast / slow`` first, ties in symbol order) on dense sessions × symbols
arrays: after every close, held names whose fast average is no longer above the slow one
are sold, and the free slots go to names in an up-trend not held yet; orders fill at the
next session's open. Names still trending are kept as they are (no trade).

What it omits (the engine does all of these): board lots and whole shares (it trades
fractional shares), price limits (a buy at limit-up or a sale at limit-down fills here),
suspensions and listing/ST filters beyond "has a price", T+1, commissions, stamp duty,
transfer fees and slippage, cash settlement and order bookkeeping (trade and unfilled
tables), corporate actions, risk checks, and any result tables beyond daily equity.
"""

from __future__ import annotations

import numpy as np


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Simple moving average down the rows; NaN until ``window`` rows, or a NaN inside."""
    valid = np.isfinite(values)
    total = np.cumsum(np.where(valid, values, 0.0), axis=0)
    count = np.cumsum(valid, axis=0)
    out = np.full(values.shape, np.nan)
    out[window - 1] = total[window - 1]
    out[window:] = total[window:] - total[:-window]
    n = count.copy()
    n[window:] -= count[:-window]
    out /= window
    out[n != window] = np.nan
    out[: window - 1] = np.nan
    return out


def ma_trend_reference(open_: np.ndarray, close: np.ndarray, adj_factor: np.ndarray, *,
                       fast: int = 20, slow: int = 60, max_names: int = 50,
                       cash: float = 1_000_000.0) -> np.ndarray:
    """Daily equity (yuan, at each close) of the MA-trend rule on dense arrays.

    Parameters
    ----------
    open_, close, adj_factor
        Sessions × symbols arrays (yuan per share; factor dimensionless), NaN where a
        symbol has no bar.
    fast, slow, max_names
        As in ``MATrend``.
    cash
        Starting cash in yuan.
    """
    adj_close = close * adj_factor
    f, s = moving_average(adj_close, fast), moving_average(adj_close, slow)
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = f / s
    up = f > s  # NaN compares False
    n_days, n_sym = close.shape
    shares = np.zeros(n_sym)
    last = np.zeros(n_sym)  # last known close, for marking held names without a bar
    equity = np.empty(n_days)
    sells = np.zeros(0, dtype=np.int64)
    buys = np.zeros(0, dtype=np.int64)
    buy_value = 0.0
    for t in range(n_days):
        px = open_[t]
        if sells.size:  # yesterday's orders fill at today's open
            ok = sells[np.isfinite(px[sells])]
            cash += float(shares[ok] @ px[ok])
            shares[ok] = 0.0
        if buys.size:
            ok = buys[np.isfinite(px[buys]) & (px[buys] > 0)]
            if ok.size:
                value = min(buy_value, cash / ok.size)
                shares[ok] = value / px[ok]
                cash -= value * ok.size
        row = close[t]
        seen = np.isfinite(row)
        last[seen] = row[seen]
        held = shares > 0
        equity[t] = cash + float(shares[held] @ last[held])
        if t + 1 < slow:
            sells = buys = np.zeros(0, dtype=np.int64)
            continue
        up_t = up[t]
        sells = np.flatnonzero(held & ~up_t)
        free = max_names - int(held.sum()) + sells.size
        cand = np.flatnonzero(up_t & ~held & seen)
        buys = cand[np.argsort(-strength[t, cand], kind="stable")][:max(free, 0)]
        buy_value = equity[t] / max_names
    return equity
