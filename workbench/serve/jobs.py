"""Backtest jobs: a bounded queue in front of a pool of worker processes or a Dask cluster.

``POST /v1/backtests`` checks the request at once (an unknown strategy or parameter, a bad
configuration: 422) and admits the job only while fewer than ``workers + max_queued`` jobs
are queued or running; one more is refused with 429 and ``Retry-After``. At most
``workers`` run at a time; the others wait in submission order.

Where a job runs (a :class:`Runner`):

* :class:`PoolRunner` (default): a pool of ``workers`` processes started on the first job
  (``spawn``, so nothing of the server's threads is inherited). Each loads the market once
  when it starts (from its folder, or unpickled from the server's copy) and keeps it for
  its later jobs, in :data:`WORKER_MARKETS`, the one module-level state: it lives in the
  worker processes, never in the server. A backtest is a long pure-Python loop that holds
  the interpreter lock, so it must not run in the server's own threads, where it would
  slow every other request.
* :class:`DaskRunner` (``--scheduler``): each job goes to the cluster through
  :func:`workbench.research.cluster.run_on_dask`, the code parameter sweeps use, on the
  client :func:`workbench.research.cluster.connect` opened when the service started. The
  market reaches the workers as it does for a sweep: loaded by each worker from the
  market's folder when the service was started with ``--market``, else scattered.

Both run :func:`backtest_task`, which returns the result's summary, metrics, risk
summary, warnings and two tables (trades and equity), or the workbench error that stopped
it (then the job's status is ``failed``, with that message).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import multiprocessing
import os
import secrets
import signal
import threading
import time
import warnings
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd
from starlette.concurrency import run_in_threadpool

from workbench import backtest, strategies
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data.market import Market
from workbench.data.store import load_market
from workbench.errors import ConfigError, WorkbenchError
from workbench.jsonable import jsonable
from workbench.research.cluster import run_on_dask
from workbench.serve.problems import Problem
from workbench.serve.sessions import risk_limits

__all__ = ["WORKER_MARKETS", "BacktestJob", "Backtests", "DaskRunner", "PoolRunner", "Runner",
           "backtest_config", "backtest_task", "table_csv", "table_json"]

_log = logging.getLogger("workbench.serve")

#: The market of a worker process of :class:`PoolRunner` (set by its initializer).
WORKER_MARKETS: dict[str, Market] = {}


def backtest_config(data: Mapping[str, Any]) -> BacktestConfig:
    """A :class:`~workbench.config.BacktestConfig` from JSON: the fields of its
    :meth:`~workbench.config.BacktestConfig.to_dict`, any left out at their defaults.

    Raises
    ------
    ConfigError
        An unknown field, or a value BacktestConfig, Costs or RiskLimits refuses.

    Examples
    --------
    >>> backtest_config({"capital_cny": 500_000, "risk": {"max_position_rate": 0.05}}).risk
    RiskLimits(max_position_rate=0.05, max_daily_loss_rate=0.03, max_drawdown_rate=0.15, \
max_sector_rate=0.3, max_gross_leverage=1.0, allow_opening_auction=False, \
block_st_buys=True, drawdown_rearm='cooloff', drawdown_recover_rate=None, \
drawdown_cooloff_sessions=20)
    """
    values = dict(data)
    valid = BacktestConfig().to_dict().keys() | {"universe"}
    if unknown := sorted(set(values) - valid):
        raise ConfigError(f"unknown config fields {unknown}; valid: {sorted(valid)}")
    costs = values.get("costs")
    if isinstance(costs, Mapping):
        values["costs"] = Costs.from_dict(dict(costs))
    risk = values.get("risk")
    if isinstance(risk, Mapping):
        values["risk"] = risk_limits(risk)
    try:
        return BacktestConfig(**values)
    except (TypeError, ValueError) as exc:  # a value of a type no check expected
        if isinstance(exc, WorkbenchError):
            raise
        raise ConfigError(f"config: {exc}; see workbench.BacktestConfig for each field") from None


def backtest_task(market: Market, item: tuple[str, dict[str, Any]],
                  config: BacktestConfig) -> dict[str, Any]:
    """Run one backtest where it is scheduled: ``item`` is ``(strategy, params)``.

    Returns the JSON parts (``summary``, ``metrics``, ``risk``, ``warnings``) and the frames
    ``trades`` and ``equity`` (the daily table), or ``{"error": ...}`` for a workbench
    error. Warnings raised while it runs are added to the result's own.
    """
    name, params = item
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = backtest.run(market, strategies.get(name, **params), config)
    except WorkbenchError as exc:
        return {"error": {"error": type(exc).__name__, "detail": str(exc)}}
    return {"summary": jsonable(result.summary()), "metrics": result.metrics(),
            "risk": result.risk_summary(),
            "warnings": [*result.warnings, *(str(w.message) for w in caught)],
            "trades": result.trades, "equity": result.daily}


def _init_worker(source: Market | str, server: int) -> None:
    # the server's pid comes from the server: a worker that starts after the server died
    # (already adopted by another parent) must see it gone, not watch its new parent
    _exit_with(server)
    WORKER_MARKETS["market"] = source if isinstance(source, Market) else load_market(source)


def _exit_with(parent: int) -> None:
    """End this worker within a second of the server's process ending, however it ends.

    A stopped server cannot take a worker's result any more, and the pool's own shutdown
    does not always reach its workers: on SIGTERM uvicorn shuts down, then re-raises the
    signal, which ends the process before the pool's exit handler sends its workers their
    stop message, and a worker waits for its next job forever (it holds both ends of its
    queue, so it never sees the server go).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGKILL)  # at once: nothing is left to finish for

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def _run_in_worker(item: tuple[str, dict[str, Any]], config: BacktestConfig) -> dict[str, Any]:
    return backtest_task(WORKER_MARKETS["market"], item, config)


