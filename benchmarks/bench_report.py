"""Report speed and size: one backtest report end to end, kernel start included.

Usage::

    python benchmarks/bench_report.py                    # ma_trend, 3 runs
    python benchmarks/bench_report.py --strategy momentum --repeat 5

Each run is ``python -m workbench report backtest_report --out TMP`` in a fresh process, as
``make report`` runs it: interpreter start, parameter checks, kernel start, the notebook on
the default synthetic market (2016-2024, about 2,200 sessions x 100 stocks, with its grid
search and cost sensitivity runs), the HTML page and ``metrics.json``. The notebook's own
time is papermill's (``metadata.papermill.duration``); the rest is start-up, kernel start
and writing the page. Targets: under 20 s per report on a 2-core machine, HTML under 6 MB
(plotly.js alone is about 4.8 MB of it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

TARGET_S = 20.0
TARGET_HTML_MB = 6.0
REPO = Path(__file__).resolve().parents[1]


def one_run(strategy: str, out: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "workbench", "report", "backtest_report",
                           "-p", "strategy", strategy, "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if done.returncode:
        raise SystemExit(f"report failed:\n{done.stderr[-3000:]}")
    html = out / "backtest_report.html"
    nb = nbformat.read(out / "backtest_report.ipynb", as_version=4)
    cells = [c.metadata.get("papermill", {}).get("duration") or 0.0 for c in nb.cells]
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.outputs
                  if "application/vnd.plotly.v1+json" in o.get("data", {}))
    slowest = max(range(len(cells)), key=cells.__getitem__)
    return {"wall_s": wall, "notebook_s": float(nb.metadata["papermill"]["duration"]),
            "cells_s": float(sum(cells)), "slowest_cell": slowest,
            "slowest_cell_s": cells[slowest], "html_mb": html.stat().st_size / 1e6,
            "ipynb_mb": (out / "backtest_report.ipynb").stat().st_size / 1e6,
            "figures": figures}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--strategy", default="ma_trend")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; backtest_report "
          f"with strategy={args.strategy}, {args.repeat} runs")
    subprocess.run([sys.executable, "-m", "workbench", "build-data"], cwd=REPO, check=True,
                   capture_output=True)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            r = one_run(args.strategy, Path(tmp) / f"run{k}")
            runs.append(r)
            print(f"  run {k + 1}: {r['wall_s']:.1f} s end to end (notebook {r['notebook_s']:.1f}"
                  f" s, cells {r['cells_s']:.1f} s, slowest cell #{r['slowest_cell']} "
                  f"{r['slowest_cell_s']:.1f} s); HTML {r['html_mb']:.2f} MB with "
                  f"{r['figures']} figures, executed notebook {r['ipynb_mb']:.2f} MB")
    wall = statistics.median(r["wall_s"] for r in runs)
    size = max(r["html_mb"] for r in runs)
    ok = wall < TARGET_S and size < TARGET_HTML_MB
    print(f"median {wall:.1f} s end to end (target < {TARGET_S:.0f} s), min "
          f"{min(r['wall_s'] for r in runs):.1f} s; HTML {size:.2f} MB (target < "
          f"{TARGET_HTML_MB:.0f} MB): {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
