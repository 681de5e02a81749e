"""The strategy protocol, the point-in-time :class:`MarketView` and the strategy registry.

A strategy is a frozen dataclass whose fields are its parameters, with a class-level
``name`` and one method::

    @register
    @dataclass(frozen=True, kw_only=True)
    class Momentum(Strategy):
        name: ClassVar[str] = "momentum"
        lookback: int = 60

        def target_weights(self, view: MarketView) -> Weights | None:
            ...

The backtester calls ``target_weights`` after the close of every session ``t`` with a
:class:`MarketView` of the data up to and including ``t``; the orders it implies fill on
the next session. The method returns

* ``None``: no change today (keep the holdings; cheap for monthly rebalancers), or
* target weights, fractions of equity per symbol, as a float array aligned with
  ``view.symbols``, a ``pd.Series`` indexed by symbol or a ``{symbol: weight}`` mapping.
  Symbols left out get weight 0 (sold). Weights must be finite, >= 0 and sum to <= 1
  (the account is cash only: no shorting, no leverage); anything else stops the run with
  a :class:`~workbench.errors.ConfigError`, nothing is clipped.

The view cannot see the future: its arrays are read-only slices of the market's panels
ending at row ``t``, fundamentals are those announced by ``t``, the universe holds the
stocks listed on ``t``, and delisting dates that lie after ``t`` are hidden. Pandas objects
are built only when asked for (lazy properties), so a strategy that works on numpy arrays
costs the engine no pandas work per session.

Optionally a strategy also implements ``scores(view) -> Scores``: a rating of every symbol
(a score in [0, 1], the weights it would hold if it rebalanced after this close, the
factor values behind them and their reasons). :func:`workbench.recommend.recommend` uses
it to explain its picks; the backtester never calls it.

**Caches.** Arrays a strategy derives from the whole history (moving averages, RSI, the
report-index table) are built once per market by :meth:`ViewContext.derived` and kept in a
cache keyed by the :class:`~workbench.data.Market` object (weakly: it goes when the market
does), so grid searches and repeated recommendations reuse them. Every builder must make
row ``t`` depend on rows ``<= t`` only (``tests/test_strategies_lookahead.py`` checks it for
every registered strategy). :func:`clear_cache` empties it, e.g. after editing a market's
tables in place.
"""

from __future__ import annotations

import dataclasses
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeAlias, TypeVar

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, LookupFailed, did_you_mean
from workbench.jsonable import jsonable

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = [
    "Factor",
    "MarketView",
    "Scores",
    "Strategy",
    "ViewContext",
    "Weights",
    "available",
    "clear_cache",
    "get",
    "normalize_weights",
    "parameters",
    "register",
    "resolve",
    "rolling_mean_array",
]

#: What ``target_weights`` may return besides ``None``.
Weights: TypeAlias = np.ndarray | pd.Series | Mapping[str, float]

#: Sum of weights allowed above 1.0 for floating-point noise (1/3 + 1/3 + 1/3 and the like).
WEIGHT_TOLERANCE = 1e-9

#: Full-history derived arrays per market (see the module docstring, "Caches").
_MARKET_CACHE: weakref.WeakKeyDictionary[Market, dict[str, np.ndarray]] = (
    weakref.WeakKeyDictionary())


def clear_cache(market: Market | None = None) -> None:
    """Forget the derived arrays kept for ``market`` (every market when None).

    Needed only after changing a market's tables in place; a new Market object never
    shares the cache of another.
    """
    if market is None:
        _MARKET_CACHE.clear()
    else:
        _MARKET_CACHE.pop(market, None)


def rolling_mean_array(values: np.ndarray, window: int) -> np.ndarray:
    """Causal simple moving average down the rows of a 2-D array (a new float array).

    Row ``t`` is the mean of rows ``t - window + 1 .. t``: NaN until ``window`` rows are
    there and NaN for any window holding a NaN. Built from cumulative sums, so row ``t``
    depends on rows up to ``t`` only.

    Examples
    --------
    >>> rolling_mean_array(np.array([[1.0], [2.0], [np.nan], [4.0], [6.0]]), 2).ravel()
    array([nan, 1.5, nan, nan, 5. ])
    """
    valid = np.isfinite(values)
    total = np.where(valid, values, 0.0)
    np.cumsum(total, axis=0, out=total)
    count = np.cumsum(valid, axis=0, dtype=np.int32)
    found = np.full(values.shape, np.nan)
    w = int(window)
    if w <= len(values):  # sums over rows t-w+1..t, written without big temporaries
        found[w - 1] = total[w - 1]
        np.subtract(total[w:], total[:-w], out=found[w:])
        found /= w
        incomplete = count[w - 1 :].copy()
        incomplete[1:] -= count[:-w]
        found[w - 1 :][incomplete != w] = np.nan
    return found


