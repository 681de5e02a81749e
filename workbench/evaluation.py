"""Out-of-sample evaluation: split, grid search, walk-forward, cost sensitivity, strategy table.

The rule throughout: parameters are chosen on in-sample data only, and judged on data the
choice never saw.

* :class:`Split` cuts the history into an in-sample period (default 2015-2022) and a held-out
  period (default 2023-2024).
* :func:`grid_search` backtests every combination of a parameter grid on the in-sample
  period, picks the best by an objective, and reports the pick's out-of-sample result beside
  the in-sample one, with the deflated Sharpe ratio for the number of combinations tried.
  In-sample runs get the market *as known at the end of the in-sample period*
  (:func:`market_until`): bars, reports, ST episodes and delistings after it are not even
  passed in.
* :func:`walk_forward` repeats that on rolling windows (train N years, test M months) and
  stitches the test periods into one out-of-sample equity curve.
* :func:`cost_sensitivity` runs one strategy at 0x, 1x and 2x costs.
* :func:`evaluate_strategies` gives every strategy's in- and out-of-sample metrics, trade
  count and probabilistic Sharpe ratio in one table.

Grid search, walk-forward and :mod:`workbench.sweep` (the same searches on a Dask cluster)
share one engine: :func:`grid_combinations` checks a grid before anything runs, a
:class:`Trial` is one combination on its periods, and :func:`trial_results` runs it. Here
the trials run one after the other in this process; the sweep sends the same trials to
Dask workers.

Out-of-sample runs use the full market with the backtest period set to the held-out
sessions, so strategies warm up on the history before it (a 12-month momentum trades on the
held-out period's first day); the point-in-time view keeps them from seeing later data.

Metrics are those of :mod:`workbench.metrics` on the daily returns of each run; ``n_trades``
counts exchange fills (reasons ``signal`` and ``carried``; delisting settlements and
corporate actions are not trades).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench import metrics
from workbench import strategies as _strategies
from workbench.backtest import run
from workbench.calendar import parse_day
from workbench.config import BacktestConfig
from workbench.errors import ConfigError, did_you_mean
from workbench.strategies.base import Strategy

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.result import BacktestResult

__all__ = [
    "METRIC_COLUMNS",
    "OBJECTIVES",
    "GridSearchResult",
    "Split",
    "Trial",
    "WalkForward",
    "WalkForwardResult",
    "cost_sensitivity",
    "evaluate_strategies",
    "grid_combinations",
    "grid_search",
    "market_until",
    "result_metrics",
    "trial_results",
    "walk_forward",
]

#: Objective name -> metric it maximises (every one: higher is better).
OBJECTIVES: dict[str, str] = {
    "sharpe": "sharpe_ratio",
    "sortino": "sortino_ratio",
    "calmar": "calmar_ratio",
    "psr": "probabilistic_sharpe_ratio",
    "annual_return": "annual_return",
    "total_return": "total_return",
}

#: Columns of :func:`result_metrics`, in order.
METRIC_COLUMNS: tuple[str, ...] = (
    "start", "end", "sessions", "total_return", "annual_return", "annual_volatility",
    "sharpe_ratio", "sharpe_standard_error", "probabilistic_sharpe_ratio", "sortino_ratio",
    "max_drawdown", "calmar_ratio", "n_trades", "annual_turnover", "fees_cny",
    "final_equity_cny",
)

_TRADE_REASONS = ("signal", "carried")


def _iso(day: pd.Timestamp | None) -> str:
    return "…" if day is None else str(day.date())


def _within(config: BacktestConfig, market: Market, start: pd.Timestamp | None,
            end: pd.Timestamp | None) -> BacktestConfig:
    """``config`` over ``start..end`` (calendar days), clipped to the market's sessions."""
    cal = market.calendar
    if start is not None and start <= cal[0]:
        start = None
    if end is not None and end >= cal[-1]:
        end = None
    return replace(config, start=start, end=end)


