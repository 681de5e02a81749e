"""The files an import touches: the bar exports it reads and the Market folder it writes.

Reading (:func:`find_bar_files`): a ``--bars`` folder is read recursively, in sorted path
order, so that a sub-folder (``bars/sh/``, ``bars/delisted/``) is never skipped. Every file
under it is either read or ignored with a stated reason — hidden (name starts with ``.``),
not a ``.csv`` file, empty (0 bytes), a link to a folder (not followed), or already read by
another path — and :class:`BarFiles` keeps both lists for the import summary.

Writing (:func:`check_out_folder`): an import replaces its output folder, so the folder
must be absent, empty, or a Market folder (``meta.json`` plus the Parquet tables that
:func:`workbench.data.store.save_market` writes, and nothing else). Anything else — a file,
the current directory, a folder that holds or is an input, a folder of other files — is a
:class:`~workbench.errors.ConfigError` that says what the folder holds; nothing is deleted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from workbench.data.market import TABLES
from workbench.data.panels import PANEL_FILES
from workbench.data.store import OPTIONAL_TABLES
from workbench.errors import ConfigError, DataError

__all__ = [
    "MARKET_FILES",
    "BarFiles",
    "as_paths",
    "check_out_folder",
    "find_bar_files",
    "market_folder_extras",
]

PathLike = str | os.PathLike[str]
Inputs = Mapping[str, PathLike | Sequence[PathLike] | None]

#: The files :func:`~workbench.data.store.save_market` writes into a Market folder.
MARKET_FILES = frozenset({"meta.json", *(f"{t}.parquet" for t in TABLES), *PANEL_FILES})
#: Of those, the files every Market folder holds.
REQUIRED_MARKET_FILES = frozenset(
    {"meta.json", *(f"{t}.parquet" for t in TABLES if t not in OPTIONAL_TABLES)})
#: Reasons for not reading a file that never hide bars.
NOT_CSV, ALREADY_READ = "not a .csv file", "already read as"
#: How many names a message lists before it says "and N more".
SHOWN = 5


def as_paths(path: PathLike | Sequence[PathLike] | None) -> list[PathLike]:
    """One path, or several (a list or tuple of them), as a list; None as no path.

    Examples
    --------
    >>> as_paths("a.csv"), as_paths(["a.csv", "b.csv"]), as_paths(None)
    (['a.csv'], ['a.csv', 'b.csv'], [])
    """
    if path is None:
        return []
    if isinstance(path, (str, os.PathLike)):
        return [path]
    return list(path)


# -- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class BarFiles:
    """The bar files an import reads, and the files under its folders it ignores.

    Attributes
    ----------
    read
        Files to read, in reading order: each given file, then each folder's ``.csv``
        files, recursively, sorted by path.
    ignored
        ``(path, reason)`` for every other entry found under a given folder.
    """

    read: tuple[Path, ...]
    ignored: tuple[tuple[Path, str], ...] = ()

    def ignored_lines(self) -> list[str]:
        """``'path: reason'`` per ignored file, for summaries and messages."""
        return [f"{p}: {why}" for p, why in self.ignored]

    def maybe_bars(self) -> list[str]:
        """``'path: reason'`` per ignored entry that may hold bars: a ``.csv`` file not read
        (hidden, empty, not a regular file) or a folder not walked (hidden, a link); not a
        file of another type (a README) or one read by another path."""
        return [f"{p}: {why}" for p, why in self.ignored
                if why != NOT_CSV and not why.startswith(ALREADY_READ)]


def _shown(names: Sequence[str]) -> str:
    more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return ", ".join(names[:SHOWN]) + more


def _walk(root: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Files under ``root`` to read and entries to ignore, each sorted by path."""
    found: list[Path] = []
    ignored: list[tuple[Path, str]] = []

    def fail(exc: OSError) -> None:
        raise DataError(f"{exc.filename or root}: cannot list the folder ({exc.strerror}); "
                        "check its permissions") from None

    for folder, dirs, files in os.walk(root, onerror=fail):
        here = Path(folder)
        for d in sorted(dirs):
            if d.startswith("."):
                ignored.append((here / d, "hidden folder (name starts with '.'), not read"))
            elif (here / d).is_symlink():
                ignored.append((here / d, "link to a folder, not followed; give its target "
                                          "as another --bars path to read it"))
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and not (here / d).is_symlink())
        for name in sorted(files):
            path = here / name
            if name.startswith("."):
                ignored.append((path, "hidden file (name starts with '.')"))
            elif not name.lower().endswith(".csv"):
                ignored.append((path, NOT_CSV))
            elif not path.is_file():
                ignored.append((path, "not a regular file (a broken link or a device)"))
            elif path.stat().st_size == 0:
                ignored.append((path, "empty file (0 bytes)"))
            else:
                found.append(path)
    return sorted(found), sorted(ignored)


