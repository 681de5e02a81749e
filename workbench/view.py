"""The point-in-time view of a market that a strategy sees after each close.

:class:`ViewContext` holds what every view of one run shares (the market's dense arrays
and the listing rows); :class:`MarketView` is the market as known after the close of one
session. The view cannot see the future: its arrays are read-only slices of the market's
grids (:meth:`workbench.data.Market.grid`, the one panel implementation) ending at row
``t``, fundamentals are those announced by ``t``, the universe holds the stocks listed on
``t`` (within the backtest's index universe, when it has one: the members as of ``t``),
and delisting dates that lie after ``t`` are hidden. Pandas objects are built only
when asked for (lazy properties), so a strategy that works on numpy arrays costs the engine
no pandas work per session.

**Derived arrays.** Arrays a strategy derives from the whole history (moving averages, RSI,
the report-index table) are built once per market by :meth:`ViewContext.derived` and kept
on the :class:`~workbench.data.Market` itself (:meth:`~workbench.data.Market.memo`, family
``"view"``), so grid searches and repeated recommendations reuse them and they go when the
market does. Every builder must make row ``t`` depend on rows ``<= t`` only
(``tests/test_strategies_lookahead.py`` checks it for every registered strategy).
:func:`clear_cache` forgets them, e.g. after editing a market's tables in place.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.indicators import rolling_means

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["MarketView", "ViewContext", "clear_cache"]

#: The Market.memo family of the view's derived arrays.
MEMO_FAMILY = "view"


def clear_cache(market: Market) -> None:
    """Forget the derived arrays kept on ``market`` (needed only after editing it in place).

    A new Market object never shares derived arrays with another.
    """
    market.forget(MEMO_FAMILY)


class ViewContext:
    """What every :class:`MarketView` of one run shares: the market and its dense arrays.

    Built once per backtest. Full-history arrays are read-only and cached here; views only
    ever hand out slices that end at their own row.

    Parameters
    ----------
    market
        The market being backtested.
    start_row
        Row (in ``market.calendar``) of the run's first session.
    """

    def __init__(self, market: Market, start_row: int = 0) -> None:
        self.market = market
        self.start_row = int(start_row)
        self.calendar: pd.DatetimeIndex = market.calendar
        self.dates64: np.ndarray = self.calendar.to_numpy(dtype="datetime64[ns]")
        self.symbols: pd.Index = market.symbols
        sec = market.securities.assign(symbol=market.securities["symbol"].astype(str))
        sec = sec.set_index("symbol").reindex(self.symbols)
        self.securities = sec
        self.list_dates = sec["list_date"].to_numpy(dtype="datetime64[ns]")
        self.delist_dates = sec["delist_date"].to_numpy(dtype="datetime64[ns]")
        # listed on row r  <=>  list_row <= r < delist_row
        self.list_row = np.where(
            np.isnat(self.list_dates), 0,
            np.searchsorted(self.dates64, self.list_dates, side="left"),
        ).astype(np.int64)
        self.delist_row = np.where(
            np.isnat(self.delist_dates), len(self.dates64),
            np.searchsorted(self.dates64, self.delist_dates, side="left"),
        ).astype(np.int64)
        # this run's handles on the market's arrays: a plain dict read every session, so the
        # hot path never takes the Market.memo lock (which holds the shared arrays themselves)
        self._arrays: dict[str, np.ndarray] = {}
        self._listed: tuple[int, np.ndarray] = (-1, np.zeros(0, dtype=bool))
        self._means: dict[tuple[Any, ...], list[np.ndarray]] = {}

    def array(self, column: str) -> np.ndarray:
        """Full-history read-only array of a bar column (sessions × symbols).

        ``adj_close`` is derived: ``close * adj_factor`` (backward-adjusted, so row ``t``
        depends on data up to ``t`` only).
        """
        found = self._arrays.get(column)
        if found is None:
            if column == "adj_close":
                found = self.array("close") * self.array("adj_factor")
            else:
                found = self.market.grid(column).view()  # ours, so the market's stays writable
            found.flags.writeable = False
            self._arrays[column] = found
        return found

    def arrays(self, columns: Sequence[str]) -> list[np.ndarray]:
        """:meth:`array` of each bar column of ``columns``, in order.

        The columns' stored panels are checked together first (:meth:`Market.grids
        <workbench.data.Market.grids>`), so a cold run does not check them one by one.
        """
        todo = [c for c in columns if c not in self._arrays and c != "adj_close"]
        if todo:
            self.market.grids(todo)
        return [self.array(c) for c in columns]

    def rolling_mean(self, column: str, window: int) -> np.ndarray:
        """Causal simple moving average of a bar column, all sessions × symbols (read-only).

        Row ``t`` is the mean of rows ``t - window + 1 .. t``: NaN until ``window`` bars
        are there, and NaN for any window with a missing bar. Built once per market from
        running sums (:func:`workbench.indicators.rolling_means`), so row ``t`` depends on
        rows up to ``t`` only.
        """
        return self.rolling_means(column, (window,))[0]

    def rolling_means(self, column: str, windows: Sequence[int]) -> list[np.ndarray]:
        """:meth:`rolling_mean` of several windows; those not built yet are built together.

        One pass over the column serves every window, and ``adj_close`` is formed a block
        of rows at a time, never as a whole array.
        """
        asked = (column, *windows)
        found = self._means.get(asked)  # this run's handles: the per-session path
        if found is None:
            found = self._means[asked] = self._build_means(column, windows)
        return found

    def _build_means(self, column: str, windows: Sequence[int]) -> list[np.ndarray]:
        for window in windows:
            if window < 1:
                raise ConfigError(f"window must be at least 1 session, got {window!r}")
        keys = [f"rolling_mean:{column}:{int(w)}" for w in windows]
        built: dict[int, np.ndarray] = {}

        def builder(window: int) -> Callable[[ViewContext], np.ndarray]:
            def build(_: ViewContext) -> np.ndarray:
                if not built:  # the first window asked for builds them all, once
                    found = rolling_means(self._rows(column), len(self.dates64), windows)
                    built.update(zip(map(int, windows), found, strict=True))
                return built[window]
            return build

        return [self.derived(k, builder(int(w))) for k, w in zip(keys, windows, strict=True)]

    def _rows(self, column: str) -> Callable[[int, int], np.ndarray]:
        """``rows(lo, hi)``: rows ``lo .. hi - 1`` of :meth:`array` (``adj_close`` formed on
        the fly, unless the whole array is already built)."""
        if column == "adj_close" and column not in self._arrays:
            close, factor = self.array("close"), self.array("adj_factor")
            return lambda lo, hi: close[lo:hi] * factor[lo:hi]
        values = self.array(column)
        return lambda lo, hi: values[lo:hi]

    def derived(self, key: str, build: Callable[[ViewContext], np.ndarray]) -> np.ndarray:
        """A full-history array derived from the market, built once per market and cached.

        Parameters
        ----------
        key
            Names the array; include every parameter it depends on (``"rsi:14"``).
        build
            ``build(ctx)`` returns the array, sessions first. Row ``t`` must depend on
            market data up to session ``t`` only (views hand out row ``t`` at session
            ``t``), and not on ``ctx.start_row``: the array is shared by every run.

        Returns
        -------
        np.ndarray
            The array, read-only, shared by every run on the same market.
        """
        found = self._arrays.get(key)
        if found is None:
            found = self.market.memo((MEMO_FAMILY, key), lambda: _read_only(build(self)))
            self._arrays[key] = found
        return found

    # -- point-in-time statements -----------------------------------------------------------
    def report_index(self) -> np.ndarray:
        """Row of ``market.fundamentals`` in force per session and symbol (-1: none yet).

        Sessions × symbols, int32: the latest report period announced on or before each
        session, as :meth:`~workbench.data.Market.fundamentals_asof` picks it.
        """
        return self.derived("report_index", _report_index)

    def report_rows(self) -> np.ndarray:
        """Per row of ``market.fundamentals``: the session row it becomes visible on.

        ``len(calendar)`` for a report announced after the last session (never visible).
        """
        return self.derived("report_rows", _report_rows)

    def fundamental_column(self, column: str) -> np.ndarray:
        """One column of ``market.fundamentals`` as a read-only float array (row order)."""
        def build(ctx: ViewContext) -> np.ndarray:
            f = ctx.market.fundamentals
            numeric = [c for c in f.columns if c not in ("symbol", "period_end",
                                                         "announce_date")]
            if column not in numeric:
                raise ConfigError(f"no fundamentals column {column!r}; available: "
                                  f"{sorted(numeric)}")
            return f[column].to_numpy(dtype=float)

        return self.derived(f"fundamentals:{column}", build)

    def sector_codes(self) -> np.ndarray:
        """Integer code of each symbol's sector (aligned with :attr:`symbols`), read-only."""
        return self.derived("sector_codes", lambda ctx: pd.factorize(
            ctx.securities["sector"].astype(str).fillna("unknown"))[0].astype(np.int64))

    def members(self, index: str) -> np.ndarray:
        """Membership of ``index`` (e.g. ``'csi300'``), sessions × symbols, read-only.

        Row ``t`` holds the members as of session ``t`` (the last membership snapshot on or
        before it; :meth:`workbench.data.Market.membership`), so it uses nothing known
        later. Pass a row as ``MarketView(..., universe=ctx.members(index)[t])`` to let a
        strategy pick among the members only. Raises ConfigError for an index the market
        has no membership of.
        """
        return self.market.membership(index)

    def listed(self, row: int) -> np.ndarray:
        """Boolean mask of symbols listed on session ``row`` (read-only; last row cached)."""
        if self._listed[0] != row:
            mask = (self.list_row <= row) & (row < self.delist_row)
            mask.flags.writeable = False
            self._listed = (row, mask)
        return self._listed[1]


def _read_only(values: Any) -> np.ndarray:
    found = np.asarray(values)
    found.flags.writeable = False
    return found


def _report_rows(ctx: ViewContext) -> np.ndarray:
    f = ctx.market.fundamentals
    announce = f["announce_date"].to_numpy(dtype="datetime64[ns]")
    rows = np.searchsorted(ctx.dates64, announce, side="left").astype(np.int64)
    return np.where(np.isnat(announce), len(ctx.dates64), rows)


def _report_index(ctx: ViewContext) -> np.ndarray:
    f = ctx.market.fundamentals
    n_rows, n_sym = len(ctx.dates64), len(ctx.symbols)
    out = np.full((n_rows, n_sym), -1, dtype=np.int32)
    if f.empty:
        return out
    sym = ctx.symbols.get_indexer(f["symbol"].astype(str))
    visible = ctx.report_rows()
    period = f["period_end"].to_numpy(dtype="datetime64[ns]")
    ok = (sym >= 0) & (visible < n_rows) & ~np.isnat(period)
    ids = np.flatnonzero(ok)
    if not ids.size:
        return out
    period_ns = period[ids].astype(np.int64)
    announce_ns = f["announce_date"].to_numpy(dtype="datetime64[ns]")[ids].astype(np.int64)
    # "latest" is the largest (period_end, announce_date); rank every report by it
    by_key = np.lexsort((announce_ns, period_ns))
    rank = np.empty(ids.size, dtype=np.int64)
    rank[by_key] = np.arange(ids.size)
    # walk each symbol's reports in the order they become visible, keeping the best so far
    order = np.lexsort((rank, visible[ids], sym[ids]))
    s, v, r = sym[ids][order], visible[ids][order], rank[order]
    shift = s.astype(np.int64) * ids.size  # symbols sorted ascending: one running max each
    best = np.maximum.accumulate(r + shift) - shift
    last = np.r_[(s[1:] != s[:-1]) | (v[1:] != v[:-1]), True]  # the last report of a day
    out[v[last], s[last]] = ids[by_key][best[last]]
    # carry each symbol's report forward to the following sessions
    since = np.where(out >= 0, np.arange(n_rows, dtype=np.int64)[:, None], 0)
    np.maximum.accumulate(since, axis=0, out=since)
    return np.take_along_axis(out, since, axis=0)


def _report_adj_factor(ctx: ViewContext) -> np.ndarray:
    """Per report: the adjustment factor on the session it became visible.

    Before a stock's first bar the first factor stands in; the report is only read on
    sessions with a bar, which come later, so nothing is seen early.
    """
    f = ctx.market.fundamentals
    out = np.full(len(f), np.nan)
    if f.empty:
        return out
    rows = ctx.report_rows()
    sym = ctx.symbols.get_indexer(f["symbol"].astype(str))
    ok = (sym >= 0) & (rows < len(ctx.dates64))
    adj = pd.DataFrame(ctx.array("adj_factor")).ffill().bfill().to_numpy()
    out[ok] = adj[rows[ok], sym[ok]]
    return out


class MarketView:
    """A point-in-time view of the market after the close of one session.

    Everything here is known after the close of ``date``: bar arrays end at that row,
    fundamentals are those announced by then, future delistings are hidden. Arrays are
    read-only; pandas objects are built on first access only.

    Attributes
    ----------
    row
        Index of ``date`` in ``market.calendar`` (arrays have ``row + 1`` rows).
    holdings
        Shares held per symbol (int array aligned with :attr:`symbols`), after today's fills.
    cash_cny, equity_cny
        Cash and equity (cash + holdings at the close), CNY.

    Parameters
    ----------
    universe
        Optional boolean mask over :attr:`symbols`: the view then treats every other symbol
        as not listed (:attr:`listed`, :attr:`tradable` and :attr:`universe` shrink to it),
        so a strategy ranks and picks within it. Used by recommendations on a universe and
        by backtests on an index universe (``BacktestConfig(universe='csi300')``: row ``t``
        of :meth:`ViewContext.members`).
    """

    __slots__ = ("_cache", "_ctx", "_mask", "cash_cny", "equity_cny", "holdings", "row")

    def __init__(self, ctx: ViewContext, row: int, *, holdings: np.ndarray | None = None,
                 cash_cny: float = math.nan, equity_cny: float = math.nan,
                 universe: np.ndarray | None = None) -> None:
        self._ctx = ctx
        self.row = int(row)
        self._mask = None if universe is None else np.asarray(universe, dtype=bool)
        if holdings is None:
            holdings = np.zeros(len(ctx.symbols), dtype=np.int64)
        holdings = np.array(holdings, dtype=np.int64)  # a copy: the engine keeps trading
        holdings.flags.writeable = False
        self.holdings = holdings
        self.cash_cny = float(cash_cny)
        self.equity_cny = float(equity_cny)
        self._cache: dict[str, Any] = {}

    # -- time -------------------------------------------------------------------------------
    @property
    def date(self) -> pd.Timestamp:
        """The session this view closes on."""
        return pd.Timestamp(self._ctx.dates64[self.row])

    @property
    def dates(self) -> pd.DatetimeIndex:
        """Sessions up to and including :attr:`date` (the rows of every array)."""
        return self._ctx.calendar[: self.row + 1]

    @property
    def start_date(self) -> pd.Timestamp:
        """First session of the backtest (the first decision day)."""
        return pd.Timestamp(self._ctx.dates64[self._ctx.start_row])

    @property
    def is_first(self) -> bool:
        """True on the backtest's first decision day."""
        return self.row == self._ctx.start_row

    @property
    def is_month_start(self) -> bool:
        """True on the first session of a calendar month (and on the first available row)."""
        if self.row == 0:
            return True
        d = self._ctx.dates64[self.row - 1 : self.row + 1].astype("datetime64[M]")
        return bool(d[1] != d[0])

    # -- symbols ----------------------------------------------------------------------------
    @property
    def symbols(self) -> pd.Index:
        """Every symbol of the market, sorted: the columns of every array."""
        return self._ctx.symbols

    @property
    def listed(self) -> np.ndarray:
        """Mask of symbols listed on :attr:`date` (``list_date <= date < delist_date``)."""
        if "listed" not in self._cache:
            listed = self._ctx.listed(self.row)
            if self._mask is not None:
                listed = listed & self._mask
                listed.flags.writeable = False
            self._cache["listed"] = listed
        return self._cache["listed"]

    @property
    def sector_codes(self) -> np.ndarray:
        """Integer code of each symbol's sector (for ranking within sectors)."""
        return self._ctx.sector_codes()

    @property
    def is_st(self) -> np.ndarray:
        """Mask of symbols under risk warning (ST / *ST) on :attr:`date`."""
        return self.latest("is_st")

    @property
    def has_bar(self) -> np.ndarray:
        """Mask of symbols with a bar on :attr:`date` (suspended days have a bar)."""
        return np.isfinite(self.latest("close"))

    @property
    def tradable(self) -> np.ndarray:
        """Listed, with a bar and not suspended on :attr:`date`.

        A stock at a price limit is still "tradable" here; the next session decides.
        """
        if "tradable" not in self._cache:
            self._cache["tradable"] = self.listed & self.has_bar & ~self.latest("suspended")
        return self._cache["tradable"]

    @property
    def list_dates(self) -> np.ndarray:
        """Listing date per symbol (``datetime64``); NaT for stocks not listed yet."""
        ctx = self._ctx
        return np.where(ctx.list_row <= self.row, ctx.list_dates, np.datetime64("NaT"))

    @property
    def weights(self) -> np.ndarray:
        """Current weight of each holding: shares × close / equity (0 where not held)."""
        if "weights" not in self._cache:
            close = self.latest("close")
            value = np.where(self.holdings > 0, self.holdings * np.where(
                np.isfinite(close), close, 0.0), 0.0)
            eq = self.equity_cny
            self._cache["weights"] = value / eq if eq > 0 else np.zeros_like(value)
        return self._cache["weights"]

    # -- bars -------------------------------------------------------------------------------
    def array(self, column: str) -> np.ndarray:
        """A bar column as a read-only array, sessions (up to :attr:`date`) × symbols.

        Zero-copy: a slice of the run's cached panel. ``'adj_close'`` is ``close *
        adj_factor``. NaN (False for booleans) where a symbol has no bar.
        """
        return self._ctx.array(column)[: self.row + 1]

    def history(self, column: str, window: int) -> np.ndarray:
        """The last ``window`` rows of :meth:`array` (fewer at the start of the data)."""
        if window < 1:
            raise ConfigError(f"window must be at least 1 session, got {window!r}")
        return self._ctx.array(column)[max(0, self.row + 1 - window) : self.row + 1]

    def latest(self, column: str) -> np.ndarray:
        """Row :attr:`date` of a bar column: one value per symbol (read-only)."""
        return self._ctx.array(column)[self.row]

    def rolling_mean(self, column: str, window: int) -> np.ndarray:
        """Simple moving average over the last ``window`` sessions up to :attr:`date`.

        One value per symbol (read-only); NaN where fewer than ``window`` bars exist or one
        is missing. Equal to ``history(column, window).mean(axis=0)`` up to rounding, but
        computed once per run, so it costs nothing per session.
        """
        if window < 1:
            raise ConfigError(f"window must be at least 1 session, got {window!r}")
        return self._ctx.rolling_mean(column, int(window))[self.row]

    def rolling_means(self, column: str, windows: Sequence[int]) -> list[np.ndarray]:
        """:meth:`rolling_mean` of several windows (built together, once per market).

        Raises ConfigError for a window below 1.
        """
        return [m[self.row] for m in self._ctx.rolling_means(column, windows)]

    def derived(self, key: str, build: Callable[[ViewContext], np.ndarray]) -> np.ndarray:
        """Row :attr:`date` of a cached full-history array (see :meth:`ViewContext.derived`).

        ``build(ctx)`` must make row ``t`` depend on data up to session ``t`` only.
        """
        return self._ctx.derived(key, build)[self.row]

    def fundamental(self, column: str) -> np.ndarray:
        """A statement figure per symbol from the latest report announced by :attr:`date`.

        NaN where a symbol has no announced report yet. ``column`` is one of the
        fundamentals columns (``eps``, ``bvps``, ``roe``, ``revenue_growth``,
        ``profit_growth``, ``shares_outstanding``).
        """
        values = self._ctx.fundamental_column(column)
        idx = self.report_index
        if not values.size:
            return np.full(len(idx), np.nan)
        return np.where(idx >= 0, values[idx], np.nan)

    @property
    def report_index(self) -> np.ndarray:
        """Row of ``market.fundamentals`` per symbol announced by :attr:`date` (-1: none)."""
        return self._ctx.report_index()[self.row]

    @property
    def report_price(self) -> np.ndarray:
        """Today's close in the shares of each symbol's latest announced report, CNY.

        Per-share report figures (``eps``, ``bvps``) are in the shares outstanding when
        the report came out; this is ``close * adj_factor / adj_factor_then`` (the factor
        on the session the report became visible), so ``eps / report_price`` is not
        distorted by a bonus issue or split after the report. NaN without a report.
        """
        idx = self.report_index
        basis = self._ctx.derived("report_adj_factor", _report_adj_factor)
        if not basis.size:
            return np.full(len(idx), np.nan)
        return np.where(idx >= 0, self.latest("adj_close") / basis[idx], np.nan)

    @property
    def has_statements(self) -> bool:
        """True when the market has point-in-time statements (``fundamentals``) at all."""
        return len(self._ctx.market.fundamentals) > 0

    @property
    def bar_columns(self) -> tuple[str, ...]:
        """Names of the bar columns the market has (for optional ones like ``pe_ttm``)."""
        return self._ctx.market.bar_columns

    def panel(self, column: str) -> pd.DataFrame:
        """:meth:`array` as a DataFrame indexed by date with symbol columns (built lazily)."""
        key = f"panel:{column}"
        if key not in self._cache:
            self._cache[key] = pd.DataFrame(self.array(column), index=self.dates,
                                            columns=self.symbols, copy=False)
        return self._cache[key]

    # -- tables -----------------------------------------------------------------------------
    @property
    def universe(self) -> pd.DataFrame:
        """Securities listed on :attr:`date`; ``delist_date`` is NaT unless already past."""
        if "universe" not in self._cache:
            sec = self._ctx.securities.loc[self.listed].reset_index()
            sec["delist_date"] = sec["delist_date"].where(sec["delist_date"] <= self.date)
            self._cache["universe"] = sec
        return self._cache["universe"]

    @property
    def fundamentals(self) -> pd.DataFrame:
        """Latest report per symbol announced on or before :attr:`date`."""
        if "fundamentals" not in self._cache:
            self._cache["fundamentals"] = self._ctx.market.fundamentals_asof(self.date)
        return self._cache["fundamentals"]

    @property
    def benchmark(self) -> pd.DataFrame:
        """Benchmark bars up to and including :attr:`date`."""
        if "benchmark" not in self._cache:
            b = self._ctx.market.benchmark
            self._cache["benchmark"] = b.loc[b["date"] <= self.date].reset_index(drop=True)
        return self._cache["benchmark"]

    def __repr__(self) -> str:
        return (f"<MarketView {self.date.date()} (row {self.row}), {len(self.symbols)} symbols, "
                f"{int(self.listed.sum())} listed>")


