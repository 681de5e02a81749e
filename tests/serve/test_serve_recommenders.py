"""Recommendations computed in worker processes: the same bytes as in process, the same
errors, replies kept paired with their queries, and a lost worker never loses a request."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import time
from typing import Any

import httpx
import pytest
from live_server import live_server, small_market

from workbench.errors import ConfigError, LookupFailed
from workbench.serve import ServeSettings, create_app
from workbench.serve.bodies import recommendation_json
from workbench.serve.recommenders import Recommenders, WorkerLost
from workbench.serve.settings import DEFAULT_RECOMMENDATION_WORKERS

MARKET = small_market()
SYMBOLS = [str(s) for s in MARKET.symbols]
DAYS = [d.date().isoformat() for d in MARKET.calendar[-40::7]]


def _queries() -> list[tuple[str, int, str | None, str | None]]:
    return [(strategy, top, day, symbols)
            for strategy in ("value_quality", "momentum", "low_volatility")
            for top, day, symbols in ((20, None, None), (3, DAYS[0], ",".join(SYMBOLS[:6])),
                                      (5, DAYS[-1], ",".join(SYMBOLS[4:12])))]


def _gone(pid: int, within_s: float = 30.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            with open(f"/proc/{pid}/stat") as stat:  # not reaped yet: a zombie
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


async def body(pool: Recommenders, *query: Any) -> bytes:
    """The body a worker computed for ``query`` (without the worker's pid)."""
    return (await pool.computed(*query))[1]


def test_workers_answer_the_bytes_of_the_call_in_process_and_its_errors():
    async def run() -> None:
        pool = Recommenders(MARKET, 2)
        await pool.start()
        pids = pool.pids
        try:
            assert len(pids) == 2 and os.getpid() not in pids
            queries = _queries()
            bodies = await asyncio.gather(*(body(pool, *q) for q in queries))
            for q, answer in zip(queries, bodies, strict=True):
                assert answer == recommendation_json(MARKET, *q), q
            with pytest.raises(ConfigError, match=r"top .* must be a whole number") as raised:
                await body(pool, "momentum", 0, None, None)
            with pytest.raises(ConfigError) as here:
                recommendation_json(MARKET, "momentum", 0, None, None)
            assert str(raised.value) == str(here.value)
            with pytest.raises(LookupFailed, match="unknown symbol"):
                await body(pool, "momentum", 5, None, "999999.SH")
        finally:
            await pool.close()
        assert all(_gone(pid) for pid in pids)

    asyncio.run(run())


def test_a_cancelled_request_leaves_the_next_reply_to_the_next_query():
    async def run() -> None:
        pool = Recommenders(MARKET, 1)
        await pool.start()
        try:
            first, second = _queries()[1], _queries()[5]
            abandoned = asyncio.ensure_future(body(pool, *first))
            await asyncio.sleep(0)  # sent, not yet answered
            abandoned.cancel()
            assert await body(pool, *second) == recommendation_json(MARKET, *second)
            assert await body(pool, *first) == recommendation_json(MARKET, *first)
        finally:
            await pool.close()

    asyncio.run(run())


def test_a_killed_worker_gives_its_queries_back_and_is_not_used_again():
    async def run() -> None:
        pool = Recommenders(MARKET, 1)
        await pool.start()
        try:
            (pid,) = pool.pids
            os.kill(pid, signal.SIGKILL)
            with pytest.raises(WorkerLost):
                await body(pool, *_queries()[0])
            assert pool.pids == []
            with pytest.raises(WorkerLost, match="no recommendation worker is left"):
                await body(pool, *_queries()[0])
        finally:
            await pool.close()

    asyncio.run(run())


def test_a_worker_that_cannot_load_the_market_stops_the_start(tmp_path):
    async def run() -> None:
        pool = Recommenders(str(tmp_path / "no-market-here"), 1)
        with pytest.raises(RuntimeError, match="stopped while loading the market"):
            await pool.start()

    asyncio.run(run())


def _explode(blob: bytes) -> None:
    raise RuntimeError(f"this market cannot be unpickled ({len(blob):,} bytes)")


class _Unloadable:
    """A market that fails to unpickle in the worker, after 30 MB were sent to it."""

    def __reduce__(self):
        return _explode, (b"x" * 30_000_000,)


def test_a_worker_that_cannot_unpickle_the_market_stops_the_start():
    async def run() -> None:
        pool = Recommenders(_Unloadable(), 2)
        with pytest.raises(RuntimeError, match="stopped while loading the market"):
            await asyncio.wait_for(pool.start(), timeout=120)
        assert pool.pids == []

    asyncio.run(run())


def test_over_http_a_lost_worker_is_answered_by_the_server_itself(caplog):
    query = {"strategy": "momentum", "top": 4, "symbols": ",".join(SYMBOLS[2:9])}
    expected = recommendation_json(MARKET, "momentum", 4, None, query["symbols"])
    app = create_app(MARKET, ServeSettings(recommendation_workers=1, recommendation_cache=0))
    with (caplog.at_level(logging.INFO, logger="workbench.serve"), live_server(app) as url,
          httpx.Client(base_url=url, timeout=60) as client):
        assert client.get("/v1/recommendations", params=query).content == expected
        started = next(r.getMessage() for r in caplog.records if "serving market" in
                       r.getMessage())
        assert "recommendations computed by 1 worker processes" in started
        pid = int(started.rsplit("pids ", 1)[1].rstrip(")"))
        os.kill(pid, signal.SIGKILL)
        assert _gone(pid)
        for _ in range(2):  # the query the worker had, then one with none left
            r = client.get("/v1/recommendations", params=query)
            assert r.status_code == 200 and r.content == expected
    lines = [r.getMessage() for r in caplog.records]
    assert any(f"recommendation worker {pid} stopped" in line for line in lines), lines
    counts = next(re.search(r"computed: (\d+) by workers, (\d+) on the event loop, (\d+) in "
                            r"threads", line) for line in lines if "computed:" in line)
    assert counts is not None and int(counts[1]) == 1, lines
    assert int(counts[2]) + int(counts[3]) == 2, lines


def test_queries_one_after_the_other_go_to_the_first_worker_and_together_side_by_side():
    async def run() -> None:
        pool = Recommenders(MARKET, 2)
        await pool.start()
        try:
            pids = pool.pids
            queries = _queries()
            one_by_one = [(await pool.computed(*q))[0] for q in queries[:4]]
            assert one_by_one == [pids[0]] * 4  # its caches stay warm
            together = await asyncio.gather(*(pool.computed(*q) for q in queries))
            assert [pid for pid, _ in together] == [pids[0], pids[1]] * 4 + [pids[0]]
            for q, (_, answer) in zip(queries, together, strict=True):
                assert answer == recommendation_json(MARKET, *q), q
        finally:
            await pool.close()

    asyncio.run(run())


@pytest.mark.skipif(DEFAULT_RECOMMENDATION_WORKERS < 2,
                    reason="one core: the default is one recommendation worker")
def test_20_concurrent_recommendations_are_computed_by_several_workers_by_default(caplog):
    """A server as started by default: of 20 recommendation requests sent at once, those
    that arrive while a worker computes are computed by another worker (the
    X-Workbench-Worker header says which), and each is the call in process.

    To make "while a worker computes" certain without timing anything, the first worker
    is stopped (SIGSTOP) until the first answer has come back: the query it was given
    waits, so the others must be computed by the other workers."""
    queries = [{"strategy": strategy, "top": top, "as_of": day,
                "symbols": ",".join(SYMBOLS[k:k + 6])}
               for strategy in ("value_quality", "momentum")
               for top, day, k in ((20, DAYS[0], 0), (3, DAYS[1], 2), (5, DAYS[2], 4),
                                   (4, DAYS[3], 6), (6, DAYS[-1], 8), (2, DAYS[0], 10),
                                   (7, DAYS[1], 1), (8, DAYS[2], 3), (9, DAYS[3], 5),
                                   (10, DAYS[-1], 7))]
    assert len(queries) == 20 and len({tuple(q.values()) for q in queries}) == 20
    app = create_app(MARKET, ServeSettings())

    async def send_all(url: str, first: int) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=20)
        async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
            sent = [asyncio.ensure_future(client.get("/v1/recommendations", params=q))
                    for q in queries]
            try:
                await asyncio.wait(sent, return_when=asyncio.FIRST_COMPLETED)
            finally:
                os.kill(first, signal.SIGCONT)
            return await asyncio.gather(*sent)

    with caplog.at_level(logging.INFO, logger="workbench.serve"), live_server(app) as url:
        started = next(r.getMessage() for r in caplog.records if "serving market" in
                       r.getMessage())
        assert f"computed by {DEFAULT_RECOMMENDATION_WORKERS} worker processes" in started
        workers = [int(p) for p in started.rsplit("pids ", 1)[1].rstrip(")").split(", ")]
        os.kill(workers[0], signal.SIGSTOP)
        answers = asyncio.run(send_all(url, workers[0]))
    by = [int(r.headers["x-workbench-worker"]) for r in answers]
    assert set(by) <= set(workers) and os.getpid() not in workers
    assert workers[0] in by and len(set(by)) > 1, by
    for q, r in zip(queries, answers, strict=True):
        assert r.status_code == 200
        assert r.content == recommendation_json(MARKET, q["strategy"], q["top"], q["as_of"],
                                                q["symbols"]), q
