"""Parameter sweeps and walk-forward runs on Dask, from one laptop to a cluster.

:func:`run` backtests every combination of a parameter grid (times every cost multiplier)
on an in-sample and an out-of-sample period, picks the best parameters on the in-sample
period alone, and reports how they did out of sample beside the number of combinations
tried and the deflated Sharpe ratio, so the multiple-testing risk is in the headline.

Where it runs (``client``) and how the market reaches the workers: see
:mod:`workbench.research.cluster`. How the work is shaped:

* One task per *trial*: a combination, a cost multiplier and a pair of periods, run by
  :func:`workbench.research.trials.trial_results`, the same function
  :func:`~workbench.research.search.grid_search` runs in process. A task returns a compact
  row of metrics (floats, dates, an error text), never a whole result;
  :meth:`SweepResult.rerun` rebuilds any row's full backtest on demand.
* A trial that raises is recorded with its error (``error`` column, metrics missing) and
  the sweep goes on; a task lost with its worker is rescheduled by Dask.
* With ``out=`` the table is saved to Parquet (atomically, :mod:`workbench.research.store`)
  as rows complete, and a later call with the same ``out`` runs only the rows not yet
  finished. A row's identity (``row_id``) is a stable hash of the strategy, its parameters
  (as canonical JSON, :func:`workbench.jsonable.jsonable`), the cost multiplier, the periods
  and the base configuration; rows that failed are run again.

Modes: ``"split"`` (one :class:`~workbench.research.periods.Split`) and ``"walk_forward"``
(rolling :class:`~workbench.research.periods.WalkForward` windows, each choosing its
parameters on its own training data; every window × combination is a task, and the chosen
test periods are stitched into one out-of-sample curve).

Rows hold ``window_id``, the grid's parameters, ``cost_multiplier``, ``params_json`` (the
parameters as canonical JSON), the in-sample metrics prefixed ``is_`` and the out-of-sample
ones prefixed ``oos_`` (the keys of :data:`workbench.research.trials.METRIC_COLUMNS`, with
the trade count ``n_trades``), and ``error``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from workbench import metrics
from workbench import strategies as _strategies
from workbench.config import LEGACY_VALUES, BacktestConfig
from workbench.data.market import Market
from workbench.data.store import load_market
from workbench.errors import ConfigError, LookupFailed, did_you_mean
from workbench.jsonable import jsonable
from workbench.progress import Progress
from workbench.research.cluster import ClientLike, check_client, connect, run_on_dask, run_serial
from workbench.research.periods import Split, WalkForward
from workbench.research.store import finished_rows, write_checkpoint
from workbench.research.trials import (
    METRIC_COLUMNS,
    Trial,
    best_index,
    grid_combinations,
    in_sample_run,
    objective_column,
    out_of_sample_run,
    result_metrics,
    trial_results,
    trials_sharpe_variance,
    with_costs,
)
from workbench.summary import SummaryFrame

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["MODES", "SweepResult", "params_json", "row_id", "run"]

#: Sweep modes.
MODES: tuple[str, ...] = ("split", "walk_forward")
#: Columns of a row besides the grid's parameters and the metrics.
_ID_COLUMNS = ("window_id", "cost_multiplier", "params_json")
_PREFIXES = ("is_", "oos_")
_DATES = ("start", "end")
_COUNTS = ("sessions", "n_trades")
_CHECKPOINT_S = 5.0  # most seconds between saves of the table while a sweep runs
_ERROR_CHARS = 2000

Mode = Literal["split", "walk_forward"]


# -- row identity ---------------------------------------------------------------------------
def params_json(params: Mapping[str, Any]) -> str:
    """A combination's parameters as canonical JSON (sorted keys, values through
    :func:`workbench.jsonable.jsonable`): the ``params_json`` column and part of a row's id.

    Examples
    --------
    >>> params_json({"slow": np.int64(60), "fast": 5, "inputs": "auto", "entry": 30.0})
    '{"entry": 30.0, "fast": 5, "inputs": "auto", "slow": 60}'
    """
    return json.dumps(jsonable(dict(params)), sort_keys=True, ensure_ascii=False)


def _day(value: Any) -> pd.Timestamp | None:
    """A period bound: a Timestamp, or None for "the data's first/last session"."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def _iso(day: Any) -> str | None:
    return None if day is None or pd.isna(day) else str(pd.Timestamp(day).date())


