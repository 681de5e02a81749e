"""The scheduler: every failure reaches index.html (with the last good report kept and linked),
a fault while publishing leaves a whole report, one scheduler per folder, stale leftovers of
killed runs cleaned at start. A fake kernel writes the executed notebook, so nothing here
starts a kernel."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
from conftest import REPO
from test_publish import Faults
from test_runner import _row, tiny_notebook

from workbench.cli import main
from workbench.report import schedule
from workbench.report.lock import ReportsBusy, locked
from workbench.report.publish import ReportFolder, clean_stale

REPORT_FILES = {"r.html", "r.ipynb", "metrics.json", "report.json"}


def fake_execute(input_path: str, output_path: str, parameters: dict | None = None,
                 **kwargs: object) -> None:
    """What papermill does, minus the kernel: the notebook with its parameters, and metrics."""
    parameters = parameters or {}
    nb = nbformat.read(input_path, as_version=4)
    nb.metadata["papermill"] = {"parameters": parameters}
    nbformat.write(nb, output_path)
    if parameters.get("fail"):
        raise RuntimeError("asked to fail")
    if parameters.get("metrics_path"):
        Path(parameters["metrics_path"]).write_text(json.dumps(
            {"strategy": parameters.get("strategy", "buy_and_hold"), "total_return": 0.125,
             "capital_cny": parameters.get("capital_cny")}))


@pytest.fixture
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []

    def execute(*args: object, **kwargs: object) -> None:
        calls.append(dict(kwargs.get("parameters") or {}))
        fake_execute(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    return calls


def jobs_file(folder: Path, jobs: dict[str, str]) -> Path:
    """A jobs file of ``{name: 'notebook = ..., parameters = {...}'}`` in ``folder``."""
    tiny_notebook(folder)
    text = "".join(f'[[jobs]]\nname = "{name}"\n{body}\n' for name, body in jobs.items())
    (folder / "jobs.toml").write_text(text)
    return folder / "jobs.toml"


def report_of(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text())


def test_failures_before_the_kernel_starts_show_in_the_index(tmp_path, fake_kernel, capsys):
    ok = 'notebook = "tiny.ipynb"\nparameters = { capital_cny = 2_000_000.0 }'
    jobs = jobs_file(tmp_path, {"kept": ok})
    assert main(["schedule", str(jobs)]) == 0
    good_html = (tmp_path / "kept" / "kept.html").read_bytes()
    jobs = jobs_file(tmp_path, {
        "kept": 'notebook = "tiny.ipynb"\nparameters = { strategy = "nope" }',
        "badtype": 'notebook = "tiny.ipynb"\nparameters = { capital_cny = "lots" }',
        "missing": 'notebook = "no_such.ipynb"',
    })
    fake_kernel.clear()
    assert main(["schedule", str(jobs)]) == 1
    assert fake_kernel == []  # none of them got as far as a kernel
    index = (tmp_path / "index.html").read_text()
    for name, reason in (("kept", "unknown strategy &#x27;nope&#x27;"),
                         ("badtype", "must be a number"),
                         ("missing", "no report notebook &#x27;no_such.ipynb&#x27;")):
        row = _row(index, name)
        assert "last run failed before the kernel started" in row and reason in row, name
        assert "ok</span>" not in row
    # the previous good report stays in place, linked from its row, and is not shown as ok
    assert (tmp_path / "kept" / "kept.html").read_bytes() == good_html
    assert ('showing the last good report, from' in _row(index, "kept")
            and 'href="kept/kept.html"' in _row(index, "kept"))
    assert "never succeeded" in _row(index, "missing")
    assert "3 failing" in index
    record = json.loads((tmp_path / "kept" / "kept.failed.json").read_text())
    assert record["stage"] == "before the kernel started"
    assert record["parameters"] == {"strategy": "nope"}
    assert "FAILED" in capsys.readouterr().out


def test_a_fault_at_each_step_of_publishing_shows_in_the_index_and_keeps_a_whole_report(
        tmp_path, fake_kernel, monkeypatch):
    """Each step of publishing the new report fails in turn; the report stays the old one
    whole (with the failure recorded and marked in the index) or becomes the new one whole."""
    real_publish = ReportFolder.publish
    steps = 0
    for at in itertools.count(1):
        out = tmp_path / f"at{at}"
        out.mkdir()
        jobs = jobs_file(out, {"r": 'notebook = "tiny.ipynb"\n'
                                    'parameters = { capital_cny = 1_000_000.0 }'})
        assert [o.ok for o in schedule.run_schedule(jobs, echo=lambda line: None)] == [True]
        old = {p.name: p.read_bytes() for p in (out / "r").iterdir()}
        jobs = jobs_file(out, {"r": 'notebook = "tiny.ipynb"\n'
                                    'parameters = { capital_cny = 3_000_000.0 }'})
        faults = Faults(at, kill=False)
        armed = [True]

        def publish(self: ReportFolder, version: Path, faults: Faults = faults,
                    armed: list[bool] = armed) -> None:
            if not armed or not armed.pop():  # only the new report's publish, not the record's
                return real_publish(self, version)
            with faults.active():
                return real_publish(self, version)

        monkeypatch.setattr(ReportFolder, "publish", publish)
        (outcome,) = schedule.run_schedule(jobs, echo=lambda line: None)
        monkeypatch.setattr(ReportFolder, "publish", real_publish)
        now = {p.name: p.read_bytes() for p in (out / "r").iterdir()}
        row = _row((out / "index.html").read_text(), "r")
        if outcome.ok:  # no fault, or one after the commit: the new report, whole
            assert set(now) == REPORT_FILES
            assert report_of(out / "r")["parameters"]["capital_cny"] == 3_000_000.0
            assert b"3,000,000.00" in now["r.html"] and b"3000000.0" in now["r.ipynb"]
            assert "ok</span>" in row and "failed" not in row
        else:  # the old report, whole, with the failure beside it and in the index
            assert faults.fired
            assert {k: v for k, v in now.items() if ".failed." not in k} == old
            failed = json.loads(now["r.failed.json"])
            assert failed["stage"] == "while publishing" and "injected fault" in failed["error"]
            assert "last run failed while publishing" in row and "injected fault" in row
            assert "ok</span>" not in row and 'href="r/r.html"' in row
            assert b"3000000.0" in now["r.failed.ipynb"]  # the run that could not be published
            steps += 1
        clean_stale(out)
        folder = ReportFolder.at(out / "r")
        assert sorted(p.name for p in folder.store.iterdir()) == ["lock", folder.target().name]
        if not faults.fired:
            break
    assert steps >= 5


def test_a_second_scheduler_on_the_same_folder_is_refused(tmp_path, fake_kernel):
    jobs = jobs_file(tmp_path, {"r": 'notebook = "tiny.ipynb"'})
    with locked(tmp_path / schedule.SCHEDULE_LOCK, what="test"):
        # another process: the command line says why and exits 2, before running any job
        done = subprocess.run([sys.executable, "-m", "workbench", "schedule", str(jobs)],
                              capture_output=True, text=True, check=False,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        assert done.returncode == 2, done.stderr
        busy = f"reports folder {tmp_path.resolve()} is busy: pid {os.getpid()} since"
        assert busy in done.stderr
        assert "--wait SECONDS" in done.stderr and "Traceback" not in done.stderr
        # the same in this process
        with pytest.raises(ReportsBusy, match="is busy"):
            schedule.run_schedule(jobs, echo=lambda line: None)
    assert not (tmp_path / "r").exists() and fake_kernel == []
    assert [o.ok for o in schedule.run_schedule(jobs, echo=lambda line: None)] == [True]


def test_a_job_another_process_is_writing_fails_and_the_index_still_shows_it(tmp_path,
                                                                            fake_kernel):
    jobs = jobs_file(tmp_path, {"r": 'notebook = "tiny.ipynb"'})
    lines: list[str] = []
    with ReportFolder.at(tmp_path / "r").lock():  # e.g. a `workbench report --out` run
        (outcome,) = schedule.run_schedule(jobs, echo=lines.append)
    assert not outcome.ok and "is busy" in outcome.error
    assert any("not recorded in its folder" in line for line in lines)
    row = _row((tmp_path / "index.html").read_text(), "r")
    assert "last run failed (not recorded in its folder)" in row and "is busy" in row


def test_leftovers_of_killed_runs_are_cleaned_at_start(tmp_path, fake_kernel):
    jobs = jobs_file(tmp_path, {"r": 'notebook = "tiny.ipynb"'})
    schedule.run_schedule(jobs, echo=lambda line: None)
    folder = ReportFolder.at(tmp_path / "r")
    stray = folder.store / "v-20250101T000000000000-1-aaaaaa"
    stray.mkdir()
    (tmp_path / ".index.html.ab12cd34").write_text("half an index")
    legacy = tmp_path / "legacy"  # an older workbench's report, with its killed run's folder
    legacy.mkdir()
    (legacy / "report.json").write_text('{"name": "legacy", "html": "legacy.html"}')
    (legacy / ".legacy.x1y2z3w4").mkdir()
    lines: list[str] = []
    schedule.run_schedule(jobs, echo=lines.append)
    assert lines[0] == "removed 3 temporary files and folders that killed runs left"
    assert not stray.exists() and not (tmp_path / ".index.html.ab12cd34").exists()
    assert sorted(p.name for p in legacy.iterdir()) == ["report.json"]
    assert 'href="legacy/legacy.html"' in (tmp_path / "index.html").read_text()


KILLED_RUN = """
import sys, time
from pathlib import Path
import papermill
from workbench.report.runner import run_report

def hang(input_path, output_path, **kwargs):
    Path(output_path).write_text("half a notebook")
    print("running", flush=True)
    time.sleep(3600)

papermill.execute_notebook = hang
run_report(sys.argv[1], {}, sys.argv[2], name="r")
"""


def test_a_killed_run_leaves_the_report_whole_and_its_leftovers_are_cleaned(tmp_path,
                                                                           fake_kernel):
    jobs = jobs_file(tmp_path, {"r": 'notebook = "tiny.ipynb"'})
    schedule.run_schedule(jobs, echo=lambda line: None)
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    with subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(tmp_path / "tiny.ipynb"),
                           str(tmp_path / "r")], stdout=subprocess.PIPE, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}) as proc:
        assert proc.stdout.readline() == "running\n"
        folder = ReportFolder.at(tmp_path / "r")
        with pytest.raises(ReportsBusy, match=f"pid {proc.pid}"), folder.lock():
            pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    left = [p for p in folder.store.iterdir() if p.name not in ("lock", folder.target().name)]
    assert [p.name[:2] for p in left] == ["v-"]  # its unfinished version
    assert {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()} == before
    assert clean_stale(tmp_path) == left  # the kill released its lock: it is stale
