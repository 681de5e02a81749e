"""Cross-sectional building blocks shared by the strategies: ranks, picks and slot weights.

Everything works on one session's row: 1-D arrays aligned with ``view.symbols``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench.checks import whole_number
from workbench.view import MarketView

__all__ = [
    "check_count",
    "equal_weights",
    "percentile_rank",
    "percentile_ranks",
    "rebalance_due",
    "slot_weights",
    "strongest",
    "top_n",
]

#: Kept holdings are asked for at their weight times this, so that the engine's
#: ``floor(weight * equity / price)`` gives back exactly the shares held (no odd-lot orders).
_KEEP = 1.0 + 1e-10


def check_count(strategy: str, field: str, value: object, minimum: int = 1) -> None:
    """Raise ConfigError unless ``value`` is a whole number >= ``minimum``."""
    whole_number(value, f"{strategy}: {field}", minimum=minimum)


def percentile_rank(values: np.ndarray, mask: np.ndarray,
                    groups: np.ndarray | None = None) -> np.ndarray:
    """Mid-rank percentile of each value among the finite values under ``mask``.

    The ``k``-th smallest of ``n`` (``k`` from 0) gets ``(k + 0.5) / n``, so percentiles
    lie in (0, 1) and are symmetric; tied values share their mean rank. With ``groups``
    (integer codes, e.g. sectors) each value is ranked within its group only.

    Returns
    -------
    np.ndarray
        Float per entry; NaN where ``mask`` is False or the value is not finite.

    Examples
    --------
    >>> percentile_rank(np.array([3.0, 1.0, np.nan, 2.0, 2.0]), np.ones(5, bool)).tolist()
    [0.875, 0.125, nan, 0.5, 0.5]
    >>> percentile_rank(np.array([1.0, 2.0, 5.0, 9.0]), np.ones(4, bool),
    ...                 groups=np.array([0, 0, 1, 1])).tolist()
    [0.25, 0.75, 0.25, 0.75]
    """
    out = np.full(values.shape, np.nan)
    idx = np.flatnonzero(mask & np.isfinite(values))
    if not idx.size:
        return out
    v = values[idx]
    if groups is None:  # one group: a stable sort by value (as lexsort with one group)
        order = np.argsort(v, kind="stable")
        out[idx[order]] = _mid_percentiles(v[order], None)
        return out
    g = groups[idx]
    order = np.lexsort((v, g))
    gs = g[order]
    new_group = np.empty(idx.size, dtype=bool)
    new_group[0] = True
    np.not_equal(gs[1:], gs[:-1], out=new_group[1:])
    out[idx[order]] = _mid_percentiles(v[order], new_group)
    return out


def percentile_ranks(columns: Sequence[np.ndarray], mask: np.ndarray,
                     groups: np.ndarray | None = None) -> list[np.ndarray]:
    """:func:`percentile_rank` of each of ``columns`` (same shape, one row of symbols
    each) under the same ``mask`` and ``groups``, computed in one pass.

    Each column is ranked on its own; the answer is exactly ``[percentile_rank(c, mask,
    groups) for c in columns]`` (the same floats), for the cost of about one call (a
    strategy ranking four factors calls this once per session).

    Examples
    --------
    >>> a, b = np.array([3.0, 1.0, np.nan, 2.0]), np.array([0.5, 0.5, 0.1, np.inf])
    >>> ra, rb = percentile_ranks([a, b], np.ones(4, bool))
    >>> (ra * 12).tolist(), (rb * 6).tolist()  # 12ths and 6ths
    ([10.0, 2.0, nan, 6.0], [4.0, 4.0, 1.0, nan])
    """
    if len(columns) <= 1:
        return [percentile_rank(c, mask, groups) for c in columns]
    values = np.stack(columns)  # factor x symbol
    width = values.shape[1]
    out = np.full(values.shape, np.nan)
    flat = np.flatnonzero(mask & np.isfinite(values))  # the mask applies to every column
    if not flat.size:
        return list(out)
    v = values.reshape(-1)[flat]
    column = flat // width
    # sorted by column, then group, then value; in each column as percentile_rank sorts
    order = (np.lexsort((v, column)) if groups is None else
             np.lexsort((v, groups[flat - column * width], column)))
    cs = column[order]
    new_group = np.empty(flat.size, dtype=bool)
    new_group[0] = True
    np.not_equal(cs[1:], cs[:-1], out=new_group[1:])
    if groups is not None:
        gs = groups[flat - column * width][order]
        new_group[1:] |= gs[1:] != gs[:-1]
    out.reshape(-1)[flat[order]] = _mid_percentiles(v[order], new_group)
    return list(out)


def _mid_percentiles(vs: np.ndarray, new_group: np.ndarray | None) -> np.ndarray:
    """Percentile of each of the sorted values ``vs`` within its group (a run starting
    where ``new_group`` is True; None: one group), tied values at their mean rank.

    Positions are whole numbers and mean ranks halves of whole numbers, all exact in
    float64, so ranks taken within a group of a longer array equal those of the group
    alone."""
    n = vs.size
    pos = np.arange(n)
    new_value = np.empty(n, dtype=bool)
    new_value[0] = True
    np.not_equal(vs[1:], vs[:-1], out=new_value[1:])
    if new_group is not None:
        new_value |= new_group
    run_start = pos[new_value]
    run_mid = (run_start + np.append(run_start[1:], n) - 1) / 2.0  # mean rank of a tie
    rank = run_mid[np.cumsum(new_value) - 1]
    if new_group is None:
        return (rank + 0.5) / n
    group_start = pos[new_group]
    group_size = np.diff(group_start, append=n)
    group_of = np.cumsum(new_group) - 1
    return (rank - group_start[group_of] + 0.5) / group_size[group_of]


def top_n(score: np.ndarray, eligible: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` highest finite scores among ``eligible``, best first.

    Ties go to the earlier symbol (symbols are sorted), so the pick is deterministic.

    Examples
    --------
    >>> top_n(np.array([0.2, 0.9, np.nan, 0.9, 0.5]), np.array([1, 1, 1, 1, 0], bool), 2)
    array([1, 3])
    """
    idx = np.flatnonzero(eligible & np.isfinite(score))
    return idx[np.argsort(-score[idx], kind="stable")[:n]]


