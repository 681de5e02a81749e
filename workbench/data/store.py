"""Storing a :class:`~workbench.data.market.Market`: a folder of Parquet files plus ``meta.json``.

A Market folder holds one Parquet file per table of :data:`~workbench.data.market.TABLES`
(``bars.parquet``, ``securities.parquet``, ``fundamentals.parquet``, ``st_periods.parquet``,
``benchmark.parquet``, ``index_members.parquet``, ``corporate_actions.parquet``; the last two
are optional), the dense panels of the bars (``panel.*.npy``, derived data that a cold run
memory-maps instead of rebuilding: :mod:`workbench.data.panels`) and ``meta.json``
(provenance, :data:`FORMAT_VERSION`, whether the files passed validation, and the SHA-256
of every file, its own included: :mod:`workbench.data.checksums`).
:func:`save_market` writes one atomically, :func:`load_market` reads one and checks every
byte against those checksums before parsing it; with no path it builds (once,
:func:`ensure_default_market`) and loads the deterministic synthetic default market from
:func:`default_data_dir`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from workbench.atomic import atomic_folder
from workbench.data.checksums import (
    CHECKSUMS_KEY,
    read_manifest,
    sha256_hex,
    verified_bytes,
    verify_file,
    write_manifest,
)
from workbench.data.corporate import empty_actions
from workbench.data.market import TABLES, Market
from workbench.data.membership import empty_spells
from workbench.data.panels import (
    CALENDAR_FILE,
    PANEL_COLUMNS,
    PANELS_KEY,
    StoredPanels,
    panel_file,
    panels_entry,
    write_panel,
)
from workbench.data.synthetic import GENERATOR_VERSION, SyntheticConfig, synthetic_market
from workbench.data.validation import validate_market
from workbench.errors import DataError

__all__ = [
    "FORMAT_VERSION",
    "default_data_dir",
    "ensure_default_market",
    "load_market",
    "save_market",
]

#: Version of the folder layout, recorded in ``meta.json``. ``index_members.parquet`` came
#: later without a new version: it is optional, and a folder without it (written before it
#: existed) loads with an empty membership table. Likewise ``corporate_actions.parquet``: a
#: folder without it loads with no corporate-action events. Version 2 (:data:`SEALED_FROM`)
#: records the SHA-256 of every file in ``meta.json``; a version-1 folder has none, loads
#: unverified and is validated on every load (save it again to add them).
FORMAT_VERSION = 2
#: First :data:`FORMAT_VERSION` whose ``meta.json`` records checksums.
SEALED_FROM = 2
#: Tables a Market folder may lack, each with the empty table it then loads as.
OPTIONAL_TABLES = {"index_members": empty_spells, "corporate_actions": empty_actions}


def default_data_dir() -> Path:
    """Folder that holds generated datasets: ``$WORKBENCH_DATA_DIR`` or the repo's ``data/``.

    Outside a source checkout it falls back to ``~/.cache/workbench``.
    """
    env = os.environ.get("WORKBENCH_DATA_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file() and (repo / "data").is_dir():
        return repo / "data"
    return Path.home() / ".cache" / "workbench"


def _fingerprint(folder: Path) -> dict[str, list[int]]:
    """Size and modification time of each table file: what a validation record vouches for.

    An optional table's file counts only when present, so a folder written before the table
    existed keeps its record. Only workbench versions before checksums read it (to skip
    validation when it matches); :func:`load_market` relies on the checksums instead.
    """
    out = {}
    for table in TABLES:
        file = folder / f"{table}.parquet"
        if table in OPTIONAL_TABLES and not file.is_file():
            continue
        st = file.stat()
        out[table] = [st.st_size, st.st_mtime_ns]
    return out


def save_market(market: Market, path: str | os.PathLike[str], *, validate: bool = True
                ) -> Path:
    """Write a Market as Parquet files plus ``meta.json``, atomically.

    The market is validated first (a fault raises ``DataError`` and nothing is written).
    The files go to a temporary sibling folder, which then replaces ``path``; a failure
    part-way leaves any previous dataset at ``path`` as it was. ``meta.json`` records the
    SHA-256 of every file (itself included) and whether the files passed validation, so
    that :func:`load_market` can detect any changed byte and skip re-validating files that
    are exactly those written.

    Parameters
    ----------
    market
        The market to write.
    path
        The folder to create or replace.
    validate
        Check the market before writing, and record that the files passed.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    DataError
        The market fails validation; nothing is written.
    """
    if validate:
        validate_market(market, source=str(path))
    with atomic_folder(path) as tmp:
        for table in TABLES:
            frame: pd.DataFrame = getattr(market, table)
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False),
                tmp / f"{table}.parquet",
                compression="zstd",
            )
        meta = {k: v for k, v in dict(market.meta).items()
                if k not in ("path", "validated", PANELS_KEY)}
        meta["format_version"] = FORMAT_VERSION
        if validate:
            meta["validated"] = _fingerprint(tmp)
        meta[PANELS_KEY], panel_files = _write_panels(market, tmp)
        write_manifest(tmp / "meta.json", meta, [f"{t}.parquet" for t in TABLES] + panel_files)
    return Path(path)


def _write_panels(market: Market, folder: Path) -> tuple[dict[str, Any], list[str]]:
    """Write the calendar and the dense panel of every canonical bar column to ``folder``.

    Returns the ``meta.json`` entry (fingerprinted with the SHA-256 of the
    ``bars.parquet`` and ``securities.parquet`` already in ``folder``) and the file names.
    """
    columns = [c for c in PANEL_COLUMNS if c in market.bar_columns]
    files = [write_panel(folder, CALENDAR_FILE,
                         market.calendar.to_numpy(dtype="datetime64[ns]"))]
    files += [write_panel(folder, panel_file(c), market.grid(c)) for c in columns]
    shape = (len(market.calendar), len(market.symbols))
    digests = [sha256_hex((folder / f"{t}.parquet").read_bytes())
               for t in ("bars", "securities")]
    return panels_entry(columns, shape, *digests), files


def _damaged(folder: Path) -> str:
    """What to do about a Market folder whose files fail their checksums."""
    return (f"re-import it (`python -m workbench import ... --out {folder}`), or for the "
            "synthetic default rebuild it (`python -m workbench build-data --rebuild`); "
            "load_market(path, verify=False) reads it as it is, unchecked")


def _checked_files(folder: Path, verify: bool) -> dict[str, str] | None:
    """Check ``meta.json`` against its own checksum; the checksums of the table files.

    None when ``verify`` is false, and for a folder without ``meta.json`` or written
    before checksums (:data:`SEALED_FROM`). A table file the record does not list is
    refused: it was put there after the folder was written.
    """
    meta_file = folder / "meta.json"
    if not verify or not meta_file.is_file():
        return None
    _, record = read_manifest(meta_file, sealed_from=SEALED_FROM, fix=_damaged(folder))
    if record is not None:
        for table in TABLES:
            name = f"{table}.parquet"
            if name not in record and (folder / name).exists():
                raise DataError(f"{folder / name}: not among the files meta.json records "
                                f"checksums for, so it was added after the folder was "
                                f"written; remove it or {_damaged(folder)}")
    return record


def _read_table(folder: Path, table: str, record: dict[str, str] | None = None
                ) -> pd.DataFrame:
    """Read one table, a column at a time; with a checksum ``record``, verified first.

    Converting column by column and dropping each Arrow column as soon as it is in pandas
    keeps peak memory near the size of the finished frame (reading the whole Arrow table
    first would hold both copies at once: ~1.35 GB instead of ~0.9 GB for 3,000 stocks ×
    2,500 sessions). ``copy=False`` keeps the columns as they are, unconsolidated. A
    verified file is parsed from the very bytes that were checked.
    """
    file = folder / f"{table}.parquet"
    where: Path | pa.BufferReader = file
    if record is not None and file.name in record:
        where = pa.BufferReader(verified_bytes(
            file, record[file.name], manifest="meta.json", fix=_damaged(folder)))
    elif table in OPTIONAL_TABLES and not file.is_file():
        return OPTIONAL_TABLES[table]()
    if not file.is_file():
        required = [t for t in TABLES if t not in OPTIONAL_TABLES]
        raise DataError(f"{folder}: missing {file.name}; a Market folder holds {required} "
                        f"(and optionally {list(OPTIONAL_TABLES)}) as Parquet. Build one "
                        "with `python -m workbench import ...`.")
    try:
        source = pq.ParquetFile(where)
        columns = {}
        for name in source.schema_arrow.names:
            part = source.read(columns=[name], use_pandas_metadata=False)
            columns[name] = part.column(0).to_pandas(split_blocks=True, self_destruct=True)
            del part
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"{file}: not a readable Parquet file ({exc})") from None
    return pd.DataFrame(columns, copy=False)


def _read_meta(file: Path) -> dict[str, Any]:
    """``meta.json`` as a dict ({} when absent); anything but a JSON object is a DataError."""
    if not file.is_file():
        return {}
    try:
        meta = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DataError(f"{file}: cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise DataError(f"{file}: not valid JSON ({exc}); restore it from a copy, or write "
                        "the Market again (python -m workbench import ... --out "
                        f"{file.parent})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{file}: holds a JSON {type(meta).__name__}, not an object of "
                        "provenance fields; restore it from a copy, or write the Market again "
                        f"(python -m workbench import ... --out {file.parent})")
    return meta


def load_market(
    path: str | os.PathLike[str] | None = None, *, validate: bool | None = None,
    verify: bool = True,
) -> Market:
    """Load a Market from a folder of Parquet files, or the synthetic default.

    Parameters
    ----------
    path
        A folder written by :func:`save_market` (``python -m workbench import`` writes one).
        ``None`` loads the default synthetic market from :func:`default_data_dir`, building
        it first if it is not there (deterministic; a few seconds).
    validate
        ``True``: check every table (vectorised, about a second per million bars).
        ``False``: skip the checks. ``None`` (default): check, unless ``meta.json`` records
        that the files passed validation when they were written and ``verify`` found them
        unchanged since.
    verify
        Check every file against the SHA-256 that ``meta.json`` recorded when the folder was
        written (about 0.1 s per 200 MB), before parsing it. ``False`` reads the files as
        they are: for a folder changed on purpose (save it again to record new checksums).
        A folder written before checksums (format version 1) cannot be verified.

    Returns
    -------
    Market
        The tables, with ``meta`` from ``meta.json`` plus ``path``, and the folder's stored
        dense panels (:mod:`workbench.data.panels`). When nothing needs validating, the
        bars are checked against their checksum now but parsed only when first read
        (:meth:`Market.from_store <workbench.data.market.Market.from_store>`): a
        run that needs only the panels never holds the long bars table.

    Raises
    ------
    DataError
        Missing or unreadable files (a ``meta.json`` that is no JSON object among them), a
        file that does not match its recorded checksum (damaged or changed since it was
        written: the message names it), or data that fails validation.
    """
    if path is None:
        folder = ensure_default_market()
    else:
        folder = Path(path)
        if not folder.is_dir():
            raise DataError(f"{folder}: no such Market folder; build one with "
                            f"`python -m workbench import ... --out {folder}` or call "
                            "load_market() for the synthetic default")
    record = _checked_files(folder, verify)
    meta = _read_meta(folder / "meta.json")
    meta.setdefault("name", folder.name)
    if validate is None:  # a record of validation counts only for verified files
        validate = record is None or "validated" not in meta
    lazy = not validate and record is not None and "bars.parquet" in record
    bars: pd.DataFrame | None = None if lazy else _read_table(folder, "bars", record)
    columns: list[str] = []
    if record is not None and bars is None:  # verified now; parsed (and verified again)
        file = folder / "bars.parquet"      # only when the bars are asked for
        verify_file(file, record[file.name], manifest="meta.json", fix=_damaged(folder))
        try:
            columns = pq.read_schema(file).names
        except (OSError, pa.ArrowException) as exc:
            raise DataError(f"{file}: not a readable Parquet file ({exc})") from None
    tables = {t: _read_table(folder, t, record) for t in TABLES if t != "bars"}
    panels = StoredPanels(folder, meta.pop(PANELS_KEY, None), record)
    market = Market.from_store(
        (lambda: _read_table(folder, "bars", record)) if bars is None else bars,
        columns=columns, panels=panels, **tables, meta={**meta, "path": str(folder)})
    if validate:
        validate_market(market, source=str(folder))
    return market


def ensure_default_market(rebuild: bool = False) -> Path:
    """Return the folder of the default synthetic market, building it when needed.

    The folder is ``default_data_dir() / "synthetic"``. It is reused when its
    ``meta.json`` records the default :class:`~workbench.data.synthetic.SyntheticConfig`
    and the current :data:`~workbench.data.synthetic.GENERATOR_VERSION`; otherwise (or with
    ``rebuild=True``) the market is built and written with :func:`save_market`, which
    replaces the folder atomically.

    Parameters
    ----------
    rebuild
        Build and write even when an up-to-date copy exists.

    Returns
    -------
    pathlib.Path
        The folder, ready for :func:`load_market`.
    """
    folder = default_data_dir() / "synthetic"
    config = SyntheticConfig()
    if not rebuild and _is_current(folder, config):
        return folder
    return save_market(synthetic_market(config), folder)


def _is_current(folder: Path, config: SyntheticConfig) -> bool:
    """Whether ``folder`` holds the market of ``config`` from the current generator."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(meta, dict)
        and meta.get("generator_version") == GENERATOR_VERSION
        and meta.get("config") == config.to_dict()
        and CHECKSUMS_KEY in meta  # written before checksums: build it again, with them
        and all((folder / f"{table}.parquet").is_file() for table in TABLES
                if table not in OPTIONAL_TABLES)
    )