def find_bar_files(path: PathLike | Sequence[PathLike]) -> BarFiles:
    """Every bar file of one path or several: each a CSV file or a folder read recursively.

    A file given by name is read whatever its name. Under a folder, the ``.csv`` files
    (any case) of the folder and of all its sub-folders are read, sorted by path; every
    other entry is ignored with its reason (see :class:`BarFiles`). A file reached twice
    (a folder and its sub-folder both given) is read once.

    Raises
    ------
    DataError
        A path that does not exist, a folder that holds no ``.csv`` file to read (the
        message lists what it holds), or a folder that cannot be listed.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "sh").mkdir()
    >>> for name in ("sz.000001.csv", "sh/sh.600000.csv", "README.txt"):
    ...     _ = (root / name).write_text("date\\n2024-01-02\\n")
    >>> files = find_bar_files(root)
    >>> [p.relative_to(root).as_posix() for p in files.read]
    ['sh/sh.600000.csv', 'sz.000001.csv']
    >>> [(p.name, why) for p, why in files.ignored]
    [('README.txt', 'not a .csv file')]
    """
    read: list[Path] = []
    ignored: list[tuple[Path, str]] = []
    seen: dict[Path, Path] = {}
    for one in as_paths(path):
        root = Path(one)
        skipped: list[tuple[Path, str]] = []
        if root.is_file():
            found = [root]
        elif root.is_dir():
            found, skipped = _walk(root)
            if not found:
                held = [f"{p.relative_to(root)} ({why})" for p, why in skipped]
                raise DataError(
                    f"{root}: folder holds no .csv files to read"
                    f"{f' (it holds {_shown(held)})' if held else ' (it is empty)'}; expected "
                    "one export per stock (e.g. sh.600519.csv), in it or in its sub-folders, "
                    "or one file of many stocks")
        else:
            raise DataError(f"{root}: no such file or folder of bar exports")
        ignored += skipped
        for file in found:
            real = file.resolve()
            if real in seen:
                ignored.append((file, f"{ALREADY_READ} {seen[real]}"))
            else:
                seen[real] = file
                read.append(file)
    return BarFiles(tuple(read), tuple(ignored))


# -- writing ----------------------------------------------------------------------------------
def market_folder_extras(folder: PathLike) -> list[str] | None:
    """What a folder holds besides a Market's files; None when it is no Market folder.

    A Market folder holds ``meta.json`` and the required Parquet tables (see
    :data:`MARKET_FILES`). The returned list is empty for a folder that holds nothing
    else, which an import may therefore replace without loss.
    """
    names = {p.name: p for p in Path(folder).iterdir()}
    files = {n for n, p in names.items() if p.is_file()}
    if not files.issuperset(REQUIRED_MARKET_FILES):
        return None
    return sorted(n + ("/" if p.is_dir() else "") for n, p in names.items()
                  if n not in MARKET_FILES or not p.is_file())


def _inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_out_folder(out: PathLike, inputs: Inputs | None = None) -> Path:
    """Check that an import may write its Market to ``out``, deleting nothing of value.

    ``out`` may be absent (it is created, with its parents), an empty folder, or a Market
    folder holding nothing but a Market's files (it is then replaced atomically).

    Parameters
    ----------
    out
        The output folder (``--out``).
    inputs
        Input paths by the option that names them (``{"--bars": [...], ...}``); ``out``
        may be neither one of them nor hold one.

    Returns
    -------
    pathlib.Path
        ``out`` as a Path.

    Raises
    ------
    ConfigError
        ``out`` is a file, a link, the current directory or one of its parents, is or
        holds an input, sits under a file, or is a folder that holds anything but a
        Market; the message says what it holds and what to do. Nothing is touched.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> check_out_folder(root / "market") == root / "market"
    True
    >>> _ = (root / "notes.txt").write_text("mine")
    >>> try:
    ...     check_out_folder(root)
    ... except ConfigError as exc:
    ...     print(str(exc).replace(str(root), "DIR").split(" (which")[0])
    DIR: --out holds notes.txt and is not a Market folder
    """
    if not str(out).strip():
        raise ConfigError("--out is empty; give the folder to write the Market to, e.g. "
                          "--out data/real")
    target = Path(out)
    real = target.resolve()
    here = Path.cwd().resolve()
    if _inside(here, real):
        what = "the current directory" if real == here else "a parent of the current directory"
        raise ConfigError(
            f"--out {str(out)!r} is {what} ({real}); an import replaces its output folder, "
            "so it must be a folder of its own: give a new sub-folder, e.g. --out market")
    for option, paths in (inputs or {}).items():
        for given in as_paths(paths):
            if _inside(Path(given).resolve(), real):
                role = "is" if Path(given).resolve() == real else "holds"
                raise ConfigError(
                    f"{target}: --out {role} the input {given} ({option}); writing the Market "
                    "there would delete your exports. Give a new folder outside the inputs, "
                    f"e.g. --out {real.parent / (real.name + '_market')}")
    if target.is_symlink():
        raise ConfigError(f"{target}: --out is a symbolic link (to {real}); an import would "
                          "replace the link by a folder. Give the folder itself or a new one")
    for parent in target.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise ConfigError(f"{target}: --out lies under {parent}, which is a file; "
                                  "give a folder path")
            break
    if not target.exists():
        return target
    if not target.is_dir():
        raise ConfigError(
            f"{target}: --out is a file ({target.stat().st_size:,} bytes), not a folder; an "
            "import writes a Market folder (meta.json and Parquet tables). Give a new folder "
            "path; the file is left as it is")
    try:
        entries = sorted(p.name + ("/" if p.is_dir() else "") for p in target.iterdir())
        extras = market_folder_extras(target)
    except OSError as exc:
        raise ConfigError(f"{target}: cannot list --out ({exc.strerror or exc}), so whether it "
                          "holds data is unknown; give a folder you can read and write"
                          ) from None
    if not entries:
        return target
    if extras is None:
        raise ConfigError(
            f"{target}: --out holds {_shown(entries)} and is not a "
            f"Market folder (which holds {sorted(REQUIRED_MARKET_FILES)}); an import "
            "replaces its output folder, so it must be absent, empty or a Market. Give a new "
            "folder, or empty this one yourself if nothing in it is needed")
    if extras:
        raise ConfigError(
            f"{target}: --out is a Market folder that also holds {_shown(extras)}; replacing "
            "the Market would delete them. Move them out first, or give a new folder")
    return target
