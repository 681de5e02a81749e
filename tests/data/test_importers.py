"""Importers: every layout gives the same canonical bars; every fault names file, line, column.

The sample files in ``tests/data/importers/`` are one small hand-checkable table written in
each source's real column layout: 600000.SH (SH main) with an ex-dividend day (0.40 CNY on
2024-07-17, reference price 8.20) and a limit-up day (9.08 on 2024-07-18), 000002.SZ (SZ main)
suspended on 2024-07-16/17 and closing limit-down (6.35) on 2024-07-18, and, in baostock
layout only, 600150.SH under *ST from 2024-07-16 to 07-18 (5 % limits).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import cli
from workbench.data.importers import (
    import_adj_factors,
    import_bars,
    import_benchmark,
    import_market,
    import_securities,
)
from workbench.data.schema import (
    BAR_COLUMNS,
    BAR_DTYPES,
    BENCHMARK_COLUMNS,
    FUNDAMENTAL_COLUMNS,
    REQUIRED_BAR_COLUMNS,
    SECURITY_COLUMNS,
)
from workbench.data.store import load_market
from workbench.errors import DataError, DataWarning, LookupFailed

#: Every sample here is survivors only with a stock_basic snapshot; those two warnings are
#: the subject of tests/data/test_provenance.py, not of these tests.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(survivors only|present-day snapshot):workbench.errors.DataWarning")

DATA = Path(__file__).resolve().parent / "importers"
ADJ = DATA / "adj_factor.csv"
SAMPLES = {
    "tushare": DATA / "tushare_daily.csv",
    "akshare": DATA / "akshare",
    "baostock": DATA / "baostock",
}
DAY = pd.Timestamp


def bar(bars: pd.DataFrame, symbol: str, day: str) -> pd.Series:
    row = bars.loc[(bars["symbol"] == symbol) & (bars["date"] == DAY(day))]
    assert len(row) == 1
    return row.iloc[0]


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_text(text, encoding=encoding)
    return path


def mutate(src: Path, dest_dir: Path, line: int, column: str, value: str) -> Path:
    """Copy ``src`` into ``dest_dir`` with one cell (file line, header column) replaced."""
    lines = src.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    return write(dest_dir / src.name, "\n".join(lines) + "\n")


# -- every layout, one canonical frame --------------------------------------------------------
@pytest.fixture(scope="module")
def imported() -> dict[str, pd.DataFrame]:
    out = {name: import_bars(path, adj_factors=ADJ) for name, path in SAMPLES.items()}
    out["canonical"] = import_bars(DATA / "canonical.csv")
    return out


def test_each_layout_imports_to_the_same_canonical_frame(imported):
    reference = imported["canonical"]
    assert list(reference.columns) == list(BAR_COLUMNS)
    first_day = reference["date"] == reference["date"].min()
    for name, bars in imported.items():
        assert list(bars.columns[: len(BAR_COLUMNS)]) == list(BAR_COLUMNS), name
        core = [*REQUIRED_BAR_COLUMNS, "suspended", "is_st"]
        pd.testing.assert_frame_equal(bars[core], reference[core], obj=name)
        # sources with a pre_close know the first day's reference price; the others cannot
        derived = ["prev_close", "limit_up", "limit_down"]
        pd.testing.assert_frame_equal(bars.loc[~first_day, derived],
                                      reference.loc[~first_day, derived], obj=name)


def test_canonical_dtypes_and_order(imported):
    for name, bars in imported.items():
        assert bars["date"].dtype == "datetime64[ns]", name
        assert isinstance(bars["symbol"].dtype, pd.CategoricalDtype), name
        for column, dtype in BAR_DTYPES.items():
            if column in bars:
                assert bars[column].dtype == dtype, (name, column)
        keys = list(zip(bars["date"], bars["symbol"].astype(str), strict=True))
        assert keys == sorted(keys), name


def test_units_are_converted_lots_to_shares_thousands_to_cny(imported):
    # tushare: vol 301254.00 lots, amount 257571.670 thousand CNY; akshare: 301254 lots
    for name in ("tushare", "akshare", "baostock"):
        row = bar(imported[name], "600000.SH", "2024-07-15")
        assert row["volume"] == 30_125_400, name
        assert row["amount"] == pytest.approx(257_571_670.0, abs=1e-3), name


def test_baostock_keeps_valuation_ratios(imported):
    row = bar(imported["baostock"], "600000.SH", "2024-07-16")
    assert (row["pe_ttm"], row["pb_mrq"]) == (4.51, 0.411)
    assert "pe_ttm" not in imported["tushare"]


# -- derived columns --------------------------------------------------------------------------
def test_prev_close_is_the_ex_rights_reference_price(imported):
    bars = imported["baostock"]  # preclose empty on the first three rows of 600000.SH
    assert np.isnan(bar(bars, "600000.SH", "2024-07-15")["prev_close"])
    assert bar(bars, "600000.SH", "2024-07-16")["prev_close"] == 8.55
    # 8.60 × 9.873 / 10.355 = 8.19985 → 8.20: the close less the 0.40 dividend
    assert bar(bars, "600000.SH", "2024-07-17")["prev_close"] == 8.20


def test_limits_follow_the_rule_table(imported):
    for bars in imported.values():
        up = bar(bars, "600000.SH", "2024-07-18")
        assert (up["limit_up"], up["limit_down"], up["close"]) == (9.08, 7.43, 9.08)
        down = bar(bars, "000002.SZ", "2024-07-18")
        assert (down["limit_down"], down["close"]) == (6.35, 6.35)
    for name in ("akshare", "canonical"):  # no previous close on the first day: no limit
        assert np.isnan(bar(imported[name], "000002.SZ", "2024-07-15")["limit_up"])
    # tushare and baostock give the first day's pre_close (7.00)
    assert bar(imported["tushare"], "000002.SZ", "2024-07-15")["limit_up"] == 7.70


def test_suspended_from_tradestatus_or_zero_volume(imported):
    for name, bars in imported.items():
        halted = bars.loc[bars["suspended"], ["date", "symbol"]]
        assert list(halted["date"]) == [DAY("2024-07-16"), DAY("2024-07-17")], name
        assert set(halted["symbol"]) == {"000002.SZ"}, name
    # baostock leaves volume and amount empty on suspended rows: nothing traded
    row = bar(imported["baostock"], "000002.SZ", "2024-07-16")
    assert (row["volume"], row["amount"], row["prev_close"]) == (0, 0.0, 7.05)


def test_st_days_have_five_percent_limits_and_one_episode(tmp_path):
    bars = import_bars(DATA / "sh.600150.csv", adj_factors=ADJ)
    assert bars["is_st"].tolist() == [False, True, True, True, False]
    assert (bar(bars, "600150.SH", "2024-07-16")[["limit_up", "limit_down"]].tolist()
            == [21.0, 19.0])
    assert bar(bars, "600150.SH", "2024-07-17")[["limit_up", "limit_down"]].tolist() == [
        19.95, 18.05]
    assert bar(bars, "600150.SH", "2024-07-19")[["limit_up", "limit_down"]].tolist() == [
        21.56, 17.64]  # no longer ST: 10 %
    folder = tmp_path / "bars"
    folder.mkdir()
    (folder / "sh.600150.csv").write_bytes((DATA / "sh.600150.csv").read_bytes())
    market = import_market(bars=folder, adj_factors=ADJ, securities=DATA / "stock_basic.csv",
                           out=tmp_path / "m")
    assert market.st_periods.to_dict("records") == [
        {"symbol": "600150.SH", "start": DAY("2024-07-16"), "end": DAY("2024-07-18")}]
    assert list(market.is_st("2024-07-17")) == ["600150.SH"]


def test_st_episode_open_at_the_end_of_data_has_no_end(tmp_path):
    text = (DATA / "sh.600150.csv").read_text().splitlines()
    text[-1] = text[-1][:-1] + "1"  # still *ST on the last day
    folder = tmp_path / "b"
    folder.mkdir()
    write(folder / "sh.600150.csv", "\n".join(text) + "\n")
    market = import_market(bars=folder, adj_factors=ADJ, securities=DATA / "stock_basic.csv",
                           out=tmp_path / "m")
    assert market.st_periods["start"].tolist() == [DAY("2024-07-16")]
    assert market.st_periods["end"].isna().all()


def test_new_listing_trades_without_limits_on_its_first_sessions(tmp_path):
    # 688981.SH (STAR) listed 2020-07-16: five unlimited sessions, then ±20 %
    days = pd.bdate_range("2020-07-16", periods=7)
    rows = ["date,symbol,open,high,low,close,volume,amount,adj_factor"]
    rows += [f"{d.date()},688981.SH,80,82,78,80,1000,80000,1" for d in days]
    path = write(tmp_path / "star.csv", "\n".join(rows) + "\n")
    bars = import_bars(path, securities=DATA / "stock_basic.csv")
    assert bars["limit_up"].isna().tolist() == [True] * 5 + [False] * 2
    assert bars["limit_up"].iloc[-1] == 96.0
    without = import_bars(path)  # listing date unknown: only the first bar has no limit
    assert without["limit_up"].isna().tolist() == [True] + [False] * 6


def test_missing_adj_factors_warn_and_default_to_one():
    with pytest.warns(DataWarning, match="no adjustment factors given.*returns across"):
        bars = import_bars(SAMPLES["tushare"])
    assert (bars["adj_factor"] == 1.0).all()


def test_adjusted_baostock_prices_warn(tmp_path):
    path = mutate(DATA / "sh.600150.csv", tmp_path, 3, "adjustflag", "2")
    with pytest.warns(DataWarning, match=r"line 3: adjustflag \['2'\] means adjusted prices"):
        import_bars(path, adj_factors=ADJ)


def test_missing_factor_rows_are_an_error(tmp_path):
    lines = ADJ.read_text().splitlines()
    factors = write(tmp_path / "adj_factor.csv",
                    "\n".join(x for x in lines if "600000.SH,20240717" not in x) + "\n")
    with pytest.raises(DataError, match=r"tushare_daily\.csv: line 6: no adj_factor in .*"
                                        r"adj_factor\.csv for 600000\.SH on 2024-07-17"):
        import_bars(SAMPLES["tushare"], adj_factors=factors)


def test_canonical_factors_and_a_factor_file_conflict():
    with pytest.raises(DataError, match="carries its own adj_factor column"):
        import_bars(DATA / "canonical.csv", adj_factors=ADJ)


# -- layouts and symbols ----------------------------------------------------------------------
@pytest.mark.parametrize("source", ["tushare", "akshare", "baostock"])
def test_explicit_source_equals_auto(imported, source):
    pd.testing.assert_frame_equal(import_bars(SAMPLES[source], source, adj_factors=ADJ),
                                  imported[source])


def test_explicit_source_with_other_columns_names_the_missing_ones():
    with pytest.raises(DataError, match=r"tushare_daily\.csv: line 1: not in the baostock "
                                        r"query_history_k_data_plus layout: missing columns "
                                        r"\['date', 'code', 'volume'\]"):
        import_bars(SAMPLES["tushare"], "baostock", adj_factors=ADJ)


def test_unknown_source_name_suggests_the_right_one():
    with pytest.raises(LookupFailed, match="did you mean 'tushare'"):
        import_bars(SAMPLES["tushare"], "tushar")


def test_unknown_layout_lists_every_layout_and_its_columns(tmp_path):
    path = write(tmp_path / "x.csv", "day,ticker,price\n2024-07-15,600000,8.5\n")
    with pytest.raises(DataError) as info:
        import_bars(path)
    message = str(info.value)
    assert "x.csv: line 1: header ['day', 'ticker', 'price'] is in no known bar layout" in message
    for needed in ("tushare (tushare pro daily) needs ['ts_code', 'trade_date'",
                   "akshare (akshare stock_zh_a_hist) needs ['日期'",
                   "baostock (baostock query_history_k_data_plus) needs ['date', 'code'",
                   "canonical (workbench canonical bars) needs ['date', 'symbol'"):
        assert needed in message


@pytest.mark.parametrize("spelling", ["600000.SH", "600000.sh", "sh600000", "SH600000",
                                      "sh.600000", "600000"])
def test_every_symbol_spelling_is_normalised(tmp_path, spelling):
    text = (DATA / "canonical.csv").read_text().replace("600000.SH", spelling)
    bars = import_bars(write(tmp_path / "c.csv", text))
    assert set(bars["symbol"].astype(str)) == {"600000.SH", "000002.SZ"}
    tushare = SAMPLES["tushare"].read_text().replace("600000.SH", spelling)
    bars = import_bars(write(tmp_path / "t.csv", tushare), adj_factors=ADJ)
    assert set(bars["symbol"].astype(str)) == {"600000.SH", "000002.SZ"}


@pytest.mark.parametrize("name", ["600000.csv", "sh600000.csv", "sh.600000.csv",
                                  "600000.SH.csv", "SH600000.CSV"])
def test_akshare_symbol_from_the_file_name(tmp_path, name):
    path = tmp_path / name
    path.write_bytes((DATA / "akshare" / "600000.csv").read_bytes())
    assert import_bars(path, adj_factors=ADJ)["symbol"].astype(str).unique().tolist() == [
        "600000.SH"]


def test_akshare_without_code_column_or_symbol_file_name(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes((DATA / "akshare" / "600000.csv").read_bytes())
    with pytest.raises(DataError, match=r"prices\.csv: no 股票代码 column and the file name"):
        import_bars(path, adj_factors=ADJ)


def test_gbk_encoded_akshare_export(tmp_path):
    text = (DATA / "akshare" / "sz000002.csv").read_text(encoding="utf-8")
    path = write(tmp_path / "sz000002.csv", text, encoding="gbk")
    pd.testing.assert_frame_equal(import_bars(path, adj_factors=ADJ),
                                  import_bars(DATA / "akshare" / "sz000002.csv",
                                              adj_factors=ADJ))


def test_a_folder_may_mix_layouts(tmp_path):
    (tmp_path / "daily.csv").write_bytes(SAMPLES["tushare"].read_bytes())
    (tmp_path / "sh.600150.csv").write_bytes((DATA / "sh.600150.csv").read_bytes())
    (tmp_path / "README.md").write_text("not a CSV: ignored")
    bars = import_bars(tmp_path, adj_factors=ADJ)
    assert bars.groupby("symbol", observed=True).size().to_dict() == {
        "000002.SZ": 5, "600000.SH": 5, "600150.SH": 5}
    assert np.isnan(bar(bars, "600000.SH", "2024-07-15")["pe_ttm"])


def test_the_same_bar_in_two_files_names_both(tmp_path):
    (tmp_path / "a.csv").write_bytes(SAMPLES["tushare"].read_bytes())
    (tmp_path / "sh.600000.csv").write_bytes((DATA / "baostock" / "sh.600000.csv").read_bytes())
    with pytest.raises(DataError, match=r"a\.csv: line 2, columns \('trade_date', 'ts_code'\); "
                                        r".*sh\.600000\.csv: line 6, columns \('date', 'code'\): "
                                        r"duplicate \(date, symbol\) \(2024-07-19, 600000\.SH\)"):
        import_bars(tmp_path, adj_factors=ADJ)


# -- every fault names file, line and column --------------------------------------------------
@pytest.mark.parametrize(
    ("line", "column", "value", "fault"),
    [
        (3, "trade_date", "20241345", "unparseable date '20241345'; expected YYYYMMDD"),
        (3, "trade_date", "", "missing date"),
        (3, "close", "abc", "non-numeric value 'abc'"),
        (3, "close", "", "missing value"),
        (3, "open", "-1", r"non-positive price \[-1.0\]"),
        (3, "close", "0", r"non-positive price \[0.0\]"),
        (3, "high", "6.4", r"high below max\(open, close\)"),  # open 6.35, close 6.5
        (3, "low", "6.4", r"low above min\(open, close\)"),
        (3, "vol", "-5", "negative volume"),
        (3, "vol", "1.234", r"volume \(lots × 100\) is not a whole number of shares"),
        (3, "amount", "-1", "negative amount"),
        (3, "amount", "1e20", "implausibly large value '1e20'"),
        (3, "close", "inf", "infinite value"),
        (3, "ts_code", "900901.SH", "no known A-share board prefix"),
        (3, "ts_code", "600000.SZ", "code 600000 trades on SH, not SZ"),
        (3, "ts_code", "AAPL", "not an A-share code"),
    ],
)
def test_tushare_fault_names_file_line_and_column(tmp_path, line, column, value, fault):
    path = mutate(SAMPLES["tushare"], tmp_path, line, column, value)
    with pytest.raises(DataError, match=rf"tushare_daily\.csv: line {line}, column '{column}': "
                                        rf".*{fault}"):
        import_bars(path, adj_factors=ADJ)


@pytest.mark.parametrize(
    ("line", "column", "value", "fault"),
    [
        (2, "date", "2024/13/01", "unparseable date '2024/13/01'; expected YYYY-MM-DD"),
        (2, "isST", "2", "isST must be 1 or 0, got '2'"),
        (5, "tradestatus", "x", r"tradestatus \(1 traded, 0 suspended\) must be 1 or 0"),
        (5, "volume", "", "missing volume on a traded day"),
        (5, "amount", "", "missing amount on a traded day"),
        (5, "preclose", "n/a", "non-numeric value 'n/a'"),
        (4, "code", "sh.600001", r"duplicate \(date, symbol\)"),
    ],
)
def test_baostock_fault_names_file_line_and_column(tmp_path, line, column, value, fault):
    path = mutate(DATA / "baostock" / "sz.000002.csv", tmp_path, line, column, value)
    if column == "code":  # a second symbol's row, then the same row again
        path = write(path, path.read_text() + path.read_text().splitlines()[line - 1] + "\n")
        with pytest.raises(DataError, match=rf"line 4, columns \('date', 'code'\); .*line 7, "
                                            rf"columns \('date', 'code'\): {fault}"):
            import_bars(path, adj_factors=ADJ)
        return
    with pytest.raises(DataError, match=rf"sz\.000002\.csv: line {line}, column '{column}': "
                                        rf"{fault}"):
        import_bars(path, adj_factors=ADJ)


def test_akshare_fault_names_the_chinese_column(tmp_path):
    path = mutate(DATA / "akshare" / "sz000002.csv", tmp_path, 6, "最高", "6.0")
    with pytest.raises(DataError, match=r"sz000002\.csv: line 6, column '最高': high below"):
        import_bars(path, adj_factors=ADJ)


@pytest.mark.parametrize("source", ["auto", "tushare"])
def test_missing_column(tmp_path, source):
    lines = SAMPLES["tushare"].read_text().splitlines()
    cut = [",".join(c for i, c in enumerate(x.split(",")) if i != 5) for x in lines]
    path = write(tmp_path / "tushare_daily.csv", "\n".join(cut) + "\n")
    expected = (r"missing columns \['close'\]" if source == "tushare"
                else r"line 1: header .* is in no known bar layout")
    with pytest.raises(DataError, match=rf"tushare_daily\.csv: .*{expected}"):
        import_bars(path, source, adj_factors=ADJ)


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        (b"", "empty file"),
        (b"\n\n  \n", "empty file"),
        (b"PK\x03\x04\x00\x00binary", "NUL bytes"),
        (b"\xff\xfe\xfa\xfb,\xff\n", "neither UTF-8 nor GBK"),
        ("date,code,open\n".encode("utf-16"), "NUL bytes"),
        (b"ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount\n",
         "header only, no data rows"),
        (b"ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount\n"
         b"600000.SH,20240715,8.5,8.62\n", "line 2 has 4 fields, the header"),
        (b"ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount\n"
         b'600000.SH,20240715,"8.5,8.62,8.45,8.55,8.5,0.05,0.58,301254,257571.67\n',
         "not valid CSV"),
        (b"date,date,code\n1,2,3\n", r"header repeats columns \['date'\]"),
    ],
)
def test_malformed_csv_is_a_data_error(tmp_path, content, fault):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=rf"bad\.csv: .*{fault}"):
        import_bars(path, adj_factors=ADJ)


def test_missing_path_and_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no such file or folder"):
        import_bars(tmp_path / "nope")
    with pytest.raises(DataError, match=r"holds no \.csv files"):
        import_bars(tmp_path)


_TUSHARE = SAMPLES["tushare"].read_text().splitlines()
_REQUIRED = ["ts_code", "trade_date", "open", "high", "low", "close", "pre_close", "vol",
             "amount"]


@st.composite
def malformed_tushare(draw) -> bytes:
    """A tushare file with one required cell replaced by junk, or junk lines, or junk bytes."""
    kind = draw(st.sampled_from(["cell", "line", "bytes"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    lines = list(_TUSHARE)
    junk = draw(st.text(max_size=20)) + "x"  # never a number, date or symbol
    if kind == "cell":
        row = draw(st.integers(1, len(lines) - 1))
        cells = lines[row].split(",")
        cells[lines[0].split(",").index(draw(st.sampled_from(_REQUIRED)))] = junk
        lines[row] = ",".join(cells)
    else:
        lines.insert(draw(st.integers(1, len(lines))), junk)
    return ("\n".join(lines) + "\n").encode(draw(st.sampled_from(["utf-8", "gb18030"])),
                                            errors="replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=malformed_tushare())
def test_random_malformed_csv_always_raises_data_error(content):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "junk.csv"
        path.write_bytes(content)
        with pytest.raises(DataError, match=r"junk\.csv"):
            import_bars(path, adj_factors=ADJ)


# -- factors, securities, benchmark -----------------------------------------------------------
def test_import_adj_factors():
    fac = import_adj_factors(ADJ)
    assert list(fac.columns) == ["symbol", "date", "adj_factor"]
    assert len(fac) == 15
    assert fac.loc[(fac["symbol"] == "600000.SH"), "adj_factor"].tolist() == [
        9.873, 9.873, 10.355, 10.355, 10.355]


def test_adj_factor_faults(tmp_path):
    path = mutate(ADJ, tmp_path, 4, "adj_factor", "0")
    with pytest.raises(DataError, match=r"adj_factor\.csv: line 4, column 'adj_factor': .*"
                                        "must be positive"):
        import_adj_factors(path)
    path = mutate(ADJ, tmp_path, 4, "trade_date", "20240719")
    with pytest.raises(DataError, match=r"lines 2, 4, column 'ts_code, trade_date': duplicate"):
        import_adj_factors(path)


def test_import_securities():
    sec = import_securities(DATA / "stock_basic.csv")
    assert list(sec.columns) == list(SECURITY_COLUMNS)
    row = sec.set_index("symbol").loc["300750.SZ"]
    assert (row["name"], row["exchange"], row["board"], row["sector"]) == (
        "宁德时代", "SZ", "ChiNext", "电气设备")
    assert row["list_date"] == DAY("2018-06-11")
    assert sec["delist_date"].isna().all()
    assert sec.set_index("symbol").loc["688981.SH", "board"] == "STAR"
    kept = import_securities(DATA / "stock_basic.csv", symbols={"600000.SH"})
    assert kept["symbol"].tolist() == ["600000.SH"]


def test_securities_with_delist_date_and_unknown_codes(tmp_path):
    path = write(tmp_path / "stock_basic.csv",
                 "ts_code,symbol,name,area,industry,market,list_date,delist_date,list_status\n"
                 "600087.SH,600087,退市长油,南京,水运,主板,19970609,20140605,D\n"
                 "200002.SZ,200002,万科B,深圳,全国地产,主板,19930628,,L\n")
    with pytest.raises(DataError, match=r"stock_basic\.csv: line 3, column 'ts_code'"):
        import_securities(path)
    # filtered to the bars' symbols, codes the workbench does not know are not parsed
    sec = import_securities(path, symbols={"600087.SH"})
    assert sec["delist_date"].tolist() == [DAY("2014-06-05")]


def test_security_faults(tmp_path):
    path = mutate(DATA / "stock_basic.csv", tmp_path, 3, "list_date", "1991-01-29")
    with pytest.raises(DataError, match=r"line 3, column 'list_date': unparseable date"):
        import_securities(path)
    path = mutate(DATA / "stock_basic.csv", tmp_path, 3, "ts_code", "sz000001")
    with pytest.raises(DataError, match=r"lines 2, 3, column 'ts_code': duplicate"):
        import_securities(path)


def test_benchmark_layouts_agree():
    bao = import_benchmark(DATA / "index_baostock.csv")
    tus = import_benchmark(DATA / "index_tushare.csv")
    assert list(bao.columns) == list(BENCHMARK_COLUMNS)
    pd.testing.assert_frame_equal(bao, tus)
    assert bao["volume"].iloc[0] == 12_345_678_900  # tushare: 123456789 lots
    assert bao["amount"].iloc[0] == pytest.approx(234_567_890_123.4)  # tushare: thousands


def test_benchmark_faults(tmp_path):
    path = mutate(DATA / "index_baostock.csv", tmp_path, 4, "code", "sh.000001")
    with pytest.raises(DataError, match=r"line 4, column 'code': a benchmark file holds one"):
        import_benchmark(path)
    path = mutate(DATA / "index_baostock.csv", tmp_path, 4, "low", "3600")
    with pytest.raises(DataError, match=r"line 4, column 'low': low above min"):
        import_benchmark(path)


# -- a whole market ---------------------------------------------------------------------------
def test_import_market_writes_a_loadable_market(tmp_path):
    market = import_market(bars=SAMPLES["baostock"], adj_factors=ADJ,
                           securities=DATA / "stock_basic.csv",
                           benchmark=DATA / "index_tushare.csv", out=tmp_path / "m",
                           name="sample")
    back = load_market(tmp_path / "m")
    pd.testing.assert_frame_equal(back.bars, market.bars)
    assert back.name == "sample" and back.meta["source"] == "import"
    assert back.securities["symbol"].tolist() == ["000002.SZ", "600000.SH"]
    assert back.securities["name"].tolist() == ["万科A", "浦发银行"]
    assert len(back.benchmark) == 5
    assert list(back.fundamentals.columns) == list(FUNDAMENTAL_COLUMNS)
    assert back.fundamentals.empty
    assert str(back.fundamentals["announce_date"].dtype) == "datetime64[ns]"
    assert back.summary()["suspended_days"] == 2


def test_bar_symbol_missing_from_the_security_master_keeps_its_bars(tmp_path):
    lines = (DATA / "stock_basic.csv").read_text().splitlines()
    sec = write(tmp_path / "sb.csv", "\n".join(x for x in lines if "000002" not in x) + "\n")
    with pytest.warns(DataWarning, match=r"1 bar symbols missing from .*sb\.csv \(000002\.SZ\)"):
        market = import_market(bars=SAMPLES["baostock"], adj_factors=ADJ, securities=sec,
                               out=tmp_path / "m")
    row = market.securities.set_index("symbol").loc["000002.SZ"]
    assert pd.isna(row["name"]) and pd.isna(row["sector"])
    assert (row["board"], row["list_date"]) == ("SZ main", DAY("2024-07-15"))
    assert len(market.bars) == 10
    load_market(tmp_path / "m")


def test_benchmark_is_cut_to_the_bars_and_gaps_warn(tmp_path):
    lines = (DATA / "index_baostock.csv").read_text().splitlines()
    bench = write(tmp_path / "i.csv", "\n".join(lines[:3] + lines[4:]) + "\n")
    with pytest.warns(DataWarning, match="benchmark lacks 1 sessions of the bars"):
        market = import_market(bars=SAMPLES["baostock"], adj_factors=ADJ,
                               securities=DATA / "stock_basic.csv", benchmark=bench,
                               out=tmp_path / "m")
    assert len(market.benchmark) == 4


def test_cli_import_end_to_end(tmp_path, capsys):
    out = tmp_path / "sample"
    code = cli.main(["import", "--bars", str(SAMPLES["baostock"]), "--adj-factors", str(ADJ),
                     "--securities", str(DATA / "stock_basic.csv"),
                     "--benchmark", str(DATA / "index_baostock.csv"), "--out", str(out)])
    assert code == 0
    assert "2 symbols × 5 sessions" in capsys.readouterr().out
    market = load_market(out)
    assert market.summary()["bars"] == 10
    assert bar(market.bars, "600000.SH", "2024-07-18")["limit_up"] == 9.08


def test_cli_import_reports_a_bad_file(tmp_path, capsys):
    path = mutate(SAMPLES["tushare"], tmp_path, 3, "close", "abc")
    code = cli.main(["import", "--bars", str(path), "--adj-factors", str(ADJ),
                     "--out", str(tmp_path / "m")])
    assert code == 2
    assert "line 3, column 'close': non-numeric value 'abc'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_canonical_columns_given_are_kept_and_the_rest_derived(tmp_path):
    rows = ["date,symbol,open,high,low,close,volume,amount,adj_factor,prev_close,limit_up,"
            "limit_down,suspended,is_st"]
    rows += [f"2024-07-{d},600150.SH,20,20,20,20,100,2000,1,19.9,{up},19,False,{st}"
             for d, up, st in (("15", "21", "True"), ("16", "", "False"), ("17", "21", ""))]
    (tmp_path / "own.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "daily.csv").write_bytes(SAMPLES["tushare"].read_bytes())
    with pytest.warns(DataWarning, match="adj_factor is 1.0 on 10 bars"):
        bars = import_bars(tmp_path)
    own = bars.loc[bars["symbol"] == "600150.SH"]
    assert own["limit_up"].iloc[[0, 2]].tolist() == [21.0, 21.0]
    assert np.isnan(own["limit_up"].iloc[1])  # given as empty: no limit that day
    assert own["prev_close"].tolist() == [19.9] * 3
    assert own["is_st"].tolist() == [True, False, False]  # empty: not ST
    assert own["adj_factor"].tolist() == [1.0] * 3
    # the tushare rows in the same import still get derived limits and flags
    assert bar(bars, "600000.SH", "2024-07-18")["limit_up"] == 9.08
    assert bar(bars, "000002.SZ", "2024-07-16")["suspended"]


def test_import_market_from_bars_alone_warns_three_times_and_loads(tmp_path):
    with pytest.warns(DataWarning) as record:
        market = import_market(bars=SAMPLES["tushare"], out=tmp_path / "m")
    messages = [str(w.message) for w in record]
    assert len(messages) == 3
    assert "no adjustment factors given" in messages[0]
    assert "no security master given for the 2 bar symbols (000002.SZ, 600000.SH)" in messages[1]
    assert "survivors only" in messages[2]  # no sector map given: no snapshot warning
    assert market.benchmark.empty and list(market.benchmark.columns) == list(BENCHMARK_COLUMNS)
    assert load_market(tmp_path / "m").summary()["symbols"] == 2
