"""The synthetic draws as the canonical tables of a Market (``workbench.data.schema``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.data.corporate import actions_frame
from workbench.data.schema import (
    BAR_COLUMNS,
    BAR_DTYPES,
    BENCHMARK_COLUMNS,
    OPTIONAL_BAR_COLUMNS,
    SECURITY_COLUMNS,
    ST_COLUMNS,
)
from workbench.data.synthetic.fundamentals import Events
from workbench.data.synthetic.lifecycle import Lifecycle
from workbench.data.synthetic.universe import BOARDS, SECTORS, Securities

__all__ = ["actions_table", "bar_frame", "benchmark_frame", "securities_frame", "st_frame"]


def bar_frame(columns: dict[str, np.ndarray], volume: np.ndarray, listed: np.ndarray,
              dates: pd.DatetimeIndex, symbols: np.ndarray, life: Lifecycle) -> pd.DataFrame:
    """The ``bars`` table: one row per listed session and stock, sorted by date then symbol.

    Parameters
    ----------
    columns
        Sessions × stocks arrays of the float bar columns (see
        :class:`~workbench.data.synthetic.prices.PricePaths`). Consumed: each array is
        removed from the dict once it is in the frame, so that peak memory stays near one
        copy of the bars.
    volume
        Sessions × stocks shares traded.
    listed
        Sessions × stocks: the cells that become rows.
    dates
        The sample's sessions.
    symbols
        Per stock, its symbol (sorted: the categories of ``symbol``).
    life
        The ``suspended`` and ``is_st`` masks.
    """
    ti, si = np.nonzero(listed)  # row-major: by session, then symbol (sorted)
    frame: dict[str, Any] = {
        "date": np.asarray(dates, dtype="datetime64[ns]")[ti],
        "symbol": pd.Categorical.from_codes(si, categories=pd.Index(symbols)),
    }
    for col in BAR_COLUMNS + OPTIONAL_BAR_COLUMNS:
        if col in frame:
            continue
        if col == "volume":
            frame[col] = volume[ti, si]
        elif col == "suspended":
            frame[col] = life.suspended[ti, si]
        elif col == "is_st":
            frame[col] = life.st_mask[ti, si]
        else:
            frame[col] = columns.pop(col)[ti, si]
        frame[col] = frame[col].astype(BAR_DTYPES[col], copy=False)
    return pd.DataFrame(frame, copy=False)


def benchmark_frame(bench: np.ndarray, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The ``benchmark`` table: index points from daily returns, 1000 on the first close.

    Parameters
    ----------
    bench
        Per session: open, high, low and close returns on the previous close, volume
        (shares) and amount (CNY).
    dates
        The sample's sessions.
    """
    ret_o, ret_h, ret_l, ret_c = bench[:, 0], bench[:, 1], bench[:, 2], bench[:, 3]
    level = 1000.0 * np.cumprod(1.0 + ret_c) / (1.0 + ret_c[0])
    prev = np.concatenate([[1000.0 / (1.0 + ret_c[0])], level[:-1]])
    frame = pd.DataFrame({
        "date": np.asarray(dates, dtype="datetime64[ns]"),
        "open": np.round(prev * (1.0 + ret_o), 2),
        "high": np.round(prev * (1.0 + ret_h), 2),
        "low": np.round(prev * (1.0 + ret_l), 2),
        "close": np.round(level, 2),
        "volume": bench[:, 4].astype(np.int64),
        "amount": np.round(bench[:, 5], 2),
    })
    return frame.loc[:, list(BENCHMARK_COLUMNS)]


def securities_frame(securities: Securities, life: Lifecycle,
                     dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The ``securities`` table: one row per stock, delisted ones included.

    ``delist_date`` is the first session no longer listed (NaT while listed).
    """
    T = len(dates)
    d_ns = np.asarray(dates, dtype="datetime64[ns]")
    delisted = life.delist_idx < T
    frame = pd.DataFrame({
        "symbol": securities.symbols,
        "name": securities.names,
        "exchange": [s[-2:] for s in securities.symbols],
        "board": [str(BOARDS[b]) for b in securities.board],
        "sector": [SECTORS[s] for s in securities.sector],
        "list_date": life.list_date.astype("datetime64[ns]"),
        "delist_date": np.where(delisted, d_ns[np.minimum(life.delist_idx, T - 1)],
                                np.datetime64("NaT")).astype("datetime64[ns]"),
    })
    return frame.loc[:, list(SECURITY_COLUMNS)]


def st_frame(symbols: np.ndarray, life: Lifecycle, dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The ``st_periods`` table, sorted by symbol; an episode running at the end has NaT end."""
    T = len(dates)
    d_ns = np.asarray(dates, dtype="datetime64[ns]")
    running = (life.st_end >= T - 1) & (life.delist_idx[life.st_stock] >= T)
    frame = pd.DataFrame({
        "symbol": symbols[life.st_stock],
        "start": d_ns[life.st_start],
        "end": np.where(running, np.datetime64("NaT"), d_ns[life.st_end]).astype(
            "datetime64[ns]"),
    })
    frame = frame.sort_values(["symbol", "start"], kind="stable").reset_index(drop=True)
    return frame.loc[:, list(ST_COLUMNS)]


def actions_table(events: Events, cash: np.ndarray, listed: np.ndarray,
                  dates: pd.DatetimeIndex, symbols: np.ndarray) -> pd.DataFrame:
    """The ``corporate_actions`` events the prices went ex on (``source='synthetic'``).

    One row per event of a listed stock that pays cash (``cash``, CNY per share, as it
    entered the reference price) or bonus shares (``bonus10 / 10`` per share). The ex-date's
    ``prev_close`` is ``round((close_prev - cash) / (1 + bonus), fen)`` and the
    ``adj_factor`` steps by ``close_prev / prev_close``. No record, pay or announcement date
    is drawn (NaT: known on the ex-date).
    """
    bonus = events.bonus10 / 10.0
    keep = listed[events.t, events.stock] & ((cash > 0) | (bonus > 0))
    return actions_frame(symbol=np.asarray(symbols, dtype=object)[events.stock[keep]],
                         ex_date=dates.to_numpy(dtype="datetime64[ns]")[events.t[keep]],
                         source="synthetic", cash_pre_tax_cny=cash[keep],
                         bonus_ratio=bonus[keep])