# -- the view ---------------------------------------------------------------------------------
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
        self._arrays: dict[str, np.ndarray] = {}
        self._listed: tuple[int, np.ndarray] = (-1, np.zeros(0, dtype=bool))

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
                found = self.market.panel(column).to_numpy()
                if found.flags.writeable:  # a view we own, so the market's panel stays intact
                    found = found.view()
            found.flags.writeable = False
            self._arrays[column] = found
        return found

    def rolling_mean(self, column: str, window: int) -> np.ndarray:
        """Causal simple moving average of a bar column, all sessions × symbols (read-only).

        Row ``t`` is the mean of rows ``t - window + 1 .. t``: NaN until ``window`` bars
        are there, and NaN for any window with a missing bar. Built once per run from
        cumulative sums, so row ``t`` depends on rows up to ``t`` only.
        """
        return self.derived(f"rolling_mean:{column}:{int(window)}",
                            lambda ctx: rolling_mean_array(ctx.array(column), window))

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
            shared = _MARKET_CACHE.setdefault(self.market, {})
            found = shared.get(key)
            if found is None:
                found = np.asarray(build(self))
                found.flags.writeable = False
                shared[key] = found
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

    def listed(self, row: int) -> np.ndarray:
        """Boolean mask of symbols listed on session ``row`` (read-only; last row cached)."""
        if self._listed[0] != row:
            mask = (self.list_row <= row) & (row < self.delist_row)
            mask.flags.writeable = False
            self._listed = (row, mask)
        return self._listed[1]


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
        so a strategy ranks and picks within it. Used by recommendations on a universe.
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
        return tuple(str(c) for c in self._ctx.market.bars.columns)

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


