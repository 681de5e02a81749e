"""Parameter searches in this process: a grid search on a split, and walk-forward.

* :func:`grid_search` backtests every combination of a parameter grid on the in-sample
  period, picks the best by an objective, and reports the pick's out-of-sample result beside
  the in-sample one, with the deflated Sharpe ratio for the number of combinations tried.
  In-sample runs get the market as known at the end of the in-sample period
  (:meth:`workbench.data.market.Market.as_of`).
* :func:`walk_forward` repeats that on rolling windows (train N years, test M months) and
  stitches the test periods into one out-of-sample equity curve.

Both run their :class:`~workbench.research.trials.Trial` objects one after the other here;
:mod:`workbench.research.sweep` sends the same trials to Dask workers.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench import metrics
from workbench import strategies as _strategies
from workbench.config import BacktestConfig
from workbench.research.periods import Split, WalkForward
from workbench.research.trials import (
    Trial,
    grid_combinations,
    objective_column,
    out_of_sample_run,
    result_metrics,
    trial_results,
    trials_sharpe_variance,
)
from workbench.summary import SummaryFrame

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.result import BacktestResult

__all__ = ["GridSearchResult", "WalkForwardResult", "grid_search", "walk_forward"]


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


@dataclass(frozen=True, eq=False)
class GridSearchResult:
    """The outcome of :func:`grid_search`.

    Attributes
    ----------
    strategy, objective, split
        What was searched, how it was judged, and the periods.
    table
        One row per combination: its parameters, its in-sample
        :data:`~workbench.research.trials.METRIC_COLUMNS` and ``rank`` by the objective
        (1 = best).
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

    def summary(self) -> SummaryFrame:
        """The chosen combination's metrics, in-sample and out-of-sample side by side.

        Returns
        -------
        SummaryFrame
            Raw values, a row per metric (``in_sample``, ``out_of_sample`` columns), that a
            notebook or a print shows formatted.
        """
        return SummaryFrame({"in_sample": pd.Series(self.in_sample),
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
    the market as known at its end (:meth:`workbench.data.market.Market.as_of`), so no
    out-of-sample bar, report or delisting can influence the choice. The best by
    ``objective`` is then run on the held-out period with the full history before it
    available for warm-up.

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
        The periods; default :class:`~workbench.research.periods.Split` () (2015-2022 in,
        2023 on out).
    config
        Trading rules and costs; its ``start``/``end`` are replaced by the split's.
    objective
        What to maximise in sample: one of :data:`~workbench.research.trials.OBJECTIVES`
        (``'sharpe'`` by default).

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
    column = objective_column(objective)
    split = Split() if split is None else split
    config = BacktestConfig() if config is None else config
    split.check(market)
    trials = [Trial(strategy=strategy, params=p, in_sample=split.in_sample_period)
              for p in combos]
    table, best, is_result = _search(market, trials, config, column)
    params = combos[best]
    oos_result = out_of_sample_run(market, _strategies.get(strategy, **params), config,
                                   split.out_of_sample_period)
    n = len(combos)
    in_sample = result_metrics(is_result)
    # the trials' Sharpe ratios are annualised with the period's own sessions per year
    dsr = metrics.deflated_sharpe_ratio(is_result.returns, n,
                                        trials_sharpe_variance(table["sharpe_ratio"]),
                                        periods_per_year=in_sample["periods_per_year"])
    return GridSearchResult(strategy=strategy, objective=objective, split=split, table=table,
                            best_params=dict(params), in_sample=in_sample,
                            out_of_sample=result_metrics(oos_result), n_trials=n,
                            deflated_sharpe=dsr, in_sample_result=is_result,
                            out_of_sample_result=oos_result)


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
        :data:`~workbench.research.trials.METRIC_COLUMNS` (prefixed ``test_``).
    grids
        Per window, the in-sample table of every combination (as in
        :attr:`GridSearchResult.table`).
    returns, equity
        The test periods' daily returns stitched in order, and the equity curve (CNY) they
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
    the market as known at its end, :meth:`workbench.data.market.Market.as_of`), and the
    chosen parameters are backtested on the test period that follows, starting from cash
    with the starting capital. The test periods' returns are stitched into one
    out-of-sample curve.

    Parameters
    ----------
    market
        The data.
    strategy
        A registered strategy name.
    grid
        Parameter name -> list of values, as for :func:`grid_search`.
    scheme
        The windows; default :class:`~workbench.research.periods.WalkForward` () (train
        3 years, test 6 months).
    config
        Trading rules and costs; its ``start``/``end`` are replaced per window.
    objective
        What to maximise in each training period
        (:data:`~workbench.research.trials.OBJECTIVES`).

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
    column = objective_column(objective)
    scheme = WalkForward() if scheme is None else scheme
    config = BacktestConfig() if config is None else config
    windows = scheme.windows(market.calendar)
    rows, grids, pieces, n_trades = [], [], [], 0
    for w in windows.itertuples(index=False):
        trials = [Trial(strategy=strategy, params=p, in_sample=(w.train_start, w.train_end))
                  for p in combos]
        table, best, _ = _search(market, trials, config, column)
        params = combos[best]
        test = out_of_sample_run(market, _strategies.get(strategy, **params), config,
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
