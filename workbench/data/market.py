"""The :class:`Market`: bars, security master, fundamentals, ST episodes, a benchmark, index
membership and corporate actions.

A Market is the tables of :data:`TABLES` plus provenance (``meta``), with point-in-time
accessors and the one per-Market cache of derived values (:meth:`Market.memo`). The last
two tables, ``index_members`` and ``corporate_actions``, are optional (empty when the data
has no index membership or no corporate-action events).
Storing and loading one is :mod:`workbench.data.store`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from workbench.data.corporate import cut_actions, empty_actions
from workbench.data.membership import cut_spells, empty_spells, member_mask, members_on
from workbench.data.panels import StoredPanels
from workbench.errors import ConfigError, DataError, did_you_mean
from workbench.summary import Summary
from workbench.symbols import symbol_codes

__all__ = ["TABLES", "Market"]

#: The tables of a Market, each a DataFrame attribute (and a Parquet file when stored).
TABLES: tuple[str, ...] = ("bars", "securities", "fundamentals", "st_periods", "benchmark",
                           "index_members", "corporate_actions")
T = TypeVar("T")


@dataclass(frozen=True, eq=False)
class Market:
    """A-share market data in canonical shape (see ``workbench.data.schema``).

    Attributes
    ----------
    bars
        Daily bars sorted by ``(date, symbol)``; ``symbol`` is categorical.
    securities
        Security master indexed by nothing (column ``symbol``), one row per symbol.
    fundamentals
        Point-in-time statements; use :meth:`fundamentals_asof` to avoid look-ahead.
    st_periods
        Risk-warning episodes (``symbol, start, end``), ``end`` inclusive.
    benchmark
        Benchmark index bars (``date, open, high, low, close, volume, amount``), points.
    meta
        Provenance: ``source`` ('synthetic', 'import'), seed, creation time, notes.
    index_members
        Index membership spells (``index, symbol, start, end``, ``end`` exclusive; see
        :mod:`workbench.data.membership`); empty (the default) when the data has none. Use
        :meth:`universe` with ``index=`` or :meth:`membership` to read it point in time.
    corporate_actions
        Dividend, bonus, transfer and rights events (``schema.CORPORATE_ACTION_COLUMNS``,
        see :mod:`workbench.data.corporate`); empty (the default) when the data has none.
    panels
        Dense panels stored with the market (:mod:`workbench.data.panels`), which
        :meth:`grid` and :attr:`calendar` read instead of building them from the bars; None
        builds every panel from the bars. Only :meth:`from_store` sets them: they belong to
        the bars they were loaded with, so a copy made with ``dataclasses.replace`` (whose
        bars may differ) has none.
    """

    bars: pd.DataFrame
    securities: pd.DataFrame
    fundamentals: pd.DataFrame
    st_periods: pd.DataFrame
    benchmark: pd.DataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)
    index_members: pd.DataFrame = field(default_factory=empty_spells)
    corporate_actions: pd.DataFrame = field(default_factory=empty_actions)
    panels: StoredPanels | None = field(default=None, init=False, repr=False, compare=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, repr=False,
                                       compare=False)
    _memo_lock: threading.RLock = field(default_factory=threading.RLock, init=False,
                                        repr=False, compare=False)
    _bars_later: tuple[Callable[[], pd.DataFrame], tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False)

    @classmethod
    def from_store(cls, bars: pd.DataFrame | Callable[[], pd.DataFrame], *,
                   columns: Sequence[str] = (), panels: StoredPanels | None = None,
                   **tables: Any) -> Market:
        """A Market as a store loads it: with its stored panels, its bars maybe lazily.

        With a callable ``bars`` the bars are read only when first asked for: everything
        that needs only the dense panels (:meth:`grid` and :attr:`calendar` with stored
        ``panels``) and the bar columns (:attr:`bar_columns`) then runs without the long
        bars table in memory; reading :attr:`bars` calls ``bars()`` once and keeps the table.

        Parameters
        ----------
        bars
            The bars table, or a function returning it (with exactly ``columns``).
        columns
            The bars' column names, in order (needed only for a callable ``bars``).
        panels
            The panels stored with these bars (:class:`~workbench.data.panels.StoredPanels`).
        **tables
            Every other argument of :class:`Market`.
        """
        if isinstance(bars, pd.DataFrame):
            market = cls(bars=bars, **tables)
        else:
            market = cls(bars=pd.DataFrame(columns=list(columns)), **tables)
            object.__delattr__(market, "bars")
            object.__setattr__(market, "_bars_later", (bars, tuple(map(str, columns))))
        object.__setattr__(market, "panels", panels)
        return market

    def __getattr__(self, name: str) -> Any:
        """Read lazily loaded bars (:meth:`from_store`) on first access."""
        later = self.__dict__.get("_bars_later")
        if name != "bars" or later is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        with self._memo_lock:
            if "bars" not in self.__dict__:
                object.__setattr__(self, "bars", later[0]())
        return self.__dict__["bars"]

    @property
    def bar_columns(self) -> tuple[str, ...]:
        """Names of the bar columns, without reading bars that are not loaded yet."""
        if "bars" not in self.__dict__ and self._bars_later is not None:
            return self._bars_later[1]
        return tuple(str(c) for c in self.bars.columns)

    # -- derived data, once per Market ------------------------------------------------------
    def memo(self, key: Hashable, build: Callable[[], T], *, keep: int | None = None) -> T:
        """Return the value derived under ``key``, building it with ``build()`` the first time.

        This is the one cache policy of the workbench: whatever is derived from a Market
        (dense panels, indicator panels, a truncated market, a warm recommendation state) is
        kept on that Market object and lives exactly as long as it does. Nothing is kept in
        module-level state, so two markets never share an entry and a new Market never sees
        a stale one. Treat the value as read-only.

        Parameters
        ----------
        key
            Hashable name of the derived value. A tuple's first item names its family.
        build
            Computes the value; called at most once per key while the entry is kept (two
            threads asking at once may both build; one result is kept).
        keep
            Keep at most this many entries of ``key``'s family (the tuple's first item),
            dropping the least recently used; None keeps every entry.

        Examples
        --------
        >>> m = Market(bars=pd.DataFrame(), securities=pd.DataFrame(),
        ...            fundamentals=pd.DataFrame(), st_periods=pd.DataFrame(),
        ...            benchmark=pd.DataFrame())
        >>> m.memo(("square", 3), lambda: 9)
        9
        >>> m.memo(("square", 3), lambda: 0)  # kept: not rebuilt
        9
        """
        with self._memo_lock:
            if key in self._memo:
                value = self._memo.pop(key)
                self._memo[key] = value  # most recently used last
                return value
        value = build()
        with self._memo_lock:
            value = self._memo.setdefault(key, value)
            if keep is not None:
                family = key[0] if isinstance(key, tuple) else key
                same = [k for k in self._memo
                        if (k[0] if isinstance(k, tuple) else k) == family]
                for old in same[:max(len(same) - keep, 0)]:
                    del self._memo[old]
        return value

    def forget(self, family: Hashable | None = None) -> None:
        """Drop derived values: those of one ``family`` (see :meth:`memo`), or all."""
        with self._memo_lock:
            if family is None:
                self._memo.clear()
                return
            for key in [k for k in self._memo
                        if (k[0] if isinstance(k, tuple) else k) == family]:
                del self._memo[key]

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the data only (e.g. to ship a Market to Dask workers), not derived values."""
        return {f: getattr(self, f) for f in (*TABLES, "meta")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "_memo", {})
        object.__setattr__(self, "panels", None)
        object.__setattr__(self, "_bars_later", None)
        object.__setattr__(self, "_memo_lock", threading.RLock())

    # -- shape -----------------------------------------------------------------------------
    @property
    def calendar(self) -> pd.DatetimeIndex:
        """Sessions covered by the bars (XSHG sessions), sorted, named ``date``."""
        return self.memo("calendar", self._build_calendar)

    def _build_calendar(self) -> pd.DatetimeIndex:
        stored = None if self.panels is None else self.panels.calendar()
        days = (np.unique(self.bars["date"].to_numpy(dtype="datetime64[ns]"))
                if stored is None else stored)
        return pd.DatetimeIndex(days, name="date")

    @property
    def symbols(self) -> pd.Index:
        """Every symbol in the security master, sorted."""
        return self.memo("symbols", lambda: pd.Index(
            sorted(self.securities["symbol"].astype(str)), name="symbol"))

    @property
    def name(self) -> str:
        """Short name of the dataset (from ``meta``)."""
        return str(self.meta.get("name", "market"))

    def panel(self, column: str) -> pd.DataFrame:
        """Return one bar column as a wide frame: sessions × symbols (NaN where no bar).

        Built once per column from :meth:`grid` and kept (:meth:`memo`); treat the result
        as read-only.
        """
        return self.memo(("panel", column), lambda: pd.DataFrame(
            self.grid(column), index=self.calendar, columns=self.symbols, copy=False))

    def grid(self, column: str) -> np.ndarray:
        """Return one bar column as a dense array, sessions × symbols.

        Rows follow :attr:`calendar`, columns :attr:`symbols`; where a symbol has no bar the
        cell is NaN (False for a boolean column). Built once per column with integer
        indexing (no pivot) and kept (:meth:`memo`); treat it as read-only. This is the one
        panel implementation: :meth:`panel` and the point-in-time view both read it. A
        Market loaded from a folder reads the panel stored there instead (memory-mapped,
        read-only, bit for bit what the bars give; :mod:`workbench.data.panels`), unless it
        is stale, missing or damaged.
        """
        self._bar_column(column)
        return self.memo(("grid", column), lambda: self._build_grid(column))

    def grids(self, columns: Iterable[str]) -> dict[str, np.ndarray]:
        """:meth:`grid` of each of ``columns``, keyed by column.

        The same arrays as asking one at a time; but the stored panels among them that are
        not built yet are checked together, on several threads
        (:meth:`StoredPanels.prepare <workbench.data.panels.StoredPanels.prepare>`), which
        is most of what a cold run waits for.
        """
        asked = list(dict.fromkeys(columns))
        for column in asked:
            self._bar_column(column)
        if self.panels is not None:
            with self._memo_lock:
                todo = [c for c in asked if ("grid", c) not in self._memo]
            self.panels.prepare(todo)
        return {column: self.grid(column) for column in asked}

    def _bar_column(self, column: str) -> None:
        if column not in self.bar_columns:
            raise ConfigError(f"no bar column {column!r}; available: {sorted(self.bar_columns)}")

    def _build_grid(self, column: str) -> np.ndarray:
        if self.panels is not None:
            stored = self.panels.grid(column)
            if stored is not None:
                return stored
        rows, cols = self.memo("panel_index", self._panel_index)
        values = self.bars[column].to_numpy()
        shape = (len(self.calendar), len(self.symbols))
        grid = np.zeros(shape, dtype=bool) if values.dtype == bool else np.full(shape, np.nan)
        grid[rows, cols] = values
        return grid

    def _panel_index(self) -> tuple[np.ndarray, np.ndarray]:
        dates = self.bars["date"].to_numpy(dtype="datetime64[ns]")
        rows = np.searchsorted(self.calendar.to_numpy(), dates)
        codes, names = symbol_codes(self.bars["symbol"])
        column_of = self.symbols.get_indexer(names)
        used = np.bincount(codes, minlength=len(names)) > 0
        if (column_of[used] < 0).any():
            missing = sorted(names[used & (column_of < 0)])
            raise DataError(f"bars name symbols missing from the security master: "
                            f"{missing[:10]}")
        return rows, column_of[codes]

    def as_of(self, day: pd.Timestamp | str) -> Market:
        """The market as it was known after the close of ``day``: nothing later is in it.

        Bars and benchmark bars up to ``day``, reports announced by ``day``, ST episodes
        and index-membership spells begun by then (one still running at ``day`` is
        open-ended), corporate actions announced (or, without an announcement date, gone
        ex) by then, and delisting dates only where already past. The securities table
        keeps every symbol (later listings simply have no bars), so symbol positions match
        the full market's. The last four cuts are kept (:meth:`memo`), so repeated
        in-sample runs share one.

        Examples
        --------
        >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
        >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03",
        ...                                      end="2023-12-29"))
        >>> str(m.as_of("2023-06-30").calendar[-1].date())
        '2023-06-30'
        """
        cut = pd.Timestamp(day).normalize()
        return self.memo(("as_of", cut), lambda: self._known_until(cut), keep=4)

    def _known_until(self, day: pd.Timestamp) -> Market:
        bars = self.bars.loc[self.bars["date"] <= day].reset_index(drop=True)
        sec = self.securities.copy()
        sec["delist_date"] = sec["delist_date"].where(sec["delist_date"] <= day)
        f = self.fundamentals
        fundamentals = f.loc[f["announce_date"] <= day].reset_index(drop=True)
        st = self.st_periods
        st = st.loc[st["start"] <= day].reset_index(drop=True)
        st["end"] = st["end"].where(st["end"] <= day)
        bench = self.benchmark
        bench = bench.loc[bench["date"] <= day].reset_index(drop=True)
        meta = {**dict(self.meta), "name": self.name, "known_until": str(day.date())}
        return Market(bars=bars, securities=sec, fundamentals=fundamentals, st_periods=st,
                      benchmark=bench, meta=meta,
                      index_members=cut_spells(self.index_members, day),
                      corporate_actions=cut_actions(self.corporate_actions, day))

    # -- point in time --------------------------------------------------------------------
    def universe(self, date: str | pd.Timestamp, index: str | None = None) -> pd.DataFrame:
        """Return the securities listed on ``date``: ``list_date <= date < delist_date``.

        Survivorship-free: a stock delisted later is in the universe before it left, and a
        stock listed later is not there yet.

        Parameters
        ----------
        date
            The day.
        index
            Keep only the members of this index on ``date`` (e.g. ``'csi300'``; see
            :attr:`indexes`), by the ``index_members`` spells: the membership of the last
            snapshot on or before ``date``, so nothing later is used. None (default): every
            listed security.

        Raises
        ------
        ConfigError
            ``index`` is not an index the market has membership for.

        Examples
        --------
        >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
        >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03",
        ...                                      end="2023-12-29"))
        >>> len(m.universe("2023-06-30")) <= 15
        True
        """
        day = pd.Timestamp(date)
        sec = self.securities
        gone = sec["delist_date"]
        listed = (sec["list_date"] <= day) & (gone.isna() | (gone > day))
        if index is not None:
            listed &= sec["symbol"].astype(str).isin(self.members(day, index))
        return sec.loc[listed].reset_index(drop=True)

    @property
    def indexes(self) -> tuple[str, ...]:
        """Names of the indices the market has membership for (``index_members``), sorted."""
        return self.memo("indexes", lambda: tuple(sorted(
            self.index_members["index"].astype(str).unique())))

    def members(self, date: str | pd.Timestamp, index: str) -> pd.Index:
        """Every member of ``index`` on ``date``, whether or not the market has its data.

        ``len(members(d, 'csi300'))`` is 300 on a snapshot date even when the market holds
        bars for only some of them; :meth:`universe` with ``index=`` keeps the listed
        securities of the market among them.

        Raises
        ------
        ConfigError
            ``index`` is not an index the market has membership for.
        """
        return members_on(self.index_members, pd.Timestamp(date), self._index(index))

    def membership(self, index: str) -> np.ndarray:
        """Membership of ``index`` as a read-only boolean array, sessions × symbols.

        Rows follow :attr:`calendar`, columns :attr:`symbols`; row ``t`` holds the members
        on session ``t`` (the last snapshot on or before it), so it uses no membership
        known later. Built once per index and kept (:meth:`memo`).

        Raises
        ------
        ConfigError
            ``index`` is not an index the market has membership for.
        """
        name = self._index(index)

        def build() -> np.ndarray:
            mask = member_mask(self.index_members, name,
                               self.calendar.to_numpy(dtype="datetime64[ns]"), self.symbols)
            mask.flags.writeable = False
            return mask

        return self.memo(("membership", name), build)

    def _index(self, index: str) -> str:
        known = self.indexes
        if index not in known:
            have = (did_you_mean(str(index), known) if known else
                    "it has no index membership; import one with `python -m workbench "
                    "import ... --index-weights FILE` (tushare index_weight)")
            raise ConfigError(f"market {self.name!r} has no membership of index {index!r}: "
                              f"{have}")
        return index

    def fundamentals_asof(self, date: str | pd.Timestamp) -> pd.DataFrame:
        """Return, per symbol, the latest report announced on or before ``date``.

        "Latest" is by report period; a report becomes visible on its announcement date,
        never before. Symbols with no announced report are absent.
        """
        day = pd.Timestamp(date)
        f = self.fundamentals
        seen = f.loc[f["announce_date"] <= day]
        if seen.empty:
            return seen.reset_index(drop=True)
        seen = seen.sort_values(["symbol", "period_end", "announce_date"])
        return seen.groupby("symbol", observed=True).tail(1).reset_index(drop=True)

    def is_st(self, date: str | pd.Timestamp) -> pd.Index:
        """Return the symbols under risk warning (ST / *ST) on ``date``."""
        day = pd.Timestamp(date)
        p = self.st_periods
        on = (p["start"] <= day) & (p["end"].isna() | (p["end"] >= day))
        return pd.Index(sorted(p.loc[on, "symbol"].astype(str).unique()), name="symbol")

    # -- display --------------------------------------------------------------------------
    def summary(self) -> Summary:
        """Headline facts: symbols, sessions, date range, boards, sectors, events, indexes,
        and the number of corporate actions.

        Returns
        -------
        Summary
            A dict of raw values (``start``/``end`` as ISO dates, ``boards`` as
            ``{board: symbols}``, counts as ints) that a notebook or a print shows as a
            formatted table.
        """
        sec = self.securities
        cal = self.calendar
        return Summary({
            "name": self.name,
            "source": self.meta.get("source", "unknown"),
            "symbols": len(sec),
            "sessions": len(cal),
            "start": str(cal[0].date()) if len(cal) else None,
            "end": str(cal[-1].date()) if len(cal) else None,
            "bars": len(self.bars),
            "boards": sec["board"].astype(str).value_counts().sort_index().to_dict(),
            "sectors": int(sec["sector"].nunique()),
            "delisted": int(sec["delist_date"].notna().sum()),
            "suspended_days": int(self.bars["suspended"].sum()),
            "st_episodes": len(self.st_periods),
            "reports": len(self.fundamentals),
            "indexes": list(self.indexes),
            "corporate_actions": len(self.corporate_actions),
        })

    def __repr__(self) -> str:
        s = self.summary()
        n_actions = s["corporate_actions"]
        boards = ", ".join(f"{k} {v}" for k, v in s["boards"].items())
        return (
            f"<Market {s['name']!r} ({s['source']}): {s['symbols']} symbols × "
            f"{s['sessions']} sessions, {s['start']}..{s['end']}, {s['bars']:,} bars; "
            f"boards: {boards}; {s['sectors']} sectors; {s['delisted']} delisted; "
            f"{s['suspended_days']:,} suspended days; {s['st_episodes']} ST episodes; "
            f"{s['reports']:,} reports"
            f"{f'; {n_actions:,} corporate actions' if n_actions else ''}"
            f"{'; index membership: ' + ', '.join(s['indexes']) if s['indexes'] else ''}>"
        )