# -- the protocol -------------------------------------------------------------------------------
class Factor(NamedTuple):
    """One input behind a strategy's scores, per symbol, for explanations.

    Attributes
    ----------
    name
        What it is, e.g. ``'earnings yield'``.
    values
        Per symbol (aligned with ``view.symbols``), NaN where not available.
    fmt
        Format of one value, e.g. ``'{:.1%}'``.
    rank
        Optional percentile of the value among the rated symbols, 0-1 (1 is the most
        attractive); names the factor that drove a pick.
    """

    name: str
    values: np.ndarray
    fmt: str = "{:.3g}"
    rank: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Scores:
    """A strategy's rating of every symbol after one close (``Strategy.scores``).

    Attributes
    ----------
    score
        Per symbol, in [0, 1], higher is more attractive (each strategy says what it is,
        usually a percentile of its signal among the symbols it rated); NaN where not
        rated (not listed, not enough data).
    weights
        The target weights the strategy would hold if it rebalanced after this close,
        whatever its schedule (>= 0, sum <= 1).
    eligible
        Symbols the strategy may buy today (listed, tradable, its own filters).
    factors
        The inputs behind the score, for reasons.
    rule
        One line: how the strategy picks (``'top 20 by composite rank'``).
    """

    score: np.ndarray
    weights: np.ndarray
    eligible: np.ndarray
    factors: tuple[Factor, ...] = ()
    rule: str = ""

    def reason(self, i: int) -> str:
        """The factor values of symbol number ``i``, the strongest first when ranked.

        Examples
        --------
        >>> s = Scores(score=np.array([0.75]), weights=np.array([1.0]),
        ...            eligible=np.array([True]),
        ...            factors=(Factor("ROE", np.array([0.12]), "{:.0%}", np.array([0.75])),
        ...                     Factor("P/E", np.array([9.0]), "{:.1f}", np.array([0.25]))))
        >>> s.reason(0)
        'ROE 12% (pct 0.75), P/E 9.0 (pct 0.25)'
        """
        parts: list[tuple[float, str]] = []
        for f in self.factors:
            v = float(f.values[i])
            text = f"{f.name} {f.fmt.format(v)}" if math.isfinite(v) else f"{f.name} n/a"
            r = math.nan if f.rank is None else float(f.rank[i])
            if math.isfinite(r):
                text += f" (pct {r:.2f})"
            parts.append((r, text))
        parts.sort(key=lambda p: -p[0] if math.isfinite(p[0]) else math.inf)  # driver first
        return ", ".join(t for _, t in parts)

    def reasons(self, rows: Sequence[int]) -> list[str]:
        """:meth:`reason` for each of ``rows`` (symbol numbers)."""
        return [self.reason(int(i)) for i in rows]


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """Base of every strategy: a frozen dataclass of parameters with a ``name``.

    Subclasses set ``name`` (a ``ClassVar``), declare their parameters as typed fields with
    defaults, validate them in ``__post_init__`` (raising ConfigError) and implement
    :meth:`target_weights`; optionally :meth:`scores` (for recommendations) and
    :meth:`describe_inputs`.
    """

    name: ClassVar[str] = "strategy"

    def target_weights(self, view: MarketView) -> Weights | None:
        """Target weights after the close of ``view.date``, or None for no change."""
        raise NotImplementedError(f"{type(self).__name__} must implement target_weights")

    def scores(self, view: MarketView) -> Scores:
        """Rate every symbol after the close of ``view.date`` (optional; see :class:`Scores`).

        Unlike :meth:`target_weights` it ignores the rebalancing schedule: its ``weights``
        are what the strategy would hold if it rebalanced now.
        """
        raise NotImplementedError(f"strategy {self.name!r} does not rate stocks; implement "
                                  "scores(view) to use it for recommendations")

    def describe_inputs(self, market: Market) -> str:
        """One line saying which data the strategy reads on ``market``."""
        return "daily bars (backward-adjusted close)"

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def describe(self) -> dict[str, Any]:
        """Name and parameters, JSON-ready (for results and reports)."""
        return {"name": self.name, "params": jsonable(self.params)}


def normalize_weights(raw: Weights, symbols: pd.Index, *, date: pd.Timestamp,
                      strategy: str = "strategy") -> np.ndarray:
    """Turn a strategy's weights into a float array aligned with ``symbols``, or raise.

    Raises
    ------
    ConfigError
        For an unknown symbol, a NaN, infinite or negative weight, weights summing to more
        than 1, or an array of the wrong shape; the message names the value and the fix.

    Examples
    --------
    >>> syms = pd.Index(["000001.SZ", "600000.SH"])
    >>> normalize_weights({"600000.SH": 0.5}, syms, date=pd.Timestamp("2024-01-02")).tolist()
    [0.0, 0.5]
    """
    if (type(raw) is np.ndarray and raw.shape == (len(symbols),) and raw.size
            and raw.dtype == np.float64):
        # the fast path, taken every session by array strategies
        total = float(raw.sum())
        if np.isfinite(total) and total <= 1.0 + WEIGHT_TOLERANCE and raw.min() >= 0:
            return raw.copy()
    where = f"{strategy} on {pd.Timestamp(date).date()}"
    if isinstance(raw, Mapping) and not isinstance(raw, pd.Series):
        raw = pd.Series(dict(raw), dtype=float)
    if isinstance(raw, pd.Series):
        if raw.index.has_duplicates:
            dup = raw.index[raw.index.duplicated()][0]
            raise ConfigError(f"{where}: symbol {dup!r} appears twice in the weights; give "
                              "one weight per symbol")
        pos = symbols.get_indexer(raw.index.astype(str))
        if (pos < 0).any():
            bad = str(raw.index[np.flatnonzero(pos < 0)[0]])
            raise ConfigError(f"{where}: symbol {bad!r} is not in the market; "
                              f"{did_you_mean(bad, symbols)}")
        w = np.zeros(len(symbols))
        try:
            w[pos] = raw.to_numpy(dtype=float)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: weights must be numbers, got dtype "
                              f"{raw.dtype}") from None
    elif isinstance(raw, np.ndarray):
        if raw.shape != (len(symbols),):
            raise ConfigError(f"{where}: a weight array must have shape ({len(symbols)},), one "
                              f"weight per view.symbols entry; got {raw.shape}")
        w = raw.astype(float)
    else:
        raise ConfigError(f"{where}: target_weights returned {type(raw).__name__}; return an "
                          "array aligned with view.symbols, a Series or dict of weights by "
                          "symbol, or None for no change")
    if not np.isfinite(w).all():
        i = int(np.flatnonzero(~np.isfinite(w))[0])
        raise ConfigError(f"{where}: weight {float(w[i])!r} for {symbols[i]} is not a finite "
                          "number; "
                          "give 0 for stocks not to hold")
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise ConfigError(f"{where}: weight {float(w[i])!r} for {symbols[i]} is negative; A-share "
                          "cash accounts cannot sell short, use weights >= 0")
    total = float(w.sum())
    if total > 1.0 + WEIGHT_TOLERANCE:
        raise ConfigError(f"{where}: weights sum to {total:.10g} > 1; the account has no "
                          "leverage, scale the weights so they sum to at most 1")
    return w


