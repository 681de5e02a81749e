"""Atomic writes: a failed run never destroys the last good file or folder.

Everything is written to a temporary sibling first and renamed into place only once it is
complete. ``os.replace`` of a file is atomic on POSIX; a folder is swapped with two renames
(old aside, new in), so at every instant ``target`` is either the old or the new version
(or, for a moment between the renames, absent — never half-written).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_folder", "atomic_write_bytes", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _ordinary_mode(path: Path, *, folder: bool) -> None:
    """Give a temporary file or folder the mode a plain ``open``/``mkdir`` would have.

    ``mkstemp``/``mkdtemp`` create them private to the owner (0600/0700); the finished
    result is meant to be shared like any other file (reports go to colleagues).
    """
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


@contextmanager
def atomic_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces ``target`` when the block succeeds.

    If the block raises, the temporary folder is removed and ``target`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_folder(root / "out") as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> (root / "out" / "a.txt").read_text()
    'done'
    """
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        _ordinary_mode(tmp, folder=True)
        yield tmp
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}.old-{os.getpid()}")
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` through a temporary sibling file and a rename."""
    final = Path(target)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{final.name}.", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        _ordinary_mode(Path(name), folder=False)
        os.replace(name, final)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return final


def atomic_write_text(target: str | os.PathLike[str], text: str, encoding: str = "utf-8"
                      ) -> Path:
    """Write ``text`` to ``target`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(target, text.encode(encoding))
