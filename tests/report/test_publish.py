"""Publishing a report folder: one atomic swap, whatever fails or is killed at whatever step;
recovery and clean-up at start; the locks."""

from __future__ import annotations

import errno
import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import REPO

from workbench.errors import ConfigError
from workbench.report import publish as publish_module
from workbench.report.lock import ReportsBusy, holder, locked
from workbench.report.publish import VERSIONS, ReportFolder, clean_stale, report_folders

#: What the intercepted calls do to the file system; writes through ``open`` only fill files
#: of a version nobody reads yet, so they are not steps.
FS_CALLS = ("mkdir", "rename", "replace", "symlink", "link", "unlink", "rmdir", "open", "fsync")

OLD = {"r.html": b"<p>old page</p>", "r.ipynb": b"{old}", "metrics.json": b'{"v": 1}',
       "report.json": b'{"name": "r", "html": "r.html", "v": 1}'}
NEW = {"r.html": b"<p>new page</p>", "r.ipynb": b"{new}", "metrics.json": b'{"v": 2}',
       "report.json": b'{"name": "r", "html": "r.html", "v": 2}'}


class Killed(BaseException):
    """The process died at this step: no handler of the code under test may run after it."""


class Faults:
    """Make the ``at``-th file-system call raise: an ``OSError`` once (later calls work), or,
    with ``kill``, :class:`Killed` then and at every later call, as if the process had been
    killed there (no clean-up handler can touch the disk any more)."""

    def __init__(self, at: int, *, kill: bool) -> None:
        self.at, self.kill = at, kill
        self.calls: list[str] = []
        self.fired = False

    def _wrap(self, name: str, real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            self.calls.append(name)
            if self.fired and self.kill:
                raise Killed(name)
            if len(self.calls) == self.at:
                self.fired = True
                if self.kill:
                    raise Killed(name)
                raise OSError(errno.EIO, f"injected fault at step {self.at} ({name})")
            return real(*args, **kwargs)

        return call

    @contextmanager
    def active(self) -> Iterator[Faults]:
        real = {name: getattr(os, name) for name in FS_CALLS}
        for name, fn in real.items():
            setattr(os, name, self._wrap(name, fn))
        try:
            yield self
        finally:
            for name, fn in real.items():
                setattr(os, name, fn)


def files(folder: Path | None) -> dict[str, bytes] | None:
    """A folder's files and their bytes (hidden ones aside); None when it is missing."""
    if folder is None or not folder.is_dir():
        return None
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


def strays(folder: ReportFolder) -> list[str]:
    """What the store holds besides the lock and the published version."""
    keep = {"lock", folder.target().name if folder.target() else ""}
    return sorted(p.name for p in folder.store.iterdir() if p.name not in keep)


def _no_symlinks(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted (a FAT file system)")

    monkeypatch.setattr(os, "symlink", refuse)


def _write(folder: Path, content: dict[str, bytes]) -> None:
    for name, data in content.items():
        (folder / name).write_bytes(data)


def _published_old(root: Path, mode: str) -> ReportFolder:
    """Report ``r`` in ``root`` with the OLD files, published as ``mode`` says."""
    folder = ReportFolder.at(root / "r")
    if mode == "real folder":  # as an older workbench left it, with a killed run's temp folder
        folder.path.mkdir(parents=True)
        _write(folder.path, OLD)
        (folder.path / ".r.k3x9_q2a").mkdir()
        return folder
    with folder.lock():
        version = folder.new_version()
        _write(version, OLD)
        folder.publish(version)
    return folder


def _publish_new(folder: ReportFolder) -> Path:
    version = folder.new_version()
    _write(version, NEW)
    return version


FAILURE = {"name": "r", "error": "ValueError: boom", "started": "2025-06-11T17:30:00+08:00"}
MODES = ["symlink", "real folder", "no symlinks"]


@pytest.mark.parametrize("what", ["report", "failure"])
@pytest.mark.parametrize("kill", [False, True], ids=["error", "killed"])
@pytest.mark.parametrize("mode", MODES)
def test_a_fault_at_each_step_of_publishing_leaves_the_old_or_the_new_report_whole(
        tmp_path, monkeypatch, mode, kill, what):
    if mode == "no symlinks":
        _no_symlinks(monkeypatch)
    steps = 0
    for at in itertools.count(1):
        root = tmp_path / f"at{at}"
        folder = _published_old(root, mode)
        faults = Faults(at, kill=kill)
        raised = False
        with folder.lock():
            new = _publish_new(folder) if what == "report" else None
            try:
                with faults.active():
                    if new is not None:
                        folder.publish(new)
                    else:
                        folder.publish_failure(FAILURE)
            except (OSError, Killed):
                assert faults.fired
                raised = True
                if new is not None and not kill:
                    folder.discard(new)  # what the runner does after a failed publish
            whole_new = NEW if what == "report" else None
            seen = files(folder.current())  # what the index reads
            if what == "failure" and seen is not None and "r.failed.json" in seen:
                assert {k: v for k, v in seen.items() if k != "r.failed.json"} == OLD
                whole_new = seen
            assert seen in (OLD, whole_new), (at, faults.calls)
            if not kill:  # an error, not a crash: it is handled on the spot
                assert files(folder.path) == seen
                assert raised == (seen == OLD)  # a fault after the commit is swallowed
        # the next start (a scheduler's or the report's own next run) repairs and cleans up
        clean_stale(root)
        assert files(folder.path) == seen, (at, faults.calls)
        assert strays(folder) == []
        assert not (folder.path / ".r.k3x9_q2a").exists()
        if not faults.fired:
            break
        steps += 1
    assert steps >= 5  # every step of the protocol was hit


def test_publishing_swaps_a_symlink_and_drops_the_old_version(tmp_path):
    folder = _published_old(tmp_path, "symlink")
    first = folder.target()
    assert folder.path.is_symlink() and files(folder.path) == OLD
    with folder.lock():
        folder.publish(_publish_new(folder))
    assert files(folder.path) == NEW and not first.exists() and strays(folder) == []
    assert os.readlink(folder.path) == f"{VERSIONS}/r/{folder.target().name}"  # relative
    assert folder.target().stat().st_mode & 0o077 == 0o777 & ~_umask() & 0o077  # not 0700


def test_records_are_read_from_one_version_even_when_a_run_publishes_meanwhile(tmp_path,
                                                                                monkeypatch):
    folder = _published_old(tmp_path, "symlink")
    with folder.lock():
        folder.publish_failure(FAILURE)
    found = folder.records()
    assert found is not None and found.version == folder.current()
    assert found.good == {"name": "r", "html": "r.html", "v": 1}
    assert found.failed is not None and found.failed["error"] == "ValueError: boom"
    # a run publishes between the reads of report.json and of the failure: the first version
    # read is gone, so it is read again from the new one (which has no failure)
    real, swapped = publish_module.read_json, []

    def read_json(path: Path) -> dict | None:
        if not swapped:
            swapped.append(path)
            with folder.lock():
                folder.publish(_publish_new(folder))
        return real(path)

    monkeypatch.setattr(publish_module, "read_json", read_json)
    found = folder.records()
    assert swapped and found is not None and found.version == folder.current()
    assert found.version != swapped[0].parent
    assert found.good == {"name": "r", "html": "r.html", "v": 2} and found.failed is None
    assert ReportFolder.at(tmp_path / "nothing").records() is None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failure_keeps_the_good_files_and_a_good_run_drops_the_failure(tmp_path):
    folder = _published_old(tmp_path, "symlink")
    log = tmp_path / "kernel.log"
    log.write_text("kernel said")
    with folder.lock():
        written = folder.publish_failure(FAILURE, log=log)
    assert written["failed_notebook"] is None and written["error"] == "ValueError: boom"
    seen = files(folder.path)
    assert {k: seen[k] for k in OLD} == OLD and seen["r.failed.log"] == b"kernel said"
    assert (folder.path / "r.html").stat().st_nlink == 1  # the old version's links are gone
    with folder.lock():
        folder.publish(_publish_new(folder))
    assert files(folder.path) == NEW


def test_a_folder_with_other_files_or_a_file_is_refused(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    (tmp_path / "mine" / "r.html").write_text("x")
    with pytest.raises(ConfigError, match=r"holds files a report does not write \(notes.txt\)"):
        ReportFolder.at(tmp_path / "mine").check()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file"):
        ReportFolder.at(tmp_path / "file").check()
    with pytest.raises(ConfigError, match="not the root"):
        ReportFolder.at("/")
    for fine in ("absent", "empty"):
        if fine == "empty":
            (tmp_path / fine).mkdir()
        ReportFolder.at(tmp_path / fine).check()


def test_a_swap_cut_half_way_is_read_from_the_aside_and_put_back(tmp_path):
    folder = _published_old(tmp_path, "real folder")
    folder.store.mkdir(parents=True)
    os.rename(folder.path, folder.store / "aside-20250611T173001000000-1-abcdef")
    assert files(folder.current()) == OLD  # what the index shows meanwhile
    assert [f.path.name for f in report_folders(tmp_path)] == ["r"]
    assert clean_stale(tmp_path) != []  # the legacy temp folder inside
    assert files(folder.path) == OLD and not folder.path.is_symlink()


def test_stale_leftovers_are_removed_but_not_a_live_runs(tmp_path):
    folder = _published_old(tmp_path, "symlink")
    for stray in ("v-20250101T000000000000-1-aaaaaa", "aside-20250101T000000000000-1-bbbbbb"):
        (folder.store / stray).mkdir()
    os.symlink("nowhere", folder.store / "link-20250101T000000000000-1-cccccc")
    live = ReportFolder.at(tmp_path / "live")
    with live.lock():  # another run is building this one right now
        building = live.new_version()
        removed = clean_stale(tmp_path)
        assert building.is_dir()
    assert sorted(p.name for p in removed) == sorted(
        ["v-20250101T000000000000-1-aaaaaa", "aside-20250101T000000000000-1-bbbbbb",
         "link-20250101T000000000000-1-cccccc"])
    assert files(folder.path) == OLD and strays(folder) == []
    assert [p.name for p in clean_stale(tmp_path)] == [building.name]  # now it is stale


# -- locks ------------------------------------------------------------------------------------
def test_a_second_lock_attempt_is_refused_with_the_holder_named(tmp_path):
    path = tmp_path / ".schedule.lock"
    with locked(path, what="reports folder X"):
        assert holder(path).startswith(f"pid {os.getpid()} since ")
        with pytest.raises(ReportsBusy, match=rf"reports folder X is busy: pid {os.getpid()} "
                                              r"since .* --wait SECONDS"), \
                locked(path, what="reports folder X"):
            pass
    with locked(path, what="reports folder X"):  # released on leaving the block
        pass


HOLDER = """
import sys
from workbench.report.lock import locked
with locked(sys.argv[1], what="test"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_a_lock_held_by_another_process_refuses_then_lets_a_waiter_in(tmp_path):
    path = tmp_path / ".schedule.lock"
    with subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}) as proc:
        try:
            assert proc.stdout.readline() == "held\n"
            with pytest.raises(ReportsBusy, match=f"pid {proc.pid} since"), \
                    locked(path, what="reports folder"):
                pass
            got: list[Path] = []

            def wait() -> None:
                with locked(path, what="reports folder", wait_s=300) as file:
                    got.append(file)

            waiter = threading.Thread(target=wait)
            waiter.start()
            proc.stdin.close()  # the holder exits, which releases its lock
            waiter.join(timeout=300)
            assert got == [path]
        finally:
            proc.kill()
