"""Parameter sweeps and walk-forward runs on Dask, from one laptop to a cluster.

:func:`run` backtests every combination of a parameter grid (times every cost multiplier)
on an in-sample and an out-of-sample period, picks the best parameters on the in-sample
period alone, and reports how they did out of sample beside the number of combinations
tried and the deflated Sharpe ratio, so the multiple-testing risk is in the headline.

Where it runs (``client``):

* ``None`` (or ``"local"``): a :class:`distributed.LocalCluster` sized to the machine
  (one single-threaded worker process per core, see :func:`local_client`), started for
  this call and closed after it; the Dask dashboard link is printed. In a script, call it under
  ``if __name__ == "__main__":``, since the workers start as fresh processes.
* ``"tcp://host:8786"`` or a :class:`distributed.Client`: that cluster.
* ``"serial"``: this process, without Dask (tests, tiny grids, debugging).

How the work is shaped:

* One task per *trial*: a combination, a cost multiplier and a pair of periods, run by
  :func:`workbench.evaluation.trial_results`, the same function
  :func:`~workbench.evaluation.grid_search` runs in process. A task returns a compact row
  of metrics (floats, dates, an error text), never a whole result;
  :meth:`SweepResult.rerun` rebuilds any row's full backtest on demand.
* The market goes to the workers once: scattered to every worker before the first task
  (``client.scatter(market, broadcast=True)``), or, when ``market`` is a path to a Market
  folder every worker can read, loaded by each worker from it. Tasks carry only a
  reference to it, the trial and the configuration (about a kilobyte).
* A trial that raises is recorded with its error (``error`` column, metrics missing) and
  the sweep goes on; a task lost with its worker is rescheduled by Dask.
* With ``out=`` the table is saved to Parquet (atomically) as rows complete, and a later
  call with the same ``out`` runs only the rows not yet finished. A row's identity
  (``row_id``) is a stable hash of the strategy, its parameters, the cost multiplier, the
  periods and the base configuration; rows that failed are run again.

Modes: ``"split"`` (one :class:`~workbench.evaluation.Split`) and ``"walk_forward"``
(rolling :class:`~workbench.evaluation.WalkForward` windows, each choosing its parameters
on its own training data; every window × combination is a task, and the chosen test
periods are stitched into one out-of-sample curve).

Rows hold ``window_id``, the grid's parameters, ``cost_multiplier``, ``params_json`` (the
parameters as canonical JSON), the in-sample metrics prefixed ``is_`` and the out-of-sample
ones prefixed ``oos_`` (the keys of :data:`workbench.evaluation.METRIC_COLUMNS`, with the
trade count ``n_trades``), and ``error``.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import math
import os
import pickle
import sys
import threading
import time
import uuid
import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench import evaluation as ev
from workbench import metrics
from workbench import strategies as _strategies
from workbench.atomic import atomic_write_bytes
from workbench.calendar import parse_day
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.store import load_market
from workbench.errors import ConfigError, DataError, LookupFailed, did_you_mean

if TYPE_CHECKING:
    from distributed import Client

    from workbench.result import BacktestResult

__all__ = ["MODES", "SweepResult", "local_client", "parse_costs", "parse_grid", "parse_split",
           "run"]

#: Sweep modes.
MODES: tuple[str, ...] = ("split", "walk_forward")
#: Columns of a row besides the grid's parameters and the metrics.
_ID_COLUMNS = ("window_id", "cost_multiplier", "params_json")
_PREFIXES = ("is_", "oos_")
_DATES = ("start", "end")
_COUNTS = ("sessions", "n_trades")
_FORMAT = 1
_META_KEY = b"workbench.sweep"
_CHECKPOINT_S = 5.0  # most seconds between saves of the table while a sweep runs
_ERROR_CHARS = 2000

Mode = Literal["split", "walk_forward"]
ClientLike = Any  # None, "serial", a scheduler address or a distributed.Client


# -- row identity ---------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A JSON-ready stand-in for a parameter value (numpy scalars as Python ones)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _params_json(params: Mapping[str, Any]) -> str:
    return json.dumps({str(k): _plain(params[k]) for k in sorted(params)}, sort_keys=True,
                      ensure_ascii=False, default=repr)


def _day(value: Any) -> pd.Timestamp | None:
    """A period bound: a Timestamp, or None for "the data's first/last session"."""
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def _iso(day: Any) -> str | None:
    return None if day is None or pd.isna(day) else str(pd.Timestamp(day).date())


def _config_digest(config: BacktestConfig) -> str:
    """What of the configuration a row depends on: all but its period (set per trial)."""
    doc = {k: v for k, v in config.to_dict().items() if k not in ("start", "end")}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _row_id(trial: ev.Trial, config_digest: str) -> str:
    oos = trial.out_of_sample or (None, None)
    doc = {"strategy": trial.strategy, "params": _params_json(trial.params),
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


# -- the market where the tasks run -----------------------------------------------------------
# Markets loaded from a path, per process: each worker loads a shared Market folder once.
_LOADED: OrderedDict[str, Market] = OrderedDict()
_LOADED_MAX = 2
_LOADED_LOCK = threading.Lock()


def _resolve(source: Market | str) -> Market:
    if isinstance(source, Market):
        return source
    key = str(Path(source).expanduser().absolute())
    with _LOADED_LOCK:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
    market = load_market(key)
    with _LOADED_LOCK:
        _LOADED[key] = market
        while len(_LOADED) > _LOADED_MAX:
            _LOADED.popitem(last=False)
    return market


def _shippable(market: Market) -> Market:
    """The market without its caches (panels, calendar): what is worth sending."""
    return Market(bars=market.bars, securities=market.securities,
                  fundamentals=market.fundamentals, st_periods=market.st_periods,
                  benchmark=market.benchmark, meta=dict(market.meta))


# -- one task -----------------------------------------------------------------------------------
def _metric_row(prefix: str, values: Mapping[str, Any] | None) -> dict[str, Any]:
    if values is None:
        return {f"{prefix}{k}": (pd.NaT if k in _DATES else math.nan)
                for k in ev.METRIC_COLUMNS}
    return {f"{prefix}{k}": values[k] for k in ev.METRIC_COLUMNS}


def _failed_row(exc: BaseException) -> dict[str, Any]:
    text = f"{type(exc).__name__}: {exc}"
    return (_metric_row("is_", None) | _metric_row("oos_", None)
            | {"error": text[:_ERROR_CHARS]})


def _task(source: Market | str, trial: ev.Trial, config: BacktestConfig) -> dict[str, Any]:
    """Run one trial where it is scheduled; return its metrics row (an error, not a raise)."""
    try:
        market = _resolve(source)
        is_result, oos_result = ev.trial_results(market, trial, config)
        oos = None if oos_result is None else ev.result_metrics(oos_result)
        return (_metric_row("is_", ev.result_metrics(is_result)) | _metric_row("oos_", oos)
                | {"error": None})
    except Exception as exc:  # recorded in the row; the sweep goes on
        return _failed_row(exc)


# -- executors ----------------------------------------------------------------------------------
def _serial_rows(source: Market | str, todo: Sequence[tuple[str, ev.Trial]],
                 config: BacktestConfig, stats: dict[str, Any]
                 ) -> Iterator[tuple[str, dict[str, Any]]]:
    stats |= {"executor": "serial", "workers": 1, "market": "in process"}
    for rid, trial in todo:
        yield rid, _task(source, trial, config)


def _dask_rows(client: Client, source: Market | str, todo: Sequence[tuple[str, ev.Trial]],
               config: BacktestConfig, retries: int, stats: dict[str, Any]
               ) -> Iterator[tuple[str, dict[str, Any]]]:
    from distributed import as_completed

    workers = len(client.nthreads())
    stats |= {"executor": "dask", "workers": workers}
    if not todo:
        return
    if isinstance(source, Market):
        # once, to every worker; tasks carry the reference only
        ref: Any = client.scatter(_shippable(source), broadcast=True, hash=False)
        stats["market"] = f"scattered once ({ref.key})"
    else:
        ref = str(Path(source).expanduser().absolute())
        stats["market"] = f"loaded by each worker from {ref}"
    stats["task_bytes"] = len(pickle.dumps((ref, todo[0][1], config)))
    token = uuid.uuid4().hex[:8]
    futures = {client.submit(_task, ref, trial, config, key=f"trial-{rid}-{token}",
                             retries=retries): rid for rid, trial in todo}
    try:
        for future in as_completed(futures):
            rid = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # lost for good (e.g. KilledWorker after retries)
                row = _failed_row(exc)
            future.release()
            yield rid, row
    finally:  # on an interrupt, stop what is still queued; free the market
        client.cancel([*futures, ref] if not isinstance(ref, str) else list(futures))


def _dashboard_note(client: Client, what: str) -> None:
    note = "" if importlib.util.find_spec("bokeh") else " (pip install 'bokeh>=3.1' for plots)"
    print(f"{what}; Dask dashboard: {client.dashboard_link}{note}", flush=True)


@contextlib.contextmanager
def _connect(client: ClientLike, n_workers: int | None) -> Iterator[Client | None]:
    """The Dask client to use (None for serial), closing what this call opened."""
    if isinstance(client, str) and client == "serial":
        yield None
        return
    if client is None or client == "local":
        with local_client(n_workers) as local:
            yield local
        return
    if isinstance(client, str):
        from distributed import Client

        try:
            remote = Client(client)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot reach the Dask scheduler at {client!r} ({exc}); start "
                              "one (`dask scheduler`, then `dask worker ADDRESS` per machine), "
                              "or pass client=None for a local cluster or 'serial'") from None
        with remote:
            _dashboard_note(remote, f"Dask cluster at {client}")
            yield remote
        return
    yield client


@contextlib.contextmanager
def local_client(n_workers: int | None = None, **cluster: Any) -> Iterator[Client]:
    """A client of a local Dask cluster shaped for backtests; closed when the block ends.

    One single-threaded worker process per core: a backtest is a long pure-Python loop
    that holds the interpreter lock, so threads would not run in parallel. For the same
    reason the workers' housekeeping wakes up less often, since each wake-up takes the lock
    from the backtest: the statistical profiler is off (it samples every thread every
    10 ms) and the event-loop tick and memory monitor run every second instead of every
    20 and 100 ms; together about 10 % of a worker's time on the default market. The
    dashboard's task stream and progress still work, and memory limits still hold. The
    workers import the workbench before the block starts.

    This is what ``run(client=None)`` starts for one sweep; hold one open to run several
    sweeps without restarting workers. The dashboard link is printed.

    Parameters
    ----------
    n_workers
        Worker processes; default the number of cores.
    **cluster
        Further :class:`distributed.LocalCluster` arguments, e.g. ``memory_limit="4GiB"``
        or ``dashboard_address=":0"``.
    """
    import dask
    from distributed import Client, LocalCluster

    n = n_workers or os.cpu_count() or 1
    options = {"n_workers": n, "threads_per_worker": 1, "processes": True} | cluster
    with (dask.config.set(_QUIET_WORKERS),
          LocalCluster(**options) as local_cluster, Client(local_cluster) as client):
        client.run(_warm_up)
        _dashboard_note(client, f"local Dask cluster: {n} worker processes")
        yield client


# Worker settings of local_client: fewer wake-ups of a worker's housekeeping threads.
_QUIET_WORKERS: dict[str, Any] = {"distributed.worker.profile.enabled": False,
                                  "distributed.admin.tick.interval": "1s",
                                  "distributed.worker.memory.monitor-interval": "1s"}


def _warm_up() -> None:
    """Run on each worker once: unpickling this function imports the workbench there."""


def _check_client(client: ClientLike, n_workers: int | None) -> None:
    if client is not None and not isinstance(client, str) and not (
            callable(getattr(client, "submit", None))
            and callable(getattr(client, "scatter", None))):
        raise ConfigError(f"client must be None or 'local' (a local cluster), 'serial', a "
                          f"scheduler address such as 'tcp://host:8786' or a "
                          f"distributed.Client, got {client!r}")
    if n_workers is not None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ConfigError(f"n_workers must be a whole number >= 1, got {n_workers!r}")
        if client not in (None, "local"):
            raise ConfigError(f"n_workers sizes the local cluster started for client=None; "
                              f"with client={client!r} leave it out")


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


def _mode_of(periods: ev.Split | ev.WalkForward | None, mode: str | None
             ) -> tuple[Mode, ev.Split | ev.WalkForward]:
    if mode is not None and mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; {did_you_mean(str(mode), MODES)}")
    if periods is None:
        return ("walk_forward", ev.WalkForward()) if mode == "walk_forward" else (
            "split", ev.Split())
    kind: Mode
    if isinstance(periods, ev.Split):
        kind = "split"
    elif isinstance(periods, ev.WalkForward):
        kind = "walk_forward"
    else:
        raise ConfigError(f"periods must be a workbench.evaluation.Split or WalkForward, got "
                          f"{type(periods).__name__}")
    if mode is not None and mode != kind:
        raise ConfigError(f"mode={mode!r} does not match periods={periods!r}; pass a "
                          f"{'WalkForward' if mode == 'walk_forward' else 'Split'} or leave "
                          "mode out")
    return kind, periods


def _windows(market: Market, mode: Mode, periods: ev.Split | ev.WalkForward) -> pd.DataFrame:
    cols = ["in_sample_start", "in_sample_end", "out_of_sample_start", "out_of_sample_end"]
    if isinstance(periods, ev.Split):
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
def _frame(plan: Mapping[str, tuple[int, ev.Trial]], rows: Mapping[str, Mapping[str, Any]]
           ) -> pd.DataFrame:
    """The rows done so far, in plan order, with stable dtypes (fresh or read back)."""
    records = []
    for rid, (window, trial) in plan.items():
        if rid in rows:
            records.append({"row_id": rid, "window_id": window, **trial.params,
                            "cost_multiplier": float(trial.cost_multiplier),
                            "params_json": _params_json(trial.params), **rows[rid]})
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame(
        columns=["row_id", *_ID_COLUMNS, *_metric_row("is_", None), *_metric_row("oos_", None),
                 "error"])
    frame = frame.set_index("row_id")
    frame["window_id"] = frame["window_id"].astype(np.int64)
    frame["cost_multiplier"] = frame["cost_multiplier"].astype(np.float64)
    frame["params_json"] = frame["params_json"].astype("str")
    for prefix in _PREFIXES:
        for k in ev.METRIC_COLUMNS:
            col = f"{prefix}{k}"
            if k in _DATES:
                frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
            elif k in _COUNTS:
                frame[col] = frame[col].astype("Int64")
            else:
                frame[col] = frame[col].astype(np.float64)
    frame["error"] = frame["error"].astype("str")
    return frame


def _stored_rows(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Finished rows of a saved table, as task rows (metrics and error)."""
    columns = [*_metric_row("is_", None), *_metric_row("oos_", None)]
    ok = frame.loc[frame["error"].isna(), columns]
    return {str(rid): {**{c: row[c] for c in columns}, "error": None}
            for rid, row in ok.iterrows()}


