"""Pre-trade validator speed: µs per ``check`` and orders per second of ``check_batch``.

A realistic state: 3,000 registered symbols across the five boards, 60 held positions,
today's limit prices for every symbol. Orders are random but mostly plausible (known
symbols, trading hours, lots, prices in the band), so that they run deep into the checks;
about a fifth are rejected somewhere. Targets (2-core machine): median ``check`` under 5 µs,
``check_batch`` over 1,000,000 orders/s.

Run: ``python benchmarks/bench_risk.py [n_single] [n_batch]``.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd

from workbench.risk import Order, PreTradeValidator, RiskLimits, rejection_counts

TZ = "Asia/Shanghai"
DAY = "2024-01-02"
PREFIXES = [("600", "SH"), ("601", "SH"), ("000", "SZ"), ("002", "SZ"), ("300", "SZ"),
            ("688", "SH"), ("830", "BJ")]
SECTORS = ["Banks", "Tech", "Energy", "Consumer", "Health", "Materials", "Industrials",
           "Utilities", "Real Estate", "Media"]


def build_state(rng: np.random.Generator, n_symbols: int = 3_000) -> tuple[PreTradeValidator,
                                                                            pd.DataFrame]:
    symbols = [f"{p}{i:03d}.{ex}" for i in range(n_symbols // len(PREFIXES) + 1)
               for p, ex in PREFIXES][:n_symbols]
    closes = np.round(rng.uniform(3.0, 80.0, n_symbols), 2)
    master = pd.DataFrame({"symbol": symbols, "sector": rng.choice(SECTORS, n_symbols)})
    held = rng.choice(n_symbols, 60, replace=False)
    positions = {symbols[i]: int(rng.integers(1, 50)) * 100 for i in held}
    prices = {symbols[i]: float(closes[i]) for i in held}
    v = PreTradeValidator(RiskLimits(max_position_rate=0.05), cash_cny=20_000_000.0,
                          securities=master, positions=positions, prices=prices)
    pct = np.where(np.char.startswith(np.array(symbols), "688"), 0.2, 0.1)
    day = pd.DataFrame({"symbol": symbols,
                        "limit_up": np.round(closes * (1 + pct), 2),
                        "limit_down": np.round(closes * (1 - pct), 2),
                        "suspended": rng.random(n_symbols) < 0.01,
                        "is_st": rng.random(n_symbols) < 0.03})
    v.start_day(DAY, day)
    return v, pd.DataFrame({"symbol": symbols, "close": closes})


def random_orders(rng: np.random.Generator, universe: pd.DataFrame, v: PreTradeValidator,
                  n: int) -> pd.DataFrame:
    """Mostly plausible orders: 98 % in hours, lots of 100, prices within ±12 % of close,
    70 % buys; nine sells in ten are of held names, at most the shares held."""
    symbols = universe["symbol"].to_numpy()
    pick = rng.integers(0, len(universe), n)
    quantity = rng.integers(1, 80, n) * 100 + np.where(rng.random(n) < 0.03, 50, 0)
    sell = rng.random(n) >= 0.7
    held = np.array([i for i, s in enumerate(symbols) if v.position(s)[0]])
    own = sell & (rng.random(n) < 0.9)
    pick[own] = rng.choice(held, own.sum())
    held_shares = np.array([v.position(s)[0] for s in symbols[pick[own]]])
    quantity[own] = np.maximum(held_shares * rng.random(own.sum()) // 100, 1) * 100
    seconds = rng.choice(np.r_[np.arange(9.5 * 3600, 11.5 * 3600), np.arange(13 * 3600,
                                                                                15 * 3600)], n)
    seconds = np.where(rng.random(n) < 0.02, rng.integers(0, 86_400, n), seconds)
    close = universe["close"].to_numpy()[pick]
    return pd.DataFrame({
        "symbol": pd.Categorical(symbols[pick]),
        "side": pd.Categorical(np.where(sell, "sell", "buy")),
        "quantity": quantity,
        "limit_price": np.round(close * rng.uniform(0.88, 1.12, n), 2),
        "timestamp": pd.Timestamp(DAY, tz=TZ) + pd.to_timedelta(seconds, unit="s"),
    })


def bench_single(v: PreTradeValidator, frame: pd.DataFrame) -> None:
    orders = [Order(symbol=s, side=side, quantity=int(q), limit_price=float(p), timestamp=t)
              for s, side, q, p, t in zip(frame["symbol"].astype(str), frame["side"].astype(str),
                                          frame["quantity"], frame["limit_price"],
                                          frame["timestamp"], strict=True)]
    check, clock = v.check, time.perf_counter_ns
    for o in orders[:5_000]:  # warm up
        check(o)
    times = np.empty(len(orders), dtype=np.int64)
    reasons: Counter[str] = Counter()
    for i, o in enumerate(orders):
        t0 = clock()
        d = check(o)
        times[i] = clock() - t0
        reasons[d.reason] += 1
    empty = np.empty(10_000, dtype=np.int64)
    for i in range(len(empty)):
        t0 = clock()
        empty[i] = clock() - t0
    print(f"check(): {len(orders):,} orders, one perf_counter_ns pair around each call")
    print(f"  median {np.median(times) / 1e3:6.2f} µs   P99 {np.percentile(times, 99) / 1e3:6.2f}"
          f" µs   mean {times.mean() / 1e3:6.2f} µs   (timer pair alone: median "
          f"{np.median(empty) / 1e3:.2f} µs)")
    print(f"  accepted {reasons['ACCEPTED'] / len(orders):.1%}; reasons: "
          + ", ".join(f"{k} {n}" for k, n in reasons.most_common(8)))


def bench_batch(v: PreTradeValidator, frame: pd.DataFrame) -> None:
    v.check_batch(frame.head(1_000))  # builds the per-symbol arrays once
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        result = v.check_batch(frame)
        best = min(best, time.perf_counter() - t0)
    print(f"check_batch(): {len(frame):,} orders (categorical symbol/side, tz-aware timestamps)")
    print(f"  best of 3: {best:.3f} s = {len(frame) / best:,.0f} orders/s; "
          f"accepted {result['accepted'].mean():.1%}")
    text = frame.astype({"symbol": str, "side": str})
    t0 = time.perf_counter()
    v.check_batch(text)
    took = time.perf_counter() - t0
    print(f"  with string symbol/side columns: {took:.3f} s = {len(frame) / took:,.0f} orders/s")
    top = rejection_counts(result).sort_values("count", ascending=False).head(5)
    print("  top rejections: " + ", ".join(f"{r} {c:,}" for r, c in zip(top["reason"],
                                                                       top["count"], strict=True)))


def main(argv: list[str]) -> None:
    n_single = int(argv[0]) if argv else 100_000
    n_batch = int(argv[1]) if len(argv) > 1 else 1_000_000
    print(f"nproc {os.cpu_count()}, Python {platform.python_version()}, numpy {np.__version__},"
          f" pandas {pd.__version__}")
    rng = np.random.default_rng(20240102)
    v, universe = build_state(rng)
    bench_single(v, random_orders(rng, universe, v, n_single))
    bench_batch(v, random_orders(rng, universe, v, n_batch))


if __name__ == "__main__":
    main(sys.argv[1:])
