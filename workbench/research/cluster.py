"""Where a sweep's trials run: this process, a local Dask cluster, or a running one.

``client`` (see :func:`connect`):

* ``None`` or ``"local"``: a :class:`distributed.LocalCluster` sized to the machine (one
  single-threaded worker process per core, :func:`local_client`), started for one sweep and
  closed after it; the Dask dashboard link is printed. In a script, call it under
  ``if __name__ == "__main__":``, since the workers start as fresh processes.
* ``"tcp://host:8786"`` or a :class:`distributed.Client`: that cluster.
* ``"serial"``: this process, without Dask (tests, tiny grids, debugging).

How the market reaches the workers (:func:`run_on_dask`). Tasks carry a reference to it,
the trial and the configuration (about a kilobyte), never the market itself:

* A :class:`~workbench.data.market.Market` is scattered once to every worker before the
  first task (``client.scatter(market, broadcast=True)``).
* A path to a Market folder every worker can read is loaded by the workers themselves, as
  one ``market-*`` task per worker (placed on that worker; each trial depends on one of
  them, spread evenly, so Dask runs it where that market already is). Nothing goes through
  the client, and the loaded market is an ordinary Dask result: it lives exactly as long
  as the sweep holds it (released when the sweep ends or is interrupted) and is loaded
  again elsewhere if its worker is lost. No module keeps markets loaded by path: a
  process-wide memo would outlive the sweep, hold stale data after the folder is rewritten
  and grow with every path a long-lived worker has seen.

On a worker, the market object (scattered or loaded) is one per sweep and is kept across
that worker's tasks, so the strategies' caches and the market as known at the in-sample end
(:meth:`~workbench.data.market.Market.memo`) are built once per worker, not once per task.
(A trial that Dask moves to another worker to balance the load takes a copy of its market
from the worker that loaded it.)
"""

from __future__ import annotations

import contextlib
import importlib.util
import pickle
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.store import load_market
from workbench.errors import ConfigError
from workbench.machine import usable_cores

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["ClientLike", "check_client", "connect", "local_client", "run_on_dask", "run_serial"]

ClientLike = Any  # None, "local", "serial", a scheduler address or a distributed.Client
Item = TypeVar("Item")
Row = TypeVar("Row")
#: What runs one item where it is scheduled: ``task(market, item, config) -> row``.
Task = Callable[[Market, Item, BacktestConfig], Row]

# Worker settings of local_client: fewer wake-ups of a worker's housekeeping threads.
_QUIET_WORKERS: dict[str, Any] = {"distributed.worker.profile.enabled": False,
                                  "distributed.admin.tick.interval": "1s",
                                  "distributed.worker.memory.monitor-interval": "1s"}


def check_client(client: ClientLike, n_workers: int | None) -> None:
    """Raise ConfigError unless ``client`` and ``n_workers`` say where to run (nothing starts).

    Examples
    --------
    >>> check_client("serial", 2)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: n_workers sizes the local cluster started for client=None; \
with client='serial' leave it out
    """
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


def _dashboard_note(client: Client, what: str) -> None:
    note = "" if importlib.util.find_spec("bokeh") else " (pip install 'bokeh>=3.1' for plots)"
    print(f"{what}; Dask dashboard: {client.dashboard_link}{note}", flush=True)


