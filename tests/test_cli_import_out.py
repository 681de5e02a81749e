"""``python -m workbench import --out DIR`` never deletes user data (issue 12, item 1).

DIR may be absent, empty or a Market folder (then replaced atomically). Every other DIR —
the exports folder itself, a file, ``.``, a parent of the inputs, a folder of other files —
is refused with exit code 2 and a message saying what DIR holds; each test compares the
whole tree on disk before and after, byte for byte.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from workbench import cli
from workbench.data.importers import import_market
from workbench.data.store import load_market
from workbench.errors import ConfigError

#: The samples are survivors only with a stock_basic snapshot; those warnings are the subject
#: of tests/data/test_provenance.py.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(survivors only|present-day snapshot):workbench.errors.DataWarning")

DATA = Path(__file__).resolve().parent / "data" / "importers"
ADJ = DATA / "adj_factor.csv"
SECURITIES = DATA / "stock_basic.csv"


def tree(root: Path) -> dict[str, bytes | None]:
    """Every file (its bytes) and folder (None) under root, by relative path."""
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    """tmp_path/exports: two baostock exports (one stock each) and a note of the user's."""
    folder = tmp_path / "exports"
    shutil.copytree(DATA / "baostock", folder)
    (folder / "NOTES.txt").write_text("downloaded 2024-07-20 with baostock 0.8.9\n")
    return folder


def run_import(bars: Path | str, out: Path | str, *extra: str) -> int:
    return cli.main(["import", "--bars", str(bars), "--adj-factors", str(ADJ),
                     "--securities", str(SECURITIES), "--out", str(out), *extra])


def test_out_absent_is_created(tmp_path, exports, capsys):
    before = tree(exports)
    assert run_import(exports, tmp_path / "new" / "market") == 0
    assert "written to" in capsys.readouterr().out
    assert load_market(tmp_path / "new" / "market").summary()["bars"] == 10
    assert tree(exports) == before


def test_out_empty_folder_is_filled(tmp_path, exports):
    (tmp_path / "market").mkdir()
    before = tree(exports)
    assert run_import(exports, tmp_path / "market") == 0
    assert load_market(tmp_path / "market").summary()["bars"] == 10
    assert tree(exports) == before


def test_out_market_folder_is_replaced_whole(tmp_path, exports):
    out = tmp_path / "market"
    assert run_import(exports, out, "--name", "first") == 0
    before = tree(exports)
    assert run_import(exports / "sh.600000.csv", out, "--name", "second") == 0
    market = load_market(out)
    assert market.name == "second"
    assert market.bars["symbol"].unique().tolist() == ["600000.SH"]  # the old bars are gone
    assert tree(exports) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exports", "market"]  # no leftovers


def test_out_market_folder_holding_other_files_is_refused(tmp_path, exports, capsys):
    out = tmp_path / "market"
    assert run_import(exports, out) == 0
    (out / "my_analysis.ipynb").write_text("{}")
    before = tree(tmp_path)
    assert run_import(exports, out) == 2
    err = capsys.readouterr().err
    assert "is a Market folder that also holds my_analysis.ipynb" in err
    assert "Move them out first" in err
    assert tree(tmp_path) == before


def test_out_is_the_exports_folder_itself(tmp_path, exports, capsys):
    before = tree(tmp_path)
    assert run_import(exports, exports) == 2
    err = capsys.readouterr().err
    assert f"{exports}: --out is the input {exports} (--bars)" in err
    assert "would delete your exports" in err
    assert tree(tmp_path) == before