def _lost(exc: BaseException) -> dict[str, Any]:
    return {"error": {"error": type(exc).__name__,
                      "detail": f"the cluster lost the job: {exc}"}}


@dataclass(eq=False)
class BacktestJob:
    """One backtest: what was asked, where it is, and what it gave."""

    id: str
    strategy: str
    params: dict[str, Any]
    config: BacktestConfig
    status: str = "queued"
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None

    @property
    def item(self) -> tuple[str, dict[str, Any]]:
        return self.strategy, self.params

    def to_json(self) -> dict[str, Any]:
        """The job as ``GET /v1/backtests/{id}`` shows it."""
        when = lambda t: None if t is None else dt.datetime.fromtimestamp(  # noqa: E731
            t, dt.UTC).isoformat()
        base = f"/v1/backtests/{self.id}"
        links = {"self": base}
        if self.status == "done":
            links |= {f"{t}.{f}": f"{base}/{t}.{f}" for t in ("trades", "equity")
                      for f in ("csv", "json")}
        out = self.outcome
        return {"id": self.id, "status": self.status, "strategy": self.strategy,
                "params": jsonable(self.params), "config": self.config.to_dict(),
                "submitted": when(self.submitted), "started": when(self.started),
                "finished": when(self.finished),
                "elapsed_s": (None if self.started is None or self.finished is None
                              else round(self.finished - self.started, 3)),
                "summary": out.get("summary"), "metrics": out.get("metrics"),
                "risk": out.get("risk"), "warnings": out.get("warnings", []),
                "error": out.get("error"), "links": links}


class Runner(Protocol):
    """Where jobs run: ``await run(job)`` gives :func:`backtest_task`'s dict."""

    async def run(self, job: BacktestJob) -> dict[str, Any]: ...

    def close(self) -> None: ...


class PoolRunner:
    """``workers`` spawned processes, started on the first job, each holding the market.

    A worker that dies (killed, out of memory) fails the jobs it and the pool had (their
    error says so) and the next job starts a new pool. A worker ends within a second of the
    server's process, however that ends (a job it was running is lost with the server).

    Parameters
    ----------
    source
        The market's folder (each worker loads it) or the Market (pickled to each worker).
    workers
        Processes.
    """

    def __init__(self, source: Market | str, workers: int) -> None:
        self.source = source
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _started(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_init_worker, initargs=(self.source, os.getpid()))
            return self._pool

    async def run(self, job: BacktestJob) -> dict[str, Any]:
        pool = await run_in_threadpool(self._started)
        try:
            return await asyncio.wrap_future(pool.submit(_run_in_worker, job.item, job.config))
        except BrokenProcessPool:
            with self._lock:
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return {"error": {"error": "WorkerLost", "detail": "the worker process running "
                              "the backtest stopped (killed, or out of memory); submit it "
                              "again"}}

    def close(self) -> None:
        """Cancel the jobs not started; running ones finish in their workers, which exit."""
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None


