"""One writer at a time: an exclusive lock on a lock file, held by a live process only.

The scheduler holds ``OUT/.schedule.lock`` while it runs, so a second scheduler on the same
reports folder (an overlapping cron run, a second terminal) is refused with a message naming
the holder; or, given ``wait_s``, it waits up to that many seconds first. Each run of one
report holds that report's own lock (see :mod:`workbench.report.publish`) while it builds
and publishes it.

The lock is ``fcntl.flock`` (``msvcrt.locking`` on Windows) on an open lock file: the
operating system releases it when the holder exits, however it exits (even ``kill -9``),
so a lock is never stale and a lock file left behind means nothing by itself. Lock files
are never deleted (deleting one while another process waits on it would let two writers
in). The holder writes its process id and start time into the file, for the message.

Two lock attempts conflict even inside one process (each opens the file anew), so a
scheduler that already holds a report's lock cannot take it a second time by mistake.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workbench.errors import WorkbenchError

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl

__all__ = ["ReportsBusy", "holder", "locked"]

#: Seconds between two attempts while waiting for a lock.
_POLL_S = 0.2


class ReportsBusy(WorkbenchError, RuntimeError):
    """Another process holds the lock of a reports folder or of one report in it."""


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` without blocking; False when another holds it."""
    if sys.platform == "win32":
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(path: str | os.PathLike[str]) -> str:
    """What the lock file at ``path`` says about its last holder (``""`` if nothing).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.lock"
    >>> with locked(path, what="test"):
    ...     holder(path).startswith("pid ")
    True
    """
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except (OSError, ValueError):
        return ""


@contextmanager
def locked(path: str | os.PathLike[str], *, what: str, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold the exclusive lock on the file ``path`` (created if missing) for the block.

    Parameters
    ----------
    path
        The lock file; its folder is created if missing.
    what
        What the lock protects, for the message (e.g. ``"reports folder /srv/reports"``).
    wait_s
        Most seconds to wait for another holder to let go; 0 refuses at once.

    Yields
    ------
    Path
        The lock file.

    Raises
    ------
    ReportsBusy
        Another process (or another lock attempt in this one) still holds the lock after
        ``wait_s`` seconds; the message names it.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + max(wait_s, 0.0)
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                who = holder(file) or "another process"
                waited = f" after waiting {wait_s:g} s" if wait_s > 0 else ""
                raise ReportsBusy(
                    f"{what} is busy{waited}: {who} is writing it (lock {file}). Wait for it "
                    "to finish, or run again with --wait SECONDS to wait for it")
            time.sleep(_POLL_S)
        now = dt.datetime.now().astimezone().isoformat(timespec="seconds")
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"pid {os.getpid()} since {now}\n".encode())
        yield file
    finally:
        os.close(fd)  # closing the file releases the lock
