"""Backtests over HTTP: a real run in a worker process and on a Dask cluster, both equal to
the run in process; a failed run; and the bounded queue (429 when full)."""

from __future__ import annotations

import io
import multiprocessing
import threading
import time

import httpx
import pandas as pd
import pytest
from distributed import LocalCluster
from live_server import live_server, small_market
from starlette.concurrency import run_in_threadpool

from workbench import backtest, strategies
from workbench.serve import ServeSettings, create_app
from workbench.serve.jobs import backtest_config

REQUEST = {"strategy": "ma_trend", "params": {"fast": 5, "slow": 30},
           "config": {"start": "2023-03-01", "capital_cny": 2_000_000,
                      "risk": {"max_position_rate": 0.2}}}


@pytest.fixture(scope="module")
def market():
    return small_market()


@pytest.fixture(scope="module")
def expected(market):
    result = backtest.run(market, strategies.get("ma_trend", fast=5, slow=30),
                          backtest_config(REQUEST["config"]))
    return result


def _finished(client: httpx.Client, job_id: str, wait_s: float = 180.0) -> dict:
    deadline = time.monotonic() + wait_s
    while True:
        body = client.get(f"/v1/backtests/{job_id}").json()
        if body["status"] in ("done", "failed"):
            return body
        assert time.monotonic() < deadline, f"backtest {job_id} still {body['status']}"
        time.sleep(0.1)


def _same_as_in_process(client: httpx.Client, job: dict, expected) -> None:
    assert job["status"] == "done", job
    assert job["metrics"] == expected.metrics()
    assert job["summary"]["trades"] == expected.summary()["trades"]
    assert job["risk"] == expected.risk_summary()
    assert job["warnings"] == list(expected.warnings)
    assert job["config"] == backtest_config(REQUEST["config"]).to_dict()
    links = job["links"]
    trades = pd.read_csv(io.StringIO(client.get(links["trades.csv"]).text))
    assert len(trades) == len(expected.trades)
    assert trades["shares"].tolist() == expected.trades["shares"].tolist()
    assert trades["price"].tolist() == expected.trades["price"].tolist()
    equity = client.get(links["equity.json"]).json()
    assert [r["equity_cny"] for r in equity] == expected.daily["equity_cny"].tolist()
    assert equity[0]["date"] == "2023-03-01"
    csv = client.get(links["equity.csv"])
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("date,equity_cny,")
    assert len(client.get(links["trades.json"]).json()) == len(expected.trades)


def test_a_backtest_runs_in_a_worker_process(market, expected):
    with (live_server(create_app(market, ServeSettings(workers=1))) as url,
          httpx.Client(base_url=url, timeout=60) as client):
        submitted = client.post("/v1/backtests", json=REQUEST)
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert submitted.headers["location"] == f"/v1/backtests/{job['id']}"
        assert job["status"] in ("queued", "running") and job["metrics"] is None
        failing = client.post("/v1/backtests", json={
            "strategy": "momentum", "config": {"start": "2031-01-02"}}).json()
        _same_as_in_process(client, _finished(client, job["id"]), expected)
        failed = _finished(client, failing["id"])
        assert failed["status"] == "failed" and failed["error"]["error"] == "ConfigError"
        assert "2031-01-02" in failed["error"]["detail"]
        r = client.get(f"/v1/backtests/{failing['id']}/trades.csv")
        assert r.status_code == 404 and "is failed" in r.json()["detail"]

        workers = [p for p in multiprocessing.active_children()
                   if p.name.startswith("SpawnProcess")]
        assert len(workers) == 1
        workers[0].kill()  # as the out-of-memory killer would
        workers[0].join(timeout=30)
        lost = _finished(client, client.post("/v1/backtests", json=REQUEST).json()["id"])
        assert lost["status"] == "failed" and lost["error"]["error"] == "WorkerLost"
        again = client.post("/v1/backtests", json=REQUEST).json()  # a new pool
        _same_as_in_process(client, _finished(client, again["id"]), expected)


def test_a_backtest_runs_on_a_dask_cluster_through_the_sweep_client(market, expected):
    with (LocalCluster(n_workers=1, processes=False, threads_per_worker=1,
                       dashboard_address=":0") as cluster,
          live_server(create_app(market, ServeSettings(
              scheduler=cluster.scheduler_address))) as url,
          httpx.Client(base_url=url, timeout=60) as client):
        job = client.post("/v1/backtests", json=REQUEST).json()
        _same_as_in_process(client, _finished(client, job["id"]), expected)


class GatedRunner:
    """Jobs that run until the test opens the gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    async def run(self, job) -> dict:
        assert await run_in_threadpool(self.gate.wait, 60)
        return {"summary": {"strategy": job.strategy}, "metrics": {}, "risk": {},
                "warnings": [], "trades": pd.DataFrame(), "equity": pd.DataFrame()}

    def close(self) -> None:
        self.gate.set()


def test_a_full_queue_answers_429_until_a_job_finishes(market):
    runner = GatedRunner()
    app = create_app(market, ServeSettings(workers=1, max_queued=1), runner=runner)
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        first = client.post("/v1/backtests", json={"strategy": "ma_trend"}).json()
        second = client.post("/v1/backtests", json={"strategy": "momentum"}).json()
        full = client.post("/v1/backtests", json={"strategy": "ma_trend"})
        assert full.status_code == 429, full.text
        assert full.headers["content-type"] == "application/problem+json"
        assert full.headers["retry-after"] == "5"
        assert "the backtest queue is full: 2 jobs" in full.json()["detail"]
        assert client.get(f"/v1/backtests/{first['id']}").json()["status"] == "running"
        assert client.get(f"/v1/backtests/{second['id']}").json()["status"] == "queued"
        runner.gate.set()
        assert _finished(client, first["id"])["status"] == "done"
        assert _finished(client, second["id"])["status"] == "done"
        assert client.post("/v1/backtests", json={"strategy": "ma_trend"}).status_code == 202
