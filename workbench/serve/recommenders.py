"""Worker processes that compute recommendations for the service.

A recommendation is about half a millisecond of Python, which holds the interpreter lock:
computed in the server's own process, on the event loop or in a thread, it takes the time
of everything else the process does, and the process uses one core at most.
:class:`Recommenders` runs :func:`workbench.serve.bodies.recommendation_json` (the function
the route calls) in ``processes`` worker processes instead, each holding the market, so
the server's process only reads and writes HTTP while the workers compute on the other
cores, and the event loop never computes a recommendation.

Each worker is a spawned process (nothing of the server's threads is inherited) that loads
the market from its folder (or unpickles the server's copy, sent over its socket), warms
it as the server does (:func:`~workbench.serve.bodies.warm`), says it is ready and then
answers queries in the order they come over its own socket pair: the query ``(strategy,
top, as_of, symbols)`` in, the JSON body out, or the
:class:`~workbench.errors.WorkbenchError` that ``recommendation`` raised (the route
answers it as it would in process: the same 422 and message). The server writes a query
as soon as it has one (a worker busy with one finds the next already waiting in its
socket) and one reader per worker hands each reply to the query first in line: the
replies come in the order of the queries, so no lock, task or round trip is needed per
query. A query goes to the worker with the fewest queries waiting, the first one among
equals: queries that arrive together are computed side by side, one per worker, while
queries one after the other all go to the first worker, whose caches stay warm (taking
the workers in turn instead cost a third more CPU per query: each woke up cold).
:meth:`Recommenders.computed` says which worker computed a body (the service sends its
process id in the ``X-Workbench-Worker`` header).

A worker that dies (killed, out of memory) is not used again: :meth:`Recommenders.computed`
raises :class:`WorkerLost` for the queries it had, and the service computes those in its
own process; when no worker is left, every query is computed there.

Workers ignore Ctrl-C (the server stops them) and exit when the server closes their socket
or exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import pickle
import signal
import socket
import struct
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import BinaryIO

from starlette.concurrency import run_in_threadpool

from workbench.data.market import Market
from workbench.data.store import load_market
from workbench.errors import WorkbenchError
from workbench.serve.bodies import recommendation_json, warm

__all__ = ["Recommenders", "WorkerLost"]

_log = logging.getLogger("workbench.serve")
_LENGTH = struct.Struct("!I")  # every message: its length, then its bytes
_READY, _BODY, _ERROR, _BUG = b"R", b"B", b"E", b"X"  # a reply's first byte


class WorkerLost(Exception):
    """The worker process that had a query stopped, or none is left: compute it here."""


# -- the worker process -----------------------------------------------------------------------
def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(payload)) + payload)


def _receive(stream: BinaryIO) -> bytes | None:
    """The next message from ``stream`` (the socket, buffered: one system call usually
    reads a whole query), or None when the server closed its end."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (n,) = _LENGTH.unpack(head)
    payload = stream.read(n)
    return payload if len(payload) == n else None


