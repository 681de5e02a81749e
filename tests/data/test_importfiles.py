"""workbench.data.importfiles: --bars folders are read recursively and no file is skipped in
silence (issue 12, item 4: 2,492 rows in sub-folders were lost without a word).

The nested folder here holds the two baostock sample exports one and two levels down, plus
a note, a hidden file, a hidden folder, an empty export and a link to a folder: each test
checks which files are read (sorted, deterministic) and that every other entry is listed
with its reason, in ``find_bar_files``, the Market's ``meta.json`` and the CLI summary.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench import cli
from workbench.data.importers import import_bars, import_market
from workbench.data.importfiles import check_out_folder, find_bar_files, market_folder_extras
from workbench.errors import ConfigError, DataError, DataWarning

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(survivors only|present-day snapshot):workbench.errors.DataWarning")

DATA = Path(__file__).resolve().parent / "importers"
ADJ = DATA / "adj_factor.csv"
SECURITIES = DATA / "stock_basic.csv"


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    root = tmp_path / "bars"
    (root / "sh").mkdir(parents=True)
    (root / "sz" / "main").mkdir(parents=True)
    shutil.copy(DATA / "baostock" / "sh.600000.csv", root / "sh" / "sh.600000.csv")
    shutil.copy(DATA / "baostock" / "sz.000002.csv", root / "sz" / "main" / "SZ.000002.CSV")
    (root / "README.md").write_text("exported with baostock\n")
    (root / ".sync.csv").write_text("date\n")
    (root / ".cache").mkdir()
    (root / ".cache" / "sh.600000.csv").write_text("stale copy\n")
    (root / "sz" / "sz.300750.csv").write_bytes(b"")
    (root / "elsewhere").symlink_to(root / "sh", target_is_directory=True)
    return root


EXPECTED_READ = ["sh/sh.600000.csv", "sz/main/SZ.000002.CSV"]
EXPECTED_IGNORED = [
    (".cache", "hidden folder (name starts with '.'), not read"),
    (".sync.csv", "hidden file (name starts with '.')"),
    ("README.md", "not a .csv file"),
    ("elsewhere", "link to a folder, not followed; give its target as another --bars path "
                  "to read it"),
    ("sz/sz.300750.csv", "empty file (0 bytes)"),
]


def test_find_bar_files_reads_sub_folders_and_names_every_other_entry(nested):
    files = find_bar_files(nested)
    assert [p.relative_to(nested).as_posix() for p in files.read] == EXPECTED_READ
    assert sorted((p.relative_to(nested).as_posix(), why) for p, why in files.ignored) == (
        EXPECTED_IGNORED)
    assert find_bar_files(nested) == files  # deterministic


def test_a_file_reached_twice_is_read_once(nested):
    files = find_bar_files([nested, nested / "sh"])
    assert [p.relative_to(nested).as_posix() for p in files.read] == EXPECTED_READ
    assert (nested / "sh" / "sh.600000.csv",
            f"already read as {nested / 'sh' / 'sh.600000.csv'}") in files.ignored


def test_import_bars_keeps_sub_folder_bars_and_warns_of_data_like_files(nested):
    with pytest.warns(DataWarning, match="4 entries that may hold bars not read") as caught:
        bars = import_bars(nested, adj_factors=ADJ)
    assert len(bars) == 10
    assert sorted(bars["symbol"].unique()) == ["000002.SZ", "600000.SH"]
    message = str(caught[0].message)
    assert "sz.300750.csv: empty file (0 bytes)" in message
    assert ".sync.csv: hidden file" in message
    assert "README.md" not in message  # a note is no data: listed in the summary only


def test_market_meta_lists_every_file_read_and_not_read(nested, tmp_path):
    market = import_market(bars=nested, adj_factors=ADJ, securities=SECURITIES,
                           out=tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["bar_inputs"] == market.meta["bar_inputs"]
    read = meta["bar_inputs"]["read"]
    assert [Path(f["file"]).relative_to(nested).as_posix() for f in read] == EXPECTED_READ
    assert [(f["layout"], f["rows"]) for f in read] == [("baostock", 5), ("baostock", 5)]
    assert sum(f["rows"] for f in read) == len(market.bars)
    assert sorted((Path(f["file"]).relative_to(nested).as_posix(), f["reason"])
                  for f in meta["bar_inputs"]["ignored"]) == EXPECTED_IGNORED


def test_cli_summary_lists_every_file(nested, tmp_path, capsys):
    code = cli.main(["import", "--bars", str(nested), "--adj-factors", str(ADJ),
                     "--securities", str(SECURITIES), "--out", str(tmp_path / "m")])
    assert code == 0
    out = capsys.readouterr().out
    assert "read 2 bar files, 10 rows (each row is a bar):" in out
    for name in EXPECTED_READ:
        assert f"{nested / name}: baostock, 5 rows" in out
    assert "not read: 5 files:" in out
    for name, why in EXPECTED_IGNORED:
        assert f"  {nested / name}: {why}" in out


def test_a_folder_with_nothing_to_read_says_what_it_holds(tmp_path):
    (tmp_path / "bars" / "sub").mkdir(parents=True)
    (tmp_path / "bars" / "sub" / "prices.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"bars: folder holds no \.csv files to read \(it "
                                        r"holds sub/prices\.xlsx \(not a \.csv file\)\)"):
        find_bar_files(tmp_path / "bars")
    (tmp_path / "nothing").mkdir()
    with pytest.raises(DataError, match=r"\(it is empty\)"):
        find_bar_files(tmp_path / "nothing")


def test_market_folder_is_recognised_by_its_files(tmp_path):
    assert market_folder_extras(tmp_path) is None  # empty: no Market
    for name in ("meta.json", "bars.parquet", "securities.parquet", "fundamentals.parquet",
                 "st_periods.parquet", "benchmark.parquet"):
        (tmp_path / name).write_bytes(b"")
    assert market_folder_extras(tmp_path) == []
    (tmp_path / "index_members.parquet").write_bytes(b"")  # optional table: still a Market
    assert market_folder_extras(tmp_path) == []
    (tmp_path / "plots").mkdir()
    assert market_folder_extras(tmp_path) == ["plots/"]
    (tmp_path / "bars.parquet").unlink()
    assert market_folder_extras(tmp_path) is None


def test_check_out_folder_refuses_an_empty_name():
    with pytest.raises(ConfigError, match="--out is empty"):
        check_out_folder("")
