"""Validation of meaning: one small bad input per check, each naming file/row and column.

Each check of ``workbench.data.validation`` (see its module docstring for which are errors
and which warnings, and why) is triggered here alone, by a hand-made table one cell away
from a good one: first through :func:`validate_bars` (``x.csv``, header on line 1, so row 1
is line 3), then where it matters through the importers (the export's own file, line and
column) and a stored Market (its table and row). The last tests show that none fires on
the synthetic market nor on the real sample (with its 9 delisted stocks) when present.
"""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_REAL, tiny_market
from test_validation import good_bars as plain_bars

from workbench.data.importers import import_bars, import_benchmark, import_market
from workbench.data.market import Market
from workbench.data.synthetic import synthetic_market
from workbench.data.validation import (
    validate_bars,
    validate_benchmark,
    validate_listing,
    validate_market,
)
from workbench.errors import DataError, DataWarning

IMPORTS = Path(__file__).resolve().parent / "importers"
ADJ = IMPORTS / "adj_factor.csv"
EVENTS = SHARED_REAL.parent / "real_ashare_events"
#: The faults of the meaning checks, as their messages word them.
FAULTS = ("non-positive reference price", "limit_up below limit_down",
          "close outside its own limit band", "suspended=True on a row with volume > 0",
          "tradestatus 0 (suspended) on a row with volume > 0", "outside the day's range",
          "volume 0 but the prices move", "off the 0.01 CNY tick", "before their symbol's",
          "on or after their symbol's delist_date", "times the previous session's")


def good_bars() -> pd.DataFrame:
    """Two stocks, two sessions, every column consistent (limits: 10 % of prev_close):
    :func:`test_validation.good_bars` with the derived columns."""
    return plain_bars().assign(
        prev_close=[10.0, 10.1, 9.0, 9.1],
        limit_up=[11.0, 11.11, 9.9, 10.01],
        limit_down=[9.0, 9.09, 8.1, 8.19],
        suspended=[False, False, False, False],
        is_st=[False, False, False, False],
    )


LINES = np.arange(4) + 2  # header on line 1


