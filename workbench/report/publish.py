"""A report folder published whole: build the new version beside it, then one atomic swap.

A report's folder ``OUT/NAME`` (``NAME.html``, ``NAME.ipynb``, ``metrics.json``,
``report.json``, and after a failed run ``NAME.failed.*``) changes only by a *publish*: every
file of the new state is written into a fresh version folder, and one ``rename`` makes it the
report. Readers (a browser, the index) therefore see the old report or the new one, whole,
never a mix of the two::

    OUT/NAME -> .versions/NAME/v-20250611T173001123456-4711-a1b2c3   (a relative symlink)
    OUT/.versions/NAME/lock        held while a run of NAME builds or publishes it (lock.py)
    OUT/.versions/NAME/v-*         versions: the one OUT/NAME points to, and a run's work folder
    OUT/.versions/NAME/link-*      a symlink about to replace OUT/NAME
    OUT/.versions/NAME/aside-*     the previous OUT/NAME while a real folder is swapped out

Publishing (:meth:`ReportFolder.publish`), with the report's lock held:

1. the version folder is complete; its files and the folder itself are fsynced;
2. a symlink ``link-*`` to it is made in the store;
3. only when ``OUT/NAME`` is a real folder (made by an older workbench, or by step 4' below)
   it is renamed to ``aside-*``;
4. ``os.replace(link, OUT/NAME)``: **the commit**, one atomic rename;
5. the replaced version (or the aside) is removed, best effort.

What a crash (``kill -9``, power loss) at each point leaves, and what repairs it:

* before 4 (steps 1-3): ``OUT/NAME`` is the old report, whole; a stray version and link stay
  in the store. After step 3, ``OUT/NAME`` is missing for one rename's time and the old
  report is whole in ``aside-*``: :meth:`ReportFolder.current` (what the index reads) returns
  the aside then, and :meth:`ReportFolder.recover` renames it back.
* after 4: ``OUT/NAME`` is the new report, whole; the old version or aside is stray.
* :meth:`~ReportFolder.recover` runs, under the report's lock, before every run of the report
  and, for every report, when a scheduler starts (:func:`clean_stale`): it restores a missing
  ``OUT/NAME`` from its aside, then removes every ``v-*``, ``link-*`` and ``aside-*`` that
  ``OUT/NAME`` does not point to. Holding the lock proves no live run owns them (the
  operating system releases the lock of a killed process).

Where the file system cannot make symlinks (FAT, some network shares, Windows without the
privilege) the version folder itself is renamed into place instead: 3' ``OUT/NAME`` to
``aside-*``, 4' the version to ``OUT/NAME`` (the commit). A crash between them leaves the
aside, which :meth:`~ReportFolder.current` reads and :meth:`~ReportFolder.recover` restores.

A failed run is published the same way (:meth:`ReportFolder.publish_failure`): a version
with the last good report's files (hard links) and the failure's ``NAME.failed.json``,
``NAME.failed.ipynb`` and ``NAME.failed.log``; so the last good report stays in place and
the failure shows beside it, and the next good version drops them.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.jsonable import jsonable
from workbench.report.lock import ReportsBusy, locked

__all__ = ["VERSIONS", "ReportFolder", "ReportRecords", "clean_stale", "read_json",
           "record_failure", "report_folders"]

#: The hidden folder of a reports folder that holds every report's versions and lock.
VERSIONS = ".versions"
_KINDS = ("v-", "link-", "aside-")
_FAILURE = re.compile(r"\.failed\.(json|ipynb|log)$")
#: What a report folder may hold (an older workbench's layout included): its files, the
#: temporary folders an older runner left (``.NAME.`` and 8 random characters), and what
#: Jupyter or a file browser adds.
_REPORT_FILE = re.compile(
    r"^(report\.json|metrics\.json|.+\.html|.+\.ipynb|.+\.failed\.(json|log))$")
_LEGACY_TEMP = re.compile(r"^\.[A-Za-z0-9][A-Za-z0-9_.-]*\.[a-z0-9_]{8}$")
_HIDDEN_OK = frozenset({".ipynb_checkpoints", ".DS_Store"})
#: errno values of a file system that cannot make symlinks; Windows says 1314 (privilege).
_NO_SYMLINK_ERRNO = frozenset({errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS})


def _token() -> str:
    """A unique, time-sortable suffix: microsecond time stamp, process id, random hex."""
    now = dt.datetime.now().strftime("%Y%m%dT%H%M%S%f")
    return f"{now}-{os.getpid()}-{secrets.token_hex(3)}"


def _remove(path: Path) -> None:
    """Remove a file, symlink or folder tree; best effort (what stays is removed later)."""
    with suppress(OSError):
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's entries to disk (folders: POSIX only)."""
    if sys.platform == "win32" and path.is_dir():
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _no_symlinks(exc: OSError) -> bool:
    return (exc.errno in _NO_SYMLINK_ERRNO or getattr(exc, "winerror", None) == 1314)


