"""Export CSVs read as text, with every cell fault named by file, line and column.

The importers (:mod:`workbench.data.importers`) read a file once with :func:`read_table`
(Python's ``csv`` module, so each row keeps its exact file line, header = line 1) and then
parse the columns they need with :func:`numbers`, :func:`dates`, :func:`symbols` and
:func:`flags`. Any malformation — empty or binary file, undecodable bytes, ragged rows,
broken quoting, a non-numeric price, an unparseable date, a date with a time zone or
beyond the years datetime64[ns] holds — raises
:class:`~workbench.errors.DataError`, never a parser traceback.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.validation import where
from workbench.errors import DataError, LookupFailed, did_you_mean
from workbench.symbols import normalize_symbol

__all__ = [
    "Layout",
    "Table",
    "dates",
    "flags",
    "numbers",
    "pick_layout",
    "read_table",
    "shares",
    "symbol_map",
    "symbols",
]

PathLike = str | os.PathLike[str]

#: Numbers at or beyond this magnitude are rejected as implausible.
LARGEST = 1e15
#: Cell texts that mean "no value".
MISSING = frozenset({"", "nan", "NaN", "NA", "N/A", "None", "null", "NULL"})
_TRUE = frozenset({"1", "1.0", "true", "True", "TRUE"})
_FALSE = frozenset({"0", "0.0", "false", "False", "FALSE"})
#: A date or date-time followed by a time zone: ``Z``, an offset, ``UTC`` or ``GMT``.
_ZONE = (r"^\d{4}-?\d{2}-?\d{2}(?:[T ]\d{1,2}(?::?\d{2}){0,2}(?:\.\d+)?)?\s*"
         r"(?:[zZ]|[+-]\d{1,2}(?::?\d{2})?|(?i:UTC|GMT)(?:[+-]\d{1,2}(?::?\d{2})?)?)$")
#: The whole days datetime64[ns] holds.
_FIRST_DAY, _LAST_DAY = pd.Timestamp("1678-01-01"), pd.Timestamp("2261-12-31")


@dataclass(frozen=True, kw_only=True)
class Layout:
    """A CSV layout: the columns that identify it and those it may also carry."""

    name: str
    export: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    """A CSV file read as text: one object array of cells per column, file line per row."""

    path: Path
    header: tuple[str, ...]
    columns: dict[str, np.ndarray]  # raw cells; read them through column()
    lines: np.ndarray
    _stripped: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.lines)

    def column(self, name: str) -> np.ndarray:
        """The cells of a column with surrounding whitespace removed (computed once)."""
        if name not in self._stripped:
            self._stripped[name] = np.array([v.strip() for v in self.columns[name]],
                                            dtype=object)
        return self._stripped[name]

    def fail(self, bad: np.ndarray, column: str, fault: str) -> None:
        """Raise DataError for the rows where ``bad`` is True (no-op when none is)."""
        pos = np.flatnonzero(bad)
        if len(pos):
            raise DataError(f"{where(str(self.path), self.lines, pos)}, column {column!r}: "
                            f"{fault}")

    def missing(self, column: str) -> np.ndarray:
        """True where the cell is empty (or a missing-value marker such as ``NaN``)."""
        return pd.Series(self.column(column), dtype=object).isin(MISSING).to_numpy()

    def take(self, keep: np.ndarray) -> Table:
        """The rows where ``keep`` is True, with their line numbers."""
        return Table(self.path, self.header, {k: v[keep] for k, v in self.columns.items()},
                     self.lines[keep], {k: v[keep] for k, v in self._stripped.items()})


def read_table(path: PathLike) -> Table:
    """Read a comma-separated file with a header line as text (UTF-8, or GBK as a fallback).

    Blank lines are skipped; quoted fields may hold commas. Raises DataError naming the
    file (and line) for anything that is not such a file.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise DataError(f"{file}: empty file; expected CSV text with a header line")
    if b"\x00" in data:
        raise DataError(f"{file}: contains NUL bytes, so it is binary, not CSV text "
                        "(was it saved as .xlsx or UTF-16?); export it as UTF-8 CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # akshare exports saved by Excel on Chinese Windows are GBK
            text = data.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise DataError(f"{file}: byte {exc.start} is neither UTF-8 nor GBK text; "
                            "export the file as UTF-8 CSV") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] = []
    header_line = 0
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            if not row:
                continue  # a blank line; reader.line_num keeps later lines exact
            if not header_line:
                header, header_line = [h.strip() for h in row], reader.line_num
            elif len(row) != len(header):
                raise DataError(f"{file}: line {reader.line_num} has {len(row)} fields, the "
                                f"header (line {header_line}) has {len(header)}; check for "
                                "unquoted commas or a truncated row")
            else:
                rows.append(row)
                lines.append(reader.line_num)
    except csv.Error as exc:
        raise DataError(f"{file}: line {reader.line_num}: not valid CSV ({exc})") from None
    named = [h for h in header if h]
    if dups := sorted({h for h in named if named.count(h) > 1}):
        raise DataError(f"{file}: line {header_line}: header repeats columns {dups}; "
                        "each column must appear once")
    if not rows:
        raise DataError(f"{file}: header only, no data rows")
    values = list(zip(*rows, strict=True))
    columns = {
        name: np.array(values[i], dtype=object)
        for i, name in enumerate(header) if name  # pandas' unnamed index column: ignored
    }
    return Table(file, tuple(header), columns, np.asarray(lines, dtype=np.int64))


