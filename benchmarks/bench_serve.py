"""Service speed under load: ``workbench serve`` answering recommendations and risk checks.

Usage::

    python benchmarks/bench_serve.py                    # default market, 10,000 requests a run
    python benchmarks/bench_serve.py --requests 2000    # a quicker look

It starts ``python -m workbench serve --port 0`` on 127.0.0.1 (loopback only: nothing
leaves the machine), waits for ``/v1/health``, opens a risk session, and then, for each
endpoint, runs two shapes with httpx, each bounded by ``--requests`` and ``--max-seconds``
(whichever comes first), so that it always stops by itself:

* **1 client**, one keep-alive connection, one request after the other: latency (P50,
  P95, P99) and requests/s;
* **16 clients**, 16 keep-alive connections sending at once (a thread with its own httpx
  client each, spread over ``--client-procs`` processes so that the client side is not
  held to one interpreter lock): throughput and latency under load.

The endpoints:

* ``GET /v1/recommendations`` for one universe of 20 listed stocks (``value_quality``,
  the default strategy and the slowest, 20 rows), asked again and again as a dashboard
  polls it, on two servers: one as started by default, which answers a query asked before
  from the answers it keeps (``--recommendation-cache``), and one started with
  ``--recommendation-cache 0``, which computes every answer with ``recommend``: the
  service's cost of a recommendation;
* ``POST /v1/risk/sessions/{id}/check``: random, mostly plausible orders (bench_risk's
  mix: deep into the checks, a fifth rejected) against a session with 20 positions.

Beside each 1-client run it measures the same calls in this process (the functions the
service calls: ``recommend`` and ``PreTradeValidator.check`` on the same inputs) and the
server process's CPU time per request (from ``/proc/PID/stat``), and reports what the
server spends per request beyond the in-process call: its CPU per request minus the call's
CPU, and the 1-client P50 minus the call's P50.

Targets (2-core machine, the client sharing the cores with the server): 1 client,
recommendations P95 <= 2.3 ms and risk check P95 <= 1 ms; 16 clients, >= 1,000
recommendations/s and >= 3,000 risk checks/s; 0 errors. The load average is printed: on
a shared machine with it near the core count, the tails show the scheduler.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

REC_KEPT = "recommendations, 20 stocks, answer kept"
REC_COMPUTED = "recommendations, 20 stocks, computed"
RISK = "risk check"
TARGETS = {"rec_p95_ms": 2.3, "risk_p95_ms": 1.0, "rec_per_s": 1_000.0, "risk_per_s": 3_000.0}
LOOPBACK = "127.0.0.1"


@dataclass
class Run:
    """One shape on one endpoint."""

    latencies_s: np.ndarray
    wall_s: float
    errors: int
    server_cpu_s: float | None = None

    @property
    def n(self) -> int:
        return len(self.latencies_s)

    def pct_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q)) * 1e3 if self.n else float("nan")

    @property
    def per_s(self) -> float:
        return self.n / self.wall_s if self.wall_s > 0 else float("nan")


# -- the server -----------------------------------------------------------------------------
def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(market: str | None, log: Path, *options: str
                 ) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "workbench", "serve", "--host", LOOPBACK, "--port", "0",
           *options]
    if market:
        cmd += ["--market", market]
    with log.open("w") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
    first = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"on (http://127\.0\.0\.1:\d+) ", first)
    if not match:
        proc.kill()
        raise SystemExit(f"the server did not start: {first!r}\n{log.read_text()[-2000:]}")
    url = match.group(1)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # the port is bound before the market is warmed
        try:
            if httpx.get(f"{url}/v1/health", timeout=5).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"the server never answered /v1/health\n{log.read_text()[-2000:]}")


# -- the two shapes ---------------------------------------------------------------------------
Request = tuple[str, str, bytes | None]  # method, path with query, body


def one_client(url: str, requests: list[Request], max_s: float, pid: int) -> Run:
    """One keep-alive connection, one request after the other."""
    headers = {"content-type": "application/json"}
    times = np.empty(len(requests))
    errors = 0
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        for method, path, body in requests[:200]:  # warm the connection and the paths
            client.request(method, path, content=body)
        cpu0, start = _cpu_s(pid), time.perf_counter()
        n = 0
        clock = time.perf_counter
        for method, path, body in requests:
            t0 = clock()
            r = client.request(method, path, content=body)
            times[n] = clock() - t0
            n += 1
            errors += r.status_code != 200
            if t0 - start > max_s:
                break
        wall = clock() - start
        cpu = _cpu_s(pid) - cpu0
    return Run(times[:n], wall, errors, cpu)


def _client_thread(url: str, requests: list[Request], max_s: float, first: float,
                   out: list[tuple[list[float], int]]) -> None:
    headers = {"content-type": "application/json"}
    latencies: list[float] = []
    errors = 0
    clock = time.perf_counter
    with httpx.Client(base_url=url, timeout=30, headers=headers) as client:
        client.get("/v1/health")
        while clock() < first:  # every client starts at once
            time.sleep(0.0005)
        for method, path, body in requests:
            t0 = clock()
            r = client.request(method, path, content=body)
            latencies.append(clock() - t0)
            errors += r.status_code != 200
            if t0 - first > max_s:
                break
    out.append((latencies, errors))


def _client_process(args: tuple[str, list[list[Request]], float, float]
                    ) -> tuple[list[float], int, float, float]:
    """Clients as threads of one process, each on its own keep-alive connection."""
    url, shares, max_s, start_at = args
    first = time.perf_counter() + (start_at - time.time())  # the shared start, this clock
    out: list[tuple[list[float], int]] = []
    threads = [threading.Thread(target=_client_thread, args=(url, share, max_s, first, out))
               for share in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    last = time.perf_counter()
    offset = time.time() - last  # perf_counter is per process: report on the wall clock
    return [x for lat, _ in out for x in lat], sum(e for _, e in out), first + offset, \
        last + offset


def many_clients(url: str, requests: list[Request], n_clients: int, procs: int,
                 max_s: float) -> Run:
    """``n_clients`` keep-alive connections sending at once: threads (each with its own
    synchronous httpx client) spread over ``procs`` processes, so that the client side
    is not held to one interpreter lock."""
    shares = [requests[i::n_clients] for i in range(n_clients)]
    groups = [shares[i::procs] for i in range(procs)]
    start_at = time.time() + 2.0 + 0.5 * procs
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(procs) as pool:
        out = pool.map(_client_process, [(url, g, max_s, start_at) for g in groups])
    latencies = np.array([x for o in out for x in o[0]])
    wall = max(o[3] for o in out) - min(o[2] for o in out)
    return Run(latencies, wall, sum(o[1] for o in out))


# -- in process -------------------------------------------------------------------------------
def in_process(call: Callable[[int], object], n: int) -> tuple[float, float]:
    """Median wall time and mean CPU time of ``call(i)`` for i < n, in seconds."""
    for i in range(min(n, 200)):
        call(i)
    times = np.empty(n)
    cpu0 = time.process_time()
    for i in range(n):
        t0 = time.perf_counter()
        call(i)
        times[i] = time.perf_counter() - t0
    return float(np.median(times)), (time.process_time() - cpu0) / n


# -- the inputs -------------------------------------------------------------------------------
def risk_orders(rng: np.random.Generator, symbols: list[str], close: np.ndarray,
                held: dict[str, int], day: str, n: int) -> list[dict[str, object]]:
    """bench_risk's mix: 98 % in hours, lots of 100, prices within ±12 % of the close,
    70 % buys; nine sells in ten of held names."""
    pick = rng.integers(0, len(symbols), n)
    sell = rng.random(n) >= 0.7
    held_pos = np.array([symbols.index(s) for s in held])
    own = sell & (rng.random(n) < 0.9)
    pick[own] = rng.choice(held_pos, own.sum())
    quantity = rng.integers(1, 80, n) * 100 + np.where(rng.random(n) < 0.03, 50, 0)
    seconds = rng.choice(np.r_[np.arange(9.5 * 3600, 11.5 * 3600),
                               np.arange(13 * 3600, 15 * 3600)], n)
    seconds = np.where(rng.random(n) < 0.02, rng.integers(0, 86_400, n), seconds)
    base = pd.Timestamp(day, tz="Asia/Shanghai")
    return [{"symbol": symbols[p], "side": "sell" if s else "buy", "quantity": int(q),
             "limit_price": float(round(close[p] * f, 2)),
             "timestamp": (base + pd.Timedelta(seconds=int(t))).isoformat()}
            for p, s, q, f, t in zip(pick, sell, quantity, rng.uniform(0.88, 1.12, n),
                                     seconds, strict=True)]


def _row(name: str, run: Run) -> str:
    return (f"{name:<50}{run.n:>9,}{run.pct_ms(50):>9.2f}{run.pct_ms(95):>9.2f}"
            f"{run.pct_ms(99):>9.2f}{run.per_s:>9,.0f}{run.errors:>7}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", default=None, help="Market folder (default: synthetic)")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--client-procs", type=int, default=2,
                        help="processes the concurrent clients are spread over")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="longest run")
    parser.add_argument("--strategy", default="value_quality")
    args = parser.parse_args(argv)

    import fastapi
    import uvicorn

    from workbench.data import load_market
    from workbench.recommend import recommend
    from workbench.risk import Order
    from workbench.serve.sessions import open_validator, risk_limits

    extras = [m for m in ("httptools", "uvloop") if _has(m)]
    print(f"machine: {os.cpu_count()} cores, load average {_load()}; Python "
          f"{platform.python_version()}, httpx {httpx.__version__}, fastapi "
          f"{fastapi.__version__}, uvicorn {uvicorn.__version__} "
          f"({', '.join(extras) or 'h11, asyncio'})")
    market = load_market(args.market)
    last = market.calendar[-1]
    day = last.date().isoformat()
    listed = [str(s) for s in market.universe(last)["symbol"].sort_values()]
    universe = listed[:20]
    rng = np.random.default_rng(20240102)
    n = args.requests
    folder = Path(tempfile.mkdtemp(prefix="bench_serve-"))
    rec_path = (f"/v1/recommendations?strategy={args.strategy}&top=20&symbols="
                f"{','.join(universe)}")
    rec_requests: list[Request] = [("GET", rec_path, None)] * n
    local = {REC_KEPT: in_process(
        lambda i: recommend(market, args.strategy, universe=universe, top=20), min(n, 2_000))}
    local[REC_COMPUTED] = local[REC_KEPT]
    runs: dict[str, tuple[Run, Run]] = {}

    # computed on every request: a server keeping no answers
    proc, url = start_server(args.market, folder / "computed.log", "--recommendation-cache",
                             "0")
    try:
        print(f"server without kept answers: {url} (pid {proc.pid}); market {market.name}: "
              f"{len(market.symbols)} stocks, as of {day}; {n:,} requests a run, at most "
              f"{args.max_seconds:g} s; logs in {folder}", flush=True)
        runs[REC_COMPUTED] = (one_client(url, rec_requests, args.max_seconds, proc.pid),
                              many_clients(url, rec_requests, args.clients,
                                           args.client_procs, args.max_seconds))
    finally:
        _stop(proc)

    # as served by default: answers kept by query; and the risk checks
    proc, url = start_server(args.market, folder / "default.log")
    try:
        print(f"server as started by default: {url} (pid {proc.pid})", flush=True)
        held = {s: 1_000 for s in listed[20:40]}
        limits = {"max_position_rate": 0.05}
        sid = httpx.post(f"{url}/v1/risk/sessions", timeout=30, json={
            "cash_cny": 20_000_000.0, "positions": held, "limits": limits}).json()["id"]
        here, _ = open_validator(market, cash_cny=20_000_000.0, positions=held,
                                 limits=risk_limits(limits))
        close = market.grid("close")[-1]
        close = np.where(np.isfinite(close), close, 10.0)
        orders = risk_orders(rng, [str(s) for s in market.symbols], close, held, day, n)
        parsed = [Order(symbol=str(o["symbol"]), side=o["side"],  # type: ignore[arg-type]
                        quantity=o["quantity"], limit_price=o["limit_price"],
                        timestamp=pd.Timestamp(o["timestamp"])) for o in orders]
        local[RISK] = in_process(lambda i: here.check(parsed[i]), n)
        check_path = f"/v1/risk/sessions/{sid}/check"
        risk_requests = [("POST", check_path, json.dumps(o).encode()) for o in orders]
        for name, requests in ((REC_KEPT, rec_requests), (RISK, risk_requests)):
            runs[name] = (one_client(url, requests, args.max_seconds, proc.pid),
                          many_clients(url, requests, args.clients, args.client_procs,
                                       args.max_seconds))
    finally:
        _stop(proc)
    logged = sum(1 for log in folder.glob("*.log") for line in log.read_text().splitlines()
                 if re.search(r" (GET|POST) /v1/\S+ \d{3} \d+\.\d\dms$", line))
    sent = sum(r.n for pair in runs.values() for r in pair)

    print(f"\n{'run':<50}{'requests':>9}{'P50 ms':>9}{'P95 ms':>9}{'P99 ms':>9}"
          f"{'req/s':>9}{'errors':>7}")
    for name in (REC_KEPT, REC_COMPUTED, RISK):
        single, many = runs[name]
        print(_row(f"{name}: 1 client", single))
        print(_row(f"{name}: {args.clients} clients", many))
    print(f"\n{'beyond the in-process call (1 client)':<50}{'call P50':>10}{'call CPU':>10}"
          f"{'server CPU':>12}{'CPU beyond':>12}{'P50 beyond':>12}")
    for name in (REC_KEPT, REC_COMPUTED, RISK):
        single = runs[name][0]
        med, cpu = local[name]
        server = (single.server_cpu_s or 0.0) / max(single.n, 1)
        print(f"{name:<50}{med * 1e3:>8.3f}ms{cpu * 1e3:>8.3f}ms{server * 1e3:>10.3f}ms"
              f"{(server - cpu) * 1e3:>10.3f}ms{single.pct_ms(50) - med * 1e3:>10.3f}ms")
    warm_up = 3 * (200 + args.clients)
    print(f"\nlog lines for requests: {logged:,}; requests measured {sent:,} + warm-up "
          f"{warm_up:,} + set-up 3; load average now {_load()}")

    checks = [
        (f"1 client: {REC_KEPT} P95 ms", runs[REC_KEPT][0].pct_ms(95),
         TARGETS["rec_p95_ms"], "<="),
        (f"1 client: {REC_COMPUTED} P95 ms", runs[REC_COMPUTED][0].pct_ms(95),
         TARGETS["rec_p95_ms"], "<="),
        ("1 client: risk check P95 ms", runs[RISK][0].pct_ms(95), TARGETS["risk_p95_ms"], "<="),
        (f"{args.clients} clients: {REC_KEPT} /s", runs[REC_KEPT][1].per_s,
         TARGETS["rec_per_s"], ">="),
        (f"{args.clients} clients: {REC_COMPUTED} /s", runs[REC_COMPUTED][1].per_s,
         TARGETS["rec_per_s"], ">="),
        (f"{args.clients} clients: risk checks /s", runs[RISK][1].per_s,
         TARGETS["risk_per_s"], ">="),
        ("errors", float(sum(r.errors for pair in runs.values() for r in pair)), 0.0, "<="),
    ]
    print("\ntargets:")
    for what, value, target, op in checks:
        ok = value <= target if op == "<=" else value >= target
        print(f"  {what:<58}{value:>10,.2f} {op} {target:<8,g}{'meets' if ok else 'MISSES'}")
    return 0


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
