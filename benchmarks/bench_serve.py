"""Service speed under load: ``workbench serve`` answering recommendations and risk checks.

Usage::

    python benchmarks/bench_serve.py                    # default market, 10,000 requests a run
    python benchmarks/bench_serve.py --requests 2000    # a quicker look
    python benchmarks/bench_serve.py --no-uvloop        # the server on asyncio's own loop
    python benchmarks/bench_serve.py --workers 2        # passed on to the server
    python benchmarks/bench_serve.py --recommendation-workers 2   # passed on too
    python benchmarks/bench_serve.py --recommendation-workers 0 --inline-budget-ms 0

It starts ``python -m workbench serve --port 0`` on 127.0.0.1 (loopback only: nothing
leaves the machine), waits for ``/v1/health``, and then, for each case, runs two shapes with
httpx, each bounded by ``--requests`` and ``--max-seconds`` (whichever comes first), so
that it always stops by itself:

* **1 client**, one keep-alive connection, one request after the other: latency (P50,
  P95, P99) and requests/s;
* **16 clients**, 16 keep-alive connections sending at once (a thread with its own httpx
  client each, spread over ``--client-procs`` processes so that the client side is not
  held to one interpreter lock): throughput and latency under load.

Every request is built (``Client.build_request``) before the clock starts and sent with
``Client.send``: the client shares the two cores with the server, and building a request
costs httpx about 70 µs, which would otherwise be taken from the server.

The cases, for 20 stocks (``value_quality``, the default strategy and the slowest, 20
rows):

* **recommendations, computed, queries all different**: on the server as started by
  default (it keeps the last 1,024 answers by query), every request asks a query no
  request asked before: a session ``as_of`` and a universe of 20 listed stocks that no
  other request shares (checked here), so every answer is computed (by the server's
  recommendation workers, as started by default: one per core, at most 4);
* **recommendations, computed, cache off**: one query asked again and again of a server
  started with ``--recommendation-cache 0``, which keeps no answer;
* **recommendations, answer kept**: one query asked again and again of the default
  server, which answers it from the answers it keeps (a dashboard polling its 20 stocks);
* **risk check**: ``POST /v1/risk/sessions/{id}/check`` with random, mostly plausible
  orders (bench_risk's mix: deep into the checks, a fifth rejected) against a session with
  20 positions.

Every run reports the server's CPU time per request (user + system of the server process
and its recommendation workers, from ``/proc``), the clients' CPU per request, and the
cores the two kept busy (of 2; less means other processes had the rest: read the CPU
columns then). Beside each 1-client run it measures the same calls in this process and
reports what the server spends per request beyond them: beyond the notebook's call (``recommend``, a
DataFrame; ``PreTradeValidator.check`` on a parsed order) and beyond the body (the function
the route runs in the server: the JSON of ``recommendation``; the order parsed from JSON,
checked and the decision written as JSON). At the end it prints the resident memory of the
default server and of each of its worker processes (each holds the market).

Targets (2-core machine, the client sharing the cores with the server): 1 client,
recommendations P95 <= 2.3 ms and risk check P95 <= 1 ms; 16 clients, >= 1,000
recommendations/s and >= 3,000 risk checks/s; 0 errors. The load average is printed: on
a shared machine with it near the core count, the tails show the scheduler. The event
loop the server runs on is read from its log (uvicorn picks uvloop when it is installed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
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

REC_VARIED = "recommendations, computed, queries all different"
REC_COMPUTED = "recommendations, computed, cache off"
REC_KEPT = "recommendations, answer kept"
RISK = "risk check"
CASES = (REC_VARIED, REC_COMPUTED, REC_KEPT, RISK)
TARGETS = {"rec_p95_ms": 2.3, "risk_p95_ms": 1.0, "rec_per_s": 1_000.0, "risk_per_s": 3_000.0}
LOOPBACK = "127.0.0.1"
#: Runs the CLI with uvloop made unimportable, so that uvicorn's "auto" loop is asyncio's.
NO_UVLOOP = ("import sys; sys.modules['uvloop'] = None; from workbench.cli import main; "
             "raise SystemExit(main(sys.argv[1:]))")


@dataclass
class Run:
    """One shape on one endpoint."""

    latencies_s: np.ndarray
    wall_s: float
    errors: int
    server_cpu_s: float | None = None
    client_cpu_s: float | None = None

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
    """User + system CPU seconds so far of process ``pid`` and its live descendants (the
    server's recommendation workers)."""
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # gone meanwhile
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
    family, grew = {pid}, True
    while grew:
        more = {p for p, f in stats.items() if int(f[1]) in family} - family
        family |= more
        grew = bool(more)
    ticks = sum(int(stats[p][11]) + int(stats[p][12]) for p in family if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")


def _memory(pid: int) -> str:
    """Resident memory of the server ``pid`` and of each of its spawned children (the
    recommendation workers; the backtest pool starts with the first backtest), MB."""
    def rss_mb(p: int) -> float:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return math.nan

    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes()
                if parent == pid and b"spawn_main" in command:
                    children.append(rss_mb(int(entry.name)))
    workers = ", ".join(f"{mb:.0f}" for mb in sorted(children)) or "none"
    return f"server {rss_mb(pid):.0f} MB; its worker processes {workers} MB"


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    log: Path

    @property
    def loop(self) -> str:
        """The event loop the server runs on, as its start-up line in the log says."""
        found = re.search(r"event loop ([\w.]+)", self.log.read_text())
        return found.group(1) if found else "?"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_server(market: str | None, log: Path, *options: str, uvloop: bool = True
                 ) -> Server:
    run = ["-m", "workbench"] if uvloop else ["-c", NO_UVLOOP]
    cmd = [sys.executable, *run, "serve", "--host", LOOPBACK, "--port", "0", *options]
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
                return Server(proc, url, log)
        except httpx.TransportError:
            time.sleep(0.2)
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit(f"the server never answered /v1/health\n{log.read_text()[-2000:]}")


# -- the two shapes ---------------------------------------------------------------------------
Request = tuple[str, str, bytes | None]  # method, path with query, body
HEADERS = {"content-type": "application/json"}


def _built(client: httpx.Client, requests: list[Request]) -> list[httpx.Request]:
    return [client.build_request(method, path, content=body) for method, path, body in requests]


def one_client(url: str, warm: list[Request], requests: list[Request], max_s: float,
               pid: int) -> Run:
    """One keep-alive connection, one request after the other (``warm`` ones first)."""
    times = np.empty(len(requests))
    errors = 0
    with httpx.Client(base_url=url, timeout=30, headers=HEADERS) as client:
        for request in _built(client, warm):
            client.send(request)
        built = _built(client, requests)
        cpu0, start, mine = _cpu_s(pid), time.perf_counter(), time.process_time()
        n = 0
        clock = time.perf_counter
        for request in built:
            t0 = clock()
            r = client.send(request)
            times[n] = clock() - t0
            n += 1
            errors += r.status_code != 200
            if t0 - start > max_s:
                break
        wall = clock() - start
        cpu, mine = _cpu_s(pid) - cpu0, time.process_time() - mine
    return Run(times[:n], wall, errors, cpu, mine)


def _client_thread(url: str, requests: list[Request], max_s: float, first: float,
                   out: list[tuple[list[float], int]]) -> None:
    latencies: list[float] = []
    errors = 0
    clock = time.perf_counter
    with httpx.Client(base_url=url, timeout=30, headers=HEADERS) as client:
        client.get("/v1/health")
        built = _built(client, requests)
        while clock() < first:  # every client starts at once
            time.sleep(0.0005)
        for request in built:
            t0 = clock()
            r = client.send(request)
            latencies.append(clock() - t0)
            errors += r.status_code != 200
            if t0 - first > max_s:
                break
    out.append((latencies, errors))


def _client_process(args: tuple[str, list[list[Request]], float, float]
                    ) -> tuple[list[float], int, float, float, float]:
    """Clients as threads of one process, each on its own keep-alive connection; their
    latencies, errors, first and last wall-clock times and the CPU seconds they used
    between them."""
    url, shares, max_s, start_at = args
    first = time.perf_counter() + (start_at - time.time())  # the shared start, this clock
    out: list[tuple[list[float], int]] = []
    cpu: list[float] = []
    threads = [threading.Thread(target=_client_thread, args=(url, share, max_s, first, out))
               for share in shares]
    for t in threads:
        t.start()
    while time.perf_counter() < first:
        time.sleep(0.0005)
    cpu.append(time.process_time())
    for t in threads:
        t.join()
    last = time.perf_counter()
    offset = time.time() - last  # perf_counter is per process: report on the wall clock
    return [x for lat, _ in out for x in lat], sum(e for _, e in out), first + offset, \
        last + offset, time.process_time() - cpu[0]


def many_clients(url: str, requests: list[Request], n_clients: int, procs: int,
                 max_s: float, pid: int) -> Run:
    """``n_clients`` keep-alive connections sending at once: threads (each with its own
    synchronous httpx client) spread over ``procs`` processes, so that the client side
    is not held to one interpreter lock."""
    shares = [requests[i::n_clients] for i in range(n_clients)]
    groups = [shares[i::procs] for i in range(procs)]
    start_at = time.time() + 3.0 + 0.5 * procs  # after every process has built its requests
    ctx = multiprocessing.get_context("spawn")
    cpu0 = _cpu_s(pid)  # the server is idle but for 16 health checks until the start
    with ctx.Pool(procs) as pool:
        out = pool.map(_client_process, [(url, g, max_s, start_at) for g in groups])
    cpu = _cpu_s(pid) - cpu0
    latencies = np.array([x for o in out for x in o[0]])
    wall = max(o[3] for o in out) - min(o[2] for o in out)
    return Run(latencies, wall, sum(o[1] for o in out), cpu, sum(o[4] for o in out))


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


def varied_queries(rng: np.random.Generator, sessions: list[str], listed: list[str],
                   n: int, part: int, parts: int) -> list[tuple[str, list[str]]]:
    """``n`` different (as_of, 20 symbols) queries: the latest sessions, each with
    universes of 20 consecutive listed stocks; part ``part`` of ``parts`` disjoint sets
    (a universe belongs to one part only)."""
    starts = [k for k in range(len(listed) - 19) if k % parts == part]
    days = sessions[-((n + len(starts) - 1) // len(starts)):]
    pairs = [(d, listed[k:k + 20]) for d in days for k in starts][:n]
    if len(pairs) < n:
        raise SystemExit(f"only {len(pairs)} different queries for {n} requests; ask fewer")
    order = rng.permutation(len(pairs))
    return [pairs[i] for i in order]


def _row(name: str, run: Run) -> str:
    server = (run.server_cpu_s or math.nan) / max(run.n, 1) * 1e3
    client = (run.client_cpu_s or math.nan) / max(run.n, 1) * 1e3
    busy = ((run.server_cpu_s or math.nan) + (run.client_cpu_s or math.nan)) / run.wall_s
    return (f"{name:<62}{run.n:>9,}{run.pct_ms(50):>9.2f}{run.pct_ms(95):>9.2f}"
            f"{run.pct_ms(99):>9.2f}{run.per_s:>9,.0f}{run.errors:>7}{server:>9.3f}"
            f"{client:>9.3f}{busy:>7.2f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", default=None, help="Market folder (default: synthetic)")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per run")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients")
    parser.add_argument("--client-procs", type=int, default=2,
                        help="processes the concurrent clients are spread over")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="longest run")
    parser.add_argument("--strategy", default="value_quality")
    parser.add_argument("--workers", type=int, default=None,
                        help="the server's --workers (backtest worker processes)")
    parser.add_argument("--recommendation-workers", type=int, default=None,
                        help="the server's --recommendation-workers (0: computed in its "
                        "process)")
    parser.add_argument("--inline-budget-ms", type=float, default=None,
                        help="the server's --inline-budget-ms (0: recommendations always in "
                        "a thread)")
    parser.add_argument("--no-uvloop", action="store_true",
                        help="run the server on asyncio's loop even where uvloop is installed")
    parser.add_argument("--only", choices=["recommendations", "risk"], default=None,
                        help="run one endpoint's cases only")
    args = parser.parse_args(argv)

    import fastapi
    import uvicorn

    from workbench.data import load_market
    from workbench.recommend import recommend
    from workbench.risk import Order
    from workbench.serve.app import decision_json, recommendation_json
    from workbench.serve.sessions import open_validator, order_of, risk_limits

    extras = [m for m in ("httptools", "uvloop") if _has(m)]
    print(f"machine: {os.cpu_count()} cores, load average {_load()}; Python "
          f"{platform.python_version()}, httpx {httpx.__version__}, fastapi "
          f"{fastapi.__version__}, uvicorn {uvicorn.__version__} "
          f"(installed: {', '.join(extras) or 'neither httptools nor uvloop'})")
    market = load_market(args.market)
    last = market.calendar[-1]
    day = last.date().isoformat()
    sessions = [d.date().isoformat() for d in market.calendar]
    listed = [str(s) for s in market.universe(last)["symbol"].sort_values()]
    universe = listed[:20]
    rng = np.random.default_rng(20240102)
    n = args.requests
    folder = Path(tempfile.mkdtemp(prefix="bench_serve-"))
    options = [] if args.workers is None else ["--workers", str(args.workers)]
    if args.recommendation_workers is not None:
        options += ["--recommendation-workers", str(args.recommendation_workers)]
    if args.inline_budget_ms is not None:
        options += ["--inline-budget-ms", str(args.inline_budget_ms)]

    def rec_path(as_of: str | None, symbols: list[str]) -> str:
        when = "" if as_of is None else f"&as_of={as_of}"
        return f"/v1/recommendations?strategy={args.strategy}&top=20{when}&symbols=" \
               f"{','.join(symbols)}"

    kept: list[Request] = [("GET", rec_path(None, universe), None)] * n
    varied = {part: varied_queries(rng, sessions, listed, n + 200, part, 2) for part in (0, 1)}
    single_varied = [("GET", rec_path(d, u), None) for d, u in varied[0]]
    many_varied = [("GET", rec_path(d, u), None) for d, u in varied[1][:n]]
    assert len({p for _, p, _ in single_varied + many_varied}) == 2 * n + 200, "a repeat"
    local: dict[str, tuple[float, float]] = {}  # the notebook's call
    body: dict[str, tuple[float, float]] = {}  # the route's function
    m = min(n, 2_000)
    local[REC_KEPT] = local[REC_COMPUTED] = in_process(
        lambda i: recommend(market, args.strategy, universe=universe, top=20), m)
    body[REC_KEPT] = body[REC_COMPUTED] = in_process(
        lambda i: recommendation_json(market, args.strategy, 20, None, ",".join(universe)), m)
    local[REC_VARIED] = in_process(lambda i: recommend(
        market, args.strategy, as_of=varied[0][i][0], universe=varied[0][i][1], top=20), m)
    body[REC_VARIED] = in_process(lambda i: recommendation_json(
        market, args.strategy, 20, varied[0][i][0], ",".join(varied[0][i][1])), m)
    runs: dict[str, tuple[Run, Run]] = {}
    loops: set[str] = set()
    uvloop = not args.no_uvloop

    def both(server: Server, name: str, warm: list[Request], single: list[Request],
             many: list[Request]) -> None:
        print(f"  {name} ...", flush=True)
        runs[name] = (one_client(server.url, warm, single, args.max_seconds, server.proc.pid),
                      many_clients(server.url, many, args.clients, args.client_procs,
                                   args.max_seconds, server.proc.pid))

    if args.only != "risk":
        # computed on every request: a server keeping no answers
        server = start_server(args.market, folder / "computed.log", "--recommendation-cache",
                              "0", *options, uvloop=uvloop)
        try:
            print(f"server without kept answers: {server.url} (pid {server.proc.pid}, event "
                  f"loop {server.loop}); market {market.name}: {len(market.symbols)} stocks, "
                  f"as of {day}; {n:,} requests a run, at most {args.max_seconds:g} s; logs in "
                  f"{folder}", flush=True)
            loops.add(server.loop)
            both(server, REC_COMPUTED, kept[:200], kept, kept)
        finally:
            server.stop()

    # as served by default: answers kept by query; and the risk checks
    server = start_server(args.market, folder / "default.log", *options, uvloop=uvloop)
    try:
        print(f"server as started by default: {server.url} (pid {server.proc.pid}, event loop "
              f"{server.loop})", flush=True)
        loops.add(server.loop)
        if args.only != "risk":
            both(server, REC_VARIED, single_varied[:200], single_varied[200:], many_varied)
            both(server, REC_KEPT, kept[:200], kept, kept)
        if args.only != "recommendations":
            held = {s: 1_000 for s in listed[20:40]}
            limits = {"max_position_rate": 0.05}
            sid = httpx.post(f"{server.url}/v1/risk/sessions", timeout=30, json={
                "cash_cny": 20_000_000.0, "positions": held, "limits": limits}).json()["id"]
            here, _ = open_validator(market, cash_cny=20_000_000.0, positions=held,
                                     limits=risk_limits(limits))
            close = market.grid("close")[-1]
            close = np.where(np.isfinite(close), close, 10.0)
            orders = risk_orders(rng, [str(s) for s in market.symbols], close, held, day, n)
            parsed = [Order(symbol=str(o["symbol"]), side=o["side"],  # type: ignore[arg-type]
                            quantity=o["quantity"], limit_price=o["limit_price"],
                            timestamp=pd.Timestamp(o["timestamp"])) for o in orders]
            texts = [json.dumps(o).encode() for o in orders]
            local[RISK] = in_process(lambda i: here.check(parsed[i]), n)
            body[RISK] = in_process(lambda i: decision_json(here.check(order_of(json.loads(
                texts[i])))), n)
            check_path = f"/v1/risk/sessions/{sid}/check"
            risk_requests: list[Request] = [("POST", check_path, t) for t in texts]
            both(server, RISK, risk_requests[:200], risk_requests, risk_requests)
        memory = _memory(server.proc.pid)
    finally:
        server.stop()
    logged = sum(1 for log in folder.glob("*.log") for line in log.read_text().splitlines()
                 if re.search(r" (GET|POST) /v1/\S+ \d{3} \d+\.\d\dms$", line))
    placed = [f"{log.stem}: {found.group(1)}" for log in sorted(folder.glob("*.log"))
              if (found := re.search(r"recommendations computed: (.*)", log.read_text()))]
    sent = sum(r.n for pair in runs.values() for r in pair)
    names = [c for c in CASES if c in runs]

    print(f"\nevent loop: {', '.join(sorted(loops))}; server options: "
          f"{' '.join(options) or 'the defaults'}")
    print(f"{'':<62}{'':>9}{'':>9}{'':>9}{'':>9}{'':>9}{'':>7}{'CPU ms/request':>18}"
          f"{'cores':>7}")
    print(f"{'run':<62}{'requests':>9}{'P50 ms':>9}{'P95 ms':>9}{'P99 ms':>9}"
          f"{'req/s':>9}{'errors':>7}{'server':>9}{'client':>9}{'busy':>7}")
    for name in names:
        single, many = runs[name]
        print(_row(f"{name}: 1 client", single))
        print(_row(f"{name}: {args.clients} clients", many))
    print(f"\n{'per request, 1 client':<46}{'call P50':>10}{'call CPU':>10}{'body CPU':>10}"
          f"{'server CPU':>12}{'beyond call':>13}{'beyond body':>13}")
    for name in names:
        single = runs[name][0]
        med, cpu = local[name]
        server_cpu = (single.server_cpu_s or 0.0) / max(single.n, 1)
        own = body[name][1]
        print(f"{name:<46}{med * 1e3:>8.3f}ms{cpu * 1e3:>8.3f}ms{own * 1e3:>8.3f}ms"
              f"{server_cpu * 1e3:>10.3f}ms{(server_cpu - cpu) * 1e3:>11.3f}ms"
              f"{(server_cpu - own) * 1e3:>11.3f}ms")
    print(f"\nlog lines for requests: {logged:,}; requests measured {sent:,}; load average now "
          f"{_load()}")
    print(f"recommendations computed ({'; '.join(placed)})")
    print(f"resident memory of the default server at the end: {memory}")

    checks = []
    for name in names:
        single, many = runs[name]
        risk = name == RISK
        checks.append((f"1 client: {name} P95 ms", single.pct_ms(95),
                       TARGETS["risk_p95_ms" if risk else "rec_p95_ms"], "<="))
        checks.append((f"{args.clients} clients: {name} /s", many.per_s,
                       TARGETS["risk_per_s" if risk else "rec_per_s"], ">="))
    checks.append(("errors", float(sum(r.errors for pair in runs.values() for r in pair)),
                   0.0, "<="))
    print("\ntargets:")
    for what, value, target, op in checks:
        ok = value <= target if op == "<=" else value >= target
        print(f"  {what:<66}{value:>10,.2f} {op} {target:<8,g}{'meets' if ok else 'MISSES'}")
    return 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
