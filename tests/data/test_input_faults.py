"""Input faults that used to escape as raw exceptions are DataErrors naming their input
(issue 12, item 6): dates with a time zone (pandas' "Mixed timezones" ValueError), dates
beyond what datetime64[ns] holds (which wrapped around silently and were then reported as
"has a time of day", or loaded as another date), and a broken ``meta.json``
(JSONDecodeError, AttributeError).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import tiny_market

from workbench import cli
from workbench.data import csvread
from workbench.data.importers import import_bars, import_benchmark
from workbench.data.store import load_market, save_market
from workbench.errors import DataError

DATA = Path(__file__).resolve().parent / "importers"
ADJ = DATA / "adj_factor.csv"


def with_dates(tmp_path: Path, source: Path, dates: dict[int, str], column: str) -> Path:
    """A copy of ``source`` with the date cell of some file lines replaced."""
    lines = source.read_text().splitlines()
    at = lines[0].split(",").index(column)
    for line, value in dates.items():
        cells = lines[line - 1].split(",")
        cells[at] = value
        lines[line - 1] = ",".join(cells)
    out = tmp_path / source.name
    out.write_text("\n".join(lines) + "\n")
    return out


def test_mixed_time_zones_name_the_line(tmp_path):
    path = with_dates(tmp_path, DATA / "baostock" / "sh.600000.csv",
                      {3: "2024-07-16T00:00:00+08:00", 4: "2024-07-17T00:00:00-05:00"}, "date")
    with pytest.raises(DataError, match=r"sh\.600000\.csv: lines 3, 4, column 'date': date "
                                        r"'2024-07-16T00:00:00\+08:00' carries a time zone"):
        import_bars(path, adj_factors=ADJ)


def test_a_time_zone_on_every_date_is_refused_too(tmp_path):
    """Before, '+00:00' on every date was accepted (and another offset read as a time)."""
    path = with_dates(tmp_path, DATA / "baostock" / "sh.600000.csv",
                      {n: f"2024-07-{13 + n}+00:00" for n in range(2, 7)}, "date")
    with pytest.raises(DataError, match=r"lines 2, 3, 4, 5, 6, column 'date': date "
                                        r"'2024-07-15\+00:00' carries a time zone"):
        import_bars(path, adj_factors=ADJ)


@pytest.mark.parametrize(("value", "fmt"), [("1500-01-03", "ISO8601"), ("2300-01-03", "ISO8601"),
                                            ("9999-12-31", "ISO8601"), ("15000103", "%Y%m%d")])
def test_dates_beyond_datetime64_are_out_of_range_not_a_time_of_day(value, fmt):
    table = csvread.Table(Path("f.csv"), ("date",),
                          {"date": np.array(["2024-01-02" if fmt == "ISO8601" else "20240102",
                                             value], dtype=object)}, np.array([2, 3]))
    with pytest.raises(DataError, match=rf"f\.csv: line 3, column 'date': date '{value}' is "
                                        "outside the years 1678 to 2261"):
        csvread.dates(table, "date", fmt)


def test_tushare_date_out_of_range_in_a_file(tmp_path):
    path = with_dates(tmp_path, DATA / "index_tushare.csv", {4: "15000103"}, "trade_date")
    with pytest.raises(DataError, match=r"index_tushare\.csv: line 4, column 'trade_date': "
                                        "date '15000103' is outside"):
        import_benchmark(path)


def test_pandas_failing_on_dates_together_is_a_data_error(monkeypatch):
    """Should a time-zone spelling slip past the pattern, pandas' "Mixed timezones"
    ValueError is still turned into a DataError naming the line."""
    monkeypatch.setattr(csvread, "_ZONE", r"(?!)")  # a pattern that matches nothing
    table = csvread.Table(Path("f.csv"), ("date",), {"date": np.array(
        ["2024-01-02", "2024-01-02T00:00:00+08:00", "2024-01-03T00:00:00-05:00"],
        dtype=object)}, np.array([2, 3, 4]))
    with pytest.raises(ValueError, match="Mixed timezones"):  # what pandas does
        pd.to_datetime(pd.Series(table.columns["date"]), format="ISO8601", errors="coerce")
    with pytest.raises(DataError, match=r"f\.csv: lines 3, 4, column 'date': date "
                                        r"'2024-01-02T00:00:00\+08:00' carries a time zone"):
        csvread.dates(table, "date", "ISO8601")


def test_plain_dates_still_parse():
    table = csvread.Table(Path("f.csv"), ("date",), {"date": np.array(
        ["2024-01-02", "2024-01-03 00:00:00", " 2024-01-04 "], dtype=object)},
        np.array([2, 3, 4]))
    parsed = csvread.dates(table, "date", "ISO8601")
    assert parsed.dtype == np.dtype("datetime64[ns]")
    assert [str(d)[:10] for d in parsed] == ["2024-01-02", "2024-01-03", "2024-01-04"]


@pytest.mark.parametrize(("content", "fault"), [
    (b"{broken", r"meta\.json: not valid JSON \(Expecting property name"),
    (b"[1, 2]", r"meta\.json: holds a JSON list, not an object"),
    (b'"text"', r"meta\.json: holds a JSON str, not an object"),
    (b"\xff\xfe{}", r"meta\.json: not valid JSON \("),
])
@pytest.mark.parametrize("verify", [True, False])  # read by the checksum check, or as is
def test_a_broken_meta_json_is_a_data_error(tmp_path, content, fault, verify):
    save_market(tiny_market(), tmp_path / "m")
    (tmp_path / "m" / "meta.json").write_bytes(content)
    with pytest.raises(DataError, match=fault):
        load_market(tmp_path / "m", verify=verify)


def test_cli_info_on_a_broken_meta_json_exits_2(tmp_path, capsys):
    save_market(tiny_market(), tmp_path / "m")
    (tmp_path / "m" / "meta.json").write_text("{")
    assert cli.main(["info", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'm' / 'meta.json'}: not valid JSON" in err
    assert "re-import it" in err


def test_a_good_meta_json_still_loads(tmp_path):
    save_market(tiny_market(), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert load_market(tmp_path / "m").meta["format_version"] == meta["format_version"]
