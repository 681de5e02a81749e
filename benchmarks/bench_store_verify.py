"""Benchmark: the cost of checking a Market folder's SHA-256 checksums on load.

``load_market`` reads each file's bytes once, checks them against the SHA-256 recorded in
``meta.json`` and parses the Parquet from those bytes (``verify=True``, the default).
This script saves a market and loads it back in fresh processes (so peaks do not mix),
with and without verification, on the default synthetic market (100 stocks, 2015-2024)
and on the large one of ``bench_synthetic.py`` (3,000 stocks x 2,511 sessions). The files
were just written, so they are in the page cache: the figures are CPU cost, not disk.

Run::

    .venv/bin/python benchmarks/bench_store_verify.py               # both markets
    .venv/bin/python benchmarks/bench_store_verify.py --skip-large  # the default one only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from workbench.data import save_market, synthetic_market
from workbench.data.checksums import sha256_hex

_LOAD = textwrap.dedent(
    """
    import json, sys, time
    from workbench.data import load_market
    folder, validate, verify = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    t0, c0 = time.perf_counter(), time.process_time()
    market = load_market(folder, validate={"1": True, "0": False, "auto": None}[validate],
                         verify=verify)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
               if line.startswith("VmHWM:"))
    print(json.dumps({"load_s": seconds, "cpu_s": cpu, "peak_kb": hwm,
                      "bars": len(market.bars)}))
    """
)

#: (label, validate, verify): what each fresh process loads.
MODES = (
    ("validate=False, verify=False  (parse only)", "0", "0"),
    ("validate=False, verify=True   (parse + SHA-256)", "0", "1"),
    ("default: verify, validated when saved", "auto", "1"),
)


def load_once(folder: Path, validate: str, verify: str) -> dict[str, float]:
    """One load in a fresh process: seconds and peak memory (kB)."""
    done = subprocess.run([sys.executable, "-c", _LOAD, str(folder), validate, verify],
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"load_market({folder}, validate={validate}, verify={verify}) "
                         f"failed with exit code {done.returncode}:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def hash_seconds(folder: Path) -> float:
    """CPU seconds to read and SHA-256 every file of the folder, in this process."""
    t0 = time.process_time()
    for file in sorted(folder.iterdir()):
        sha256_hex(file.read_bytes())
    return time.process_time() - t0


def measure(label: str, n_stocks: int, start: str, end: str, repeats: int) -> None:
    """Build, save and load one market; print a table of median load times and peaks."""
    market = synthetic_market(n_stocks=n_stocks, start=start, end=end, seed=20150105)
    n_bars, n_sessions = len(market.bars), len(market.calendar)
    with tempfile.TemporaryDirectory(prefix="bench_store_verify_") as tmp:
        folder = save_market(market, Path(tmp) / "market")
        del market
        size_mb = sum(f.stat().st_size for f in folder.iterdir()) / 2**20
        hashed = min(hash_seconds(folder) for _ in range(repeats))
        runs: dict[str, list[dict[str, float]]] = {m[0]: [] for m in MODES}
        for _ in range(repeats):  # interleaved, so machine load hits every mode alike
            for name, validate, verify in MODES:
                runs[name].append(load_once(folder, validate, verify))
    print(f"\n{label}: {n_stocks:,} stocks x {n_sessions:,} sessions ({start}..{end}), "
          f"{n_bars:,} bars, {size_mb:,.1f} MB of files; {repeats} fresh processes per row; "
          f"{os.cpu_count()} CPUs, 1-minute load average {os.getloadavg()[0]:.1f}")
    # the minimum is the cost on a quiet machine; the median shows the noise of a shared
    # one. CPU seconds (all threads of the loading process) vary less with other jobs.
    def low(name: str, key: str) -> float:
        return min(r[key] for r in runs[name])

    base = low(MODES[0][0], "cpu_s")
    width = max(len(m[0]) for m in MODES)
    print(f"  {'load_market(folder, ...)'.ljust(width)}  wall min  wall median  CPU min"
          "  CPU vs parse only  peak MB")
    for name, _, _ in MODES:
        median = statistics.median(r["load_s"] for r in runs[name])
        peak = max(r["peak_kb"] for r in runs[name]) / 1024
        print(f"  {name.ljust(width)}  {low(name, 'load_s'):8.3f}  {median:11.3f}  "
              f"{low(name, 'cpu_s'):7.3f}  {low(name, 'cpu_s') - base:+15.3f} s  {peak:7,.0f}")
    print(f"  {'SHA-256 of every file alone (read + hash)'.ljust(width)}  CPU {hashed:.3f} s"
          f" ({size_mb / hashed if hashed else float('nan'):,.0f} MB/s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-large", action="store_true",
                        help="only the default synthetic market")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    measure("default synthetic market", 100, "2015-01-05", "2024-12-31", args.repeats)
    if not args.skip_large:
        measure("large synthetic market (bench_synthetic.py)", 3000, "2014-09-03",
                "2024-12-31", args.repeats)


if __name__ == "__main__":
    main()