def _config_digest(config: BacktestConfig) -> str:
    """What of the configuration a row depends on: all but its period (set per trial).

    A field added later is left out at its :data:`~workbench.config.LEGACY_VALUES` value,
    so the rows written before it existed keep their identity.
    """
    doc = {k: v for k, v in config.to_dict().items()
           if k not in ("start", "end") and (k not in LEGACY_VALUES or LEGACY_VALUES[k] != v)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def row_id(trial: Trial, config: BacktestConfig) -> str:
    """A row's identity: a stable hash (16 hex digits) of the trial (strategy,
    :func:`params_json`, cost multiplier, periods as ISO days) and ``config`` but its
    period. Resuming from a checkpoint matches rows by it.

    Examples
    --------
    >>> t = Trial(strategy="ma_trend", params={"fast": 5, "slow": 30},
    ...           in_sample=(None, pd.Timestamp("2021-06-30")),
    ...           out_of_sample=(pd.Timestamp("2021-07-01"), None))
    >>> row_id(t, BacktestConfig())
    '4b5562216ea562d9'
    """
    return _row_id(trial, _config_digest(config))


def _row_id(trial: Trial, config_digest: str) -> str:
    oos = trial.out_of_sample or (None, None)
    doc = {"strategy": trial.strategy, "params": params_json(trial.params),
           "cost_multiplier": repr(float(trial.cost_multiplier)),
           "in_sample": [_iso(d) for d in trial.in_sample],
           "out_of_sample": [_iso(d) for d in oos], "config": config_digest}
    text = json.dumps(doc, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _fingerprint(market: Market) -> dict[str, Any]:
    """Cheap identity of a market: a resumed sweep must be on the same data."""
    cal = market.calendar
    close = market.bars["close"].to_numpy(dtype=float)
    return {"name": market.name, "symbols": len(market.securities), "bars": len(market.bars),
            "first": _iso(cal[0]) if len(cal) else None,
            "last": _iso(cal[-1]) if len(cal) else None,
            "close_sum": float(np.nansum(close))}


# -- one task -----------------------------------------------------------------------------------
def _metric_row(prefix: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    if values is None:
        return {f"{prefix}{k}": (pd.NaT if k in _DATES else math.nan) for k in METRIC_COLUMNS}
    return {f"{prefix}{k}": values[k] for k in METRIC_COLUMNS}


def _metric_columns() -> list[str]:
    return [*_metric_row("is_", None), *_metric_row("oos_", None)]


def _failed_row(exc: BaseException) -> dict[str, Any]:
    text = f"{type(exc).__name__}: {exc}"
    return _metric_row("is_", None) | _metric_row("oos_", None) | {"error": text[:_ERROR_CHARS]}


def _task(market: Market, trial: Trial, config: BacktestConfig) -> dict[str, Any]:
    """Run one trial where it is scheduled; return its metrics row (an error, not a raise)."""
    try:
        is_result, oos_result = trial_results(market, trial, config)
        oos = None if oos_result is None else result_metrics(oos_result)
        return (_metric_row("is_", result_metrics(is_result)) | _metric_row("oos_", oos)
                | {"error": None})
    except Exception as exc:  # recorded in the row; the sweep goes on
        return _failed_row(exc)


# -- planning -----------------------------------------------------------------------------------
def _check_costs(costs: float | Sequence[float], config: BacktestConfig) -> tuple[float, ...]:
    values = [costs] if isinstance(costs, (int, float)) else costs
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
        raise ConfigError(f"costs must be a cost multiplier or a non-empty list of them, got "
                          f"{costs!r}; e.g. costs=(1.0, 2.0)")
    out: list[float] = []
    for m in values:
        config.costs.scale(m)  # ConfigError for a negative or non-finite multiplier
        if float(m) in out:
            raise ConfigError(f"costs lists the multiplier {m!r} twice; list each once")
        out.append(float(m))
    return tuple(out)


def _mode_of(periods: Split | WalkForward | None, mode: str | None
             ) -> tuple[Mode, Split | WalkForward]:
    if mode is not None and mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; {did_you_mean(str(mode), MODES)}")
    if periods is None:
        return ("walk_forward", WalkForward()) if mode == "walk_forward" else (
            "split", Split())
    kind: Mode
    if isinstance(periods, Split):
        kind = "split"
    elif isinstance(periods, WalkForward):
        kind = "walk_forward"
    else:
        raise ConfigError(f"periods must be a workbench.research.Split or WalkForward, got "
                          f"{type(periods).__name__}")
    if mode is not None and mode != kind:
        raise ConfigError(f"mode={mode!r} does not match periods={periods!r}; pass a "
                          f"{'WalkForward' if mode == 'walk_forward' else 'Split'} or leave "
                          "mode out")
    return kind, periods


def _windows(market: Market, periods: Split | WalkForward) -> pd.DataFrame:
    cols = ["in_sample_start", "in_sample_end", "out_of_sample_start", "out_of_sample_end"]
    if isinstance(periods, Split):
        periods.check(market)
        out = pd.DataFrame([[*periods.in_sample_period, *periods.out_of_sample_period]],
                           columns=cols)
    else:
        out = periods.windows(market.calendar)
        out.columns = cols
    out.index = pd.RangeIndex(len(out), name="window_id")
    return out


def _choice_cost(costs: Sequence[float]) -> float:
    return 1.0 if 1.0 in costs else costs[0]


# -- the table ----------------------------------------------------------------------------------
def _frame(plan: Mapping[str, tuple[int, Trial]], rows: Mapping[str, Mapping[str, Any]]
           ) -> pd.DataFrame:
    """The rows done so far, in plan order, with stable dtypes (fresh or read back)."""
    records = []
    for rid, (window, trial) in plan.items():
        if rid in rows:
            records.append({"row_id": rid, "window_id": window, **trial.params,
                            "cost_multiplier": float(trial.cost_multiplier),
                            "params_json": params_json(trial.params), **rows[rid]})
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(
        columns=["row_id", *_ID_COLUMNS, *_metric_columns(), "error"])
    frame = frame.set_index("row_id")
    frame["window_id"] = frame["window_id"].astype(np.int64)
    frame["cost_multiplier"] = frame["cost_multiplier"].astype(np.float64)
    frame["params_json"] = frame["params_json"].astype("str")
    for prefix in _PREFIXES:
        for k in METRIC_COLUMNS:
            col = f"{prefix}{k}"
            if k in _DATES:
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
            elif k in _COUNTS:
                frame[col] = frame[col].astype("Int64")
            else:
                frame[col] = frame[col].astype(np.float64)
    frame["error"] = frame["error"].astype("str")
    return frame


# -- the result ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SweepResult:
    """The outcome of :func:`run`.

    Attributes
    ----------
    strategy, mode, objective
        What was swept, how (``"split"`` or ``"walk_forward"``) and what was maximised in
        sample (a key of :data:`workbench.research.trials.OBJECTIVES`).
    periods, config, costs
        The periods, the trading rules and base costs, the cost multipliers swept.
    table
        One row per trial, indexed by ``row_id`` (see the module docstring), in grid order.
    windows
        One row per window (one for a split): ``in_sample_start``, ``in_sample_end``,
        ``out_of_sample_start``, ``out_of_sample_end``.
    chosen
        One row per window: the pick's ``row_id`` (best in-sample objective at the choice
        cost multiplier, 1.0 if swept, else the first; ties go to the earlier combination;
        failed rows never), its ``params``, its in- and out-of-sample Sharpe ratio, and the
        window's ``n_trials``, ``trials_sharpe_variance`` and ``expected_max_sharpe`` (the
        best Sharpe ratio that many skill-less trials would show by luck).
    n_trials
        Combinations tried per window (failed ones included: they were tried).
    deflated_sharpe
        Split mode: P(true Sharpe > ``expected_max_sharpe``) for the pick's in-sample
        returns (Bailey & López de Prado); NaN for walk-forward.
    in_sample, out_of_sample
        Split mode: the pick's metrics in each period. Walk-forward: ``in_sample`` is
        empty, ``out_of_sample`` the metrics of the stitched test periods plus
        ``n_trades``.
    in_sample_result, out_of_sample_result
        Split mode: the pick's two backtests (re-run after the sweep); None otherwise.
    returns, equity
        The out-of-sample daily returns (walk-forward: the test periods stitched) and the
        equity (CNY) they compound to from the starting capital.
    path
        The Parquet file written, or None.
    stats
        How it ran: ``executor``, ``workers``, ``tasks_run`` (trials run by this call),
        ``resumed`` (rows read back from ``path``), ``failed``, ``elapsed_s``, ``market``
        (how it reached the workers) and ``task_bytes`` (one task's pickled arguments).
    """

    strategy: str
    mode: str
    objective: str
    periods: Split | WalkForward
    config: BacktestConfig
    costs: tuple[float, ...]
    table: pd.DataFrame
    windows: pd.DataFrame
    chosen: pd.DataFrame
    n_trials: int
    deflated_sharpe: float
    in_sample: dict[str, Any]
    out_of_sample: dict[str, Any]
    in_sample_result: BacktestResult | None
    out_of_sample_result: BacktestResult | None
    returns: pd.Series | None
    equity: pd.Series | None
    path: Path | None
    stats: dict[str, Any]
    _market: Market = field(repr=False)
    _trials: Mapping[str, Trial] = field(repr=False)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The grid's parameter names, in grid order (columns of :attr:`table`)."""
        columns = list(self.table.columns)
        return tuple(columns[columns.index("window_id") + 1:columns.index("cost_multiplier")])

    @property
    def choice_cost(self) -> float:
        """The cost multiplier the parameters are chosen at: 1.0 if swept, else the first."""
        return _choice_cost(self.costs)

    @property
    def best_row_id(self) -> str | None:
        """The pick's ``row_id`` (walk-forward: the last window's, what you would trade now)."""
        ids = self.chosen["row_id"].dropna()
        return str(ids.iloc[-1]) if len(ids) else None

    @property
    def best_params(self) -> dict[str, Any]:
        """The pick's parameters (walk-forward: the last window's); {} if every row failed."""
        rid = self.best_row_id
        return {} if rid is None else dict(self._trials[rid].params)

    @property
    def failed(self) -> pd.DataFrame:
        """The rows whose trial raised, with their ``error``."""
        return self.table.loc[self.table["error"].notna()]

    def rerun(self, row_id: str, period: Literal["in_sample", "out_of_sample"] = "out_of_sample"
              ) -> BacktestResult:
        """The full backtest behind a row, run again here (bit for bit what the task ran).

        Parameters
        ----------
        row_id
            An index value of :attr:`table`.
        period
            ``"out_of_sample"`` (default; on the full market) or ``"in_sample"`` (on the
            market as known at the in-sample period's end).

        Raises
        ------
        LookupFailed
            For a row_id not in the table.
        """
        if row_id not in self._trials:
            raise LookupFailed(f"no row {row_id!r} in this sweep; "
                               f"{did_you_mean(str(row_id), list(self._trials)[:20])}")
        if period not in ("in_sample", "out_of_sample"):
            raise ConfigError(f"period must be 'in_sample' or 'out_of_sample', got {period!r}")
        trial = self._trials[row_id]
        config = with_costs(self.config, trial.cost_multiplier)
        strategy = _strategies.get(trial.strategy, **dict(trial.params))
        if period == "in_sample":
            return in_sample_run(self._market, strategy, config, trial.in_sample)
        if trial.out_of_sample is None:
            raise ConfigError(f"row {row_id!r} has no out-of-sample period")
        return out_of_sample_run(self._market, strategy, config, trial.out_of_sample)

    def summary(self) -> SummaryFrame:
        """Split: the pick's metrics in and out of sample side by side. Walk-forward: every
        window's dates (:attr:`windows`) beside its chosen row (:attr:`chosen`).

        Returns
        -------
        SummaryFrame
            Raw values that a notebook or a print shows formatted (without the ``row_id``
            and ``window_id`` that code uses to look rows up).
        """
        if self.mode == "walk_forward":
            return SummaryFrame(self.windows.join(self.chosen))

        def shown(values: Mapping[str, Any]) -> pd.Series:
            return pd.Series({k: v.date() if isinstance(v, pd.Timestamp) else v
                              for k, v in values.items()}, dtype=object)

        return SummaryFrame({"in_sample": shown(self.in_sample),
                             "out_of_sample": shown(self.out_of_sample)})

    def cost_table(self) -> pd.DataFrame:
        """The pick's in- and out-of-sample metrics at every cost multiplier swept."""
        rid = self.best_row_id
        if rid is None:
            return self.table.iloc[:0]
        trial = self._trials[rid]
        same = (self.table["params_json"] == params_json(trial.params)) & (
            self.table["window_id"] == self.table.loc[rid, "window_id"])
        return self.table.loc[same].set_index("cost_multiplier")

    def metrics(self) -> dict[str, Any]:
        """Headline figures (for ``report.emit_metrics``): the pick, its in- and
        out-of-sample Sharpe ratio and return, trials, variance and the deflated Sharpe."""
        last = self.chosen.iloc[-1] if len(self.chosen) else None
        i, o = self.in_sample, self.out_of_sample
        return {
            "strategy": self.strategy, "mode": self.mode, "objective": self.objective,
            "best_params": self.best_params, "n_trials": self.n_trials,
            "rows": len(self.table), "failed": len(self.failed),
            "in_sample_sharpe_ratio": i.get("sharpe_ratio"),
            "out_of_sample_sharpe_ratio": o.get("sharpe_ratio"),
            "out_of_sample_annual_return": o.get("annual_return"),
            "trials_sharpe_variance": None if last is None else last["trials_sharpe_variance"],
            "expected_max_sharpe": None if last is None else last["expected_max_sharpe"],
            "deflated_sharpe": self.deflated_sharpe,
        }

    def __repr__(self) -> str:
        failed = f", {len(self.failed)} failed" if len(self.failed) else ""
        shape = [_count(self.n_trials, "combination")]
        if len(self.costs) > 1:
            shape.append(_count(len(self.costs), "cost multiplier"))
        if self.mode == "walk_forward":
            shape.append(_count(len(self.windows), "window"))
        head = (f"<SweepResult {self.strategy} ({self.mode}) by {self.objective}: "
                f"{' × '.join(shape)} = {_count(len(self.table), 'row')}{failed}")
        o = self.out_of_sample
        if self.mode == "walk_forward":
            return (f"{head}; stitched out-of-sample Sharpe {o.get('sharpe_ratio', math.nan):.2f}"
                    f", annual return {o.get('annual_return', math.nan):+.2%}>")
        i = self.in_sample
        return (f"{head}; best {self.best_params}: in-sample Sharpe "
                f"{i.get('sharpe_ratio', math.nan):.2f}, out-of-sample "
                f"{o.get('sharpe_ratio', math.nan):.2f}; deflated Sharpe "
                f"{self.deflated_sharpe:.2f} for {self.n_trials} trials>")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _choose(frame: pd.DataFrame, windows: pd.DataFrame, column: str,
            cost: float, n_trials: int) -> pd.DataFrame:
    rows = []
    for window in windows.index:
        part = frame.loc[(frame["window_id"] == window) & (frame["cost_multiplier"] == cost)]
        ok = part.loc[part["error"].isna()]
        best = best_index(ok[column].to_numpy(dtype=float))
        if best is None and len(ok):
            warnings.warn(f"window {window}: no combination has a finite {column}; "
                          f"keeping the first that ran", stacklevel=3)
            best = 0
        variance = trials_sharpe_variance(part["is_sharpe_ratio"])
        rid = None if best is None else str(ok.index[best])
        if rid is None:
            first = part["error"].dropna()
            warnings.warn(f"window {window}: every combination failed"
                          + (f"; the first error: {first.iloc[0]}" if len(first) else ""),
                          stacklevel=3)
        rows.append({
            "window_id": window, "row_id": rid,
            "params": None if rid is None else json.loads(ok.loc[rid, "params_json"]),
            "in_sample_objective": math.nan if rid is None else ok.loc[rid, column],
            "is_sharpe_ratio": math.nan if rid is None else ok.loc[rid, "is_sharpe_ratio"],
            "oos_sharpe_ratio": math.nan if rid is None else ok.loc[rid, "oos_sharpe_ratio"],
            "n_trials": n_trials, "trials_sharpe_variance": variance,
            "expected_max_sharpe": metrics.expected_max_sharpe(n_trials, variance),
        })
    return pd.DataFrame(rows).set_index("window_id")


# -- the entry point ----------------------------------------------------------------------------
def run(market: Market | str | os.PathLike[str], strategy: str,
        grid: Mapping[str, Sequence[Any]], *, periods: Split | WalkForward | None = None,
        mode: Mode | None = None, costs: float | Sequence[float] = (1.0,),
        config: BacktestConfig | None = None, objective: str = "sharpe",
        client: ClientLike = None, n_workers: int | None = None,
        out: str | os.PathLike[str] | None = None, retries: int = 2,
        progress: bool | None = None) -> SweepResult:
    """Backtest every combination of ``grid`` in and out of sample, on Dask or in process.

    Everything is checked before a task runs or a cluster starts: the strategy, the grid
    (:func:`workbench.research.trials.grid_combinations`), the cost multipliers, the
    objective, the client and the periods against the data.

    Parameters
    ----------
    market
        The data, or the path of a Market folder that every worker can read (each worker
        then loads it once instead of receiving it; this process loads it too, to plan).
    strategy
        A registered strategy name.
    grid
        Parameter name -> list of values; every combination is tried.
    periods
        A :class:`~workbench.research.periods.Split` (default ``Split()``) or a
        :class:`~workbench.research.periods.WalkForward` (rolling windows).
    mode
        ``"split"`` or ``"walk_forward"``; default from ``periods``. ``mode="walk_forward"``
        alone uses ``WalkForward()``.
    costs
        Cost multipliers (:meth:`workbench.costs.Costs.scale`), e.g. ``(1.0, 2.0)``; every
        combination runs at each. Parameters are chosen at 1.0 if listed, else the first.
    config
        Trading rules and base costs; its ``start``/``end`` are replaced by the periods.
    objective
        What to maximise in sample: a key of :data:`workbench.research.trials.OBJECTIVES`.
    client
        None or ``"local"``: a local cluster sized to the machine (started and closed
        here, dashboard link printed); ``"tcp://host:8786"`` or a ``distributed.Client``:
        that cluster; ``"serial"``: this process, no Dask.
    n_workers
        Worker processes of the local cluster (client=None only); default the core count.
    out
        A Parquet file for the table: written as rows finish, and read first to skip the
        rows already finished (failed rows run again).
    retries
        How often Dask reruns a task that fails outside the backtest (a backtest's own
        error is recorded in its row instead). A task whose worker dies is rescheduled by
        the scheduler (up to ``distributed.scheduler.allowed-failures`` times); only then
        is the row recorded as failed.
    progress
        Show a progress bar (:class:`workbench.progress.Progress`): in Jupyter an output
        updated in place, in a terminal a tqdm bar on stderr. Default: in Jupyter and in a
        terminal, not otherwise (logs, tests).

    Returns
    -------
    SweepResult

    Raises
    ------
    LookupFailed
        An unknown strategy.
    ConfigError
        An unknown grid parameter, a bad value, cost multiplier, objective, mode, client, or
        periods outside the data; an ``out`` file written for other data or in another
        format.

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2022-01-04", end="2023-12-29"))
    >>> split = Split(in_sample_end="2022-12-31", out_of_sample_start="2023-01-01")
    >>> s = run(m, "ma_trend", {"fast": [5, 10], "slow": [20]}, periods=split, client="serial")
    >>> s.n_trials, list(s.table["fast"]), s.stats["tasks_run"]
    (2, [5, 10], 2)
    """
    started = time.perf_counter()
    combos = grid_combinations(strategy, grid)
    if clash := sorted(set(grid) & {*_ID_COLUMNS, "row_id", "error"}):
        raise ConfigError(f"parameter names {clash} clash with the sweep table's own columns")
    column = f"is_{objective_column(objective)}"
    config = BacktestConfig() if config is None else config
    multipliers = _check_costs(costs, config)
    kind, periods = _mode_of(periods, mode)
    check_client(client, n_workers)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be a whole number >= 0, got {retries!r}")
    if not isinstance(market, (Market, str, os.PathLike)):
        raise ConfigError(f"market must be a Market or the path of a Market folder, got "
                          f"{type(market).__name__}; e.g. workbench.load_market()")
    source: Market | str = market if isinstance(market, Market) else str(market)
    # loaded here once to plan and to re-run the pick; the workers load their own copy
    data = source if isinstance(source, Market) else load_market(
        Path(source).expanduser().absolute())
    windows = _windows(data, periods)

    digest = _config_digest(config)
    plan: dict[str, tuple[int, Trial]] = {}
    for window, (is_start, is_end, oos_start, oos_end) in enumerate(
            windows.itertuples(index=False)):
        for params in combos:
            for m in multipliers:
                trial = Trial(strategy=strategy, params=params, cost_multiplier=m,
                              in_sample=(_day(is_start), _day(is_end)),
                              out_of_sample=(_day(oos_start), _day(oos_end)))
                plan[_row_id(trial, digest)] = (window, trial)

    meta = {"strategy": strategy, "mode": kind, "objective": objective,
            "grid": {k: list(vs) for k, vs in grid.items()},
            "costs": list(multipliers), "periods": repr(periods), "config": config.to_dict(),
            "market": _fingerprint(data)}
    path = None if out is None else Path(out)
    done = {} if path is None else finished_rows(path, meta, plan, _metric_columns())
    resumed = len(done)
    todo = [(rid, trial) for rid, (_, trial) in plan.items() if rid not in done]

    stats: dict[str, Any] = {"tasks_run": 0, "resumed": resumed, "market": None,
                             "task_bytes": None}
    with connect(client if todo else "serial", n_workers) as dask_client:  # no idle cluster
        rows = (run_serial(_task, data, todo, config, stats) if dask_client is None
                else run_on_dask(dask_client, _task, source, todo, config, retries=retries,
                                 stats=stats, lost=_failed_row))
        bar = Progress(len(plan), desc=f"{strategy} sweep", unit="trial", resumed=resumed,
                       show=progress)
        last_save = time.monotonic()
        try:
            for rid, row in rows:
                done[rid] = row
                stats["tasks_run"] += 1
                bar.update(failed=row["error"] is not None)
                if path is not None and time.monotonic() - last_save > _CHECKPOINT_S:
                    write_checkpoint(path, _frame(plan, done), meta, text_columns=list(grid))
                    last_save = time.monotonic()
        finally:  # an interrupted sweep keeps what finished
            rows.close()
            bar.close()
            if path is not None:
                write_checkpoint(path, _frame(plan, done), meta, text_columns=list(grid))

    table = _frame(plan, done)
    n_trials = len(combos)
    chosen = _choose(table, windows, column, _choice_cost(multipliers), n_trials)
    trials = {rid: trial for rid, (_, trial) in plan.items()}
    result = SweepResult(
        strategy=strategy, mode=kind, objective=objective, periods=periods, config=config,
        costs=multipliers, table=table, windows=windows, chosen=chosen, n_trials=n_trials,
        deflated_sharpe=math.nan, in_sample={}, out_of_sample={}, in_sample_result=None,
        out_of_sample_result=None, returns=None, equity=None, path=path, stats=stats,
        _market=data, _trials=trials)
    result = _headline(result)
    stats |= {"failed": int(table["error"].notna().sum()),
              "elapsed_s": time.perf_counter() - started}
    return result


def _headline(result: SweepResult) -> SweepResult:
    """Fill in the pick's figures: re-run it here (one or two backtests per window)."""
    ids = [rid for rid in result.chosen["row_id"] if rid is not None]
    if not ids:
        return result
    capital = result.config.capital_cny
    if result.mode == "split":
        rid = ids[0]
        is_result = result.rerun(rid, "in_sample")
        oos_result = result.rerun(rid, "out_of_sample")
        pick = result.chosen.iloc[0]
        in_sample = result_metrics(is_result)
        # the trials' Sharpe ratios are annualised with the period's own sessions per year
        dsr = metrics.deflated_sharpe_ratio(is_result.returns, result.n_trials,
                                            float(pick["trials_sharpe_variance"]),
                                            periods_per_year=in_sample["periods_per_year"])
        returns = oos_result.returns.rename("returns")
        return replace(result, deflated_sharpe=dsr, in_sample=in_sample,
                       out_of_sample=result_metrics(oos_result),
                       in_sample_result=is_result, out_of_sample_result=oos_result,
                       returns=returns, equity=oos_result.daily["equity_cny"].rename("equity"))
    pieces = [result.rerun(rid, "out_of_sample").returns for rid in ids]
    returns = pd.concat(pieces).rename("returns")
    equity = (capital * (1.0 + returns).cumprod()).rename("equity")
    n_trades = int(result.table.loc[ids, "oos_n_trades"].sum())
    return replace(result, out_of_sample=metrics.summary(returns) | {"n_trades": n_trades},
                   returns=returns, equity=equity)
