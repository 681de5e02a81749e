"""The unit of every parameter search: a :class:`Trial` (one combination on its periods),
the backtests it runs and the metrics it is judged by.

Grid search, walk-forward (:mod:`workbench.research.search`) and the Dask sweep
(:mod:`workbench.research.sweep`) share this engine: :func:`grid_combinations` checks a grid
before anything runs, a :class:`Trial` is one combination on its periods, and
:func:`trial_results` runs it, in this process or on a worker. The in-sample run sees the
market as known at the in-sample period's end (:meth:`workbench.data.market.Market.as_of`);
the out-of-sample run uses the full market with the backtest period set to the held-out
sessions, so strategies warm up on the history before it (a 12-month momentum trades on the
held-out period's first day); the point-in-time view keeps them from seeing later data.

Metrics are those of :mod:`workbench.metrics` on the daily returns of each run, annualised
by the market's own calendar (:func:`workbench.metrics.annualisation`; the
``periods_per_year`` column records the figure); ``n_trades`` counts exchange fills (reasons
``signal`` and ``carried``; delisting settlements and corporate actions are not trades), the
same count as ``BacktestResult.metrics()``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench import metrics
from workbench import strategies as _strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.errors import ConfigError, did_you_mean
from workbench.research.periods import Period, within
from workbench.trades import is_exchange_trade

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.result import BacktestResult
    from workbench.strategies.base import Strategy

__all__ = [
    "METRIC_COLUMNS",
    "OBJECTIVES",
    "Trial",
    "best_index",
    "grid_combinations",
    "in_sample_run",
    "objective_column",
    "out_of_sample_run",
    "result_metrics",
    "trial_results",
    "trials_sharpe_variance",
    "with_costs",
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
    "final_equity_cny", "periods_per_year", "mean_invested_rate",
)


def result_metrics(result: BacktestResult) -> dict[str, Any]:
    """Headline metrics of one backtest: returns, risk, Sharpe inference, trades, costs.

    Keys are :data:`METRIC_COLUMNS`: ``sharpe_standard_error`` and
    ``probabilistic_sharpe_ratio`` (P(true Sharpe > 0)) say whether the Sharpe ratio is more
    than noise; ``n_trades`` counts exchange fills (as ``result.metrics()``);
    ``annual_turnover`` is the mean daily turnover times ``periods_per_year``, the XSHG
    calendar's sessions per year over the run (:func:`workbench.metrics.annualisation`,
    which also makes ``annual_return`` the CAGR over elapsed calendar time); ``fees_cny``
    and ``final_equity_cny`` are in CNY; ``mean_invested_rate`` is the mean fraction of equity
    held in stocks (0 to 1).
    """
    r = result.returns
    s = metrics.summary(r)
    eq = result.daily["equity_cny"]
    ppy = s["periods_per_year"]
    return {
        "start": s["start"], "end": s["end"], "sessions": s["n_periods"],
        **{k: s[k] for k in METRIC_COLUMNS[3:12]},
        "n_trades": int(is_exchange_trade(result.trades["reason"]).sum()),
        "annual_turnover": float(result.turnover.mean() * ppy) if len(eq) else math.nan,
        "fees_cny": float(result.daily["fees_cny"].sum()),
        "final_equity_cny": float(eq.iloc[-1]) if len(eq) else result.config.capital_cny,
        "periods_per_year": ppy,
        "mean_invested_rate": float(result.invested.mean()) if len(eq) else math.nan,
    }


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


def objective_column(objective: str) -> str:
    """The metric column an objective maximises (:data:`OBJECTIVES`).

    Raises
    ------
    ConfigError
        For an unknown objective, with the valid ones.

    Examples
    --------
    >>> objective_column("psr")
    'probabilistic_sharpe_ratio'
    """
    if objective not in OBJECTIVES:
        raise ConfigError(f"unknown objective {objective!r}; {did_you_mean(objective, OBJECTIVES)}")
    return OBJECTIVES[objective]


@dataclass(frozen=True, kw_only=True, eq=False)
class Trial:
    """One combination of a search on its periods: what one backtest job runs.

    Attributes
    ----------
    strategy, params
        A registered strategy name and the parameters of this combination.
    in_sample
        ``(start, end)`` of the period the choice is made on (start None: the data's
        first session). It runs on the market as known after ``end``
        (:meth:`workbench.data.market.Market.as_of`).
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


def with_costs(config: BacktestConfig, multiplier: float) -> BacktestConfig:
    """``config`` with its costs scaled by ``multiplier`` (itself at 1.0).

    Examples
    --------
    >>> with_costs(BacktestConfig(), 2.0).costs.commission_rate
    0.0006
    """
    return config if multiplier == 1.0 else replace(config, costs=config.costs.scale(multiplier))


def in_sample_run(market: Market, strategy: Strategy, config: BacktestConfig,
                  period: Period) -> BacktestResult:
    """Backtest ``strategy`` over ``period`` on the market as known at the period's end
    (the full market when the end is None)."""
    start, end = period
    known = market if end is None else market.as_of(end)
    return run(known, strategy, within(config, known, start, end))


def out_of_sample_run(market: Market, strategy: Strategy, config: BacktestConfig,
                      period: Period) -> BacktestResult:
    """Backtest ``strategy`` over ``period`` on the full market (warm-up on the history
    before it)."""
    start, end = period
    return run(market, strategy, within(config, market, start, end))


def trial_results(market: Market, trial: Trial, config: BacktestConfig | None = None
                  ) -> tuple[BacktestResult, BacktestResult | None]:
    """Backtest one :class:`Trial`: its in-sample run, then its out-of-sample run (or None).

    The one function every search runs per combination: grid search and walk-forward in
    process, :func:`workbench.research.sweep.run` on Dask workers. The in-sample run sees
    only the market known after the in-sample period.

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
    config = with_costs(BacktestConfig() if config is None else config, trial.cost_multiplier)
    strategy = _strategies.get(trial.strategy, **dict(trial.params))
    is_result = in_sample_run(market, strategy, config, trial.in_sample)
    if trial.out_of_sample is None:
        return is_result, None
    return is_result, out_of_sample_run(market, strategy, config, trial.out_of_sample)


def best_index(values: Iterable[float]) -> int | None:
    """Position of the largest finite value (ties: the earlier), None if none is finite.

    Examples
    --------
    >>> best_index([0.5, float("nan"), 0.9, 0.9]), best_index([float("nan")])
    (2, None)
    """
    best, best_value = None, -math.inf
    for i, value in enumerate(values):
        if math.isfinite(value) and value > best_value:
            best, best_value = i, value
    return best


def trials_sharpe_variance(sharpes: pd.Series) -> float:
    """Variance (ddof 1) of the finite Sharpe ratios of a search's trials; 0 for fewer than
    two. The deflated Sharpe ratio deflates the pick by it.

    Examples
    --------
    >>> trials_sharpe_variance(pd.Series([0.5, 1.5, float("nan")]))
    0.5
    """
    values = sharpes.to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    return float(np.var(finite, ddof=1)) if len(finite) > 1 else 0.0