class DaskRunner:
    """Jobs on a Dask cluster, through the sweeps' :func:`~workbench.research.cluster.run_on_dask`.

    Parameters
    ----------
    client
        A ``distributed.Client`` (from :func:`workbench.research.cluster.connect`).
    source
        The market's folder (each worker loads it) or the Market (scattered).
    """

    def __init__(self, client: Any, source: Market | str) -> None:
        self.client = client
        self.source = source

    def _run(self, job: BacktestJob) -> dict[str, Any]:
        stats: dict[str, Any] = {}
        # run to the end, so that its `finally` releases the market on the workers now
        rows = list(run_on_dask(self.client, backtest_task, self.source, [(job.id, job.item)],
                                job.config, retries=0, stats=stats, lost=_lost))
        return dict(rows[0][1]) if rows else _lost(RuntimeError("no workers answered"))

    async def run(self, job: BacktestJob) -> dict[str, Any]:
        return await run_in_threadpool(self._run, job)

    def close(self) -> None:
        """Nothing to stop: the client is closed by whoever opened it."""


class Backtests:
    """The jobs: admission, order, status, and the finished ones kept for reading.

    Parameters
    ----------
    runner
        Where jobs run.
    workers
        Jobs running at once.
    max_queued
        Jobs waiting beyond the running ones; one more is refused (429).
    keep
        Finished jobs kept (the oldest beyond are dropped).
    """

    def __init__(self, runner: Runner, *, workers: int, max_queued: int, keep: int) -> None:
        self.runner = runner
        self.workers, self.max_queued, self.keep = workers, max_queued, keep
        self.jobs: dict[str, BacktestJob] = {}
        self._slots: asyncio.Semaphore | None = None

    def active(self) -> int:
        """Jobs queued or running."""
        return sum(1 for j in self.jobs.values() if j.status in ("queued", "running"))

    def submit(self, strategy: str, params: Mapping[str, Any],
               config: BacktestConfig) -> BacktestJob:
        """Check and admit a job, and start it when a worker is free.

        Raises
        ------
        LookupFailed, ConfigError
            An unknown strategy, or parameters it refuses (422).
        Problem
            429 when ``workers + max_queued`` jobs are queued or running.
        """
        strategies.get(strategy, **params)  # refuse bad input now, not in a failed job
        if (n := self.active()) >= self.workers + self.max_queued:
            raise Problem(429, f"the backtest queue is full: {n} jobs are queued or running "
                          f"({self.workers} at a time, {self.max_queued} waiting); retry "
                          "when one has finished", headers={"Retry-After": "5"})
        job = BacktestJob(secrets.token_hex(8), strategy, dict(params), config)
        self.jobs[job.id] = job
        job.task = asyncio.create_task(self._run(job), name=f"backtest-{job.id}")
        self._trim()
        return job

    def get(self, job_id: str) -> BacktestJob:
        """The job ``job_id``; a 404 Problem when there is none."""
        job = self.jobs.get(job_id)
        if job is None:
            raise Problem(404, f"no backtest {job_id!r}: never submitted, dropped after "
                          f"{self.keep} newer ones finished, or the service restarted; POST "
                          "/v1/backtests submits one")
        return job

    async def _run(self, job: BacktestJob) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            job.status, job.started = "running", time.time()
            try:
                job.outcome = await self.runner.run(job)
            except asyncio.CancelledError:
                job.outcome = {"error": {"error": "Cancelled",
                                         "detail": "the service stopped before it finished"}}
                raise
            except Exception as exc:
                _log.error("backtest %s failed", job.id, exc_info=exc)
                job.outcome = {"error": {"error": type(exc).__name__,
                                         "detail": f"internal error: {exc}"}}
            finally:
                job.finished = time.time()
                job.status = "failed" if "error" in job.outcome else "done"
                self._trim()

    def _trim(self) -> None:
        done = [k for k, j in self.jobs.items() if j.status in ("done", "failed")]
        for key in done[:max(len(done) - self.keep, 0)]:
            del self.jobs[key]

    async def close(self) -> None:
        """Cancel the jobs not finished and stop the runner."""
        tasks = [j.task for j in self.jobs.values() if j.task is not None and not j.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await run_in_threadpool(self.runner.close)


def table_csv(frame: pd.DataFrame) -> str:
    """A result table as CSV (the index as columns when it is named, e.g. ``date``)."""
    named = frame.index.name is not None
    return (frame.reset_index() if named else frame).to_csv(index=False)


def table_json(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A result table as JSON records (dates ISO, NaN null)."""
    named = frame.index.name is not None
    records = (frame.reset_index() if named else frame).to_dict("records")
    return [jsonable(r) for r in records]