# -- the split ----------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Split:
    """An in-sample period to develop on and a later out-of-sample period held out.

    Parameters
    ----------
    in_sample_start
        First day of the in-sample period; None for the market's first session.
    in_sample_end
        Last day of the in-sample period (inclusive).
    out_of_sample_start
        First day of the held-out period; after ``in_sample_end``.
    out_of_sample_end
        Last day of the held-out period; None for the market's last session.

    Raises
    ------
    ConfigError
        For a date that is not one, or periods that overlap or run backwards.

    Examples
    --------
    >>> Split()
    Split(in-sample …..2022-12-31, out-of-sample 2023-01-01..…)
    >>> Split(in_sample_end="2023-06-30", out_of_sample_start="2023-01-01")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: out_of_sample_start 2023-01-01 must be after in_sample_end \
2023-06-30: the periods may not overlap
    """

    in_sample_start: pd.Timestamp | str | None = None
    in_sample_end: pd.Timestamp | str = "2022-12-31"
    out_of_sample_start: pd.Timestamp | str = "2023-01-01"
    out_of_sample_end: pd.Timestamp | str | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            day = parse_day(getattr(self, f.name), f.name)
            if day is None and f.name in ("in_sample_end", "out_of_sample_start"):
                raise ConfigError(f"{f.name} is required; give a date such as '2022-12-31'")
            object.__setattr__(self, f.name, day)
        a, b = self.in_sample_start, self.in_sample_end
        c, d = self.out_of_sample_start, self.out_of_sample_end
        if a is not None and a > b:
            raise ConfigError(f"in_sample_start {a.date()} is after in_sample_end {b.date()}")
        if c <= b:
            raise ConfigError(f"out_of_sample_start {c.date()} must be after in_sample_end "
                              f"{b.date()}: the periods may not overlap")
        if d is not None and d < c:
            raise ConfigError(f"out_of_sample_end {d.date()} is before out_of_sample_start "
                              f"{c.date()}")

    def __repr__(self) -> str:
        return (f"Split(in-sample {_iso(self.in_sample_start)}..{_iso(self.in_sample_end)}, "
                f"out-of-sample {_iso(self.out_of_sample_start)}.."
                f"{_iso(self.out_of_sample_end)})")

    def check(self, market: Market) -> None:
        """Raise ConfigError unless both periods hold sessions of ``market``."""
        cal = market.calendar
        if len(cal) == 0:
            raise ConfigError(f"market {market.name!r} has no sessions to split")
        first, last = cal[0], cal[-1]
        is_start = self.in_sample_start or first
        oos_end = self.out_of_sample_end or last
        fix = "pass split=Split(in_sample_end=..., out_of_sample_start=...) within the data"
        if not ((cal >= is_start) & (cal <= self.in_sample_end)).any():
            raise ConfigError(f"{self!r}: no session of market {market.name!r} "
                              f"({first.date()}..{last.date()}) in the in-sample period; {fix}")
        if not ((cal >= self.out_of_sample_start) & (cal <= oos_end)).any():
            raise ConfigError(f"{self!r}: no session of market {market.name!r} "
                              f"({first.date()}..{last.date()}) in the out-of-sample period; "
                              f"{fix}")

    @property
    def in_sample_period(self) -> tuple[pd.Timestamp | None, pd.Timestamp]:
        """``(in_sample_start, in_sample_end)``."""
        return self.in_sample_start, self.in_sample_end  # type: ignore[return-value]

    @property
    def out_of_sample_period(self) -> tuple[pd.Timestamp, pd.Timestamp | None]:
        """``(out_of_sample_start, out_of_sample_end)``."""
        return self.out_of_sample_start, self.out_of_sample_end  # type: ignore[return-value]

    def in_sample_config(self, config: BacktestConfig, market: Market) -> BacktestConfig:
        """``config`` with its period set to the in-sample period (clipped to the data)."""
        return _within(config, market, self.in_sample_start, self.in_sample_end)

    def out_of_sample_config(self, config: BacktestConfig, market: Market) -> BacktestConfig:
        """``config`` with its period set to the held-out period (clipped to the data)."""
        return _within(config, market, self.out_of_sample_start, self.out_of_sample_end)

    def in_sample_market(self, market: Market) -> Market:
        """``market`` as known after the close of ``in_sample_end`` (:func:`market_until`)."""
        return market_until(market, self.in_sample_end)


