"""Strategies side by side: several strategies under one configuration, in and out of
sample, and one strategy at several multiples of its costs.

These run the backtests the comparison figures of :mod:`workbench.report.compare` draw; the
figure modules only draw.

* :func:`run_strategies` backtests several registered strategies under one configuration.
* :func:`evaluate_strategies` gives every strategy's in- and out-of-sample metrics, trade
  count and probabilistic Sharpe ratio in one table.
* :func:`out_of_sample_check` chooses parameters in sample and judges them out of sample
  (a grid search at a split day of a configuration's period).
* :func:`cost_sensitivity` runs one strategy at 0x, 1x and 2x costs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from workbench import strategies as _strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.errors import ConfigError
from workbench.research.periods import Split, evaluation_split
from workbench.research.search import GridSearchResult, grid_search
from workbench.research.trials import result_metrics

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.result import BacktestResult
    from workbench.strategies.base import Strategy

__all__ = ["BASELINE", "cost_sensitivity", "equal_weight_baseline", "evaluate_strategies",
           "out_of_sample_check", "run_strategies"]

#: The strategy every result is shown beside: equal weights over the universe, bought once.
BASELINE = "buy_and_hold"


def _checked_params(names: Sequence[str], params: Mapping[str, Mapping[str, Any]] | None,
                    what: str) -> dict[str, Mapping[str, Any]]:
    params = dict(params or {})
    if unknown := sorted(set(params) - set(names)):
        raise ConfigError(f"params given for {unknown}, which are not among the strategies "
                          f"{what} {list(names)}")
    return params


def run_strategies(market: Market, names: Sequence[str] | None = None,
                   config: BacktestConfig | None = None,
                   params: Mapping[str, Mapping[str, Any]] | None = None
                   ) -> dict[str, BacktestResult]:
    """Backtest several registered strategies under one configuration.

    Parameters
    ----------
    market
        The data.
    names
        Strategy names; default all of :func:`workbench.strategies.available`.
    config
        Trading rules, period and costs; default ``BacktestConfig()``.
    params
        Parameters per strategy name (defaults otherwise).

    Returns
    -------
    dict
        ``{name: BacktestResult}`` in the order of ``names``.

    Raises
    ------
    ConfigError
        For ``params`` of a strategy that is not run, or a bad parameter value.
    """
    names = _strategies.available() if names is None else list(names)
    params = _checked_params(names, params, "run")
    built = {n: _strategies.get(n, **dict(params.get(n, {}))) for n in names}
    return {n: run(market, s, config) for n, s in built.items()}


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
        The periods; default :class:`~workbench.research.periods.Split` ().
    config
        Trading rules and costs; default :class:`BacktestConfig` ().
    params
        Optional parameters per strategy name (defaults otherwise).

    Returns
    -------
    pd.DataFrame
        Indexed by ``(strategy, period)`` with ``period`` ``'in_sample'`` or
        ``'out_of_sample'``; columns :data:`~workbench.research.trials.METRIC_COLUMNS`.
        ``probabilistic_sharpe_ratio`` is P(true Sharpe > 0) and ``sharpe_standard_error``
        the Sharpe's standard error: a Sharpe within about two standard errors of 0 is not
        distinguishable from noise.

    Raises
    ------
    ConfigError
        For ``params`` of a strategy not evaluated, a bad value, or a split outside the data.
    """
    names = _strategies.available() if names is None else list(names)
    params = _checked_params(names, params, "evaluated")
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


def out_of_sample_check(market: Market, strategy: str, params: Mapping[str, Any],
                        config: BacktestConfig, split: object,
                        grid: Mapping[str, Sequence[Any]] | None = None) -> GridSearchResult:
    """Choose parameters in sample and judge them out of sample (a grid search).

    The grid is ``params`` (one value each) widened by ``grid``; with no ``grid`` it
    checks the given parameters alone: their in-sample run sees only the market known
    at the split (:meth:`workbench.data.market.Market.as_of`). The periods are ``config``'s
    cut at the first out-of-sample day ``split``
    (:func:`~workbench.research.periods.evaluation_split`).

    Returns
    -------
    GridSearchResult
        Its ``summary()`` puts the in-sample and out-of-sample metrics side by side.
    """
    combos = {k: [v] for k, v in params.items()} | {k: list(v) for k, v in (grid or {}).items()}
    return grid_search(market, strategy, combos, split=evaluation_split(config, split),
                       config=config)


def equal_weight_baseline(market: Market, config: BacktestConfig) -> BacktestResult:
    """The fair baseline of any result on ``market``: an equal-weight buy and hold.

    The registered :data:`BASELINE` strategy (equal weights over the stocks listed on the
    first session, bought once) under exactly ``config``: the same period, capital, costs
    and A-share rules. A strategy that does not beat it has added nothing a researcher could
    not get by buying the universe; unlike a price index, it pays the same costs and
    collects the same dividends as the strategy.
    """
    return run(market, _strategies.get(BASELINE), config)


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
        Indexed by ``cost_multiplier``; columns
        :data:`~workbench.research.trials.METRIC_COLUMNS` plus ``slippage_cny``. Doubling
        costs lowers final equity; between close multipliers (0.5x against 1x) lot rounding
        can outweigh the cost difference, since positions are sized on an equity that costs
        have already lowered.
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