def pick_layout(table: Table, source: str, layouts: dict[str, Layout], what: str) -> Layout:
    """Return the layout ``source`` names, or the one the header fits when ``"auto"``.

    Raises
    ------
    DataError
        The header lacks the named layout's columns, fits none (the message lists every
        layout and the columns it needs) or fits several.
    LookupFailed
        ``source`` names no layout.
    """
    found = set(table.header)
    if source != "auto":
        if source not in layouts:
            raise LookupFailed(f"unknown {what} source {source!r}; "
                               f"{did_you_mean(source, [*layouts, 'auto'])}")
        layout = layouts[source]
        if missing := [c for c in layout.required if c not in found]:
            raise DataError(f"{table.path}: line 1: not in the {layout.export} layout: missing "
                            f"columns {missing}; found {list(table.header)}. "
                            f"{_known(layouts)}")
        return layout
    matches = [lay for lay in layouts.values() if set(lay.required) <= found]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DataError(f"{table.path}: line 1: header fits several layouts "
                        f"{[m.name for m in matches]}; pass source= with the one it is")
    raise DataError(f"{table.path}: line 1: header {list(table.header)} is in no known "
                    f"{what} layout. {_known(layouts)} Files must be comma-separated with "
                    "a header line; pass source= to name the layout.")


def _known(layouts: dict[str, Layout]) -> str:
    listed = "; ".join(f"{k} ({v.export}) needs {list(v.required)}"
                       for k, v in layouts.items())
    return f"Known layouts: {listed}."


def _first(raw: pd.Series, bad: np.ndarray) -> str:
    return repr(raw[bad].iloc[0]) if bad.any() else ""


