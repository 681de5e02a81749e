"""The sweep's checkpoint: its table in one Parquet file, written as rows finish and read
back to resume.

The file is the table of :attr:`workbench.research.sweep.SweepResult.table` (indexed by
``row_id``) with the sweep's description as JSON under the schema metadata key
:data:`META_KEY`: ``format`` (:data:`FORMAT`), strategy, mode, objective, grid, cost
multipliers, periods, configuration and a fingerprint of the market. It is replaced
atomically, so an interrupted sweep leaves the last complete table. Under the key
:data:`SEAL_KEY` the file records its own SHA-256 (computed with that digest as 64 zeros:
:func:`workbench.data.checksums.seal`), checked before the table is read, so a damaged byte
anywhere in the file is a ``DataError`` rather than rows resumed with wrong metrics.

Resuming (:func:`finished_rows`) keeps the rows of the file that finished without an error
and belong to the sweep being run (by ``row_id``); a file of another format or of other
data is refused, so rows are never matched across incompatible files.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.atomic import atomic_write_bytes
from workbench.data.checksums import PLACEHOLDER, is_sealed, seal
from workbench.errors import ConfigError, DataError
from workbench.jsonable import jsonable

__all__ = ["FORMAT", "META_KEY", "SEAL_KEY", "finished_rows", "read_checkpoint",
           "write_checkpoint"]

#: Version of the file's layout and row identity; a file of a later format is refused.
#: Format 2 records the file's SHA-256 (:data:`SEAL_KEY`); format 1 files (none) still resume.
FORMAT = 2
#: Schema metadata key of the sweep's description.
META_KEY = b"workbench.sweep"
#: Schema metadata key of the file's own SHA-256 (hex).
SEAL_KEY = b"workbench.sha256"
#: What precedes the digest in the file: Parquet's footer is Thrift compact protocol, so
#: the key is followed by the value's field header (0x18) and length (64, i.e. 0x40).
_SEAL_BEFORE = SEAL_KEY + b"\x18\x40"


def write_checkpoint(path: Path, frame: pd.DataFrame, meta: Mapping[str, Any], *,
                     text_columns: Collection[str] = ()) -> None:
    """Write ``frame`` and ``meta`` to ``path`` (Parquet, zstd), atomically.

    Parameters
    ----------
    path
        The file; its folder is created if missing.
    frame
        The table, indexed by ``row_id``.
    meta
        The sweep's description (made JSON-ready by :func:`workbench.jsonable.jsonable`);
        ``format`` is set to :data:`FORMAT`.
    text_columns
        Columns written as text when Arrow cannot store them as they are (parameter values
        of mixed types, e.g. ``[5, "auto"]``).
    """
    try:
        table = pa.Table.from_pandas(frame, preserve_index=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # parameter values of mixed types
        text = frame.astype({c: "str" for c in text_columns if c in frame.columns})
        table = pa.Table.from_pandas(text, preserve_index=True)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[META_KEY] = json.dumps(jsonable({**meta, "format": FORMAT})).encode()
    schema_meta[SEAL_KEY] = PLACEHOLDER.encode()
    buffer = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(schema_meta), buffer, compression="zstd")
    atomic_write_bytes(path, seal(buffer.getvalue(), before=_SEAL_BEFORE))


def read_checkpoint(path: Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The table and the description of a sweep file.

    Raises
    ------
    DataError
        For a file that is not a readable sweep table, or that does not match the SHA-256
        it recorded (damaged or changed since it was written).
    ConfigError
        For a sweep table of a later :data:`FORMAT`.
    """
    afresh = "delete the file (or pass another out path) to run the sweep afresh"
    try:
        raw = path.read_bytes()
        source = pq.ParquetFile(pa.BufferReader(raw))
        stamp = (source.metadata.metadata or {}).get(SEAL_KEY)
        if stamp is not None and not is_sealed(raw, stamp.decode("ascii", "replace"),
                                               before=_SEAL_BEFORE):
            raise DataError(f"{path}: does not match the SHA-256 it recorded when it was "
                            f"written; it was damaged or changed since: {afresh}")
        table = source.read()
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{path}: not a readable sweep table ({exc}); pass another out path "
                        "or delete the file to start afresh") from None
    try:
        meta = json.loads((table.schema.metadata or {}).get(META_KEY, b"{}"))
    except ValueError as exc:
        raise DataError(f"{path}: its sweep description is not JSON ({exc}): {afresh}"
                        ) from None
    frame = table.to_pandas()
    if "error" not in frame.columns or frame.index.name != "row_id":
        raise DataError(f"{path}: not a sweep table (no row_id index or error column); pass "
                        "another out path")
    if meta.get("format") not in range(1, FORMAT + 1):
        raise ConfigError(f"{path} is a sweep table of format {meta.get('format')!r}; this "
                          f"version reads formats 1 to {FORMAT} only, so its rows cannot be "
                          "matched to this sweep. Delete the file (or pass another out path) "
                          "to run the sweep afresh")
    if stamp is None and meta["format"] >= 2:
        raise DataError(f"{path}: a sweep table of format {meta['format']} records its "
                        f"SHA-256 under {SEAL_KEY!r}, but this one has none; it was damaged "
                        f"or changed since it was written: {afresh}")
    return frame, meta


def finished_rows(path: Path, meta: Mapping[str, Any], planned: Collection[str],
                  columns: Collection[str]) -> dict[str, dict[str, Any]]:
    """The rows of ``path`` to keep when resuming: finished without an error and planned.

    Parameters
    ----------
    path
        The sweep file; none yet gives no rows.
    meta
        This sweep's description; its ``market`` fingerprint must match the file's.
    planned
        The ``row_id`` values of this sweep.
    columns
        The metric columns of a row (its ``error`` is None).

    Returns
    -------
    dict
        ``{row_id: {column: value, ..., "error": None}}``. Rows that failed run again (the
        error may have been passing); rows of the file outside this sweep are dropped from
        it, with a warning; a file without some of ``columns`` (an older format) gives no
        rows, with a warning.

    Raises
    ------
    ConfigError
        For a file of other data or of another format.
    """
    if not path.exists():
        return {}
    stored, stored_meta = read_checkpoint(path)
    market = jsonable(meta["market"])
    if stored_meta.get("market") not in (None, market):
        raise ConfigError(f"{path} holds a sweep of other data ({stored_meta['market']}, "
                          f"now {market}); pass another out path or delete it")
    if dropped := len(set(stored.index) - set(planned)):
        warnings.warn(f"{path}: {dropped} rows are not part of this sweep (another grid, "
                      "strategy, periods or configuration) and are dropped from the "
                      "file; pass another out path to keep them", stacklevel=3)
    cols = list(columns)
    if missing := [c for c in cols if c not in stored.columns]:
        warnings.warn(f"{path}: written by an older workbench (no columns {missing}); "
                      "every row runs again", stacklevel=3)
        return {}
    ok = stored.loc[stored["error"].isna(), cols]
    planned = set(planned)
    return {str(rid): {**{c: row[c] for c in cols}, "error": None}
            for rid, row in ok.iterrows() if str(rid) in planned}
