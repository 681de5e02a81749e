"""Backtest speed: every A-share rule on, ``ma_trend`` on 300 and 3,000 stocks × ~2,500 days.

Usage::

    python benchmarks/bench_backtest.py                 # 300 and 3,000 stocks, 2,511 sessions
    python benchmarks/bench_backtest.py --sizes 300     # one size

Each size runs in a fresh subprocess, so its peak RSS is its own. Building the market is
timed and reported but not counted. The *cold* run includes turning the bars into dense
sessions × symbols panels (``Market.panel``, cached in the Market afterwards); the *warm*
run is a second run on the same Market, i.e. the engine alone. Targets: 300 stocks < 0.5 s,
3,000 stocks < 3 s and < 2 GB peak. Throughput is stock-sessions per second of the warm run.
The market is ``workbench.data.synthetic_market`` when available, else a dense random one.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

TARGETS_S = {300: 0.5, 3000: 3.0}
TARGET_RSS_MB = 2048


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def dense_random_market(n: int, start: str, end: str, seed: int):  # pragma: no cover
    """Fallback market: n SH main-board stocks listed throughout, random walks within limits."""
    from workbench import rules
    from workbench.calendar import sessions
    from workbench.data.market import Market
    from workbench.data.schema import FUNDAMENTAL_COLUMNS, ST_COLUMNS

    rng = np.random.default_rng(seed)
    days = sessions(start, end)
    t = len(days)
    ret = np.clip(rng.normal(0.0003, 0.02, (t, n)), -0.095, 0.095)
    close = np.round(10 * np.exp(np.cumsum(ret, axis=0)), 2)
    prev = np.vstack([close[:1], close[:-1]])
    up, down = rules.limit_prices(prev, 10)
    close = np.clip(close, down, up)
    prev = np.vstack([close[:1], close[:-1]])
    up, down = rules.limit_prices(prev, 10)
    opn = np.clip(np.round(prev * (1 + rng.normal(0, 0.005, (t, n))), 2), down, up)
    volume = rng.integers(1_000, 50_000, (t, n)) * 100
    symbols = [f"{600000 + i:06d}.SH" for i in range(n)]
    bars = pd.DataFrame({
        "date": np.repeat(days.to_numpy(), n),
        "symbol": pd.Categorical(np.tile(symbols, t), categories=symbols),
        "open": opn.ravel(), "high": np.maximum(opn, close).ravel(),
        "low": np.minimum(opn, close).ravel(), "close": close.ravel(),
        "volume": volume.ravel(), "amount": (volume * (opn + close) / 2).ravel(),
        "adj_factor": 1.0, "prev_close": prev.ravel(), "limit_up": up.ravel(),
        "limit_down": down.ravel(), "suspended": False, "is_st": False,
    })
    securities = pd.DataFrame({
        "symbol": symbols, "name": symbols, "exchange": "SH", "board": "SH main",
        "sector": [f"S{i % 14}" for i in range(n)], "list_date": pd.Timestamp("2000-01-04"),
        "delist_date": pd.NaT,
    })
    return Market(bars=bars, securities=securities,
                  fundamentals=pd.DataFrame(columns=list(FUNDAMENTAL_COLUMNS)),
                  st_periods=pd.DataFrame(columns=list(ST_COLUMNS)),
                  benchmark=pd.DataFrame({"date": days, "close": 1000.0}),
                  meta={"name": "dense-random"})


def measure(n: int, start: str, end: str, seed: int) -> dict:
    """Build a market of ``n`` stocks, run ma_trend twice, return timings and memory."""
    from workbench.backtest import run
    from workbench.config import BacktestConfig
    from workbench.strategies import get

    t0 = time.perf_counter()
    try:
        from workbench.data.synthetic import SyntheticConfig, synthetic_market

        market = synthetic_market(SyntheticConfig(n_stocks=n, start=start, end=end, seed=seed))
        source = "synthetic_market"
    except ImportError:  # pragma: no cover
        market = dense_random_market(n, start, end, seed)
        source = "dense random"
    build_s = time.perf_counter() - t0
    rss_built = _rss_mb()
    strategy, config = get("ma_trend"), BacktestConfig()  # every rule and cost on
    t0 = time.perf_counter()
    result = run(market, strategy, config)
    cold_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    run(market, strategy, config)
    warm_s = time.perf_counter() - t0
    sessions, symbols = len(result.daily), len(market.symbols)
    return {
        "stocks": symbols, "sessions": sessions, "bars": len(market.bars), "market": source,
        "build_s": build_s, "cold_s": cold_s, "warm_s": warm_s,
        "stock_days_per_s": symbols * sessions / warm_s,
        "rss_after_build_mb": rss_built, "peak_rss_mb": _rss_mb(),
        "fills": len(result.trades), "unfilled": len(result.unfilled),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="300,3000", help="stock counts, comma separated")
    parser.add_argument("--start", default="2014-09-03")  # 2,511 sessions to 2024-12-31
    parser.add_argument("--end", default="2024-12-31")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child process mode
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.start, args.end, args.seed)))
        return 0
    print(f"nproc {os.cpu_count()}, python {sys.version.split()[0]}, numpy {np.__version__}, "
          f"pandas {pd.__version__}")
    ok = True
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--start", args.start, "--end",
             args.end, "--seed", str(args.seed)],
            capture_output=True, text=True, check=True)
        m = json.loads(out.stdout.strip().splitlines()[-1])
        target = TARGETS_S.get(n)
        verdict = "" if target is None else (
            f"  target < {target:g} s: {'met' if m['warm_s'] < target else 'MISSED'}")
        print(f"{m['stocks']:>5} stocks × {m['sessions']} sessions ({m['bars']:,} bars, "
              f"{m['market']}): build {m['build_s']:.2f} s (not counted); run cold "
              f"{m['cold_s']:.2f} s, warm {m['warm_s']:.2f} s = "
              f"{m['stock_days_per_s'] / 1e6:.2f} M stock-days/s;{verdict}")
        print(f"      peak RSS {m['peak_rss_mb']:,.0f} MB (market alone "
              f"{m['rss_after_build_mb']:,.0f} MB); {m['fills']:,} fills, "
              f"{m['unfilled']:,} unfilled")
        ok &= target is None or m["warm_s"] < target
        if n >= 3000:
            ok &= m["peak_rss_mb"] < TARGET_RSS_MB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