# -- registry -----------------------------------------------------------------------------------
_REGISTRY: dict[str, type[Strategy]] = {}
S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Class decorator: make a strategy available by its ``name`` to :func:`get`."""
    name = cls.name
    params = cls.__dict__.get("__dataclass_params__")  # set by @dataclass on cls itself
    if params is None or not params.frozen:
        raise TypeError(f"strategy {name!r}: decorate with @dataclass(frozen=True, "
                        "kw_only=True) below @register")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"strategy name {name!r} is already taken by "
                         f"{_REGISTRY[name].__qualname__}")
    _REGISTRY[name] = cls
    return cls


def available() -> list[str]:
    """Names of the registered strategies, sorted.

    Examples
    --------
    >>> from workbench import strategies
    >>> {"buy_and_hold", "ma_trend"} <= set(strategies.available())
    True
    """
    return sorted(_REGISTRY)


def _describe_fields(cls: type[Strategy]) -> str:
    parts = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else "required"
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", str(f.type))
        parts.append(f"{f.name} ({kind}, default {default!r})")
    return ", ".join(parts) if parts else "none"


def parameters(name: str) -> dict[str, Any]:
    """The parameters of a registered strategy and their defaults, in declaration order.

    Raises
    ------
    LookupFailed
        For an unknown name, with the closest valid name.

    Examples
    --------
    >>> parameters("ma_trend")
    {'fast': 20, 'slow': 60, 'max_names': 50}
    """
    cls = _REGISTRY.get(name)
    if cls is None:
        raise LookupFailed(f"unknown strategy {name!r}; {did_you_mean(str(name), _REGISTRY)}")
    return {f.name: f.default for f in dataclasses.fields(cls)}


def get(name: str, **params: Any) -> Strategy:
    """Build a registered strategy by name with keyword parameters.

    Raises
    ------
    LookupFailed
        For an unknown name, with the closest valid name.
    ConfigError
        For an unknown parameter (listing the valid ones) or an invalid value.

    Examples
    --------
    >>> get("ma_trend", fast=10, slow=30).describe()["params"]["slow"]
    30
    """
    cls = _REGISTRY.get(name)
    if cls is None:
        raise LookupFailed(f"unknown strategy {name!r}; {did_you_mean(name, _REGISTRY)}")
    valid = {f.name for f in dataclasses.fields(cls)}
    if unknown := sorted(set(params) - valid):
        raise ConfigError(f"strategy {name!r} has no parameter {unknown[0]!r}; valid "
                          f"parameters: {_describe_fields(cls)}")
    return cls(**params)


def resolve(strategy: str | Strategy) -> Strategy:
    """Return ``strategy`` itself, or the registered strategy of that name with defaults.

    Raises
    ------
    LookupFailed
        For an unknown name.
    ConfigError
        For an object without a ``target_weights(view)`` method.

    Examples
    --------
    >>> resolve("momentum").params == resolve(get("momentum")).params
    True
    """
    if isinstance(strategy, str):
        return get(strategy)
    if not callable(getattr(strategy, "target_weights", None)):
        raise ConfigError(f"strategy must be a name from workbench.strategies.available() or "
                          f"a Strategy, got {strategy!r}")
    return strategy