def _link_or_copy(src: Path, dst: Path) -> None:
    """A hard link (versions share unchanged files), or a copy where links are refused."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path`` (a report's record), or None when it is missing,
    unreadable or not an object."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


@dataclass(frozen=True)
class ReportRecords:
    """What one published version of a report records (:meth:`ReportFolder.records`)."""

    version: Path  # the version folder they were read from
    good: dict[str, Any] | None  # its report.json (None: no good run published)
    failed: dict[str, Any] | None  # the record of its last failed run, or None


@dataclass(frozen=True)
class ReportFolder:
    """The folder of one report, ``OUT/NAME``, and its versions in ``OUT/.versions/NAME``.

    Build it with :meth:`at`. Every method that changes something expects the caller to hold
    :meth:`lock`.
    """

    path: Path

    @classmethod
    def at(cls, folder: str | os.PathLike[str]) -> ReportFolder:
        """The report folder at ``folder`` (made absolute; a symlink is kept, not followed).

        Raises
        ------
        ConfigError
            ``folder`` is a file system root, which cannot be swapped.
        """
        path = Path(os.path.abspath(folder))
        if not path.name:
            raise ConfigError(f"{folder}: a report needs a folder of its own, not the root "
                              f"{path}; give e.g. {path / 'my_report'}")
        return cls(path)

    @property
    def root(self) -> Path:
        """The reports folder ``OUT`` this report is in."""
        return self.path.parent

    @property
    def store(self) -> Path:
        """``OUT/.versions/NAME``: versions, temporary links and the lock."""
        return self.root / VERSIONS / self.path.name

    def lock(self, wait_s: float = 0.0) -> AbstractContextManager[Path]:
        """Hold this report's lock (see :func:`workbench.report.lock.locked`)."""
        return locked(self.store / "lock", what=f"report folder {self.path}", wait_s=wait_s)

    # -- reading ------------------------------------------------------------------------------
    def _asides(self) -> list[Path]:
        if not self.store.is_dir():
            return []
        return sorted(p for p in self.store.iterdir() if p.name.startswith("aside-"))

    def target(self) -> Path | None:
        """The version ``OUT/NAME`` points to, when it is a symlink into the store."""
        if not self.path.is_symlink():
            return None
        target = Path(os.path.normpath(self.root / os.readlink(self.path)))
        return target if target.parent == self.store else None

    def current(self) -> Path | None:
        """The folder to read the report from: the published version, resolved once, so two
        files read from it belong to the same version. None when there is no report.

        While a crashed or running swap has ``OUT/NAME`` missing, the old report is read from
        its aside.
        """
        if os.path.lexists(self.path):
            return self.path.resolve() if self.path.is_dir() else None
        asides = [p for p in self._asides() if p.is_dir()]
        return asides[-1].resolve() if asides else None

    def records(self) -> ReportRecords | None:
        """The report's ``report.json`` and the record of its last failed run, both read
        from one published version: read again (up to three times) when a run published
        meanwhile and the version read was swapped. None when there is no report or it
        records neither."""
        for _ in range(3):
            current = self.current()
            if current is None:
                return None
            good = read_json(current / "report.json")
            failures = sorted(current.glob("*.failed.json"))
            failed = read_json(failures[-1]) if failures else None
            if self.current() == current:
                break
        if current is None or (good is None and failed is None):
            return None
        return ReportRecords(current, good, failed)

    def good_files(self) -> list[Path]:
        """The current report's files, without the records of a failed run."""
        current = self.current()
        if current is None:
            return []
        return sorted(p for p in current.iterdir() if p.is_file() and not p.is_symlink()
                      and not p.name.startswith(".") and not _FAILURE.search(p.name))

    # -- checking and repairing ---------------------------------------------------------------
    def check(self) -> None:
        """Refuse a folder that publishing would destroy: a file, or a folder holding
        anything a report does not write (publishing replaces the folder whole).

        Raises
        ------
        ConfigError
            The message lists what the folder holds that is not a report's.
        """
        if not os.path.lexists(self.path) or self.path.is_symlink():
            return
        if not self.path.is_dir():
            raise ConfigError(f"{self.path} is a file; a report is written into a folder of "
                              "its own: give an absent or empty folder")
        foreign = sorted(
            e.name + ("/" if e.is_dir() else "") for e in self.path.iterdir()
            if not (e.name in _HIDDEN_OK or _LEGACY_TEMP.match(e.name)
                    or (e.is_file() and _REPORT_FILE.match(e.name))))
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more"
                                              if len(foreign) > 5 else "")
            raise ConfigError(
                f"{self.path} holds files a report does not write ({shown}); publishing a "
                "report replaces its folder whole, so give an absent or empty folder, or the "
                "folder of an earlier report")

    def recover(self) -> list[Path]:
        """Repair what a killed run left: put a swapped-out report back if ``OUT/NAME`` is
        missing, then remove every stray version, link and aside, and the temporary folders
        an older runner left inside a real report folder. Hold :meth:`lock`.

        Returns
        -------
        list of Path
            What was removed.
        """
        if not os.path.lexists(self.path) and (asides := self._asides()):
            os.rename(asides[-1], self.path)
        keep = self.target()
        removed = []
        if self.store.is_dir():
            for entry in sorted(self.store.iterdir()):
                if entry.name.startswith(_KINDS) and entry != keep:
                    _remove(entry)
                    removed.append(entry)
        if self.path.is_dir() and not self.path.is_symlink():
            for entry in sorted(self.path.iterdir()):
                if _LEGACY_TEMP.match(entry.name):
                    _remove(entry)
                    removed.append(entry)
        return removed

    # -- writing ------------------------------------------------------------------------------
    def new_version(self) -> Path:
        """A new, empty version folder in the store (ordinary permissions, not 0700)."""
        self.store.mkdir(parents=True, exist_ok=True)
        version = self.store / f"v-{_token()}"
        version.mkdir()
        return version

    def discard(self, version: Path) -> None:
        """Remove ``version`` unless it has been published (after a failed attempt)."""
        if version != self.target() and version != self.path:
            _remove(version)

    def publish(self, version: Path) -> None:
        """Make ``version`` the report with one atomic rename (see the module docstring).

        On an error before the commit ``OUT/NAME`` is put back as it was and ``version`` is
        left for the caller to :meth:`discard`; after the commit nothing raises (clean-up
        errors leave strays that :meth:`recover` removes). Hold :meth:`lock`.
        """
        for file in version.iterdir():
            _fsync(file)
        _fsync(version)
        previous = self.target()
        link = self.store / f"link-{_token()}"
        try:
            os.symlink(os.path.relpath(version, self.root), link, target_is_directory=True)
        except OSError as exc:
            if not _no_symlinks(exc):
                raise
            self._publish_by_rename(version)
            return
        aside = None
        try:
            if self.path.is_dir() and not self.path.is_symlink():
                aside = self.store / f"aside-{_token()}"
                os.rename(self.path, aside)
            os.replace(link, self.path)  # the commit
        except BaseException:
            if aside is not None and not os.path.lexists(self.path):
                os.rename(aside, self.path)
            _remove(link)
            raise
        self._after_commit(previous, aside, version)

    def _publish_by_rename(self, version: Path) -> None:
        """Steps 3' and 4' of the module docstring, where symlinks cannot be made."""
        aside = None
        if os.path.lexists(self.path):
            aside = self.store / f"aside-{_token()}"
            os.rename(self.path, aside)
        try:
            os.rename(version, self.path)  # the commit
        except BaseException:
            if aside is not None and not os.path.lexists(self.path):
                os.rename(aside, self.path)
            raise
        previous = None
        if aside is not None and aside.is_symlink():
            previous = Path(os.path.normpath(self.root / os.readlink(aside)))
        self._after_commit(previous, aside, self.path)

    def _after_commit(self, previous: Path | None, aside: Path | None, version: Path) -> None:
        with suppress(OSError):  # the rename is done; only its durability is in doubt
            _fsync(self.root)
        for old in (previous, aside):
            if old is not None and old != version and old.parent == self.store:
                _remove(old)

    def publish_failure(self, record: Mapping[str, Any], *, notebook: Path | None = None,
                        log: Path | None = None) -> dict[str, Any]:
        """Publish the last good report's files plus the record of a failed run.

        Parameters
        ----------
        record
            What failed: ``name`` (the report's file stem), ``error``, when, parameters.
        notebook, log
            The failed run's executed notebook and kernel log, if any; moved into the
            version as ``NAME.failed.ipynb`` and ``NAME.failed.log``.

        Returns
        -------
        dict
            The record as written to ``NAME.failed.json`` (with ``failed_notebook``).
        """
        name = str(record["name"])
        version = self.new_version()
        try:
            for file in self.good_files():
                _link_or_copy(file, version / file.name)
            kept = None
            if notebook is not None and notebook.is_file():
                kept = f"{name}.failed.ipynb"
                os.replace(notebook, version / kept)
            if log is not None and log.is_file():
                os.replace(log, version / f"{name}.failed.log")
            written = {**jsonable(dict(record)), "failed_notebook": kept}
            (version / f"{name}.failed.json").write_text(
                json.dumps(written, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            self.publish(version)
        except BaseException:
            self.discard(version)
            raise
        return written


def record_failure(folder: str | os.PathLike[str], record: Mapping[str, Any], *,
                   wait_s: float = 0.0) -> Path:
    """Record a failed run of the report in ``folder`` (which stays as it was otherwise).

    For failures found before any kernel started (an unknown strategy, a missing notebook):
    the runner records the failures of a run it started itself.

    Returns
    -------
    Path
        The ``NAME.failed.json`` written.

    Raises
    ------
    ReportsBusy
        Another process is writing this report.
    ConfigError
        ``folder`` is not a report's folder (see :meth:`ReportFolder.check`).
    """
    report = ReportFolder.at(folder)
    with report.lock(wait_s):
        report.recover()
        report.check()
        report.publish_failure(record)
    return report.path / f"{record['name']}.failed.json"


def report_folders(root: str | os.PathLike[str]) -> list[ReportFolder]:
    """Every report folder in the reports folder ``root`` (one whose swap a crash left half
    done included), by name."""
    base = Path(os.path.abspath(root))
    if not base.is_dir():
        return []
    names = {p.name for p in base.iterdir() if not p.name.startswith(".") and p.is_dir()}
    store = base / VERSIONS
    if store.is_dir():
        names |= {p.name for p in store.iterdir()
                  if p.is_dir() and ReportFolder(base / p.name).current() is not None}
    return [ReportFolder(base / n) for n in sorted(names)]


def _candidates(root: Path) -> Iterator[ReportFolder]:
    store = root / VERSIONS
    if store.is_dir():
        yield from (ReportFolder(root / p.name) for p in sorted(store.iterdir()) if p.is_dir())
    for p in sorted(root.iterdir()):
        if (not p.name.startswith(".") and p.is_dir() and not p.is_symlink()
                and not (store / p.name).is_dir()
                and any(_LEGACY_TEMP.match(e.name) for e in p.iterdir())):
            yield ReportFolder(root / p.name)


def clean_stale(root: str | os.PathLike[str]) -> list[Path]:
    """Repair and clean every report in ``root`` that no live run holds (see
    :meth:`ReportFolder.recover`); a report whose lock is held is left alone.

    Returns
    -------
    list of Path
        What was removed.
    """
    base = Path(os.path.abspath(root))
    if not base.is_dir():
        return []
    removed: list[Path] = []
    for folder in _candidates(base):
        try:
            with folder.lock():
                removed += folder.recover()
        except ReportsBusy:
            continue  # a live run: what it is building is not stale
    return removed