def _work(sock: socket.socket, folder: str | None) -> None:
    """A worker's life: load the market (from ``folder``, or unpickled from the first
    message) and warm it, say so, then answer queries until the server closes the socket."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    stream = sock.makefile("rb")
    if folder is None:
        pickled = _receive(stream)
        if pickled is None:
            return
        market = pickle.loads(pickled)
    else:
        market = load_market(folder)
    warm(market)
    _send(sock, _READY)
    while (request := _receive(stream)) is not None:
        try:
            reply = _BODY + recommendation_json(market, *pickle.loads(request))
        except WorkbenchError as exc:
            reply = _ERROR + pickle.dumps(exc)
        except Exception:  # a bug: the server logs it and answers 500
            reply = _BUG + traceback.format_exc().encode()
        _send(sock, reply)


# -- the server's side ------------------------------------------------------------------------
@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    #: The queries sent and not answered yet, first sent first: each waits for its reply.
    pending: deque[asyncio.Future[bytes]] = field(default_factory=deque)
    lost: bool = False
    replies: asyncio.Task[None] | None = None  # the reader, once started

    @property
    def waiting(self) -> int:
        """Queries sent to the worker and not answered yet."""
        return len(self.pending)

    def ask(self, payload: bytes) -> asyncio.Future[bytes]:
        """Send one query; the future is its reply (or :class:`WorkerLost`)."""
        if self.lost or self.writer.is_closing():  # its reader may not have seen it yet
            raise WorkerLost(f"recommendation worker {self.process.pid} stopped")
        try:
            self.writer.write(_LENGTH.pack(len(payload)) + payload)
        except (OSError, RuntimeError) as exc:  # closed meanwhile (uvloop raises then)
            raise WorkerLost(f"recommendation worker {self.process.pid} stopped") from exc
        reply = asyncio.get_running_loop().create_future()
        self.pending.append(reply)
        return reply

    async def read_replies(self) -> None:
        """Hand each reply to the query first in line, until the worker stops.

        A query whose request was cancelled meanwhile still takes its reply off the
        line (and drops it), so the next query gets its own."""
        try:
            while True:
                (n,) = _LENGTH.unpack(await self.reader.readexactly(_LENGTH.size))
                reply = await self.reader.readexactly(n)
                waiting = self.pending.popleft()
                if not waiting.done():
                    waiting.set_result(reply)
        except (OSError, asyncio.IncompleteReadError, IndexError):
            self.lost = True
            _log.error("recommendation worker %s stopped (exit code %s); its queries are "
                       "computed in the server's process", self.process.pid,
                       self.process.exitcode)
            while self.pending:
                waiting = self.pending.popleft()
                if not waiting.done():
                    waiting.set_exception(WorkerLost(
                        f"recommendation worker {self.process.pid} stopped"))


class Recommenders:
    """``processes`` worker processes computing recommendation bodies (module docstring).

    Parameters
    ----------
    source
        The market's folder (each worker loads it) or the Market (pickled to each worker).
    processes
        Worker processes (>= 1).
    """

    def __init__(self, source: Market | str, processes: int) -> None:
        self.source = source
        self.processes = processes
        self._workers: list[_Worker] = []

    @property
    def pids(self) -> list[int]:
        """Process ids of the workers still in use."""
        return [w.process.pid for w in self._workers if not w.lost and w.process.pid]

    async def start(self) -> None:
        """Start the workers and wait until each has loaded and warmed the market.

        Raises
        ------
        RuntimeError
            A worker that stopped before it was ready (its error is on stderr).
        """
        # a Market goes over the worker's socket, not with the process's arguments: were the
        # process to die before reading them all, multiprocessing would wait forever
        pickled = None if isinstance(self.source, str) else await run_in_threadpool(
            pickle.dumps, self.source, pickle.HIGHEST_PROTOCOL)
        started = await asyncio.gather(
            *(self._start_one(pickled) for _ in range(self.processes)), return_exceptions=True)
        self._workers = [w for w in started if isinstance(w, _Worker)]
        for w in self._workers:
            w.replies = asyncio.ensure_future(w.read_replies())
        if failed := [e for e in started if isinstance(e, BaseException)]:
            await self.close()  # the ones that did start
            raise failed[0]

    async def _start_one(self, pickled: bytes | None) -> _Worker:
        ours, theirs = socket.socketpair()
        folder = self.source if isinstance(self.source, str) else None
        process = multiprocessing.get_context("spawn").Process(
            target=_work, args=(theirs, folder), daemon=True, name="workbench-recommender")
        try:
            await run_in_threadpool(process.start)
        finally:
            theirs.close()
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        try:
            if pickled is not None:
                writer.write(_LENGTH.pack(len(pickled)) + pickled)
                await writer.drain()
            (n,) = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
            ready = await reader.readexactly(n)
        except (OSError, asyncio.IncompleteReadError):
            ready = b""
        if ready != _READY:
            writer.close()
            await run_in_threadpool(process.join, 5)
            if process.is_alive():
                process.kill()
            raise RuntimeError(f"a recommendation worker stopped while loading the market "
                               f"(exit code {process.exitcode}); its error is above")
        return _Worker(process, reader, writer)

    async def computed(self, strategy: str, top: int, as_of: str | None,
                       symbols: str | None) -> tuple[int, bytes]:
        """The body ``recommendation_json`` gives for the query, computed by a worker, and
        the process id of that worker.

        Raises
        ------
        WorkbenchError
            What ``recommendation`` raised on the query (in the worker).
        WorkerLost
            When the worker stopped, or none is left.
        """
        live = [w for w in self._workers if not w.lost]
        if not live:
            raise WorkerLost("no recommendation worker is left")
        worker = min(live, key=lambda w: w.waiting)  # the first of the least busy
        reply = await worker.ask(pickle.dumps((strategy, top, as_of, symbols)))
        kind, data = reply[:1], reply[1:]
        if kind == _BODY:
            return worker.process.pid or 0, data
        if kind == _ERROR:
            raise pickle.loads(data)
        raise RuntimeError(f"a recommendation worker failed:\n{data.decode()}")

    async def close(self) -> None:
        """Stop the workers: each exits once its socket is closed (5 s, then killed)."""
        workers, self._workers = self._workers, []
        for w in workers:
            if w.replies is not None:  # stopped first: the socket is closed on purpose here
                w.replies.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await w.replies
            for waiting in w.pending:
                waiting.cancel()
            w.writer.close()
        for w in workers:
            await run_in_threadpool(w.process.join, 5)
            if w.process.is_alive():
                w.process.kill()
                await run_in_threadpool(w.process.join, 5)
