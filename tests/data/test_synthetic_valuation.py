"""The synthetic market's valuations stay where real A-shares are, for the whole sample.

Earnings yield (TTM EPS / price) and price-to-book (price / BVPS) are computed from the
point-in-time statements (:meth:`Market.fundamentals_asof`) and the raw close at every
month-end, for every listed stock with an announced report.

The yardstick is the real 80-stock sample (baostock daily ``peTTM`` / ``pbMRQ``,
2020-01-02 to 2025-04-07, read from ``../shared/data/real_ashare`` when present): its
percentiles over all stock-days are

=================  ======  ======  ======
percentile          1st     50th    99th
=================  ======  ======  ======
earnings yield*     0.0024  0.051   0.226
P/B                 0.50    2.26    19.6
=================  ======  ======  ======

(* where peTTM > 0; with the losses, the 1st percentile is -0.11.) The yearly P/B 99th
percentile alone ranges from 7.8 (2024) to 27.7 (2021). Before generator version 3 the
synthetic statements drifted away from prices: by 2023-24 the 99th percentile of earnings
yield was 2.4 and the 1st of P/B 0.07.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_REAL

from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market

PERCENTILES = (1, 50, 99)
#: Months in each of the start, middle and end windows.
WINDOW = 24
#: Allowed ratio between a synthetic and the real percentile (either way). The synthetic
#: market stands for the whole market, small caps and growth boards included, and the real
#: sample for 80 large-cap survivors; their medians differ by up to about 1.8x, and the
#: 2015 crash (deeper in the synthetic market than in the real one) widens the tails of
#: the start window by as much.
FACTOR = 2.5
#: The 1st percentile of a positive earnings yield is near-zero earnings (P/E in the
#: hundreds) in both; a ratio says little there, so it only has to stay below this.
EY_FLOOR_MAX = 0.01


@pytest.fixture(scope="module")
def default() -> Market:
    return synthetic_market(SyntheticConfig())


@pytest.fixture(scope="module")
def valuations(default: Market) -> pd.DataFrame:
    return month_end_valuations(default)


@pytest.fixture(scope="module")
def real() -> dict[str, np.ndarray]:
    files = sorted((SHARED_REAL / "bars").glob("*.csv"))
    if not files:
        pytest.skip(f"real A-share sample not found at {SHARED_REAL}")
    rows = pd.concat(pd.read_csv(f, usecols=["peTTM", "pbMRQ"]) for f in files)
    pe, pb = rows["peTTM"].dropna(), rows["pbMRQ"].dropna()
    return {"ey": np.percentile(1.0 / pe[pe > 0], PERCENTILES),
            "pb": np.percentile(pb[pb > 0], PERCENTILES)}


def month_end_valuations(market: Market) -> pd.DataFrame:
    """Earnings yield and P/B per listed stock with a report, at every month-end session.

    Also checks that the daily ``pe_ttm`` / ``pb_mrq`` bar columns say the same: they
    divide by the current share count, so they differ from ours only by the bonus shares
    issued since the report (until the next report restates the per-share figures).
    """
    close = market.panel("close")
    pe_bar, pb_bar = market.panel("pe_ttm"), market.panel("pb_mrq")
    cols = {str(s): k for k, s in enumerate(close.columns)}
    ends = close.index.to_series().groupby(close.index.to_period("M")).max()
    out = []
    same = total = 0
    for day in ends:
        f = market.fundamentals_asof(day)
        k = f["symbol"].astype(str).map(cols).to_numpy()
        price = close.loc[day].to_numpy()[k]
        f, k, price = f[np.isfinite(price)], k[np.isfinite(price)], price[np.isfinite(price)]
        ey = f["eps"].to_numpy() / price
        pb = price / f["bvps"].to_numpy()
        # shares now / shares at the report, from each bar column (four decimals).
        pos = ey > 0
        via_pb = pb_bar.loc[day].to_numpy()[k] / pb
        via_pe = pe_bar.loc[day].to_numpy()[k][pos] * ey[pos]
        np.testing.assert_allclose(via_pe, via_pb[pos], rtol=2e-3)
        assert np.isnan(pe_bar.loc[day].to_numpy()[k][~pos]).all()
        assert ((via_pb > 1 - 2e-3) & (via_pb < 2)).all()
        same += int(np.isclose(via_pb, 1.0, rtol=2e-3).sum())
        total += len(via_pb)
        out.append(pd.DataFrame({"date": day, "symbol": f["symbol"].astype(str).to_numpy(),
                                 "ey": ey, "pb": pb}))
    assert same > 0.9 * total
    return pd.concat(out, ignore_index=True)


def windows(valuations: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The first, middle and last WINDOW month-ends."""
    months = np.sort(valuations["date"].unique())
    mid = len(months) // 2
    picks = {"start": months[:WINDOW], "middle": months[mid - WINDOW // 2: mid + WINDOW // 2],
             "end": months[-WINDOW:]}
    return {name: valuations[valuations["date"].isin(m)] for name, m in picks.items()}


def test_every_listed_stock_is_valued_every_month(valuations: pd.DataFrame) -> None:
    per_month = valuations.groupby("date").size()
    assert len(per_month) == 120 and per_month.min() > 50
    assert np.isfinite(valuations[["ey", "pb"]]).all().all()


def test_valuations_stay_near_the_real_sample_without_drift(
        valuations: pd.DataFrame, real: dict[str, np.ndarray]) -> None:
    for name, w in windows(valuations).items():
        ey = np.percentile(w.loc[w["ey"] > 0, "ey"], PERCENTILES)
        pb = np.percentile(w["pb"], PERCENTILES)
        where = f"{name} ({w['date'].min().date()}..{w['date'].max().date()})"
        assert 0 < ey[0] < EY_FLOOR_MAX, f"{where}: 1st percentile of earnings yield {ey[0]}"
        for label, synth, ref in (("earnings yield", ey[1:], real["ey"][1:]),
                                  ("P/B", pb, real["pb"])):
            ratio = synth / ref
            assert ((ratio > 1 / FACTOR) & (ratio < FACTOR)).all(), (
                f"{where}: {label} percentiles {np.round(synth, 4)} vs the real sample's "
                f"{np.round(ref, 4)}")


def test_valuations_at_the_end_stay_within_fixed_bounds(valuations: pd.DataFrame) -> None:
    # Bounds around the real sample's percentiles (losses included): earnings yield 1st
    # -0.11, median 0.047, 99th 0.22; P/B 1st 0.50 (0.39..0.69 by year), median 2.26,
    # 99th 19.6 (7.8..27.7 by year).
    end = windows(valuations)["end"]
    ey_lo, ey_mid, ey_hi = np.percentile(end["ey"], PERCENTILES)
    pb_lo, pb_mid, pb_hi = np.percentile(end["pb"], PERCENTILES)
    assert ey_lo >= -0.2 and ey_hi <= 0.25, (ey_lo, ey_hi)
    assert 0.015 <= ey_mid <= 0.1, ey_mid
    assert pb_lo >= 0.3 and pb_hi <= 20, (pb_lo, pb_hi)
    assert 1 <= pb_mid <= 5, pb_mid
    # And no year strays far, the 2015 crash included.
    for year, g in valuations.groupby(valuations["date"].dt.year):
        assert np.percentile(g["ey"], 99) < 0.5, year
        assert np.percentile(g["pb"], 1) > 0.2, year
        assert np.percentile(g["pb"], 99) < 30, year
