"""Every strategy on the real 80-stock sample (survivors only), as a Markdown table.

Usage::

    python benchmarks/real_sample.py            # print and write benchmarks/README.md
    python benchmarks/real_sample.py --print    # print only

Needs ``../shared/data/real_ashare`` beside the project (80 CSI 300 stocks, 2015-2025, with
the CSI 300 price index); without it the script says so and exits 0. It imports the sample
with :func:`workbench.data.import_market` into a temporary folder, runs
:func:`workbench.research.compare.evaluate_strategies` (default split: in sample to the end
of 2022, out of sample after) with default parameters and configuration, and writes the
table between ``<!-- real-sample:start -->`` and ``<!-- real-sample:end -->`` in
``benchmarks/README.md`` under "Real sample (survivors only)". The import's own warnings
(survivors only, a present-day sector map) are printed and repeated under the table: every
figure in it is flattered by survivorship.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE.parents[1] / "shared" / "data" / "real_ashare"
MARKERS = ("<!-- real-sample:start -->", "<!-- real-sample:end -->")
HEADING = "## Real sample (survivors only)"

sys.path.insert(0, str(HERE))
from strategy_table import README, conventions, strategy_rows, write  # noqa: E402


def build_section(real: Path = REAL) -> str:
    """Import the sample, run every strategy in and out of sample, return the section."""
    from workbench import evaluation, strategies
    from workbench.data import import_market, provenance

    with tempfile.TemporaryDirectory(prefix="real_sample_") as tmp:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            market = import_market(bars=real / "bars", adj_factors=real / "adj_factor.csv",
                                   securities=real / "stock_basic.csv",
                                   benchmark=real / "index" / "sh.000300.csv",
                                   out=Path(tmp) / "real")
        for w in caught:
            print(f"import warning: {w.message}", file=sys.stderr)
        lines, periods, seconds = strategy_rows(market, evaluation.Split())
    prov = provenance(market)
    params = "; ".join(f"`{n}` {strategies.get(n).params}" for n in strategies.available())
    notes = [
        "",
        f"Market: {prov.lines()[0]} " + conventions(market, periods),
        "",
        *[f"**{note[0].upper() + note[1:]}.**" for note in prov.notes],
        "",
        f"Default parameters: {params}.",
        "",
        f"Produced by `python benchmarks/real_sample.py` in {seconds:.1f} s (12 backtests).",
    ]
    return "\n".join(lines + notes)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print only, write nothing")
    args = parser.parse_args(argv)
    if not REAL.is_dir():
        print(f"real A-share sample not found at {REAL}; nothing to do")
        return 0
    section = build_section()
    print(section)
    if not args.print:
        write(section, README, markers=MARKERS, heading=HEADING)
        print(f"\nwritten to {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
