"""Bar columns a source may lack, derived from the others: reference price, limits, flags.

Exports carry different subsets of the canonical bar columns (``workbench.data.schema``):
tushare ``daily`` has ``pre_close`` but no suspension or ST flags, baostock has
``preclose`` only from 2020 and flags throughout, akshare has none of them. This module
fills the gaps the same way for every source:

``prev_close``
    Where the source gives none: the previous bar's close of the same symbol, moved to the
    ex-rights reference price with the backward adjustment factor,
    ``close[t-1] * adj_factor[t-1] / adj_factor[t]``, rounded half up to the fen. The first
    bar of a symbol has no previous close (NaN).
``limit_up``, ``limit_down``
    ``workbench.rules.limit_prices(prev_close, limit_percent(board, date, st=is_st))``. NaN
    when ``prev_close`` is NaN, on a new listing's first ``ipo_unlimited_days`` sessions
    (known only when the listing date is given) and before the rule table's first limit for
    the board.
``suspended``
    Where the source has no flag: ``volume == 0``.
``is_st``
    Where the source has no flag: False. A security master's name (``*ST ...``) is a snapshot
    of one day and says nothing about earlier days, so it is not used.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.calendar import CALENDAR_END, CALENDAR_START, sessions
from workbench.data.schema import BAR_COLUMNS, BAR_DTYPES, ST_COLUMNS
from workbench.rules import (
    PRICE_LIMITS,
    ipo_unlimited_days,
    limit_percent,
    limit_prices,
    round_fen,
)
from workbench.symbols import Board, board_of, boards_of, symbol_codes

__all__ = [
    "derive_bar_columns",
    "factors_from_reference",
    "ipo_unlimited_mask",
    "limit_percents",
    "reference_prices",
    "st_periods",
]


def _symbol_date_order(symbols: np.ndarray, dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes, _ = pd.factorize(pd.Series(symbols, dtype=object), sort=True)
    order = np.lexsort((np.asarray(dates, dtype="datetime64[ns]").view("int64"), codes))
    return order, codes[order]


def reference_prices(
    symbols: np.ndarray, dates: np.ndarray, close: np.ndarray, adj_factor: np.ndarray
) -> np.ndarray:
    """Return each bar's ex-rights reference price (CNY) derived from the previous bar.

    ``close[t-1] * adj_factor[t-1] / adj_factor[t]`` rounded half up to the fen, where
    ``t-1`` is the same symbol's previous bar by date; NaN on a symbol's first bar. On days
    without a corporate action the factors are equal and this is yesterday's close.

    Parameters
    ----------
    symbols, dates, close, adj_factor
        One entry per bar, any order; ``close`` raw CNY, ``adj_factor`` backward factor.

    Examples
    --------
    >>> reference_prices(np.array(["600000.SH"] * 2), np.array(["2024-07-16", "2024-07-17"],
    ...                  dtype="datetime64[ns]"), np.array([8.60, 8.25]),
    ...                  np.array([9.873, 10.355])).tolist()
    [nan, 8.2]
    """
    close = np.asarray(close, dtype=float)
    adj = np.asarray(adj_factor, dtype=float)
    order, codes = _symbol_date_order(np.asarray(symbols), np.asarray(dates))
    c, a = close[order], adj[order]
    ref = np.full(len(c), np.nan)
    if len(c) > 1:
        same = codes[1:] == codes[:-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ref[1:] = np.where(same, round_fen(c[:-1] * a[:-1] / a[1:]), np.nan)
    out = np.empty(len(c))
    out[order] = ref
    return out


def factors_from_reference(
    symbols: np.ndarray, dates: np.ndarray, close: np.ndarray, prev_close: np.ndarray
) -> np.ndarray:
    """Return backward adjustment factors implied by the exchange's reference prices.

    The inverse of :func:`reference_prices`: each symbol's factor is 1.0 on its first bar
    and is multiplied by ``close[t-1] / prev_close[t]`` on every later bar, so it moves
    only where the source's reference price differs from the previous close (an ex-date).
    Give a ``prev_close`` on every bar but the first of each symbol (a later bar without
    one makes the factors meaningless).

    Parameters
    ----------
    symbols, dates, close, prev_close
        One entry per bar, any order; ``close`` and ``prev_close`` raw CNY.

    Examples
    --------
    >>> factors_from_reference(np.array(["600000.SH"] * 3),
    ...                        np.array(["2024-07-15", "2024-07-16", "2024-07-17"],
    ...                                 dtype="datetime64[ns]"),
    ...                        np.array([8.5, 8.6, 8.25]), np.array([8.4, 8.5, 8.2])).tolist()
    [1.0, 1.0, 1.048780487804878]
    """
    close = np.asarray(close, dtype=float)
    ref = np.asarray(prev_close, dtype=float)
    order, codes = _symbol_date_order(np.asarray(symbols), np.asarray(dates))
    c, p = close[order], ref[order]
    ratio = np.ones(len(c))
    if len(c) > 1:
        same = codes[1:] == codes[:-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio[1:] = np.where(same, c[:-1] / p[1:], 1.0)
    factor = pd.Series(ratio).groupby(codes).cumprod().to_numpy()
    out = np.empty(len(c))
    out[order] = factor
    return out


def limit_percents(symbols: np.ndarray, dates: np.ndarray, is_st: np.ndarray) -> np.ndarray:
    """Return each bar's daily limit in whole percent (float; NaN where no rule applies).

    Looks each (board, day, ST) up in the dated rule table through
    :func:`workbench.rules.limit_percent`, once per rule period rather than once per bar.

    Examples
    --------
    >>> limit_percents(np.array(["600150.SH", "300750.SZ", "300750.SZ"]),
    ...                np.array(["2018-05-02", "2020-08-21", "2020-08-24"],
    ...                         dtype="datetime64[ns]"),
    ...                np.array([True, False, False])).tolist()
    [5.0, 10.0, 20.0]
    """
    days = np.asarray(dates, dtype="datetime64[ns]")
    st = np.asarray(is_st, dtype=bool)
    pct = np.full(len(days), np.nan)
    if not len(days):
        return pct
    codes, uniques = symbol_codes(symbols)
    board_list = list(Board)
    board_index = np.array([board_list.index(board_of(u)) for u in uniques], dtype=np.int8)
    row_board = board_index[codes]
    for k, board in enumerate(board_list):
        starts = sorted({r.start for r in PRICE_LIMITS if r.board == board})
        rows = np.flatnonzero(row_board == k)
        if not starts or not len(rows):
            continue
        normal = np.array([limit_percent(board, s) for s in starts], dtype=float)
        warned = np.array([limit_percent(board, s, st=True) for s in starts], dtype=float)
        i = np.searchsorted(np.array(starts, dtype="datetime64[ns]"), days[rows],
                            side="right") - 1
        ok = i >= 0
        ii = np.where(ok, i, 0)
        pct[rows] = np.where(ok, np.where(st[rows], warned[ii], normal[ii]), np.nan)
    return pct


def _last_unlimited_session(board: Board, list_date: pd.Timestamp) -> pd.Timestamp:
    n = ipo_unlimited_days(board, list_date)
    horizon = list_date + pd.Timedelta(days=40)
    if list_date >= CALENDAR_START and horizon <= CALENDAR_END:
        days = sessions(list_date, horizon)
        if len(days) >= n:
            return days[n - 1]
    # Outside the XSHG calendar object's range: weekdays are close enough for a few days.
    return list_date + pd.offsets.BDay(n - 1)


def ipo_unlimited_mask(
    symbols: np.ndarray, dates: np.ndarray, list_dates: Mapping[str, pd.Timestamp] | pd.Series
) -> np.ndarray:
    """Return True for bars on a new listing's first sessions without a daily limit.

    Parameters
    ----------
    symbols, dates
        One entry per bar.
    list_dates
        Listing day (first session) per canonical symbol; symbols absent or NaT are never
        masked.

    Examples
    --------
    >>> ipo_unlimited_mask(np.array(["688981.SH"] * 6),
    ...                    pd.bdate_range("2020-07-16", periods=6).to_numpy(),
    ...                    {"688981.SH": pd.Timestamp("2020-07-16")}).tolist()
    [True, True, True, True, True, False]
    """
    sym = pd.Series(np.asarray(symbols, dtype=object))
    days = np.asarray(dates, dtype="datetime64[ns]")
    listed = pd.Series(list_dates, dtype="datetime64[ns]").dropna()
    if not len(days) or listed.empty:
        return np.zeros(len(days), dtype=bool)
    first = pd.Timestamp(days.min())
    ends: dict[str, pd.Timestamp] = {}
    for s in pd.unique(sym):
        day = listed.get(s)
        # A listing more than two months before the first bar cannot reach into the bars.
        if day is not None and day >= first - pd.Timedelta(days=60):
            ends[s] = _last_unlimited_session(boards_of([s])[0], day)
    if not ends:
        return np.zeros(len(days), dtype=bool)
    start = sym.map(listed.to_dict()).to_numpy(dtype="datetime64[ns]")
    end = sym.map(ends).to_numpy(dtype="datetime64[ns]")
    with np.errstate(invalid="ignore"):
        return (days >= start) & (days <= end)


def derive_bar_columns(
    bars: pd.DataFrame,
    *,
    list_dates: Mapping[str, pd.Timestamp] | pd.Series | None = None,
    limits_given: np.ndarray | None = None,
) -> pd.DataFrame:
    """Return a copy of ``bars`` with every derived column filled (see the module docstring).

    Parameters
    ----------
    bars
        ``REQUIRED_BAR_COLUMNS`` at least, any row order. Optional source columns are used
        where present: ``prev_close`` (NaN rows are derived), ``suspended`` and ``is_st``
        (nullable booleans; missing rows are derived), ``limit_up`` and ``limit_down``
        (kept as given on the rows of ``limits_given``, NaN meaning no limit).
    list_dates
        Listing day per symbol, to leave a new listing's first sessions without limits.
    limits_given
        True for the rows whose limits come from the source; default every row when both
        limit columns are present, else none.

    Returns
    -------
    pandas.DataFrame
        Same index and row order, columns ``BAR_COLUMNS`` followed by any others, dtypes
        from ``BAR_DTYPES``.
    """
    out = bars.copy()
    n = len(out)
    symbols = out["symbol"].astype(str).to_numpy(dtype=object)
    dates = out["date"].to_numpy(dtype="datetime64[ns]")
    close = out["close"].to_numpy(dtype=float)
    adj = out["adj_factor"].to_numpy(dtype=float)

    given = (out["prev_close"].to_numpy(dtype=float) if "prev_close" in out
             else np.full(n, np.nan))
    prev = np.where(np.isnan(given), reference_prices(symbols, dates, close, adj), given)

    volume = out["volume"].to_numpy()
    suspended = _flag(out, "suspended", default=volume == 0)
    is_st = _flag(out, "is_st", default=np.zeros(n, dtype=bool))

    has_limits = "limit_up" in out and "limit_down" in out
    given = np.full(n, has_limits) if limits_given is None else np.asarray(limits_given, bool)
    pct = limit_percents(symbols, dates, is_st)
    known = np.isfinite(pct)
    up, down = limit_prices(prev, np.where(known, pct, 0).astype(np.int64))
    unlimited = ~known
    if list_dates is not None:
        unlimited |= ipo_unlimited_mask(symbols, dates, list_dates)
    up = np.where(unlimited, np.nan, up)
    down = np.where(unlimited, np.nan, down)
    if given.any():
        up = np.where(given, out["limit_up"].to_numpy(dtype=float), up)
        down = np.where(given, out["limit_down"].to_numpy(dtype=float), down)

    out["prev_close"] = prev
    out["limit_up"] = up
    out["limit_down"] = down
    out["suspended"] = suspended
    out["is_st"] = is_st
    rest = [c for c in out.columns if c not in BAR_COLUMNS]
    out = out[list(BAR_COLUMNS) + rest]
    return out.astype({c: t for c, t in BAR_DTYPES.items() if c in out.columns})


def _flag(frame: pd.DataFrame, column: str, *, default: np.ndarray) -> np.ndarray:
    if column not in frame:
        return np.asarray(default, dtype=bool)
    values = frame[column].astype("boolean")
    return np.where(values.isna().to_numpy(), default, values.fillna(False).to_numpy(dtype=bool))


def st_periods(bars: pd.DataFrame) -> pd.DataFrame:
    """Return the risk-warning episodes (``ST_COLUMNS``) as runs of ``is_st`` bars.

    A run is consecutive bars of one symbol with ``is_st`` True; ``start`` and ``end`` are
    its first and last bar's dates (inclusive). A run that reaches the last session of the
    bars has ``end`` NaT: still ST as far as the data knows.

    Examples
    --------
    >>> bars = pd.DataFrame({"symbol": ["600150.SH"] * 4,
    ...                      "date": pd.bdate_range("2018-04-23", periods=4),
    ...                      "is_st": [False, True, True, False]})
    >>> st_periods(bars).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'symbol': '600150.SH', 'start': Timestamp('2018-04-24 00:00:00'),
      'end': Timestamp('2018-04-25 00:00:00')}]
    """
    symbols = bars["symbol"].astype(str).to_numpy(dtype=object)
    dates = bars["date"].to_numpy(dtype="datetime64[ns]")
    order, codes = _symbol_date_order(symbols, dates)
    st = bars["is_st"].to_numpy(dtype=bool)[order]
    d = dates[order]
    s = symbols[order]
    new_symbol = np.r_[True, codes[1:] != codes[:-1]] if len(codes) else np.array([], bool)
    last_symbol = np.r_[codes[1:] != codes[:-1], True] if len(codes) else np.array([], bool)
    prev_st = np.r_[False, st[:-1]] if len(st) else st
    next_st = np.r_[st[1:], False] if len(st) else st
    starts = np.flatnonzero(st & (new_symbol | ~prev_st))
    ends = np.flatnonzero(st & (last_symbol | ~next_st))
    end_days = d[ends].copy()
    if len(d):
        end_days[d[ends] == d.max()] = np.datetime64("NaT")
    frame = pd.DataFrame({
        "symbol": pd.Series(s[starts], dtype="str"),
        "start": pd.Series(d[starts], dtype="datetime64[ns]"),
        "end": pd.Series(end_days, dtype="datetime64[ns]"),
    }, columns=list(ST_COLUMNS))
    return frame.sort_values(["symbol", "start"], ignore_index=True)
