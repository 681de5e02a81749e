"""Fuzzing the whole import over malformed CSV cells, rows and encodings (issue 12, Must show).

Each example takes the two-stock sample exports (baostock or akshare layout, one of them in
a sub-folder), applies a few random faults — a cell replaced by junk or by a plausible
value, a row dropped, repeated, cut short, lengthened or swapped, a blank or junk line, a
different text encoding or line ending — and imports the folder as a Market. The import
must either raise a :class:`~workbench.errors.WorkbenchError` (and nothing else), or
succeed with every data row written accounted for: each is a bar (no bar is ever dropped),
and ``meta["bar_inputs"]`` gives every file's row count. Warnings must be DataWarnings.
"""

from __future__ import annotations

import csv
import io
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data.importers import import_market
from workbench.errors import DataWarning, WorkbenchError

DATA = Path(__file__).resolve().parent / "importers"
ADJ = DATA / "adj_factor.csv"
SECURITIES = DATA / "stock_basic.csv"
#: Per layout: (file name as written, sample file), the second one goes in a sub-folder.
LAYOUTS = {
    "baostock": [("sh.600000.csv", DATA / "baostock" / "sh.600000.csv"),
                 ("sub/sz.000002.csv", DATA / "baostock" / "sz.000002.csv")],
    "akshare": [("600000.csv", DATA / "akshare" / "600000.csv"),
                ("sub/deeper/sz000002.csv", DATA / "akshare" / "sz000002.csv")],
}
#: Cells that break parsers, or look almost right, or are right in another spelling.
SPECIAL = [
    "", " ", "NaN", "nan", "None", "null", "inf", "-inf", "1e400", "-1", "0", "1e15", "1e300",
    "8.5", " 8.50 ", "８.５", "8,5", "8.5.5", "0x10", "1_000", "+8.5", "1e-300", "-0",
    "2024-07-15", "20240715", "2024/07/15", "2024-07-15+08:00", "2024-07-15T00:00:00Z",
    "2024-07-15T00:00:00-05:00", "1500-01-01", "9999-12-31", "2024-02-30", "2024-07-15 09:30",
    "sh.600000", "sz.000002", "600000", "000002", "bj.830799", "sh.6000001", "1", "True",
    "\u00a0", "中文", "'", '"', "\t8.5", "\x00", "\ufeff", "\u200b8.5",
]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16", "latin-1", "cp1252"]


def _sample(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


@st.composite
def fault(draw, n_rows: int, n_cols: int) -> tuple:
    """One fault on a file of ``n_rows`` data rows (row 0 is the header)."""
    kind = draw(st.sampled_from(["cell", "cell", "cell", "drop", "repeat", "short", "long",
                                 "swap", "blank", "junk", "header"]))
    row = draw(st.integers(1, max(n_rows, 1)))
    if kind == "cell":
        value = draw(st.one_of(st.sampled_from(SPECIAL), st.text(max_size=6),
                               st.floats(allow_nan=True).map(repr)))
        return ("cell", row, draw(st.integers(0, n_cols - 1)), value)
    if kind == "header":
        return ("cell", 0, draw(st.integers(0, n_cols - 1)),
                draw(st.sampled_from(["", "Date", " date ", "日期", "x"])))
    if kind == "swap":
        return ("swap", row, draw(st.integers(1, max(n_rows, 1))))
    if kind == "junk":  # no quotes or line breaks: a junk line is one row, however parsed
        return ("junk", row, draw(st.text(st.characters(exclude_characters='"\r\n'),
                                          max_size=30)))
    return (kind, row)


def apply(rows: list[list[str]], faults: list[tuple]) -> tuple[list[list[str] | None], int]:
    """The rows after the faults (None marks a blank line), and how many are data rows."""
    out: list[list[str] | None] = [list(r) for r in rows]
    for f in faults:
        kind, row = f[0], min(f[1], len(out) - 1)
        if kind == "cell" and out[row] is not None and f[2] < len(out[row]):
            out[row][f[2]] = f[3]
        elif kind == "drop" and row > 0:
            del out[row]
        elif kind == "repeat" and row > 0:
            out.insert(row, out[row])
        elif kind == "short" and out[row] and row > 0:
            out[row] = out[row][:-1]
        elif kind == "long" and out[row] is not None and row > 0:
            out[row] = [*out[row], "1"]
        elif kind == "swap" and row > 0:
            other = min(f[2], len(out) - 1)
            out[row], out[other] = out[other], out[row]
        elif kind == "blank":
            out.insert(max(row, 1), None)
        elif kind == "junk":
            out.insert(max(row, 1), f[2].split(","))
    # A row whose cells are all empty is written as an empty line, which CSV readers skip,
    # as they skip blank lines: neither is a data row.
    data = sum(1 for r in out[1:] if r is not None and any(r))
    return out, data


def render(rows: list[list[str] | None], ending: str, encoding: str) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=ending)
    for r in rows:
        if r is None:
            buffer.write(ending)
        else:
            writer.writerow(r)
    return buffer.getvalue().encode(encoding, errors="replace")


@st.composite
def exports(draw) -> tuple[dict[str, bytes], dict[str, int]]:
    """File name → bytes, and file name → data rows written."""
    layout = draw(st.sampled_from(sorted(LAYOUTS)))
    files, rows = {}, {}
    for name, sample in LAYOUTS[layout]:
        base = _sample(sample)
        faults = draw(st.lists(fault(len(base) - 1, len(base[0])), max_size=3))
        out, n = apply(base, faults)
        encoding = draw(st.sampled_from(["utf-8"] * 4 + ENCODINGS))
        files[name] = render(out, draw(st.sampled_from(["\n", "\r\n"])), encoding)
        rows[name] = n
    return files, rows


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=exports())
def test_import_raises_a_workbench_error_or_accounts_for_every_row(case):
    files, rows = case
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bars"
        for name, content in files.items():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                market = import_market(bars=root, adj_factors=ADJ, securities=SECURITIES,
                                       out=Path(tmp) / "m")
            except WorkbenchError:
                market = None
        assert [w.category for w in caught if not issubclass(w.category, DataWarning)] == []
        if market is None:
            assert not (Path(tmp) / "m").exists()  # nothing written
            return
        read = {Path(f["file"]).relative_to(root).as_posix(): f["rows"]
                for f in market.meta["bar_inputs"]["read"]}
        assert read == rows  # every file read, with every data row written
        assert market.meta["bar_inputs"]["ignored"] == []
        assert len(market.bars) == sum(rows.values())  # every row a bar: none dropped


def test_the_fuzz_inputs_are_valid_without_faults(tmp_path):
    """The baseline the faults start from imports cleanly, so a fault is what fails."""
    for layout, samples in LAYOUTS.items():
        root = tmp_path / layout
        for name, sample in samples:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(render(_sample(sample), "\n", "utf-8"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)
            market = import_market(bars=root, adj_factors=ADJ, securities=SECURITIES,
                                   out=tmp_path / f"{layout}_m")
        assert len(market.bars) == 10


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8-sig"])
def test_chinese_headers_survive_other_encodings(tmp_path, encoding):
    root = tmp_path / "bars"
    for name, sample in LAYOUTS["akshare"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(render(_sample(sample), "\r\n", encoding))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        market = import_market(bars=root, adj_factors=ADJ, securities=SECURITIES,
                               out=tmp_path / "m")
    assert len(market.bars) == 10
