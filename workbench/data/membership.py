"""Index membership as spells: which stocks an index (e.g. the CSI 300) held, and when.

A Market's ``index_members`` table (``workbench.data.schema.INDEX_MEMBER_COLUMNS``) holds
one row per *spell*: ``index, symbol, start, end`` — the stock is a member of ``index`` on
every day ``d`` with ``start <= d < end`` (``end`` **exclusive**, like a security's
``delist_date``; NaT: still a member as far as the data knows). ``index`` is a short name
(``'csi300'``, see :data:`INDEX_UNIVERSES`), or the vendor's code for an index not named
there.

Vendors publish membership as **snapshots** (tushare ``index_weight``: the constituents
and weights on a date, about twice a month). :func:`spells_from_snapshots` turns them into
spells by one convention: a stock is a member from the first snapshot that contains it
until the first later snapshot without it (that snapshot's date is ``end``); a member of
the last snapshot stays a member (``end`` NaT). So the membership on day ``d`` is that of
the last snapshot on or before ``d`` — known on ``d``, never later — and before the first
snapshot nothing is known (no members). The real review date (CSI 300: the trading day
after the second Friday of June and December) lies between two snapshots; the spells start
and end at the snapshot that first shows the change, never earlier, so they carry no
look-ahead.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from workbench.data.schema import INDEX_MEMBER_COLUMNS

__all__ = [
    "INDEX_UNIVERSES",
    "cut_spells",
    "empty_spells",
    "index_name",
    "member_mask",
    "members_on",
    "spells_from_snapshots",
]

#: Short universe names of the A-share indices, by their six-digit code (either exchange's
#: spelling of the same index: 000300.SH and 399300.SZ are both the CSI 300).
INDEX_UNIVERSES: dict[str, str] = {
    "000300": "csi300", "399300": "csi300",
    "000905": "csi500", "399905": "csi500",
    "000906": "csi800", "399906": "csi800",
    "000852": "csi1000", "399852": "csi1000",
    "000016": "sse50",
    "000688": "star50",
    "399006": "chinext",
    "399330": "szse100",
}


def index_name(code: str) -> str:
    """The universe name of an index code: ``'csi300'`` for ``399300.SZ``, else the code.

    Examples
    --------
    >>> index_name("399300.SZ"), index_name("000300.SH"), index_name("000985.CSI")
    ('csi300', 'csi300', '000985.CSI')
    """
    found = re.fullmatch(r"(?:(?:sh|sz|csi)\.)?(\d{6})(?:\.(?:SH|SZ|CSI))?",
                         str(code).strip(), flags=re.IGNORECASE)
    if found and found.group(1) in INDEX_UNIVERSES:
        return INDEX_UNIVERSES[found.group(1)]
    return str(code).strip()


def empty_spells() -> pd.DataFrame:
    """An ``index_members`` table with no rows (the markets without membership)."""
    return pd.DataFrame({"index": pd.Series(dtype="str"), "symbol": pd.Series(dtype="str"),
                         "start": pd.Series(dtype="datetime64[ns]"),
                         "end": pd.Series(dtype="datetime64[ns]")},
                        columns=list(INDEX_MEMBER_COLUMNS))


def spells_from_snapshots(index: np.ndarray, symbol: np.ndarray,
                          date: np.ndarray) -> pd.DataFrame:
    """Turn membership snapshots into spells (the convention of the module docstring).

    Parameters
    ----------
    index, symbol, date
        One entry per (index, member, snapshot date): index names, canonical symbols and
        the snapshot's date (datetime64). Each index's snapshot dates are the distinct dates
        it appears with; a stock absent from one of them is not a member on that date.

    Returns
    -------
    pandas.DataFrame
        ``INDEX_MEMBER_COLUMNS``, sorted by index, symbol and start.

    Examples
    --------
    >>> d = np.array(["2024-01-02", "2024-01-02", "2024-02-01", "2024-03-01",
    ...               "2024-03-01"], dtype="datetime64[ns]")
    >>> s = spells_from_snapshots(np.array(["csi300"] * 5),
    ...                           np.array(["600000.SH", "000001.SZ", "600000.SH",
    ...                                     "600000.SH", "000001.SZ"]), d)
    >>> [(r.symbol, str(r.start.date()), str(r.end.date())) for r in s.itertuples()]
    [('000001.SZ', '2024-01-02', '2024-02-01'), ('000001.SZ', '2024-03-01', 'NaT'), \
('600000.SH', '2024-01-02', 'NaT')]
    """
    frame = pd.DataFrame({"index": np.asarray(index, dtype=object),
                          "symbol": np.asarray(symbol, dtype=object),
                          "date": np.asarray(date, dtype="datetime64[ns]")})
    parts = []
    for name, rows in frame.groupby("index", sort=True):
        snaps = np.unique(rows["date"].to_numpy(dtype="datetime64[ns]"))
        pos = np.searchsorted(snaps, rows["date"].to_numpy(dtype="datetime64[ns]"))
        codes, names = pd.factorize(rows["symbol"], sort=True)
        held = np.zeros((len(snaps) + 2, len(names)), dtype=np.int8)  # padded with absence
        held[pos + 1, codes] = 1
        change = np.diff(held, axis=0)  # +1 where a spell starts, -1 one past where it ends
        starts_at, starts_sym = np.nonzero(change == 1)
        ends_at, ends_sym = np.nonzero(change == -1)
        # both in (snapshot, symbol) row-major order; sort each by symbol to pair them up
        s_order = np.lexsort((starts_at, starts_sym))
        e_order = np.lexsort((ends_at, ends_sym))
        ends = ends_at[e_order]
        end_dates = np.where(ends < len(snaps), snaps[np.minimum(ends, len(snaps) - 1)],
                             np.datetime64("NaT"))
        parts.append(pd.DataFrame({
            "index": str(name),
            "symbol": np.asarray(names, dtype=object)[starts_sym[s_order]],
            "start": snaps[starts_at[s_order]],
            "end": end_dates.astype("datetime64[ns]"),
        }))
    if not parts:
        return empty_spells()
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"index": "str", "symbol": "str", "start": "datetime64[ns]",
                       "end": "datetime64[ns]"})[list(INDEX_MEMBER_COLUMNS)]


def members_on(spells: pd.DataFrame, day: pd.Timestamp, index: str) -> pd.Index:
    """Symbols that are members of ``index`` on ``day`` (``start <= day < end``), sorted."""
    on = ((spells["index"] == index) & (spells["start"] <= day)
          & (spells["end"].isna() | (spells["end"] > day)))
    return pd.Index(sorted(spells.loc[on, "symbol"].astype(str).unique()), name="symbol")


def cut_spells(spells: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The spells as known after the close of ``day``.

    Spells that start later are gone and an end that lies after ``day`` is unknown yet
    (NaT: still a member), so no membership change after ``day`` shows.
    """
    cut = spells.loc[spells["start"] <= day].reset_index(drop=True)
    cut["end"] = cut["end"].where(cut["end"] <= day)
    return cut


def member_mask(spells: pd.DataFrame, index: str, dates: np.ndarray,
                symbols: pd.Index) -> np.ndarray:
    """Membership of ``index`` as a boolean array, ``dates`` × ``symbols``.

    Row ``t`` is True for the symbols that are members on ``dates[t]``; it depends only on
    spells that started by then (and ends on or before then), so row ``t`` uses no
    membership known after ``dates[t]``. Symbols of the spells not in ``symbols`` are
    ignored.
    """
    dates = np.asarray(dates, dtype="datetime64[ns]")
    out = np.zeros((len(dates), len(symbols)), dtype=bool)
    rows = spells.loc[spells["index"] == index]
    col = symbols.get_indexer(rows["symbol"].astype(str))
    keep = col >= 0
    start = rows["start"].to_numpy(dtype="datetime64[ns]")[keep]
    end = rows["end"].to_numpy(dtype="datetime64[ns]")[keep]
    first = np.searchsorted(dates, start, side="left")
    last = np.where(np.isnat(end), len(dates), np.searchsorted(dates, end, side="left"))
    for c, a, b in zip(col[keep], first, last, strict=True):
        out[a:b, c] = True
    return out
