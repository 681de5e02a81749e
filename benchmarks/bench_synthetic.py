"""Benchmark: build a large synthetic market, save it, and load it back in a fresh process.

Targets (design card): 3,000 stocks x 2,500 sessions (2014-09 to 2024-12) build in under a
minute on two cores;
``load_market(folder)`` takes under 2 s and under 1.5 GB peak memory.

Run::

    .venv/bin/python benchmarks/bench_synthetic.py            # 3,000 stocks, 2,500 sessions
    .venv/bin/python benchmarks/bench_synthetic.py --stocks 500
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from workbench.data import save_market, synthetic_market

# ru_maxrss is in kilobytes on Linux and in bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024

_LOAD = textwrap.dedent(
    """
    import json, resource, sys, time
    t0 = time.perf_counter()
    from workbench.data import load_market
    t1 = time.perf_counter()
    market = load_market(sys.argv[1], validate={"1": True, "0": False, "auto": None}[sys.argv[2]])
    t2 = time.perf_counter()
    # VmHWM is this process's own peak; ru_maxrss would also count the parent's memory at
    # fork time (Linux carries it across exec), i.e. the 1 GB market the parent built.
    try:
        hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
                   if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "rss": hwm,
        "bars": len(market.bars),
    }))
    """
)


def peak_rss_mb(rusage_maxrss: int) -> float:
    """Peak resident set size in MB from ``ru_maxrss``."""
    return rusage_maxrss * _RSS_UNIT / 2**20


def folder_mb(folder: Path) -> float:
    """Size of the files in a folder, MB."""
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stocks", type=int, default=3000)
    # 2,500 sessions, as the design card's target says (2015-2024 alone has 2,431)
    parser.add_argument("--start", default="2014-09-03")
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--seed", type=int, default=20150105)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    market = synthetic_market(n_stocks=args.stocks, start=args.start, end=args.end,
                              seed=args.seed)
    build_s = time.perf_counter() - t0
    build_rss = peak_rss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    n_bars, n_sessions = len(market.bars), len(market.calendar)

    with tempfile.TemporaryDirectory(prefix="bench_synthetic_") as tmp:
        folder = Path(tmp) / "market"
        t0 = time.perf_counter()
        save_market(market, folder)
        save_s = time.perf_counter() - t0
        del market
        size = folder_mb(folder)
        loaded = {}
        for validate in ("auto", "1", "0"):  # each in a fresh process, so peaks do not mix
            done = subprocess.run(
                [sys.executable, "-c", _LOAD, str(folder), validate],
                check=True, capture_output=True, text=True,
            )
            loaded[validate] = json.loads(done.stdout.strip().splitlines()[-1])

    rows = [
        ("build (in memory)", f"{build_s:.2f}", f"{build_rss:,.0f}", "< 60 s"),
        ("save_market", f"{save_s:.2f}", "", ""),
        ("import workbench.data (fresh process)", f"{loaded['1']['import_s']:.2f}", "", ""),
        ("load_market(folder)  [default: validated on save]", f"{loaded['auto']['load_s']:.2f}",
         f"{peak_rss_mb(loaded['auto']['rss']):,.0f}", "< 2 s, < 1,536 MB"),
        ("load_market(folder, validate=True)", f"{loaded['1']['load_s']:.2f}",
         f"{peak_rss_mb(loaded['1']['rss']):,.0f}", ""),
        ("load_market(folder, validate=False)", f"{loaded['0']['load_s']:.2f}",
         f"{peak_rss_mb(loaded['0']['rss']):,.0f}", ""),
    ]
    print(f"synthetic market: {args.stocks:,} stocks x {n_sessions:,} sessions "
          f"({args.start}..{args.end}), {n_bars:,} bars, {size:,.0f} MB on disk; "
          f"{os.cpu_count()} CPUs")
    widths = [max(len(r[i]) for r in [*rows, ("step", "seconds", "peak MB", "target")])
              for i in range(4)]
    header = ("step", "seconds", "peak MB", "target")
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join([row[0].ljust(widths[0]), row[1].rjust(widths[1]),
                         row[2].rjust(widths[2]), row[3].ljust(widths[3])]))


if __name__ == "__main__":
    main()