def numbers(t: Table, column: str, *, allow_missing: bool = False) -> np.ndarray:
    """Parse a numeric column to float64; empty cells are NaN when ``allow_missing``."""
    raw = pd.Series(t.column(column), dtype=object)
    missing = t.missing(column)
    values = pd.to_numeric(raw.where(~missing), errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & ~missing
    t.fail(bad, column, f"non-numeric value {_first(raw, bad)}")
    t.fail(np.isinf(values), column, "infinite value")
    # No A-share figure comes near 1e15 (a day's whole-market turnover is ~1e12 CNY); larger
    # values are a unit or column mix-up, and would overflow integer fen and share counts.
    t.fail(np.abs(np.nan_to_num(values)) >= LARGEST, column,
           f"implausibly large value {_first(raw, np.abs(np.nan_to_num(values)) >= LARGEST)}; "
           "check the column and its unit")
    if not allow_missing:
        t.fail(missing, column, "missing value")
    return values


def shares(t: Table, column: str, values: np.ndarray, *, scale: int) -> np.ndarray:
    """Whole shares (int64) from a parsed lots (``scale=100``) or shares column; no NaN."""
    total = values * scale
    t.fail(np.isnan(total), column, "missing volume")
    unit = f" (lots × {scale})" if scale > 1 else ""
    t.fail(np.abs(total - np.rint(total)) > 1e-3, column,
           f"volume{unit} is not a whole number of shares")
    return np.rint(total).astype(np.int64)


def _zoned(raw: pd.Series) -> np.ndarray:
    """True where a date cell ends in a time zone (``Z``, ``+08:00``, ``UTC``)."""
    return raw.str.contains(_ZONE, regex=True, na=False).to_numpy(dtype=bool)


def _parse_dates(t: Table, column: str, raw: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime`` of the cells (NaT where unparseable); a cell pandas cannot parse
    beside the others (it raises) becomes a DataError naming its line."""
    try:
        return pd.to_datetime(raw, format=fmt, errors="coerce")
    except (ValueError, TypeError, OverflowError) as exc:
        reason = str(exc).split(". ")[0]
    zoned = np.zeros(len(raw), dtype=bool)
    for value in pd.unique(raw.dropna()):  # only on failure: find the cells that break it
        try:
            alone = pd.to_datetime(pd.Series([value]), format=fmt, errors="coerce")
        except (ValueError, TypeError, OverflowError):
            t.fail((raw == value).to_numpy(dtype=bool), column, f"unparseable date {value!r}")
        if getattr(alone.dt, "tz", None) is not None:
            zoned |= (raw == value).to_numpy(dtype=bool)
    t.fail(zoned, column, f"date {_first(raw, zoned)} carries a time zone; daily bars need "
                          "plain dates (the exchange's local day)")
    t.fail(raw.notna().to_numpy(dtype=bool), column,
           f"dates cannot be read together ({reason}); give every date as YYYY-MM-DD")
    raise AssertionError("unreachable")  # t.fail raised: there are cells


def dates(t: Table, column: str, fmt: str, *, allow_missing: bool = False) -> np.ndarray:
    """Parse a date column (``fmt`` ``"%Y%m%d"`` or ``"ISO8601"``) to datetime64[ns].

    Every cell must be a plain date (midnight if a time is written), without a time zone,
    between 1678 and 2261 (what datetime64[ns] holds); anything else raises DataError
    naming the line.
    """
    raw = pd.Series(t.column(column), dtype=object)
    missing = t.missing(column)
    if not allow_missing:
        t.fail(missing, column, "missing date")
    expected = "YYYYMMDD" if fmt == "%Y%m%d" else "YYYY-MM-DD"
    text = raw.where(~missing)
    zoned = _zoned(text)
    t.fail(zoned, column, f"date {_first(raw, zoned)} carries a time zone; daily bars need "
                          f"plain dates ({expected}, the exchange's local day)")
    parsed = _parse_dates(t, column, text, fmt)
    bad = (parsed.isna() & ~missing).to_numpy()
    t.fail(bad, column, f"unparseable date {_first(raw, bad)}; expected {expected}")
    if getattr(parsed.dt, "tz", None) is not None:  # a zone the pattern missed
        t.fail(~missing, column, f"date {_first(raw, ~missing)} carries a time zone; daily "
                                 f"bars need plain dates ({expected})")
    # Check the range before converting: a date beyond datetime64[ns] would wrap around
    # silently (1500-01-03 becomes 2084-07-22 23:34).
    far = (parsed.notna() & ((parsed < _FIRST_DAY) | (parsed > _LAST_DAY))).to_numpy()
    t.fail(far, column, f"date {_first(raw, far)} is outside the years 1678 to 2261 that "
                        "dates can hold; check the column and its format")
    out = parsed.to_numpy(dtype="datetime64[ns]")
    t.fail(~missing & (out != out.astype("datetime64[D]")), column,
           "date has a time of day; daily bars need plain dates")
    return out


def _spelled(text: str) -> object:
    return int(text) if text.isdigit() and len(text) < 6 else text  # Excel ate the zeros


def symbol_map(raw: np.ndarray) -> dict[str, str | None]:
    """Canonical symbol per distinct spelling; None where the spelling is not an A share."""
    mapping: dict[str, str | None] = {}
    for u in pd.unique(pd.Series(raw, dtype=object)):
        try:
            mapping[u] = normalize_symbol(_spelled(u))
        except DataError:
            mapping[u] = None
    return mapping


def symbols(t: Table, column: str) -> np.ndarray:
    """Normalise a symbol column (any spelling) to ``CODE.EX`` (object array)."""
    raw = t.column(column)
    t.fail(t.missing(column), column, "missing symbol")
    mapping: dict[str, str] = {}
    for u in pd.unique(pd.Series(raw, dtype=object)):
        try:
            mapping[u] = normalize_symbol(_spelled(u))
        except DataError as exc:
            t.fail(raw == u, column, str(exc))
    return pd.Series(raw, dtype=object).map(mapping).to_numpy(dtype=object)


def flags(t: Table, column: str, meaning: str) -> pd.Series:
    """Parse a 0/1 column to nullable booleans (NA where empty)."""
    raw = pd.Series(t.column(column), dtype=object)
    true, false, missing = raw.isin(_TRUE), raw.isin(_FALSE), t.missing(column)
    bad = ~(true | false | missing).to_numpy()
    t.fail(bad, column, f"{meaning} must be 1 or 0, got {_first(raw, bad)}")
    return pd.Series(pd.array(np.where(missing, None, true.to_numpy()), dtype="boolean"))