def _write(path: Path, frame: pd.DataFrame, meta: Mapping[str, Any]) -> None:
    try:
        table = pa.Table.from_pandas(frame, preserve_index=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # parameter values of mixed types
        keep = {*_ID_COLUMNS, "error", *_metric_row("is_", None), *_metric_row("oos_", None)}
        text = frame.astype({c: "str" for c in frame.columns if c not in keep})
        table = pa.Table.from_pandas(text, preserve_index=True)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[_META_KEY] = json.dumps(meta, default=str).encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(schema_meta), buffer, compression="zstd")
    atomic_write_bytes(path, buffer.getvalue())


def _read(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable sweep table ({exc}); pass another out path "
                        "or delete the file to start afresh") from None
    meta = json.loads((table.schema.metadata or {}).get(_META_KEY, b"{}"))
    frame = table.to_pandas()
    if "error" not in frame.columns or frame.index.name != "row_id":
        raise DataError(f"{path}: not a sweep table (no row_id index or error column); pass "
                        "another out path")
    return frame, meta


# -- the result ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class SweepResult:
    """The outcome of :func:`run`.

    Attributes
    ----------
    strategy, mode, objective
        What was swept, how (``"split"`` or ``"walk_forward"``) and what was maximised in
        sample (a key of :data:`workbench.evaluation.OBJECTIVES`).
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
        equity they compound to from the starting capital.
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
    periods: ev.Split | ev.WalkForward
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
    _market: Market | str = field(repr=False)
    _trials: Mapping[str, ev.Trial] = field(repr=False)

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
        market = _resolve(self._market)
        config = ev._with_costs(self.config, trial.cost_multiplier)
        strategy = _strategies.get(trial.strategy, **dict(trial.params))
        if period == "in_sample":
            return ev._in_sample_run(market, strategy, config, trial.in_sample)
        if trial.out_of_sample is None:
            raise ConfigError(f"row {row_id!r} has no out-of-sample period")
        return ev._out_of_sample_run(market, strategy, config, trial.out_of_sample)

    def summary(self) -> pd.DataFrame:
        """Split: the pick's metrics in and out of sample side by side. Walk-forward: the
        chosen row of every window."""
        if self.mode == "walk_forward":
            return self.chosen

        def shown(values: Mapping[str, Any]) -> pd.Series:
            return pd.Series({k: v.date() if isinstance(v, pd.Timestamp) else v
                              for k, v in values.items()}, dtype=object)

        return pd.DataFrame({"in_sample": shown(self.in_sample),
                             "out_of_sample": shown(self.out_of_sample)})

    def cost_table(self) -> pd.DataFrame:
        """The pick's in- and out-of-sample metrics at every cost multiplier swept."""
        rid = self.best_row_id
        if rid is None:
            return self.table.iloc[:0]
        trial = self._trials[rid]
        same = (self.table["params_json"] == _params_json(trial.params)) & (
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


def _choose(frame: pd.DataFrame, windows: pd.DataFrame, objective_column: str,
            cost: float, n_trials: int) -> pd.DataFrame:
    rows = []
    for window in windows.index:
        part = frame.loc[(frame["window_id"] == window) & (frame["cost_multiplier"] == cost)]
        ok = part.loc[part["error"].isna()]
        best = ev._best(ok[objective_column].to_numpy(dtype=float))
        if best is None and len(ok):
            warnings.warn(f"window {window}: no combination has a finite {objective_column}; "
                          f"keeping the first that ran", stacklevel=3)
            best = 0
        variance = ev._trials_variance(part["is_sharpe_ratio"])
        rid = None if best is None else str(ok.index[best])
        if rid is None:
            first = part["error"].dropna()
            warnings.warn(f"window {window}: every combination failed"
                          + (f"; the first error: {first.iloc[0]}" if len(first) else ""),
                          stacklevel=3)
        rows.append({
            "window_id": window, "row_id": rid,
            "params": None if rid is None else json.loads(ok.loc[rid, "params_json"]),
            "in_sample_objective": math.nan if rid is None else ok.loc[rid, objective_column],
            "is_sharpe_ratio": math.nan if rid is None else ok.loc[rid, "is_sharpe_ratio"],
            "oos_sharpe_ratio": math.nan if rid is None else ok.loc[rid, "oos_sharpe_ratio"],
            "n_trials": n_trials, "trials_sharpe_variance": variance,
            "expected_max_sharpe": metrics.expected_max_sharpe(n_trials, variance),
        })
    return pd.DataFrame(rows).set_index("window_id")


# -- the entry point ----------------------------------------------------------------------------
def run(market: Market | str | os.PathLike[str], strategy: str,
        grid: Mapping[str, Sequence[Any]], *, periods: ev.Split | ev.WalkForward | None = None,
        mode: Mode | None = None, costs: float | Sequence[float] = (1.0,),
        config: BacktestConfig | None = None, objective: str = "sharpe",
        client: ClientLike = None, n_workers: int | None = None,
        out: str | os.PathLike[str] | None = None, retries: int = 2,
        progress: bool | None = None) -> SweepResult:
    """Backtest every combination of ``grid`` in and out of sample, on Dask or in process.

    Everything is checked before a task runs or a cluster starts: the strategy, the grid
    (:func:`workbench.evaluation.grid_combinations`), the cost multipliers, the objective,
    the client and the periods against the data.

    Parameters
    ----------
    market
        The data, or the path of a Market folder that every worker can read (each worker
        then loads it once instead of receiving it).
    strategy
        A registered strategy name.
    grid
        Parameter name -> list of values; every combination is tried.
    periods
        A :class:`~workbench.evaluation.Split` (default ``Split()``) or a
        :class:`~workbench.evaluation.WalkForward` (rolling windows).
    mode
        ``"split"`` or ``"walk_forward"``; default from ``periods``. ``mode="walk_forward"``
        alone uses ``WalkForward()``.
    costs
        Cost multipliers (:meth:`workbench.costs.Costs.scale`), e.g. ``(1.0, 2.0)``; every
        combination runs at each. Parameters are chosen at 1.0 if listed, else the first.
    config
        Trading rules and base costs; its ``start``/``end`` are replaced by the periods.
    objective
        What to maximise in sample: a key of :data:`workbench.evaluation.OBJECTIVES`.
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
        Show a progress bar: in Jupyter an output updated in place, in a terminal a line
        on stderr. Default: in Jupyter and in a terminal, not otherwise (logs, tests).

    Returns
    -------
    SweepResult

    Raises
    ------
    LookupFailed
        An unknown strategy.
    ConfigError
        An unknown grid parameter, a bad value, cost multiplier, objective, mode, client, or
        periods outside the data; an ``out`` file written for other data.

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> from workbench.evaluation import Split
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2022-01-04", end="2023-12-29"))
    >>> split = Split(in_sample_end="2022-12-31", out_of_sample_start="2023-01-01")
    >>> s = run(m, "ma_trend", {"fast": [5, 10], "slow": [20]}, periods=split, client="serial")
    >>> s.n_trials, list(s.table["fast"]), s.stats["tasks_run"]
    (2, [5, 10], 2)
    """
    started = time.perf_counter()
    combos = ev.grid_combinations(strategy, grid)
    if clash := sorted(set(grid) & {*_ID_COLUMNS, "row_id", "error"}):
        raise ConfigError(f"parameter names {clash} clash with the sweep table's own columns")
    objective_column = f"is_{ev._objective_column(objective)}"
    config = BacktestConfig() if config is None else config
    multipliers = _check_costs(costs, config)
    kind, periods = _mode_of(periods, mode)
    _check_client(client, n_workers)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"retries must be a whole number >= 0, got {retries!r}")
    if not isinstance(market, Market) and not isinstance(market, (str, os.PathLike)):
        raise ConfigError(f"market must be a Market or the path of a Market folder, got "
                          f"{type(market).__name__}; e.g. workbench.load_market()")
    source: Market | str = market if isinstance(market, Market) else str(market)
    data = _resolve(source)
    windows = _windows(data, kind, periods)

    digest = _config_digest(config)
    plan: dict[str, tuple[int, ev.Trial]] = {}
    for window, (is_start, is_end, oos_start, oos_end) in enumerate(
            windows.itertuples(index=False)):
        for params in combos:
            for m in multipliers:
                trial = ev.Trial(strategy=strategy, params=params, cost_multiplier=m,
                                 in_sample=(_day(is_start), _day(is_end)),
                                 out_of_sample=(_day(oos_start), _day(oos_end)))
                plan[_row_id(trial, digest)] = (window, trial)

    meta = {"format": _FORMAT, "strategy": strategy, "mode": kind, "objective": objective,
            "grid": {k: [_plain(v) for v in vs] for k, vs in grid.items()},
            "costs": list(multipliers), "periods": repr(periods), "config": config.to_dict(),
            "market": _fingerprint(data)}
    path = None if out is None else Path(out)
    done: dict[str, dict[str, Any]] = {}
    if path is not None and path.exists():
        stored, stored_meta = _read(path)
        if stored_meta.get("market") not in (None, meta["market"]):
            raise ConfigError(f"{path} holds a sweep of other data ({stored_meta['market']}, "
                              f"now {meta['market']}); pass another out path or delete it")
        finished = _stored_rows(stored)
        if dropped := len(set(stored.index) - set(plan)):
            warnings.warn(f"{path}: {dropped} rows are not part of this sweep (another grid, "
                          "strategy, periods or configuration) and are dropped from the "
                          "file; pass another out path to keep them", stacklevel=2)
        done = {rid: row for rid, row in finished.items() if rid in plan}
    resumed = len(done)
    todo = [(rid, trial) for rid, (_, trial) in plan.items() if rid not in done]

    stats: dict[str, Any] = {"tasks_run": 0, "resumed": resumed, "market": None,
                             "task_bytes": None}
    with _connect(client if todo else "serial", n_workers) as dask_client:  # no idle cluster
        rows = (_serial_rows(source, todo, config, stats) if dask_client is None
                else _dask_rows(dask_client, source, todo, config, retries, stats))
        bar = _Progress(_progress_target(progress), len(plan), resumed, f"{strategy} sweep")
        last_save = time.monotonic()
        try:
            for rid, row in rows:
                done[rid] = row
                stats["tasks_run"] += 1
                bar.update(failed=row["error"] is not None)
                if path is not None and time.monotonic() - last_save > _CHECKPOINT_S:
                    _write(path, _frame(plan, done), meta)
                    last_save = time.monotonic()
        finally:  # an interrupted sweep keeps what finished
            rows.close()
            bar.close()
            if path is not None:
                _write(path, _frame(plan, done), meta)

    table = _frame(plan, done)
    n_trials = len(combos)
    cost = _choice_cost(multipliers)
    chosen = _choose(table, windows, objective_column, cost, n_trials)
    trials = {rid: trial for rid, (_, trial) in plan.items()}
    result = SweepResult(
        strategy=strategy, mode=kind, objective=objective, periods=periods, config=config,
        costs=multipliers, table=table, windows=windows, chosen=chosen, n_trials=n_trials,
        deflated_sharpe=math.nan, in_sample={}, out_of_sample={}, in_sample_result=None,
        out_of_sample_result=None, returns=None, equity=None, path=path, stats=stats,
        _market=source, _trials=trials)
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
        dsr = metrics.deflated_sharpe_ratio(is_result.returns, result.n_trials,
                                            float(pick["trials_sharpe_variance"]))
        returns = oos_result.returns.rename("returns")
        return replace(result, deflated_sharpe=dsr, in_sample=ev.result_metrics(is_result),
                       out_of_sample=ev.result_metrics(oos_result),
                       in_sample_result=is_result, out_of_sample_result=oos_result,
                       returns=returns, equity=oos_result.daily["equity_cny"].rename("equity"))
    pieces = [result.rerun(rid, "out_of_sample").returns for rid in ids]
    returns = pd.concat(pieces).rename("returns")
    equity = (capital * (1.0 + returns).cumprod()).rename("equity")
    n_trades = int(result.table.loc[ids, "oos_n_trades"].sum())
    return replace(result, out_of_sample=metrics.summary(returns) | {"n_trades": n_trades},
                   returns=returns, equity=equity)