def _warm_up() -> None:
    """Run on each worker once: unpickling this function imports the workbench there."""


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
        Worker processes; default the cores this process may use
        (:func:`workbench.machine.usable_cores`).
    **cluster
        Further :class:`distributed.LocalCluster` arguments, e.g. ``memory_limit="4GiB"``
        or ``dashboard_address=":0"``.
    """
    import dask  # optional heavy import: only for sweeps on a cluster
    from distributed import Client, LocalCluster

    n = n_workers or usable_cores()
    options = {"n_workers": n, "threads_per_worker": 1, "processes": True} | cluster
    with (dask.config.set(_QUIET_WORKERS),
          LocalCluster(**options) as local_cluster, Client(local_cluster) as client):
        client.run(_warm_up)
        _dashboard_note(client, f"local Dask cluster: {n} worker processes")
        yield client


@contextlib.contextmanager
def connect(client: ClientLike, n_workers: int | None = None) -> Iterator[Client | None]:
    """The Dask client to use (None for ``"serial"``), closing what this call opened.

    Parameters
    ----------
    client
        None or ``"local"`` (a :func:`local_client` for the block), ``"serial"``, a
        scheduler address such as ``"tcp://host:8786"`` (connected for the block), or a
        :class:`distributed.Client` (used as it is, left open).
    n_workers
        Worker processes of a local cluster.

    Raises
    ------
    ConfigError
        When the scheduler at the address cannot be reached.
    """
    if isinstance(client, str) and client == "serial":
        yield None
        return
    if client is None or client == "local":
        with local_client(n_workers) as local:
            yield local
        return
    if isinstance(client, str):
        from distributed import Client  # optional heavy import: only for sweeps on a cluster

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


def run_serial(task: Task, market: Market, todo: Sequence[tuple[str, Item]],
               config: BacktestConfig, stats: dict[str, Any]
               ) -> Generator[tuple[str, Row], None, None]:
    """Run ``task(market, item, config)`` for each ``(key, item)`` of ``todo`` here, in order;
    yield ``(key, row)``. Records how it ran in ``stats``."""
    stats |= {"executor": "serial", "workers": 1, "market": "in process"}
    for key, item in todo:
        yield key, task(market, item, config)


def run_on_dask(client: Client, task: Task, market: Market | str,
                todo: Sequence[tuple[str, Item]], config: BacktestConfig, *, retries: int,
                stats: dict[str, Any], lost: Callable[[BaseException], Row]
                ) -> Generator[tuple[str, Row], None, None]:
    """Run ``task(market, item, config)`` for each ``(key, item)`` of ``todo`` on the
    cluster; yield ``(key, row)`` as tasks complete.

    Parameters
    ----------
    client
        The cluster.
    task
        What runs one item on a worker (a module-level function: Dask sends it by name).
    market
        A Market (scattered once to every worker) or the path of a Market folder every
        worker can read (loaded once per worker); see the module docstring.
    todo
        ``(key, item)`` pairs; ``key`` names the task (``trial-KEY-TOKEN``).
    config
        Passed to every task.
    retries
        How often Dask reruns a task that raised.
    stats
        Records ``executor``, ``workers``, ``market`` (how it reached the workers) and
        ``task_bytes`` (one task's pickled arguments).
    lost
        Makes the row of a task lost for good (e.g. ``KilledWorker`` after retries) from
        its exception.

    Interrupting the iteration (closing the generator) cancels the tasks not yet done and
    releases the market on the workers.
    """
    from distributed import as_completed  # optional heavy import: only for sweeps on a cluster

    workers = list(client.nthreads())
    stats |= {"executor": "dask", "workers": len(workers)}
    if not todo:
        return
    token = uuid.uuid4().hex[:8]
    refs: list[Any]
    if isinstance(market, Market):
        # once, to every worker; tasks carry the reference only
        refs = [client.scatter(market, broadcast=True, hash=False)]
        stats["market"] = f"scattered once ({refs[0].key})"
    else:
        path = str(Path(market).expanduser().absolute())
        # one per worker, placed there (elsewhere if it leaves); one anywhere if none is up yet
        places = [{"workers": [w], "allow_other_workers": True} for w in workers] or [{}]
        refs = [client.submit(load_market, path, key=f"market-{i}-{token}", pure=False,
                              retries=retries, **place) for i, place in enumerate(places)]
        stats["market"] = f"loaded by each worker from {path}"
    stats["task_bytes"] = len(pickle.dumps((refs[0], todo[0][1], config)))
    futures = {client.submit(task, refs[i % len(refs)], item, config,
                             key=f"trial-{key}-{token}", retries=retries): key
               for i, (key, item) in enumerate(todo)}
    try:
        for future in as_completed(futures):
            key = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # lost for good (e.g. KilledWorker after retries)
                row = lost(exc)
            future.release()
            yield key, row
    finally:  # on an interrupt, stop what is still queued; free the market
        client.cancel([*futures, *refs])