def market_until(market: Market, end: pd.Timestamp | str) -> Market:
    """The market as it was known after the close of ``end``; see :meth:`Market.as_of`."""
    return market.as_of(end)


# -- metrics ------------------------------------------------------------------------------------
def result_metrics(result: BacktestResult) -> dict[str, Any]:
    """Headline metrics of one backtest: returns, risk, Sharpe inference, trades, costs.

    Keys are :data:`METRIC_COLUMNS`: ``sharpe_standard_error`` and
    ``probabilistic_sharpe_ratio`` (P(true Sharpe > 0)) say whether the Sharpe ratio is more
    than noise; ``n_trades`` counts exchange fills; ``annual_turnover`` is the mean daily
    turnover times 252.
    """
    r = result.returns
    s = metrics.summary(r)
    reasons = result.trades["reason"].astype(str)
    eq = result.daily["equity_cny"]
    return {
        "start": s["start"], "end": s["end"], "sessions": s["n_periods"],
        **{k: s[k] for k in METRIC_COLUMNS[3:12]},
        "n_trades": int(reasons.isin(_TRADE_REASONS).sum()),
        "annual_turnover": float(result.turnover.mean() * metrics.PERIODS_PER_YEAR)
        if len(eq) else math.nan,
        "fees_cny": float(result.daily["fees_cny"].sum()),
        "final_equity_cny": float(eq.iloc[-1]) if len(eq) else result.config.capital_cny,
    }