# -- progress -----------------------------------------------------------------------------------
def _in_kernel() -> bool:
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def _progress_target(progress: bool | None) -> str | None:
    """Where a progress bar is drawn: ``"notebook"``, ``"terminal"`` or nowhere (None)."""
    if progress is False:
        return None
    if _in_kernel():
        return "notebook"
    tty = sys.stderr is not None and sys.stderr.isatty()
    return "terminal" if tty or progress else None


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class _Progress:
    """A progress bar updated in place: on stderr in a terminal, or as one Jupyter output
    (an HTML ``<progress>`` bar) that keeps its last state in a saved notebook."""

    def __init__(self, target: str | None, total: int, resumed: int, desc: str) -> None:
        self.target, self.total, self.done, self.failed = target, total, resumed, 0
        self.resumed, self.desc = resumed, desc
        self.started = self.shown = time.monotonic()
        self.handle: Any = None
        if target == "notebook":
            from IPython.display import display

            self.handle = display(self._bundle(), raw=True, display_id=True)
        elif target == "terminal":
            self._draw()

    def _text(self) -> str:
        elapsed = time.monotonic() - self.started
        ran = self.done - self.resumed
        left = self.total - self.done
        eta = f", ~{_clock(elapsed / ran * left)} left" if ran and left else ""
        extra = [f"{self.resumed} resumed"] if self.resumed else []
        extra += [f"{self.failed} failed"] if self.failed else []
        note = f" ({', '.join(extra)})" if extra else ""
        return (f"{self.desc}: {self.done}/{self.total} trials{note}, "
                f"{_clock(elapsed)} elapsed{eta}")

    def _bundle(self) -> dict[str, str]:
        text = self._text()
        bar = (f'<progress value="{self.done}" max="{max(self.total, 1)}" '
               f'style="width: 320px; vertical-align: middle"></progress> ')
        return {"text/plain": text, "text/html": f"<div>{bar}<code>{text}</code></div>"}

    def _draw(self) -> None:
        if self.target == "notebook":
            self.handle.update(self._bundle(), raw=True)
        elif self.target == "terminal":
            filled = round(30 * self.done / max(self.total, 1))
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {self._text()}\x1b[K")
            sys.stderr.flush()

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += bool(failed)
        if time.monotonic() - self.shown >= 0.2 or self.done == self.total:
            self.shown = time.monotonic()
            self._draw()

    def close(self) -> None:
        self._draw()
        if self.target == "terminal":
            sys.stderr.write("\n")
            sys.stderr.flush()


# -- command-line helpers -----------------------------------------------------------------------
def _parse_value(strategy: str, key: str, text: str, default: Any) -> Any:
    fix = f"--grid {key}=V1,V2,... with {type(default).__name__} values"
    if isinstance(default, bool):
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ConfigError(f"{strategy}.{key}: {text!r} is not true or false; {fix}")
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{strategy}.{key}: {text!r} is not a whole number; {fix}"
                              ) from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{strategy}.{key}: {text!r} is not a number; {fix}") from None
    return text


