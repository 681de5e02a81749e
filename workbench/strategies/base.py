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
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias, TypeVar

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, LookupFailed, did_you_mean

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = [
    "MarketView",
    "Strategy",
    "ViewContext",
    "Weights",
    "available",
    "get",
    "normalize_weights",
    "register",
]

#: What ``target_weights`` may return besides ``None``.
Weights: TypeAlias = np.ndarray | pd.Series | Mapping[str, float]

#: Sum of weights allowed above 1.0 for floating-point noise (1/3 + 1/3 + 1/3 and the like).
WEIGHT_TOLERANCE = 1e-9


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
        key = f"rolling_mean:{column}:{window}"
        found = self._arrays.get(key)
        if found is None:
            values = self.array(column)
            valid = np.isfinite(values)
            total = np.where(valid, values, 0.0)
            np.cumsum(total, axis=0, out=total)
            count = np.cumsum(valid, axis=0, dtype=np.int32)
            found = np.full(values.shape, np.nan)
            w = window
            if w <= len(values):  # sums over rows t-w+1..t, written without big temporaries
                found[w - 1] = total[w - 1]
                np.subtract(total[w:], total[:-w], out=found[w:])
                found /= w
                incomplete = count[w - 1 :].copy()
                incomplete[1:] -= count[:-w]
                found[w - 1 :][incomplete != w] = np.nan
            found.flags.writeable = False
            self._arrays[key] = found
        return found

    def listed(self, row: int) -> np.ndarray:
        """Boolean mask of symbols listed on session ``row`` (read-only; last row cached)."""
        if self._listed[0] != row:
            mask = (self.list_row <= row) & (row < self.delist_row)
            mask.flags.writeable = False
            self._listed = (row, mask)
        return self._listed[1]


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
    """

    __slots__ = ("_cache", "_ctx", "cash_cny", "equity_cny", "holdings", "row")

    def __init__(self, ctx: ViewContext, row: int, *, holdings: np.ndarray | None = None,
                 cash_cny: float = math.nan, equity_cny: float = math.nan) -> None:
        self._ctx = ctx
        self.row = int(row)
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
            self._cache["listed"] = self._ctx.listed(self.row)
        return self._cache["listed"]

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
@dataclass(frozen=True, kw_only=True)
class Strategy:
    """Base of every strategy: a frozen dataclass of parameters with a ``name``.

    Subclasses set ``name`` (a ``ClassVar``), declare their parameters as typed fields with
    defaults, validate them in ``__post_init__`` (raising ConfigError) and implement
    :meth:`target_weights`.
    """

    name: ClassVar[str] = "strategy"

    def target_weights(self, view: MarketView) -> Weights | None:
        """Target weights after the close of ``view.date``, or None for no change."""
        raise NotImplementedError(f"{type(self).__name__} must implement target_weights")

    @property
    def params(self) -> dict[str, Any]:
        """The parameters as a plain dict."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def describe(self) -> dict[str, Any]:
        """Name and parameters, JSON-ready (for results and reports)."""
        return {"name": self.name, "params": _jsonable(self.params)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# -- weights ------------------------------------------------------------------------------------
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