# -- grids and trials ---------------------------------------------------------------------------
def grid_combinations(strategy: str, grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of ``grid``, in grid order, each checked before anything runs.

    Parameters
    ----------
    strategy
        A registered strategy name (:func:`workbench.strategies.available`).
    grid
        Parameter name -> list of values. Parameters left out keep their defaults; ``{}``
        gives one combination, the defaults.

    Returns
    -------
    list of dict
        One ``{parameter: value}`` per combination, the last parameter varying fastest.

    Raises
    ------
    LookupFailed
        For an unknown strategy name, with the valid ones.
    ConfigError
        For an unknown parameter (listing the valid ones), a value that is not a list, an
        empty list, or a value the strategy refuses (every combination is built once).

    Examples
    --------
    >>> grid_combinations("ma_trend", {"fast": [5, 10], "slow": [60]})
    [{'fast': 5, 'slow': 60}, {'fast': 10, 'slow': 60}]
    """
    if not isinstance(strategy, str):
        raise ConfigError(f"strategy must be a registered name (str), got "
                          f"{type(strategy).__name__}; see workbench.strategies.available()")
    valid = list(_strategies.parameters(strategy))  # LookupFailed for an unknown name
    if not isinstance(grid, Mapping):
        raise ConfigError(f"grid must be a dict of parameter -> list of values, got "
                          f"{type(grid).__name__}; e.g. {{'top_n': [10, 20]}}")
    for key, values in grid.items():
        if key not in valid:
            raise ConfigError(f"strategy {strategy!r} has no parameter {key!r} to search over; "
                              f"{did_you_mean(str(key), valid)}")
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            raise ConfigError(f"grid[{key!r}] must be a list of values, got {values!r}; "
                              f"e.g. {{{key!r}: [{values!r}]}}")
        if not list(values):
            raise ConfigError(f"grid[{key!r}] is empty; give at least one value")
    keys = list(grid)
    combos = []
    for values in itertools.product(*(list(grid[k]) for k in keys)):
        params = dict(zip(keys, values, strict=True))
        _strategies.get(strategy, **params)  # a bad value raises here, before any run
        combos.append(params)
    return combos


def _objective_column(objective: str) -> str:
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}; {did_you_mean(objective, OBJECTIVES)}")
    return OBJECTIVES[objective]


Period = tuple[pd.Timestamp | None, pd.Timestamp | None]


@dataclass(frozen=True, kw_only=True, eq=False)
class Trial:
    """One combination of a search on its periods: what one backtest job runs.

    Attributes
    ----------
    strategy, params
        A registered strategy name and the parameters of this combination.
    in_sample
        ``(start, end)`` of the period the choice is made on (start None: the data's
        first session). It runs on the market as known after ``end`` (:func:`market_until`).
    out_of_sample
        ``(start, end)`` of the held-out period (end None: the last session), run on the
        full market so the strategy warms up on the history before it; None to skip it.
    cost_multiplier
        Multiple of the configured costs (:meth:`workbench.costs.Costs.scale`).
    """

    strategy: str
    params: Mapping[str, Any]
    in_sample: Period
    out_of_sample: Period | None = None
    cost_multiplier: float = 1.0


# The market as known at a cut-off, per market (weakly: it goes when the market does) and
# per cut-off, so that every trial of a search in one process shares one copy (and with it
# the strategies' derived arrays, cached per Market object). Few cut-offs are kept: a
# walk-forward runs window after window.
def _known_market(market: Market, end: pd.Timestamp | None) -> Market:
    return market if end is None else market.as_of(end)


def _with_costs(config: BacktestConfig, multiplier: float) -> BacktestConfig:
    return config if multiplier == 1.0 else replace(config, costs=config.costs.scale(multiplier))


def _in_sample_run(market: Market, strategy: Strategy, config: BacktestConfig,
                   period: Period) -> BacktestResult:
    start, end = period
    known = _known_market(market, end)
    return run(known, strategy, _within(config, known, start, end))


def _out_of_sample_run(market: Market, strategy: Strategy, config: BacktestConfig,
                       period: Period) -> BacktestResult:
    start, end = period
    return run(market, strategy, _within(config, market, start, end))


def trial_results(market: Market, trial: Trial, config: BacktestConfig | None = None
                  ) -> tuple[BacktestResult, BacktestResult | None]:
    """Backtest one :class:`Trial`: its in-sample run, then its out-of-sample run (or None).

    The one function every search runs per combination: :func:`grid_search` and
    :func:`walk_forward` here, :func:`workbench.sweep.run` on Dask workers. The in-sample
    run sees only the market known after the in-sample period (:func:`market_until`).

    Parameters
    ----------
    market
        The full data.
    trial
        What to run.
    config
        Trading rules and base costs (scaled by ``trial.cost_multiplier``); its
        ``start``/``end`` are replaced by the trial's periods. Default ``BacktestConfig()``.

    Returns
    -------
    tuple
        ``(in_sample_result, out_of_sample_result)``; the second is None when the trial
        has no out-of-sample period.
    """
    config = _with_costs(BacktestConfig() if config is None else config, trial.cost_multiplier)
    strategy = _strategies.get(trial.strategy, **dict(trial.params))
    is_result = _in_sample_run(market, strategy, config, trial.in_sample)
    if trial.out_of_sample is None:
        return is_result, None
    return is_result, _out_of_sample_run(market, strategy, config, trial.out_of_sample)


def _best(values: Iterable[float]) -> int | None:
    """Position of the largest finite value (ties: the earlier), None if none is finite."""
    best, best_value = None, -math.inf
    for i, value in enumerate(values):
        if math.isfinite(value) and value > best_value:
            best, best_value = i, value
    return best


def _search(market: Market, trials: Sequence[Trial], config: BacktestConfig, column: str
            ) -> tuple[pd.DataFrame, int, BacktestResult]:
    """Run every trial here, in order; return the table, the chosen row and its result.

    The serial executor of the search engine: :func:`trial_results` per trial, as the
    sweep's workers run it, keeping only the best run so far (ties: the earlier).
    """
    results = map(functools.partial(trial_results, market, config=config), trials)
    rows, best, best_value = [], None, -math.inf
    first_result = best_result = None
    for i, (trial, (result, _)) in enumerate(zip(trials, results, strict=True)):
        m = result_metrics(result)
        rows.append({**trial.params, **m})
        first_result = result if first_result is None else first_result
        if math.isfinite(m[column]) and m[column] > best_value:
            best, best_value, best_result = i, m[column], result
    if best is None or best_result is None:
        warnings.warn(f"no combination has a finite {column} in sample; keeping the first "
                      f"({dict(trials[0].params)})", stacklevel=3)
        best, best_result = 0, first_result
    table = pd.DataFrame(rows)
    table["rank"] = table[column].rank(ascending=False, method="min", na_option="bottom")
    table["rank"] = table["rank"].astype(np.int64)
    return table, best, best_result  # type: ignore[return-value]  # trials is never empty


def _trials_variance(sharpes: pd.Series) -> float:
    values = sharpes.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0


@dataclass(frozen=True, eq=False)
class GridSearchResult:
    """The outcome of :func:`grid_search`.

    Attributes
    ----------
    strategy, objective, split
        What was searched, how it was judged, and the periods.
    table
        One row per combination: its parameters, its in-sample :data:`METRIC_COLUMNS`
        and ``rank`` by the objective (1 = best).
    best_params
        The chosen combination (best in-sample objective; ties go to the earlier one).
    in_sample, out_of_sample
        The chosen combination's metrics in each period.
    n_trials
        Combinations tried.
    deflated_sharpe
        P(true Sharpe > the best Sharpe expected from ``n_trials`` skill-less trials) for
        the chosen in-sample returns (Bailey & López de Prado): near 1 means the pick is
        unlikely to be luck of the search; with one trial it is the PSR.
    in_sample_result, out_of_sample_result
        The chosen combination's backtests.
    """

    strategy: str
    objective: str
    split: Split
    table: pd.DataFrame
    best_params: dict[str, Any]
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any]
    n_trials: int
    deflated_sharpe: float
    in_sample_result: BacktestResult
    out_of_sample_result: BacktestResult

    def summary(self) -> pd.DataFrame:
        """The chosen combination's metrics, in-sample and out-of-sample side by side."""
        return pd.DataFrame({"in_sample": pd.Series(self.in_sample),
                             "out_of_sample": pd.Series(self.out_of_sample)})

    def __repr__(self) -> str:
        i, o = self.in_sample, self.out_of_sample
        return (f"<GridSearchResult {self.strategy} {self.best_params} of {self.n_trials} by "
                f"{self.objective}: in-sample Sharpe {i['sharpe_ratio']:.2f}, out-of-sample "
                f"{o['sharpe_ratio']:.2f}; deflated Sharpe {self.deflated_sharpe:.2f}>")


def grid_search(market: Market, strategy: str, grid: Mapping[str, Sequence[Any]], *,
                split: Split | None = None, config: BacktestConfig | None = None,
                objective: str = "sharpe") -> GridSearchResult:
    """Choose a strategy's parameters on the in-sample period; report them out of sample.

    Every combination of ``grid`` is backtested on the in-sample period of ``split``, on
    the market as known at its end (:func:`market_until`), so no out-of-sample bar, report
    or delisting can influence the choice. The best by ``objective`` is then run on the
    held-out period with the full history before it available for warm-up.

    Parameters
    ----------
    market
        The data.
    strategy
        A registered strategy name (:func:`workbench.strategies.available`).
    grid
        Parameter name -> list of values; every combination is tried. Parameters left out
        keep their defaults. ``{}`` evaluates the defaults alone.
    split
        The periods; default :class:`Split` () (2015-2022 in, 2023 on out).
    config
        Trading rules and costs; its ``start``/``end`` are replaced by the split's.
    objective
        What to maximise in sample: one of :data:`OBJECTIVES` (``'sharpe'`` by default).

    Returns
    -------
    GridSearchResult

    Raises
    ------
    LookupFailed
        For an unknown strategy name, with the valid ones.
    ConfigError
        Before anything runs: an unknown grid parameter (listing the valid ones), a bad
        parameter value or objective, or a split outside the data.

    Examples
    --------
    >>> grid_search(None, "momentum", {"top_k": [5]})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: strategy 'momentum' has no parameter 'top_k' to search \
over; did you mean 'top_n'? Valid: 'lookback', 'skip', 'top_n'
    """
    combos = grid_combinations(strategy, grid)
    column = _objective_column(objective)
    split = Split() if split is None else split
    config = BacktestConfig() if config is None else config
    split.check(market)
    trials = [Trial(strategy=strategy, params=p, in_sample=split.in_sample_period)
              for p in combos]
    table, best, is_result = _search(market, trials, config, column)
    params = combos[best]
    oos_result = _out_of_sample_run(market, _strategies.get(strategy, **params), config,
                                    split.out_of_sample_period)
    n = len(combos)
    dsr = metrics.deflated_sharpe_ratio(is_result.returns, n,
                                        _trials_variance(table["sharpe_ratio"]))
    return GridSearchResult(strategy=strategy, objective=objective, split=split, table=table,
                            best_params=dict(params), in_sample=result_metrics(is_result),
                            out_of_sample=result_metrics(oos_result), n_trials=n,
                            deflated_sharpe=dsr, in_sample_result=is_result,
                            out_of_sample_result=oos_result)


# -- walk-forward -------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class WalkForward:
    """Rolling (or anchored) train/test windows for :func:`walk_forward`.

    Test periods start on the first day of a month and follow each other every
    ``step_months`` months; each is preceded by its training period (the ``train_years``
    before it, or everything before it when ``anchored``). Test periods never overlap, and
    each training period ends before its test period begins.

    Parameters
    ----------
    train_years
        Length of each training period in years (>= 1).
    test_months
        Length of each test period in months (>= 1).
    step_months
        Months between test starts; default ``test_months`` (back to back). Must be at
        least ``test_months`` so that test periods do not overlap.
    anchored
        Train on all data from the market's start instead of a rolling window.
    start
        The first test period starts on the first day of this date's month; default the
        month in which the data's first session plus ``train_years`` falls (so the first
        training period may be a few days short).
    end
        Last day tested; default the market's last session.

    Examples
    --------
    >>> w = WalkForward(train_years=1, test_months=6).windows(
    ...     pd.bdate_range("2020-01-06", "2021-12-31"))
    >>> w.astype(str).values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['2020-01-06', '2020-12-31', '2021-01-01', '2021-06-30'],
     ['2020-07-01', '2021-06-30', '2021-07-01', '2021-12-31']]
    """

    train_years: int = 3
    test_months: int = 6
    step_months: int | None = None
    anchored: bool = False
    start: pd.Timestamp | str | None = None
    end: pd.Timestamp | str | None = None

    def __post_init__(self) -> None:
        for name in ("train_years", "test_months"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
        step = self.test_months if self.step_months is None else self.step_months
        if isinstance(step, bool) or not isinstance(step, int) or step < self.test_months:
            raise ConfigError(f"step_months must be a whole number >= test_months "
                              f"({self.test_months}) so that test periods do not overlap, got "
                              f"{self.step_months!r}")
        object.__setattr__(self, "step_months", step)
        if not isinstance(self.anchored, bool):
            raise ConfigError(f"anchored must be True or False, got {self.anchored!r}")
        object.__setattr__(self, "start", parse_day(self.start, "start"))
        object.__setattr__(self, "end", parse_day(self.end, "end"))

    def windows(self, calendar: pd.DatetimeIndex) -> pd.DataFrame:
        """The windows over ``calendar``: ``train_start, train_end, test_start, test_end``.

        Each is a session of ``calendar`` (the first or last session inside the period);
        only windows with sessions in both periods are listed.

        Raises
        ------
        ConfigError
            When no window fits in the data.
        """
        if len(calendar) == 0:
            raise ConfigError("no sessions to walk forward over")
        days = pd.DatetimeIndex(calendar).normalize()
        first, last = days[0], days[-1]
        end = min(self.end, last) if self.end is not None else last
        start = self.start
        if start is None:
            start = first + pd.DateOffset(years=self.train_years)
        test_start = start.to_period("M").start_time
        step = int(self.step_months or self.test_months)
        rows = []
        while test_start <= end:
            test_end = min(test_start + pd.DateOffset(months=self.test_months)
                           - pd.Timedelta(days=1), end)
            train_from = first if self.anchored else test_start - pd.DateOffset(
                years=self.train_years)
            test = days[(days >= test_start) & (days <= test_end)]
            train = days[(days >= train_from) & (days < test_start)]
            if len(test) and len(train):
                rows.append((train[0], train[-1], test[0], test[-1]))
            test_start = test_start + pd.DateOffset(months=step)
        if not rows:
            raise ConfigError(f"no walk-forward window fits in {first.date()}..{end.date()} "
                              f"with {self.train_years} training years and {self.test_months} "
                              "test months; shorten them or pass a longer market")
        return pd.DataFrame(rows, columns=["train_start", "train_end", "test_start",
                                           "test_end"])


@dataclass(frozen=True, eq=False)
class WalkForwardResult:
    """The outcome of :func:`walk_forward`.

    Attributes
    ----------
    strategy, objective, scheme
        What was evaluated, how parameters were chosen, and the windows' definition.
    windows
        One row per window: its first and last sessions (``train_start``, ``train_end``,
        ``test_start``, ``test_end``), the parameters chosen on its training data
        (``params``), their in-sample objective (``train_objective``) and their test-period
        :data:`METRIC_COLUMNS` (prefixed ``test_``).
    grids
        Per window, the in-sample table of every combination (as in
        :attr:`GridSearchResult.table`).
    returns, equity
        The test periods' daily returns stitched in order, and the equity curve they
        compound to from the starting capital.
    out_of_sample
        Metrics of the stitched returns (:func:`workbench.metrics.summary` keys) plus
        ``n_trades`` over all test periods.
    """

    strategy: str
    objective: str
    scheme: WalkForward
    windows: pd.DataFrame
    grids: list[pd.DataFrame]
    returns: pd.Series
    equity: pd.Series
    out_of_sample: dict[str, Any]

    def __repr__(self) -> str:
        o = self.out_of_sample
        return (f"<WalkForwardResult {self.strategy}: {len(self.windows)} windows, stitched "
                f"out-of-sample Sharpe {o['sharpe_ratio']:.2f}, annual return "
                f"{o['annual_return']:+.2%}>")


def walk_forward(market: Market, strategy: str, grid: Mapping[str, Sequence[Any]], *,
                 scheme: WalkForward | None = None, config: BacktestConfig | None = None,
                 objective: str = "sharpe") -> WalkForwardResult:
    """Walk-forward evaluation: re-choose parameters on each training window, test after it.

    For every window of ``scheme`` the grid is searched on the training period alone (on
    the market as known at its end, :func:`market_until`), and the chosen parameters are
    backtested on the test period that follows, starting from cash with the starting
    capital. The test periods' returns are stitched into one out-of-sample curve.

    Parameters
    ----------
    market
        The data.
    strategy
        A registered strategy name.
    grid
        Parameter name -> list of values, as for :func:`grid_search`.
    scheme
        The windows; default :class:`WalkForward` () (train 3 years, test 6 months).
    config
        Trading rules and costs; its ``start``/``end`` are replaced per window.
    objective
        What to maximise in each training period (:data:`OBJECTIVES`).

    Returns
    -------
    WalkForwardResult

    Raises
    ------
    ConfigError
        Before anything runs, for an unknown strategy, parameter, value or objective, or
        windows that do not fit the data.
    """
    combos = grid_combinations(strategy, grid)
    column = _objective_column(objective)
    scheme = WalkForward() if scheme is None else scheme
    config = BacktestConfig() if config is None else config
    windows = scheme.windows(market.calendar)
    rows, grids, pieces, n_trades = [], [], [], 0
    for w in windows.itertuples(index=False):
        trials = [Trial(strategy=strategy, params=p, in_sample=(w.train_start, w.train_end))
                  for p in combos]
        table, best, _ = _search(market, trials, config, column)
        params = combos[best]
        test = _out_of_sample_run(market, _strategies.get(strategy, **params), config,
                                  (w.test_start, w.test_end))
        m = result_metrics(test)
        n_trades += m["n_trades"]
        rows.append({**w._asdict(), "params": dict(params),
                     "train_objective": float(table.loc[best, column]),
                     **{f"test_{k}": v for k, v in m.items() if k not in ("start", "end")}})
        grids.append(table)
        pieces.append(test.returns)
    returns = pd.concat(pieces).rename("returns")
    equity = (config.capital_cny * (1.0 + returns).cumprod()).rename("equity")
    out = metrics.summary(returns) | {"n_trades": n_trades}
    return WalkForwardResult(strategy=strategy, objective=objective, scheme=scheme,
                             windows=pd.DataFrame(rows), grids=grids, returns=returns,
                             equity=equity, out_of_sample=out)


# -- costs --------------------------------------------------------------------------------------
def cost_sensitivity(market: Market, strategy: str | Strategy, *,
                     multipliers: Sequence[float] = (0.0, 1.0, 2.0),
                     config: BacktestConfig | None = None) -> pd.DataFrame:
    """The same strategy at several multiples of the configured costs.

    Parameters
    ----------
    market
        The data.
    strategy
        A registered name (default parameters) or a Strategy.
    multipliers
        Multiples of ``config.costs`` (:meth:`workbench.costs.Costs.scale`): 0 is free
        trading, 1 as configured, 2 double (commission, minimum, slippage, stamp duty and
        transfer fee alike).
    config
        Trading rules, period and base costs; default :class:`BacktestConfig` ().

    Returns
    -------
    pd.DataFrame
        Indexed by ``cost_multiplier``; columns :data:`METRIC_COLUMNS` plus
        ``slippage_cny``. Doubling costs lowers final equity; between close multipliers
        (0.5x against 1x) lot rounding can outweigh the cost difference, since positions are
        sized on an equity that costs have already lowered.
    """
    s = _strategies.resolve(strategy)
    config = BacktestConfig() if config is None else config
    rows = {}
    for m in multipliers:
        result = run(market, s, replace(config, costs=config.costs.scale(m)))
        rows[float(m)] = result_metrics(result) | {
            "slippage_cny": float(result.daily["slippage_cny"].sum())}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "cost_multiplier"
    return out


# -- the strategy table -------------------------------------------------------------------------
def evaluate_strategies(market: Market, names: Sequence[str] | None = None, *,
                        split: Split | None = None, config: BacktestConfig | None = None,
                        params: Mapping[str, Mapping[str, Any]] | None = None) -> pd.DataFrame:
    """Every strategy's in-sample and out-of-sample metrics, trades and PSR in one table.

    Parameters
    ----------
    market
        The data.
    names
        Strategies to run; default all of :func:`workbench.strategies.available`.
    split
        The periods; default :class:`Split` ().
    config
        Trading rules and costs; default :class:`BacktestConfig` ().
    params
        Optional parameters per strategy name (defaults otherwise).

    Returns
    -------
    pd.DataFrame
        Indexed by ``(strategy, period)`` with ``period`` ``'in_sample'`` or
        ``'out_of_sample'``; columns :data:`METRIC_COLUMNS`. ``probabilistic_sharpe_ratio``
        is P(true Sharpe > 0) and ``sharpe_standard_error`` the Sharpe's standard error:
        a Sharpe within about two standard errors of 0 is not distinguishable from noise.
    """
    names = _strategies.available() if names is None else list(names)
    params = dict(params or {})
    if unknown := sorted(set(params) - set(names)):
        raise ConfigError(f"params given for {unknown}, which are not among the strategies "
                          f"evaluated {names}")
    built = [(n, _strategies.get(n, **dict(params.get(n, {})))) for n in names]
    split = Split() if split is None else split
    config = BacktestConfig() if config is None else config
    split.check(market)
    known = split.in_sample_market(market)
    rows = {}
    for n, s in built:
        rows[(n, "in_sample")] = result_metrics(run(known, s,
                                                    split.in_sample_config(config, known)))
        rows[(n, "out_of_sample")] = result_metrics(
            run(market, s, split.out_of_sample_config(config, market)))
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index = pd.MultiIndex.from_tuples(list(rows), names=["strategy", "period"])
    return out
