"""Report sizes: the default reports with plotly.js inlined in every page, and shared.

Usage::

    python benchmarks/bench_report_size.py                  # run both batches in a temp folder
    python benchmarks/bench_report_size.py --out /tmp/sizes # kept in /tmp/sizes/{inline,shared}
    python benchmarks/bench_report_size.py --out /tmp/sizes --no-run   # measure those again

Each batch is ``python -m workbench schedule JOBS --plotlyjs MODE`` in a fresh process, with
``JOBS`` a copy of ``reports/jobs.toml`` in ``OUT/MODE/`` (so the reports go there, as
``make report`` writes them to ``reports/``). ``inline`` (the default) puts plotly.js
(about 4.6 MB) into every page; ``shared`` writes it once, ``OUT/shared/plotly.min.js``,
and every page loads it from ``../plotly.min.js``. Printed: each page's size in both modes,
the totals (the shared copy counted once), and the executed notebooks' sizes, which the
mode does not change.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODES = ("inline", "shared")


def run_batch(folder: Path, mode: str) -> float:
    """The default jobs into ``folder`` with ``--plotlyjs mode``; return the wall time."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = folder / "jobs.toml"
    shutil.copyfile(REPO / "reports" / "jobs.toml", jobs)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "workbench", "schedule", str(jobs),
                           "--plotlyjs", mode], cwd=REPO, check=False)
    if done.returncode:
        print(f"warning: some {mode} reports failed (exit {done.returncode}); measuring the rest")
    return time.perf_counter() - t0


def sizes(folder: Path) -> dict[str, int]:
    """``{report name: bytes of its HTML page}``, through ``folder/NAME`` (the symlink)."""
    return {p.parent.name: p.stat().st_size for p in sorted(folder.glob("*/*.html"))
            if p.stem == p.parent.name}


def notebooks(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*/*.ipynb")
               if p.stem == p.parent.name)


def mb(n: float) -> str:
    return f"{n / 1e6:.2f}"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None,
                    help="keep the batches in OUT/inline and OUT/shared (default: a temp folder)")
    ap.add_argument("--no-run", action="store_true", help="measure the batches already in --out")
    args = ap.parse_args(argv)
    if args.no_run and args.out is None:
        ap.error("--no-run measures the batches in --out; give --out")
    base = args.out or Path(tempfile.mkdtemp(prefix="report-size-"))
    try:
        walls = {m: (0.0 if args.no_run else run_batch(base / m, m)) for m in MODES}
        found = {m: sizes(base / m) for m in MODES}
        shared_js = base / "shared" / "plotly.min.js"
        js = shared_js.stat().st_size if shared_js.is_file() else 0
        names = sorted(set(found["inline"]) | set(found["shared"]))
        print(f"\n{'report':28s} {'inline MB':>10s} {'shared MB':>10s}")
        for name in names:
            print(f"{name:28s} {mb(found['inline'].get(name, 0)):>10s} "
                  f"{mb(found['shared'].get(name, 0)):>10s}")
        pages = {m: sum(found[m].values()) for m in MODES}
        print(f"{'plotly.min.js (shared, once)':28s} {'':>10s} {mb(js):>10s}")
        print(f"{'total':28s} {mb(pages['inline']):>10s} {mb(pages['shared'] + js):>10s}")
        print(f"\n{len(names)} reports; pages alone: inline {mb(pages['inline'])} MB, shared "
              f"{mb(pages['shared'])} MB; executed notebooks {mb(notebooks(base / 'inline'))} "
              "MB (either mode)")
        if not args.no_run:
            print(f"wall: inline {walls['inline']:.0f} s, shared {walls['shared']:.0f} s")
        if args.out is not None:
            print(f"kept in {base}")
    finally:
        if args.out is None:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
