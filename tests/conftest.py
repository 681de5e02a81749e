"""Shared fixtures: small hand-checkable markets built in code, paths from this file."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.data.market import Market
from workbench.data.schema import FUNDAMENTAL_COLUMNS, ST_COLUMNS

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SHARED_REAL = REPO.parent / "shared" / "data" / "real_ashare"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--screenshots", metavar="DIR", default=None,
                     help="write a full-page PNG of every default report to DIR "
                          "(tests/report/test_browser.py) and the dashboard's views to "
                          "DIR/dashboard (tests/test_dashboard_browser.py)")


def tiny_market() -> Market:
    """Two stocks, five sessions, one report each, one ST episode, one delisting.

    600000.SH (SH main, Banks) trades every day. 000002.SZ (SZ main, Real Estate) is ST
    from 2024-01-03 and delisted from 2024-01-08 (last session 2024-01-05).
    """
    dates = pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05",
                            "2024-01-08"])
    rows = []
    for i, d in enumerate(dates):
        rows.append(("600000.SH", d, 10.0 + i * 0.1, False))
        if d < pd.Timestamp("2024-01-08"):
            rows.append(("000002.SZ", d, 5.0 - i * 0.2, i >= 1))
    bars = pd.DataFrame(rows, columns=["symbol", "date", "close", "is_st"])
    bars["open"] = bars["close"]
    bars["high"] = bars["close"] + 0.05
    bars["low"] = bars["close"] - 0.05
    bars["volume"] = np.int64(100_000)
    bars["amount"] = bars["close"] * 100_000
    bars["adj_factor"] = 1.0
    bars["prev_close"] = bars.groupby("symbol")["close"].shift(1)
    bars["limit_up"] = np.nan
    bars["limit_down"] = np.nan
    bars["suspended"] = False
    bars = bars.sort_values(["date", "symbol"]).reset_index(drop=True)
    bars["symbol"] = bars["symbol"].astype("category")
    securities = pd.DataFrame({
        "symbol": ["600000.SH", "000002.SZ"],
        "name": ["浦发银行", "万科A"],
        "exchange": ["SH", "SZ"],
        "board": ["SH main", "SZ main"],
        "sector": ["Banks", "Real Estate"],
        "list_date": pd.to_datetime(["1999-11-10", "1991-01-29"]),
        "delist_date": pd.to_datetime([None, "2024-01-08"]),
    })
    fundamentals = pd.DataFrame(
        [
            ("600000.SH", "2023-09-30", "2023-10-28", 1.5, 20.0, 0.08, 0.01, 0.02, 2.9e10),
            ("600000.SH", "2023-12-31", "2024-01-04", 1.6, 20.5, 0.08, 0.02, 0.03, 2.9e10),
            ("000002.SZ", "2023-09-30", "2023-10-30", -0.5, 18.0, -0.03, -0.1, -0.9, 1.1e10),
        ],
        columns=list(FUNDAMENTAL_COLUMNS),
    )
    for c in ("period_end", "announce_date"):
        fundamentals[c] = pd.to_datetime(fundamentals[c])
    st = pd.DataFrame({"symbol": ["000002.SZ"], "start": pd.to_datetime(["2024-01-03"]),
                       "end": pd.to_datetime(["2024-01-05"])}, columns=list(ST_COLUMNS))
    benchmark = pd.DataFrame({"date": dates, "open": 3500.0, "high": 3510.0, "low": 3490.0,
                              "close": [3500.0, 3505.0, 3499.0, 3510.0, 3520.0],
                              "volume": 1e9, "amount": 1e11})
    return Market(bars=bars, securities=securities, fundamentals=fundamentals,
                  st_periods=st, benchmark=benchmark, meta={"name": "tiny", "source": "test"})


@pytest.fixture
def tiny() -> Market:
    return tiny_market()


#: What a table cell must never show, with why (the report and dashboard browser tests).
INTERNALS: dict[str, re.Pattern[str]] = {
    "a time of midnight": re.compile(r"00:00:00"),
    "a raw repr": re.compile(r"<[A-Za-z_][\w.]*[ >]|object at 0x"),
    "a hash ID": re.compile(r"(?<![\w.])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*\d)[0-9a-f]{8,}(?![\w.])"),
    "a Python dict or list": re.compile(r"\{\s*['\"]?\w+['\"]?\s*:|\[\s*['\"]"),
    "a cut-off text": re.compile(r"…|\.\.\.$"),
    "a missing number": re.compile(r"^(nan|NaN|None|NaT|<NA>)$"),
}

#: Headless browsers the browser tests drive, first found on PATH wins.
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    """A headless Chromium or Chrome; skipped without one (a failure under CI=true)."""
    exe = find_browser()
    if exe is None:
        message = (f"no headless browser on PATH (looked for {', '.join(BROWSERS)}); install "
                   "one to run this test, e.g. `sudo apt-get install chromium` on Debian or "
                   "Ubuntu, or Google Chrome elsewhere")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; .ci/run installs Debian's chromium before make test")
        pytest.skip(message)
    return exe