def strongest(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` largest values, largest first, ties in position order.

    The same as ``np.argsort(-values, kind="stable")[:k]`` (NaN last), without sorting
    every value when ``k`` is smaller: a slot strategy asks each session for the few best
    of a thousand names.

    Examples
    --------
    >>> strongest(np.array([0.2, 0.9, np.nan, 0.9, 0.5]), 3)
    array([1, 3, 4])
    """
    if 0 < k < values.size:
        if k == 1:
            i = int(np.argmax(values))  # the first largest; the first NaN if there is one
            if values[i] == values[i]:
                return np.array([i])
        else:
            neg = -values
            kth = neg[np.argpartition(neg, k - 1)[k - 1]]  # k-th smallest (NaN sorts last)
            if kth == kth:
                # every value up to the k-th, ties included, sorted as the full sort would
                take = (neg <= kth).nonzero()[0]
                return take[np.argsort(neg[take], kind="stable")[:k]]
    return np.argsort(-values, kind="stable")[:k]


def equal_weights(chosen: np.ndarray, n_symbols: int) -> np.ndarray:
    """Weights ``1 / len(chosen)`` on the positions ``chosen``, 0 elsewhere (all 0 if none).

    Examples
    --------
    >>> equal_weights(np.array([0, 2]), 4).tolist()
    [0.5, 0.0, 0.5, 0.0]
    """
    w = np.zeros(n_symbols)
    if len(chosen):
        w[chosen] = 1.0 / len(chosen)
    return w


def _current_weights(view: MarketView, at: np.ndarray) -> np.ndarray:
    """``view.weights[at]`` for held positions ``at``, with the same arithmetic."""
    close = view.latest("close")[at]
    value = view.holdings[at] * np.where(np.isfinite(close), close, 0.0)
    eq = view.equity_cny
    return value / eq if eq > 0 else np.zeros_like(value)


def rebalance_due(view: MarketView) -> bool:
    """True on the backtest's first session and on the first session of every month."""
    return view.is_first or view.is_month_start


def slot_weights(view: MarketView, keep: np.ndarray, entries: np.ndarray,
                 max_names: int) -> np.ndarray | None:
    """Weights for a strategy that holds up to ``max_names`` names in slots of ``1 / max_names``.

    Held names in ``keep`` stay at their current weight (no trading), held names not in it
    are sold, and ``entries`` (positions, best first) fill the free slots at ``1 /
    max_names`` each, or an equal share of the free cash when there is less. Returns None
    when nothing would change: no sale and no entry.

    Parameters
    ----------
    view
        Today's view (holdings, current weights).
    keep
        Boolean mask of held names to keep.
    entries
        Candidate positions to buy, best first (held names among them are skipped).
    max_names
        Most names held at once.
    """
    held = (view.holdings > 0).nonzero()[0]
    kept = held[keep[held]]
    free = max(max_names - kept.size, 0)
    new = np.asarray(entries, dtype=np.int64)
    new = new[view.holdings[new] <= 0][:free]
    if not new.size and kept.size == held.size:  # no entry, no sale
        return None
    w = np.zeros(len(view.holdings))
    if kept.size:  # view.weights, computed for the kept names only
        w[kept] = _current_weights(view, kept) * _KEEP
    if new.size:
        room = max(1.0 - float(w.sum()), 0.0)
        w[new] = min(1.0 / max_names, room / new.size)
    return w
