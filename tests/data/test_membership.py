"""Index membership: the tushare index_weight reader, snapshots → spells, and reading the
spells point in time (``Market.universe(day, index=...)``, ``members``, ``membership``,
``as_of``), validated and stored with the market.

``importers/index_weight.csv`` holds three CSI 300 snapshots (2024-07-15, 07-17, 07-19) of
three stocks and one CSI 500 snapshot, checkable by hand:

============  =========  =========  =========  ==================================
symbol        07-15      07-17      07-19      spells (end exclusive)
============  =========  =========  =========  ==================================
600000.SH     member     member     member     [07-15, open)
000002.SZ     member     —          member     [07-15, 07-17), [07-19, open)
600150.SH     —          member     member     [07-17, open)
============  =========  =========  =========  ==================================
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_store import as_format_1

from workbench.data.importers import import_index_weights
from workbench.data.market import Market
from workbench.data.membership import empty_spells, index_name, spells_from_snapshots
from workbench.data.schema import FUNDAMENTAL_COLUMNS, INDEX_MEMBER_COLUMNS
from workbench.data.store import load_market, save_market
from workbench.data.validation import validate_index_members
from workbench.errors import ConfigError, DataError

DATA = Path(__file__).resolve().parent / "importers"
WEIGHTS = DATA / "index_weight.csv"
DAY = pd.Timestamp
NAT = pd.NaT


def spells_of(frame: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    return [(r.index, r.symbol, str(r.start.date()),
             "open" if pd.isna(r.end) else str(r.end.date())) for r in frame.itertuples()]


def with_members(market: Market, spells: pd.DataFrame) -> Market:
    return dataclasses.replace(market, index_members=spells)


@pytest.fixture
def members() -> pd.DataFrame:
    return import_index_weights(WEIGHTS)


@pytest.fixture
def week(members: pd.DataFrame) -> Market:
    """The tiny market's two stocks on 2024-07-15..19, with the sample's membership."""
    dates = pd.bdate_range("2024-07-15", "2024-07-19")
    rows = [(d, s) for d in dates for s in ("000002.SZ", "600000.SH")]
    bars = pd.DataFrame(rows, columns=["date", "symbol"])
    for c in ("open", "high", "low", "close", "prev_close"):
        bars[c] = 10.0
    bars["volume"], bars["amount"], bars["adj_factor"] = np.int64(1000), 1e4, 1.0
    bars["limit_up"], bars["limit_down"] = 11.0, 9.0
    bars["suspended"], bars["is_st"] = False, False
    bars["symbol"] = bars["symbol"].astype("category")
    sec = pd.DataFrame({"symbol": ["000002.SZ", "600000.SH"], "name": ["万科A", "浦发银行"],
                        "exchange": ["SZ", "SH"], "board": ["SZ main", "SH main"],
                        "sector": ["Real Estate", "Banks"],
                        "list_date": pd.to_datetime(["1991-01-29", "1999-11-10"]),
                        "delist_date": pd.to_datetime([None, None])})
    empty = pd.DataFrame({c: pd.Series(dtype=float) for c in FUNDAMENTAL_COLUMNS}).astype(
        {"symbol": str, "period_end": "datetime64[ns]", "announce_date": "datetime64[ns]"})
    st = pd.DataFrame({"symbol": pd.Series(dtype=str), "start": pd.Series(dtype="M8[ns]"),
                       "end": pd.Series(dtype="M8[ns]")})
    bench = pd.DataFrame({"date": dates, "close": 3500.0})
    return Market(bars=bars, securities=sec, fundamentals=empty, st_periods=st,
                  benchmark=bench, meta={"name": "week", "source": "test"},
                  index_members=members)


# -- the reader --------------------------------------------------------------------------------
def test_index_weight_snapshots_become_spells(members: pd.DataFrame):
    assert list(members.columns) == list(INDEX_MEMBER_COLUMNS)
    assert spells_of(members) == [
        ("csi300", "000002.SZ", "2024-07-15", "2024-07-17"),
        ("csi300", "000002.SZ", "2024-07-19", "open"),
        ("csi300", "600000.SH", "2024-07-15", "open"),
        ("csi300", "600150.SH", "2024-07-17", "open"),
        ("csi500", "600150.SH", "2024-07-15", "open"),
    ]
    assert members.attrs["snapshots"]["csi300"] == {
        "codes": ["399300.SZ"], "snapshots": 3, "first": "2024-07-15", "last": "2024-07-19"}
    assert str(members["start"].dtype) == str(members["end"].dtype) == "datetime64[ns]"


def test_index_codes_are_named(tmp_path):
    assert index_name("399300.SZ") == index_name("000300.SH") == "csi300"
    assert index_name("sh.000905") == "csi500"
    assert index_name("930050.CSI") == "930050.CSI"  # unknown: the code itself
    text = WEIGHTS.read_text().replace("000905.SH", "930050.CSI")
    (tmp_path / "w.csv").write_text(text)
    assert sorted(import_index_weights(tmp_path / "w.csv")["index"].unique()) == [
        "930050.CSI", "csi300"]
    named = import_index_weights(tmp_path / "w.csv", names={"930050.CSI": "a50"})
    assert sorted(named["index"].unique()) == ["a50", "csi300"]


def test_one_index_under_both_codes_is_one_universe(tmp_path):
    text = WEIGHTS.read_text()
    extra = "000300.SH,600000.SH,20240715,0.52\n000300.SH,000002.SZ,20240715,0.31\n"
    (tmp_path / "w.csv").write_text(text + extra)
    both = import_index_weights(tmp_path / "w.csv")
    assert spells_of(both) == spells_of(import_index_weights(WEIGHTS))
    assert both.attrs["snapshots"]["csi300"]["codes"] == ["000300.SH", "399300.SZ"]


def test_several_files_pool_their_snapshots(tmp_path):
    lines = WEIGHTS.read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(lines[:3]) + "\n")
    (tmp_path / "b.csv").write_text("\n".join([lines[0], *lines[3:]]) + "\n")
    pooled = import_index_weights([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert spells_of(pooled) == spells_of(import_index_weights(WEIGHTS))


@pytest.mark.parametrize(("line", "column", "value", "fault"), [
    (3, "trade_date", "2024-07-15", "unparseable date '2024-07-15'; expected YYYYMMDD"),
    (4, "con_code", "60000X", "60000X"),
    (5, "weight", "-0.1", "negative weight"),
    (6, "weight", "abc", "non-numeric value 'abc'"),
    (2, "index_code", "", "missing index code"),
    (7, "con_code", "", "missing symbol"),
])
def test_a_bad_row_names_file_line_and_column(tmp_path, line, column, value, fault):
    lines = WEIGHTS.read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[line - 1].split(",")
    cells[header.index(column)] = value
    lines[line - 1] = ",".join(cells)
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"w\.csv: line {line}, column '{column}': .*"
                                        rf"{fault[:20]}") as err:
        import_index_weights(tmp_path / "w.csv")
    assert fault in str(err.value)


def test_duplicate_snapshot_rows_and_missing_columns(tmp_path):
    lines = WEIGHTS.read_text().splitlines()
    (tmp_path / "d.csv").write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(DataError, match=r"d\.csv: lines 2, 10, column 'index_code, con_code, "
                                        r"trade_date': duplicate key"):
        import_index_weights(tmp_path / "d.csv")
    (tmp_path / "c.csv").write_text("index_code,trade_date,weight\n399300.SZ,20240715,1\n")
    with pytest.raises(DataError, match=r"c\.csv: line 1: not in the tushare pro index_weight "
                                        r"layout: missing columns \['con_code'\]"):
        import_index_weights(tmp_path / "c.csv")


def test_weight_is_optional():
    d = np.array(["2024-01-02"], dtype="datetime64[ns]")
    out = spells_from_snapshots(np.array(["x"]), np.array(["600000.SH"]), d)
    assert spells_of(out) == [("x", "600000.SH", "2024-01-02", "open")]
    assert spells_of(spells_from_snapshots(np.array([]), np.array([]), d[:0])) == []


# -- reading the spells point in time -----------------------------------------------------------
def test_universe_of_an_index_follows_the_last_snapshot(week: Market):
    def names(day: str) -> list[str]:
        return week.universe(day, index="csi300")["symbol"].tolist()

    assert names("2024-07-15") == ["000002.SZ", "600000.SH"]
    assert names("2024-07-16") == ["000002.SZ", "600000.SH"]  # the 07-17 snapshot is ahead
    assert names("2024-07-17") == ["600000.SH"]  # end is exclusive
    assert names("2024-07-18") == ["600000.SH"]
    assert names("2024-07-19") == ["000002.SZ", "600000.SH"]
    assert names("2024-07-12") == []  # before the first snapshot nothing is known
    assert len(week.universe("2024-07-12")) == 2  # without index: every listed stock
    # members counts stocks the market has no bars for
    assert week.members("2024-07-18", "csi300").tolist() == ["600000.SH", "600150.SH"]
    assert week.members("2024-07-18", "csi500").tolist() == ["600150.SH"]
    assert week.universe("2024-07-18", index="csi500").empty
    assert week.indexes == ("csi300", "csi500")
    assert week.summary()["indexes"] == ["csi300", "csi500"]
    assert "index membership: csi300, csi500" in repr(week)


def test_membership_mask_row_by_row(week: Market):
    mask = week.membership("csi300")
    assert mask.shape == (5, 2) and not mask.flags.writeable
    # columns: 000002.SZ, 600000.SH
    assert mask.tolist() == [[True, True], [True, True], [False, True], [False, True],
                             [True, True]]
    for t, day in enumerate(week.calendar):
        members = set(week.universe(day, index="csi300")["symbol"])
        assert {s for s, m in zip(week.symbols, mask[t], strict=True) if m} == members
    assert week.membership("csi300") is mask  # kept on the market


def test_an_unknown_index_is_refused_with_the_known_ones(week: Market, tiny: Market):
    with pytest.raises(ConfigError, match=r"no membership of index 'csi30'.*did you mean "
                                          r"'csi300'"):
        week.universe("2024-07-15", index="csi30")
    with pytest.raises(ConfigError, match=r"has no index membership; import one with .*"
                                          r"--index-weights"):
        tiny.membership("csi300")
    assert tiny.index_members.empty and tiny.indexes == ()


def test_as_of_knows_no_membership_after_the_cut(week: Market):
    cut = week.as_of("2024-07-16")
    assert spells_of(cut.index_members) == [
        ("csi300", "000002.SZ", "2024-07-15", "open"),  # its end (07-17) is not known yet
        ("csi300", "600000.SH", "2024-07-15", "open"),
        ("csi500", "600150.SH", "2024-07-15", "open"),
    ]  # 600150.SH's csi300 spell (from 07-17) is gone
    assert spells_of(week.as_of("2024-07-17").index_members)[0] == (
        "csi300", "000002.SZ", "2024-07-15", "2024-07-17")
    # the cut market agrees with the full one on every day up to the cut
    for day in week.calendar:
        known = week.as_of(day)
        assert (known.universe(day, index="csi300")["symbol"].tolist()
                == week.universe(day, index="csi300")["symbol"].tolist())
        np.testing.assert_array_equal(known.membership("csi300")[-1],
                                      week.membership("csi300")[len(known.calendar) - 1])


# -- validation and storage --------------------------------------------------------------------
def test_validation_names_row_and_column(members: pd.DataFrame):
    validate_index_members(members)
    validate_index_members(empty_spells())
    bad = members.copy()
    bad.loc[1, "end"] = DAY("2024-07-19")  # end == start
    with pytest.raises(DataError, match=r"index_members: row 1, column 'end': end must be "
                                        r"after start"):
        validate_index_members(bad)
    bad = members.copy()
    bad.loc[0, "end"] = DAY("2024-07-20")  # runs into the next spell of 000002.SZ
    with pytest.raises(DataError, match=r"row 1, column 'start': spell overlaps"):
        validate_index_members(bad)
    bad = members.copy()
    bad.loc[2, "symbol"] = "sh.600000"
    with pytest.raises(DataError, match=r"row 2, column 'symbol': not a canonical symbol"):
        validate_index_members(bad)
    with pytest.raises(DataError, match=r"missing columns \['end'\]"):
        validate_index_members(members.drop(columns="end"))


def test_stored_with_the_market_and_older_folders_load_empty(week: Market, tmp_path):
    folder = save_market(week, tmp_path / "m")
    back = load_market(folder)
    pd.testing.assert_frame_equal(back.index_members, week.index_members)
    assert back.universe("2024-07-17", index="csi300")["symbol"].tolist() == ["600000.SH"]
    # a folder written before the table existed (and before checksums): no
    # index_members.parquet
    (folder / "index_members.parquet").unlink()
    as_format_1(folder)
    old = load_market(folder)  # validated again: format 1 has no checksums
    assert old.index_members.empty
    assert list(old.index_members.columns) == list(INDEX_MEMBER_COLUMNS)
    assert old.indexes == ()
    broken = with_members(week, week.index_members.assign(symbol="600000"))
    with pytest.raises(DataError, match=r"b/index_members\.parquet: rows 0, 1, 2, 3, 4, "
                                        r"column 'symbol': not a canonical symbol"):
        save_market(broken, tmp_path / "b")