def test_out_is_a_file(tmp_path, exports, capsys):
    target = tmp_path / "results.csv"
    target.write_text("my,results\n1,2\n")
    before = tree(tmp_path)
    assert run_import(exports, target) == 2
    assert f"{target}: --out is a file (15 bytes), not a folder" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_out_is_the_current_directory(tmp_path, exports, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = tree(tmp_path)
    assert run_import("exports", ".") == 2
    err = capsys.readouterr().err
    assert "--out '.' is the current directory" in err
    assert "give a new sub-folder, e.g. --out market" in err
    assert tree(tmp_path) == before
    # an empty current directory is refused as well: a Market needs a folder of its own
    (tmp_path / "empty").mkdir()
    monkeypatch.chdir(tmp_path / "empty")
    assert run_import(exports, ".") == 2
    assert run_import(exports, str(tmp_path / "empty")) == 2
    assert run_import(exports, "..") == 2
    assert "a parent of the current directory" in capsys.readouterr().err
    assert tree(tmp_path) == before | {"empty": None}


def test_out_holding_an_input_is_refused(tmp_path, exports, capsys):
    before = tree(tmp_path)
    assert run_import(exports / "sh.600000.csv", tmp_path) == 2
    assert f"--out holds the input {exports / 'sh.600000.csv'} (--bars)" in capsys.readouterr().err
    # any input counts, not only --bars
    (tmp_path / "refs").mkdir()
    shutil.copy(ADJ, tmp_path / "refs" / "adj.csv")
    before = tree(tmp_path)
    code = cli.main(["import", "--bars", str(exports), "--adj-factors",
                     str(tmp_path / "refs" / "adj.csv"), "--out", str(tmp_path / "refs")])
    assert code == 2
    assert "(--adj-factors)" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_out_folder_of_other_files_is_refused(tmp_path, exports, capsys):
    other = tmp_path / "thesis"
    (other / "chapters").mkdir(parents=True)
    (other / "draft.md").write_text("# draft\n")
    before = tree(tmp_path)
    assert run_import(exports, other) == 2
    err = capsys.readouterr().err
    assert f"{other}: --out holds chapters/, draft.md and is not a Market folder" in err
    assert tree(tmp_path) == before


def test_out_under_a_file_is_refused(tmp_path, exports, capsys):
    (tmp_path / "plain").write_text("x")
    before = tree(tmp_path)
    assert run_import(exports, tmp_path / "plain" / "market") == 2
    assert "which is a file" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_out_symlink_is_refused(tmp_path, exports, capsys):
    assert run_import(exports, tmp_path / "market") == 0
    (tmp_path / "link").symlink_to(tmp_path / "market")
    before = tree(tmp_path)
    assert run_import(exports, tmp_path / "link") == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_python_api_checks_out_too(tmp_path, exports):
    before = tree(tmp_path)
    with pytest.raises(ConfigError, match=r"--out is the input .* \(bars\)"):
        import_market(bars=exports, adj_factors=ADJ, securities=SECURITIES, out=exports)
    with pytest.raises(ConfigError, match="is the current directory"):
        import_market(bars=exports, adj_factors=ADJ, securities=SECURITIES, out=Path.cwd())
    assert tree(tmp_path) == before


def test_benchmark_inputs_are_inputs_too(tmp_path, exports, capsys):
    etf = tmp_path / "etf"
    etf.mkdir()
    (etf / "510300.csv").write_text("whatever\n")
    before = tree(tmp_path)
    code = cli.main(["import", "--bars", str(exports), "--benchmark-etf", str(etf / "510300.csv"),
                     "--benchmark-dividends", str(etf / "div.csv"), "--out", str(etf)])
    assert code == 2
    assert "(--benchmark-etf)" in capsys.readouterr().err
    assert tree(tmp_path) == before


def test_a_replaced_markets_meta_is_the_new_imports_whole(tmp_path, exports):
    """A replaced Market's meta.json is the new import's, whole (no mix of old and new)."""
    out = tmp_path / "market"
    assert run_import(exports, out, "--name", "one") == 0
    assert run_import(exports, out, "--name", "two") == 0
    meta = json.loads((out / "meta.json").read_text())
    assert meta["name"] == "two"
    assert [Path(f["file"]).name for f in meta["bar_inputs"]["read"]] == [
        "sh.600000.csv", "sz.000002.csv"]
