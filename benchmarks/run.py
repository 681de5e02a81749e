"""Run every ``benchmarks/bench_*.py`` script in its own process (``make bench``).

Each script prints its own table; figures worth keeping go to ``benchmarks/README.md``
with the machine's core count. Pass script names to run a subset:
``python benchmarks/run.py bench_backtest``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if s.stem in argv or s.name in argv]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    failed = []
    for script in scripts:
        print(f"\n== {script.name}", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        print(f"   ({time.perf_counter() - t0:.1f} s wall, exit {code})", flush=True)
        if code:
            failed.append(script.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