def parse_grid(strategy: str, items: Sequence[str]) -> dict[str, list[Any]]:
    """A grid from ``NAME=V1,V2,...`` strings (the command line's ``--grid``).

    Values take the type of the parameter's default (whole numbers, numbers, true/false,
    text).

    Raises
    ------
    ConfigError
        For a malformed item, an unknown or repeated parameter, or a value of the wrong
        type.

    Examples
    --------
    >>> parse_grid("ma_trend", ["fast=5,10", "slow=60"])
    {'fast': [5, 10], 'slow': [60]}
    """
    defaults = _strategies.parameters(strategy)
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not key or not text:
            raise ConfigError(f"--grid {item!r}: write NAME=V1,V2,...; e.g. --grid fast=5,10,20")
        if key not in defaults:
            raise ConfigError(f"strategy {strategy!r} has no parameter {key!r} to search over; "
                              f"{did_you_mean(key, defaults)}")
        if key in grid:
            raise ConfigError(f"--grid {key}=... is given twice; list all its values once")
        grid[key] = [_parse_value(strategy, key, v.strip(), defaults[key])
                     for v in text.split(",")]
    return grid


def parse_costs(text: str) -> tuple[float, ...]:
    """Cost multipliers from ``"1"`` or ``"0.5,1,2"`` (the command line's ``--costs``).

    Examples
    --------
    >>> parse_costs("1,2")
    (1.0, 2.0)
    """
    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--costs {text!r}: write cost multipliers such as 1 or 0.5,1,2"
                          ) from None


def parse_split(text: str | None) -> ev.Split:
    """The split at a first out-of-sample day (the command line's ``--split``); in sample is
    everything before it. None gives ``Split()``.

    Examples
    --------
    >>> parse_split("2024-01-02")
    Split(in-sample …..2024-01-01, out-of-sample 2024-01-02..…)
    """
    if text is None:
        return ev.Split()
    day = parse_day(text, "--split")  # a Timestamp: text is not None
    return ev.Split(in_sample_end=day - pd.Timedelta(days=1),  # type: ignore[operator]
                    out_of_sample_start=day)