def check(bars: pd.DataFrame) -> list[str]:
    """Validate as ``x.csv``; return the warnings' messages (errors propagate)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_bars(bars, source="x.csv", lines=LINES)
    return [str(w.message) for w in caught]


def meaning_findings(messages: list[str]) -> list[str]:
    return [m for m in messages if any(f in m for f in FAULTS)]


def test_good_bars_raise_and_warn_nothing():
    assert check(good_bars()) == []


# -- errors -----------------------------------------------------------------------------------
def test_non_positive_reference_price():
    bars = good_bars()
    bars.loc[1, "prev_close"] = 0.0  # limits left as they were: only the reference is bad
    with pytest.raises(DataError, match=r"^x\.csv: line 3, column 'prev_close': non-positive "
                                        r"reference price \[0\.0\], which gives crossed"):
        check(bars)


def test_crossed_limits():
    bars = good_bars()
    bars.loc[2, ["limit_up", "limit_down"]] = [8.1, 9.9]  # swapped
    with pytest.raises(DataError, match=r"^x\.csv: line 4, column 'limit_up': limit_up below "
                                        r"limit_down \(first \[8\.1\] < \[9\.9\]\)"):
        check(bars)


def test_suspended_row_that_traded():
    bars = good_bars()
    bars.loc[3, "suspended"] = True
    with pytest.raises(DataError, match=r"^x\.csv: line 5, column 'suspended': "
                                        r"suspended=True on a row with volume > 0"):
        check(bars)


def test_suspended_flag_that_is_no_flag():
    bars = good_bars()
    bars["suspended"] = pd.Series([False, None, "yes", True], dtype=object)  # None: not given
    bars.loc[3, ["volume", "amount"]] = [0, 0.0]
    bars.loc[3, ["open", "high", "low", "close"]] = 9.1
    with pytest.raises(DataError, match=r"^x\.csv: line 4, column 'suspended': must be True or "
                                        r"False"):
        check(bars)
    bars.loc[2, "suspended"] = 0
    assert check(bars) == []


@pytest.mark.parametrize(("column", "scale", "shown"), [
    ("amount", 1 / 1000, r"0\.0101"),  # amount in thousands of CNY
    ("volume", 1 / 100, r"1010"),  # volume in lots of 100
])
def test_amount_over_volume_outside_the_days_range(column, scale, shown):
    bars = good_bars()
    bars[column] = (bars[column] * scale).astype(bars[column].dtype)
    with pytest.raises(DataError, match=rf"^x\.csv: lines 2, 3, 4, 5, column 'amount, volume': "
                                        rf"amount / volume = {shown} CNY a share, outside the "
                                        r"day's range \[low, high\] = \[9\.9, 10\.2\]"):
        check(bars)


def test_amount_over_volume_allows_for_rounding():
    bars = good_bars().iloc[[0]].copy()
    bars[["open", "high", "low", "close"]] = 10.0
    bars[["volume", "amount"]] = [100, 1000.5]  # amount rounded to the yuan: 10.005 a share
    assert check(bars) == []
    bars[["volume", "amount"]] = [200, 1500.0]  # 150 shares reported as 2 lots: 7.50 a share
    assert check(bars) == []
    bars[["volume", "amount"]] = [200, 1450.0]  # 7.25 a share: beyond half a lot of rounding
    with pytest.raises(DataError, match="outside the day's range"):
        check(bars)


def test_bars_before_listing():
    master = pd.DataFrame({"symbol": ["600000.SH", "000001.SZ"],
                           "list_date": pd.to_datetime(["2024-01-03", "1991-04-03"]),
                           "delist_date": pd.to_datetime([None, None])})
    with pytest.raises(DataError, match=r"^x\.csv: line 2, column 'date': 1 bars before their "
                                        r"symbol's list_date \(first 600000\.SH on 2024-01-02, "
                                        r"list_date 2024-01-03\)"):
        validate_listing(good_bars(), master, source="x.csv", lines=LINES)
    master.loc[0, "list_date"] = pd.Timestamp("2024-01-02")  # the first bar is the listing
    validate_listing(good_bars(), master, source="x.csv", lines=LINES)


def test_bars_on_or_after_delisting():
    master = pd.DataFrame({"symbol": ["600000.SH", "000001.SZ"],
                           "list_date": pd.to_datetime(["1999-11-10", "1991-04-03"]),
                           "delist_date": pd.to_datetime([None, "2024-01-03"])})
    with pytest.raises(DataError, match=r"^x\.csv: line 5, column 'date': 1 bars on or after "
                                        r"their symbol's delist_date \(first 000001\.SZ on "
                                        r"2024-01-03, delist_date 2024-01-03\)"):
        validate_listing(good_bars(), master, source="x.csv", lines=LINES)
    master.loc[1, "delist_date"] = pd.Timestamp("2024-01-04")
    validate_listing(good_bars(), master, source="x.csv", lines=LINES)


def benchmark(closes: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"date": pd.bdate_range("2024-01-02", periods=len(closes)),
                         "close": closes})


@pytest.mark.parametrize("scale", [100.0, 1 / 100])
def test_benchmark_jump(scale):
    bench = benchmark([3500.0, 3510.0, 3510.0 * scale, 3520.0 * scale])
    with pytest.raises(DataError, match=r"^index\.csv: line 4, column 'close': close \S+ is "
                                        rf"{scale:.3g} times the previous session's \(3510 on "
                                        r"2024-01-03\)"):
        validate_benchmark(bench, source="index.csv", lines=np.arange(4) + 2)


def test_benchmark_jump_threshold_leaves_real_moves_alone():
    # the SSE Composite's +105 % of 1992-05-21 (limits lifted), and a -50 % day
    validate_benchmark(benchmark([616.99, 1265.79, 632.9]))
    with pytest.raises(DataError, match="row 1"):
        validate_benchmark(benchmark([100.0, 1000.1]))  # rows in any order: by date
    with pytest.raises(DataError, match="row 0"):
        validate_benchmark(benchmark([1000.1, 100.0]).iloc[::-1].reset_index(drop=True))


# -- warnings ---------------------------------------------------------------------------------
def test_close_outside_its_own_limit_band():
    bars = good_bars().iloc[[0]].copy()  # one bar: no close-to-close move to warn about
    bars[["limit_up", "limit_down"]] = [10.05, 9.0]  # close 10.10 above limit_up
    found = check(bars)
    assert len(found) == 1, found
    assert found[0].startswith("x.csv: line 2, column 'close': 1 rows: close outside its own "
                               "limit band [limit_down, limit_up] (first 10.1 outside "
                               "[9, 10.05])")
    bars["limit_up"] = 10.1 - 1e-9  # equal to the close but for float noise
    assert check(bars) == []


@pytest.mark.parametrize("suspended", [False, True])
def test_zero_volume_with_moving_prices(suspended):
    bars = good_bars()
    bars.loc[1, ["volume", "amount", "suspended"]] = [0, 0.0, suspended]
    found = check(bars)
    assert len(found) == 1, found
    assert found[0].startswith("x.csv: line 3, column 'volume': 1 rows: volume 0 but the "
                               "prices move")
    bars.loc[1, ["open", "high", "low"]] = 10.2  # flat at 10.2, prev_close 10.1
    assert check(bars) == ([] if suspended else found)  # a suspended row may sit ex-rights
    bars.loc[1, ["open", "high", "low", "close"]] = 10.1  # flat at prev_close
    assert check(bars) == []


def test_off_tick_prices():
    bars = good_bars()
    bars.loc[2, "close"] = 9.1234  # a backward-adjusted price, say
    bars.loc[2, "amount"] = 3000 * 9.1234
    found = check(bars)
    assert found == ["x.csv: line 4, column 'close': 1 rows: prices off the 0.01 CNY tick "
                     "(first 9.1234); raw A-share prices are whole fen: are these adjusted or "
                     "rescaled prices?"]


def test_off_tick_tolerates_float32_storage():
    bars = good_bars()
    for col in ("open", "high", "low", "close", "prev_close", "limit_up", "limit_down"):
        bars[col] = bars[col].astype(np.float32).astype(np.float64)
        bars[col] *= 100.0  # prices of a few hundred yuan lose more digits in float32
    bars["amount"] *= 100.0
    assert check(bars) == []


# -- the importers name the export's line and column ------------------------------------------
def mutated(src: Path, folder: Path, line: int, cells: dict[str, str]) -> Path:
    """A copy of ``src`` in ``folder`` with cells of one file line replaced."""
    rows = src.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    values = rows[line - 1].split(",")
    for column, value in cells.items():
        values[header.index(column)] = value
    rows[line - 1] = ",".join(values)
    folder.mkdir(exist_ok=True)
    out = folder / src.name
    out.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out


def test_import_tradestatus_zero_with_volume(tmp_path):
    path = mutated(IMPORTS / "baostock" / "sz.000002.csv", tmp_path / "b", 2,
                   {"tradestatus": "0"})
    with pytest.raises(DataError, match=r"sz\.000002\.csv: line 2, column 'tradestatus': "
                                        r"tradestatus 0 \(suspended\) on a row with volume > 0"):
        import_bars(path, adj_factors=ADJ)


def test_import_names_the_exports_column(tmp_path):
    path = mutated(IMPORTS / "baostock" / "sz.000002.csv", tmp_path / "b", 5, {"preclose": "0"})
    with pytest.raises(DataError, match=r"sz\.000002\.csv: line 5, column 'preclose': "
                                        r"non-positive reference price"):
        import_bars(path, adj_factors=ADJ)
    # akshare volume already in shares, read as lots (x 100): amount / volume 100 x too low
    shares = mutated(IMPORTS / "akshare" / "600000.csv", tmp_path / "a", 3,
                     {"成交量": "25001200"})
    with pytest.raises(DataError, match=r"600000\.csv: line 3, column '成交额, 成交量': amount / "
                                        r"volume = 0\.086"):
        import_bars(shares, adj_factors=ADJ)


def test_import_warns_with_the_exports_line(tmp_path):
    path = mutated(IMPORTS / "baostock" / "sz.000002.csv", tmp_path / "b", 6,
                   {"close": "6.503", "amount": "455210000.0"})
    with pytest.warns(DataWarning) as caught:
        import_bars(path, adj_factors=ADJ)
    assert [str(w.message) for w in caught] == [
        f"{path}: line 6, column 'close': 1 rows: prices off the 0.01 CNY tick (first 6.503); "
        "raw A-share prices are whole fen: are these adjusted or rescaled prices?"]


def test_import_bars_before_listing(tmp_path):
    basic = tmp_path / "stock_basic.csv"
    basic.write_text((IMPORTS / "stock_basic.csv").read_text(encoding="utf-8").replace(
        "19910129", "20240717"), encoding="utf-8")  # 000002.SZ "listed" mid-sample
    with pytest.raises(DataError, match=r"baostock/sz\.000002\.csv: lines 2, 3, column 'date': "
                                        r"2 bars before their symbol's list_date \(first "
                                        r"000002\.SZ on 2024-07-15, list_date 2024-07-17\)"):
        import_bars(IMPORTS / "baostock", adj_factors=ADJ, securities=basic)


def test_import_benchmark_jump(tmp_path):
    index = tmp_path / "index.csv"
    index.write_text("date,code,open,high,low,close,preclose,volume,amount,pctChg\n"
                     "2024-07-16,sh.000300,,,,3515.25,,,,\n"
                     "2024-07-15,sh.000300,,,,3505.55,,,,\n"
                     "2024-07-17,sh.000300,,,,3.48210,,,,\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"index\.csv: line 4, column 'close': close 3\.4821 is "
                                        r"0\.000991 times the previous session's \(3515\.25 on "
                                        r"2024-07-16\)"):
        import_benchmark(index)


# -- a stored Market names its table and row --------------------------------------------------
def test_market_names_table_and_row():
    m = tiny_market()
    bars = m.bars.copy()
    bars.loc[2, "suspended"] = True
    with pytest.raises(DataError, match=r"^tiny/bars\.parquet: row 2, column 'suspended': "):
        validate_market(dataclasses.replace(m, bars=bars), source="tiny")
    securities = m.securities.copy()
    securities.loc[0, "list_date"] = pd.Timestamp("2024-01-03")  # 600000.SH
    with pytest.raises(DataError, match=r"^tiny/bars\.parquet: row 1, column 'date': 1 bars "
                                        r"before their symbol's list_date"):
        validate_market(dataclasses.replace(m, securities=securities), source="tiny")
    bench = m.benchmark.copy()
    bench.loc[3:, "close"] *= 1000.0
    with pytest.raises(DataError, match=r"^tiny/benchmark\.parquet: row 3, column 'close': "):
        validate_market(dataclasses.replace(m, benchmark=bench), source="tiny")


# -- none fires on good data ------------------------------------------------------------------
def validate_quietly(market: Market) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate_market(market, source=market.name)
    return [str(w.message) for w in caught]


def test_nothing_fires_on_the_tiny_and_synthetic_markets():
    assert validate_quietly(tiny_market()) == []
    assert validate_quietly(synthetic_market()) == []


@pytest.mark.real_data
@pytest.mark.skipif(not (SHARED_REAL.is_dir() and EVENTS.is_dir()),
                    reason=f"real samples not found at {SHARED_REAL} and {EVENTS}")
def test_nothing_fires_on_the_real_sample_with_its_delisted_stocks(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        market = import_market(
            bars=[SHARED_REAL / "bars", EVENTS / "delisted" / "bars"],
            adj_factors=SHARED_REAL / "adj_factor.csv",
            securities=[SHARED_REAL / "stock_basic.csv", EVENTS / "delisted" / "stock_basic.csv"],
            benchmark=SHARED_REAL / "index" / "sh.000300.csv", out=tmp_path / "real")
    assert len(market.bars) > 199_000
    assert market.securities["delist_date"].notna().sum() == 9
    assert meaning_findings([str(w.message) for w in caught]) == []
    assert meaning_findings(validate_quietly(market)) == []
