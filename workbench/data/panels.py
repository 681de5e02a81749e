"""Dense panels stored with a Market: sessions × symbols arrays that load without copying.

A Market folder written by :func:`workbench.data.store.save_market` holds, besides its
Parquet tables, one ``.npy`` file per bar column (``panel.close.npy``, …; see
:data:`PANEL_FILES`) with exactly what :meth:`Market.grid <workbench.data.market.Market.grid>`
builds from the bars, and ``panel.calendar.npy`` (the sessions, ``datetime64[ns]``). They
are opened with ``numpy.load(mmap_mode='r')``: a cold run reads the pages it needs from
the page cache instead of rebuilding the panels from the long bars table.

The panels are derived data. ``meta.json`` records, under :data:`PANELS_KEY`, the SHA-256
of the ``bars.parquet`` and ``securities.parquet`` they were built from (their
*fingerprint*), the shape and the columns, and its checksum record covers every panel file.
:class:`StoredPanels` uses a panel only when the fingerprint matches the checksums of the
bars and securities that were verified on load, and only after the panel file's own bytes
match their recorded SHA-256 (checked when the panel is first used, on the mapped pages,
without a copy). A stale, missing or damaged panel is never used: it is built from the bars
instead, with a :class:`~workbench.errors.DataWarning` saying why. A folder written before
panels existed, or loaded unverified (``load_market(verify=False)``), uses none and says so
in a log line (logger ``workbench.data.panels``, level INFO): nothing is wrong there.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from workbench.data.checksums import sha256_parts
from workbench.data.schema import BAR_COLUMNS, OPTIONAL_BAR_COLUMNS
from workbench.errors import DataWarning
from workbench.machine import usable_cores

LOG = logging.getLogger(__name__)

__all__ = ["CALENDAR_FILE", "PANELS_KEY", "PANEL_COLUMNS", "PANEL_FILES", "StoredPanels",
           "panel_file", "panels_entry", "write_panel"]

#: ``meta.json`` entry describing the stored panels.
PANELS_KEY = "panels"
#: Version of the panel layout; a folder recording another version is rebuilt from bars.
PANELS_VERSION = 1
#: Bar columns stored as panels when the bars have them (``date`` and ``symbol`` are the axes).
PANEL_COLUMNS: tuple[str, ...] = tuple(
    c for c in BAR_COLUMNS + OPTIONAL_BAR_COLUMNS if c not in ("date", "symbol"))
#: The sessions (rows of every panel), ``datetime64[ns]``.
CALENDAR_FILE = "panel.calendar.npy"


def panel_file(column: str) -> str:
    """File name of the stored panel of bar column ``column``.

    Examples
    --------
    >>> panel_file("close")
    'panel.close.npy'
    """
    return f"panel.{column}.npy"


#: Every file name a Market folder may hold for its panels.
PANEL_FILES: frozenset[str] = frozenset({CALENDAR_FILE, *map(panel_file, PANEL_COLUMNS)})


def write_panel(folder: Path, name: str, array: np.ndarray) -> str:
    """Write ``array`` as ``folder / name`` in ``.npy`` format; return ``name``."""
    np.save(folder / name, np.ascontiguousarray(array), allow_pickle=False)
    return name


def panels_entry(columns: Iterable[str], shape: tuple[int, int], bars_sha256: str,
                 securities_sha256: str) -> dict[str, Any]:
    """The ``meta.json`` entry for panels of ``columns`` built from the given files.

    Parameters
    ----------
    columns
        The bar columns stored.
    shape
        ``(sessions, symbols)`` of every panel.
    bars_sha256, securities_sha256
        SHA-256 (hex) of the ``bars.parquet`` and ``securities.parquet`` the panels were
        built from: their fingerprint.
    """
    return {"version": PANELS_VERSION, "columns": list(columns), "shape": list(shape),
            "bars": bars_sha256, "securities": securities_sha256}


class StoredPanels:
    """The panels of one Market folder, each memory-mapped and checked on first use.

    Parameters
    ----------
    folder
        The Market folder.
    entry
        Its ``meta.json`` :data:`PANELS_KEY` entry (None: the folder has no panels).
    record
        The verified checksums of the folder's files (``{file name: sha256}``), or None
        when the folder was loaded unverified: panels are then not used, since nothing ties
        them to the bars as read.
    """

    def __init__(self, folder: Path, entry: Mapping[str, Any] | None,
                 record: Mapping[str, str] | None) -> None:
        self.folder = Path(folder)
        self.record = dict(record or {})
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._ready: dict[str, np.ndarray | str] = {}  # prepare()d, not yet asked for
        self.reason = self._unusable(entry, record)
        self.expected = entry is not None and record is not None  # panels should be usable
        self.columns: frozenset[str] = frozenset(
            () if self.reason or entry is None else entry.get("columns", ()))
        self.shape: tuple[int, ...] = tuple(entry.get("shape", ())) if entry else ()

    def _unusable(self, entry: Mapping[str, Any] | None, record: Mapping[str, str] | None
                  ) -> str | None:
        """Why the folder's panels cannot be used at all (None: they can)."""
        if entry is None:
            return "the folder has no stored panels (written before they existed)"
        if record is None:
            return "the folder was loaded unverified, so nothing ties them to the bars"
        if entry.get("version") != PANELS_VERSION:
            return f"they are of layout version {entry.get('version')!r}, not {PANELS_VERSION}"
        if (entry.get("bars") != record.get("bars.parquet")
                or entry.get("securities") != record.get("securities.parquet")):
            return "they were built from other bars or securities than those stored (stale)"
        return None

    def notice(self, what: str, why: str) -> None:
        """Warn once per ``what`` that it is built from the bars, and why."""
        with self._lock:
            if what in self._warned:
                return
            self._warned.add(what)
        if not self.expected:
            LOG.info("%s: stored %s not used (%s); building it from the bars", self.folder,
                     what, why)
            return
        warnings.warn(f"{self.folder}: stored {what} not used ({why}); building it from the "
                      "bars instead. Save the market again (save_market, or `python -m "
                      "workbench import ... --out FOLDER`) to store fresh panels",
                      DataWarning, stacklevel=4)

    def prepare(self, columns: Iterable[str]) -> None:
        """Check the stored panels of ``columns`` now, several files at once.

        Each file's SHA-256 is taken on up to :func:`~workbench.machine.usable_cores`
        threads (hashing releases the GIL), so a run that needs eight panels waits for
        the slowest share of them rather than their sum. What is found is kept for
        :meth:`grid`, which is where a panel that cannot be used is reported; columns
        without a stored panel, or already prepared, are skipped.
        """
        if self.reason:
            return
        with self._lock:
            todo = [panel_file(c) for c in dict.fromkeys(columns)
                    if c in self.columns and panel_file(c) not in self._ready]
        if not todo:
            return
        workers = min(usable_cores(), len(todo))
        if workers == 1:
            found = [self._open(name) for name in todo]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="panels") as pool:
                found = list(pool.map(self._open, todo))
        with self._lock:
            self._ready.update(zip(todo, found, strict=True))

    def _open(self, name: str) -> np.ndarray | str:
        """The mapped panel file ``name`` once its bytes match their SHA-256, else why not.

        The digest is taken on the very pages the array maps (the header read, the body
        hashed through the array), so checking a panel touches it once, not twice.
        """
        digest = self.record.get(name)
        file = self.folder / name
        if digest is None or not file.is_file():
            return f"{name} is missing"
        try:
            mapped = np.load(file, mmap_mode="r", allow_pickle=False)
            if not isinstance(mapped, np.memmap):  # e.g. an .npz archive under this name
                getattr(mapped, "close", lambda: None)()
                return f"{name} is not a .npy file that can be memory-mapped"
            size = file.stat().st_size
            with open(file, "rb") as fh:
                header = fh.read(mapped.offset)
        except (OSError, ValueError) as exc:
            return f"{name} is not a readable .npy file: {exc}"
        if mapped.ndim and mapped.shape[0] != self.shape[0]:
            return f"{name} has {mapped.shape[0]} rows, not {self.shape[0]}"
        # the body in file order: C order, or a Fortran-order file's transpose
        body = mapped if mapped.flags.c_contiguous else mapped.T
        if (size != mapped.offset + mapped.nbytes or not body.flags.c_contiguous
                or sha256_parts(header, body.reshape(-1).view(np.uint8).data)
                != digest):
            return (f"{name} does not match the SHA-256 meta.json recorded: damaged or "
                    "changed since it was written")
        return np.asarray(mapped)  # a plain read-only ndarray on the mapped pages

    def _load(self, name: str, what: str) -> np.ndarray | None:
        with self._lock:
            found = self._ready.pop(name, None)
        if found is None:
            found = self._open(name)
        if isinstance(found, str):
            self.notice(what, found)
            return None
        return found

    def calendar(self) -> np.ndarray | None:
        """The stored sessions (``datetime64[ns]``), or None (built from the bars)."""
        if self.reason:
            return None
        return self._load(CALENDAR_FILE, "calendar")

    def grid(self, column: str) -> np.ndarray | None:
        """The stored panel of ``column`` (read-only, memory-mapped), or None.

        None when the column was not stored (not a canonical bar column: built from the
        bars, silently) or when the panel cannot be used (built from the bars after a
        :class:`~workbench.errors.DataWarning`, once per column).
        """
        if self.reason:
            self.notice("panels", self.reason)
            return None
        if column not in self.columns:
            return None
        found = self._load(panel_file(column), f"panel {column!r}")
        if found is not None and found.shape != self.shape:
            self.notice(f"panel {column!r}", f"its shape {found.shape} is not {self.shape}")
            return None
        return found
