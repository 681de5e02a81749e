"""Pre-trade risk inside a backtest: how much longer a run takes with risk on than off.

Usage::

    python benchmarks/bench_risk_backtest.py                  # ma_trend
    python benchmarks/bench_risk_backtest.py --strategies all # every registered strategy
    python benchmarks/bench_risk_backtest.py --repeats 21

Three markets, each timed within this one process so that the ratio is not at the mercy of
another job starting between two scripts:

* the default synthetic market (``synthetic_market()``, 100 stocks) with limits that never
  bind (every rate 1.0, a cash account): the cost of keeping the validator in step, nothing
  else. Target (issue 14): risk on at most 1.5 × risk off.
* the full synthetic market of ``bench_full_market.py`` (``--full-stocks``, default 3,000
  stocks × 2,511 sessions, saved once under ``default_data_dir()`` and loaded here with
  ``load_market``; ``--full-stocks 0`` leaves it out), the same never-binding limits and
  target: issue 14's targets are set at this size.
* the real 80-stock sample (``../shared/data/real_ashare``, imported into a temporary
  folder, skipped when absent) with the default ``RiskLimits()``: issue 11 asked for at
  most 2 ×, issue 14 for at most 1.5 ×. Target: at most 1.5 ×.

Each configuration runs once to warm up (the market's panels, the strategy's indicators),
then risk off and risk on alternate ``--repeats`` times. Each risk-on run is divided by the
risk-off run just before it, and the median of these paired ratios is held to the target:
a pair shares the machine's state of the moment, so a slow spell (another job, the host
taking the CPU back) that lands on one configuration more often than the other does not
move it. Beside it the table gives the medians of the wall times, the ratio of those
medians (the figure held before 2026-12-05, which moved by up to ±0.07 between runs of this
script on the same tree) and the ratio of the CPU-time medians. Exit status 1 when a target
is missed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = HERE.parents[1] / "shared" / "data" / "real_ashare"
#: Limits nothing in a cash account comes near (as in tests/test_backtest_risk.py).
NEVER_BINDING = {"max_position_rate": 1.0, "max_daily_loss_rate": 1.0,
                 "max_drawdown_rate": 1.0, "max_sector_rate": 1.0, "max_gross_leverage": 1.0,
                 "block_st_buys": False}


def real_market(folder: Path):
    """The real sample imported into ``folder``; its import warnings are not repeated."""
    from workbench.data import import_market

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return import_market(bars=REAL / "bars", adj_factors=REAL / "adj_factor.csv",
                             securities=REAL / "stock_basic.csv",
                             benchmark=REAL / "index" / "sh.000300.csv", out=folder / "real")


def full_market(stocks: int):
    """The saved market of ``bench_full_market.py`` (written first when it is missing or
    stale), loaded as a cold run loads it."""
    sys.path.insert(0, str(HERE))
    from bench_full_market import build, market_folder

    from workbench.data.store import load_market

    if build(stocks, rebuild=False)["built"]:
        print(f"(saved the {stocks:,}-stock market to {market_folder(stocks)})")
    return load_market(market_folder(stocks))


def ratio(market, strategy_name: str, limits, repeats: int) -> dict:
    """Wall and CPU seconds of ``repeats`` alternating risk-off / risk-on warm runs.

    Returns the medians (``off``, ``on``, seconds), ``paired``: the median of each risk-on
    run's time over the risk-off run's just before it, ``ratio``: the ratio of the medians,
    ``cpu_ratio``: that of the CPU-time medians, and the last run's counts."""
    from workbench.backtest import run
    from workbench.config import BacktestConfig
    from workbench.strategies import get

    strategy = get(strategy_name)
    off_cfg, on_cfg = BacktestConfig(), BacktestConfig(risk=limits)

    def timed(cfg):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run(market, strategy, cfg)
        return time.perf_counter() - t0, time.process_time() - c0, result

    timed(off_cfg)
    timed(on_cfg)  # warm-up
    off, on, off_cpu, on_cpu = [], [], [], []
    result = None
    for _ in range(repeats):
        seconds, cpu, _ = timed(off_cfg)
        off.append(seconds)
        off_cpu.append(cpu)
        seconds, cpu, result = timed(on_cfg)
        on.append(seconds)
        on_cpu.append(cpu)
    assert result is not None
    off_s, on_s = statistics.median(off), statistics.median(on)
    return {"off": off_s, "on": on_s, "ratio": on_s / off_s,
            "paired": statistics.median(b / a for a, b in zip(off, on, strict=True)),
            "cpu_ratio": statistics.median(on_cpu) / statistics.median(off_cpu),
            "rejections": len(result.rejections), "sessions": len(result.daily),
            "stocks": len(market.symbols)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strategies", default="ma_trend",
                        help="comma separated names, or 'all' (default ma_trend)")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--full-stocks", type=int, default=3000,
                        help="stocks of the full market (bench_full_market's; 0: leave out)")
    args = parser.parse_args(argv)

    from workbench import strategies
    from workbench.data import synthetic_market
    from workbench.risk import RiskLimits

    names = (strategies.available() if args.strategies == "all"
             else [s.strip() for s in args.strategies.split(",")])
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; warm runs, "
          f"{args.repeats} alternating risk-off / risk-on runs; on / off is the median of "
          "the paired ratios (held to the target), then the ratio of the medians and of the "
          "CPU-time medians")
    print("\n| market | limits | strategy | risk off | risk on | on / off (paired) | "
          "ratio of medians | in CPU time | rejections | target |\n"
          "|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench_risk_") as tmp:
        markets = [("synthetic", synthetic_market(), "never binding",
                    RiskLimits(**NEVER_BINDING), 1.5, True)]
        if args.full_stocks:
            markets.append(("full synthetic", full_market(args.full_stocks), "never binding",
                            RiskLimits(**NEVER_BINDING), 1.5, True))
        if REAL.is_dir():
            markets.append(("real sample", real_market(Path(tmp)), "`RiskLimits()`",
                            RiskLimits(), 1.5, True))
        for label, market, what, limits, target, must in markets:
            for name in names:
                m = ratio(market, name, limits, args.repeats)
                met = m["paired"] <= target
                verdict = (f"{'' if must else 'aim '}<= {target:g}x: "
                           f"{'met' if met else 'MISSED'}")
                print(f"| {label} ({m['stocks']} stocks × {m['sessions']:,} sessions) | "
                      f"{what} | {name} | {m['off']:.3f} s | {m['on']:.3f} s | "
                      f"**{m['paired']:.2f}x** | {m['ratio']:.2f}x | {m['cpu_ratio']:.2f}x | "
                      f"{m['rejections']:,} | "
                      f"{verdict} |", flush=True)
                if must and name == "ma_trend":
                    ok &= met
    if not REAL.is_dir():
        print(f"\nreal A-share sample not found at {REAL}; only the synthetic market timed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
