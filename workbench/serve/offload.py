"""Where a request's CPU work runs: on the event loop when it is measured short, else in a
thread.

The service answers on one event loop, and the interpreter lock lets one thread run Python
at a time. Handing a computation to a thread keeps the loop free only for work that
releases the lock (I/O, large numpy operations) or that runs longer than the interpreter's
switch interval (:func:`sys.getswitchinterval`, 5 ms): until then the loop's thread waits
for the lock all the same. For a recommendation (about 0.4 ms of Python) the thread buys
nothing and costs about 0.1-0.2 ms of CPU for the hop and the lock's hand-overs, which
under load is a third of the request.

:class:`Offload` therefore runs a call on the loop when the last call of the same kind
(e.g. the same strategy, a similar number of rows and symbols) took at most ``budget_s`` of
CPU time, which is well under the switch interval; a kind never measured, or last measured
over the budget, runs in the thread pool. Every call is measured (CPU time of its own
thread, so a busy machine does not make it look long), so a kind whose calls grow long moves
to the thread pool after one of them. At most one call over the budget per kind runs on
the loop after a short one, and ``budget_s=0`` sends every call to the thread pool.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool

__all__ = ["DEFAULT_BUDGET_S", "Offload"]

T = TypeVar("T")

#: Longest CPU time of a call that may run on the loop: well under the switch interval.
DEFAULT_BUDGET_S = 0.002


class Offload:
    """Run calls on the loop while their kind is measured short, else in a thread.

    Parameters
    ----------
    budget_s
        Longest CPU time, seconds, of the last call of a kind for the next one to run on
        the event loop; 0 runs every call in the thread pool.

    Examples
    --------
    >>> import asyncio
    >>> offload = Offload(0.002)
    >>> asyncio.run(offload.run("sum", sum, [1, 2]))  # first of its kind: in a thread
    3
    >>> offload.inline("sum"), Offload(0).inline("sum")
    (True, False)
    """

    def __init__(self, budget_s: float = DEFAULT_BUDGET_S) -> None:
        self.budget_s = budget_s
        #: Calls run on the loop and in the thread pool so far.
        self.on_loop = self.in_threads = 0
        self._last: dict[Hashable, float] = {}  # kind -> CPU seconds of its last call
        self._lock = threading.Lock()

    def inline(self, kind: Hashable) -> bool:
        """Whether the next call of ``kind`` runs on the loop."""
        last = self._last.get(kind)
        return last is not None and last <= self.budget_s

    def last_s(self, kind: Hashable) -> float | None:
        """CPU seconds of the last call of ``kind`` (None: none measured yet)."""
        return self._last.get(kind)

    async def run(self, kind: Hashable, call: Callable[..., T], *args: object) -> T:
        """``call(*args)``, on the loop or in a thread (see the module docstring)."""
        if self.inline(kind):
            self.on_loop += 1
            return self._timed(kind, call, *args)
        self.in_threads += 1
        return await run_in_threadpool(self._timed, kind, call, *args)

    def _timed(self, kind: Hashable, call: Callable[..., T], *args: object) -> T:
        start = time.thread_time()
        try:
            return call(*args)
        finally:
            spent = time.thread_time() - start
            with self._lock:
                self._last[kind] = spent
