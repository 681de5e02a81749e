"""Batches of reports from a TOML jobs file, for cron: keep going, report, rebuild the index.

The jobs file (``reports/jobs.toml`` is the default batch; see ``reports/README.md``)::

    out = "."                  # optional: output folder, relative to this file
    timeout_s = 900            # optional: most seconds one cell may run
    plotlyjs = "shared"        # optional: one plotly.min.js for all pages (default "inline")

    [defaults]                 # optional: parameters for every job whose notebook has them
    colors = "intl"

    [[jobs]]
    name = "backtest_ma_trend" # the report's folder and file names
    notebook = "backtest_report"   # a bundled notebook, or a path relative to this file
    parameters = { strategy = "ma_trend", params = { fast = 20, slow = 60 } }

:func:`run_schedule` runs every job with :func:`~workbench.report.runner.run_report` into
``OUT/NAME/``, each report published whole by one atomic swap
(:mod:`workbench.report.publish`). Each page carries plotly.js (``plotlyjs = "inline"``, the
default: every page opens alone, about 5 MB each) or loads the one ``OUT/plotly.min.js``
(``"shared"``: small pages that work inside ``OUT``); ``--plotlyjs`` on the command line
overrides the file. A failing job is reported and the batch goes on, whatever
stage it failed at: a bad parameter, an unknown strategy or a missing notebook (found before
any kernel starts), the notebook itself, or publishing. The failure is recorded in the job's
folder (``NAME.failed.json``, with the failed run's notebook as ``NAME.failed.ipynb`` when
there is one) beside the previous good report, which stays in place. Afterwards
``OUT/index.html`` lists every report folder under ``OUT`` in one table that sorts by any
column (:mod:`workbench.report.index`): its status (a failed last run with the reason and a
link to the last good report), when it was generated, what data it rests on, the parameters
that differ from its notebook's defaults, and a column per headline metric. (``build_index``,
``headline`` and ``HEADLINE_KEYS`` live there and are importable from here as before.)

One scheduler at a time per output folder: :func:`run_schedule` holds the lock
``OUT/.schedule.lock`` (:mod:`workbench.report.lock`) while it runs. A second one is refused
at once with :class:`~workbench.report.lock.ReportsBusy` naming the first one's process (the
command line exits 2), so an overlapping cron run does not queue up behind a slow batch;
``wait_s`` (``--wait SECONDS``) makes it wait up to that long instead. On starting, it
repairs and removes what killed runs left in ``OUT`` (unfinished versions, swaps cut
half-way, temporary index files; see :func:`~workbench.report.publish.clean_stale`),
sparing any report another live process is writing.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import tomllib
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import (
    ConfigError,
    DataError,
    LookupFailed,
    ReportFailed,
    WorkbenchError,
    did_you_mean,
)
from workbench.report.html import PLOTLY_FILE, check_plotlyjs
from workbench.report.index import HEADLINE_KEYS, build_index, headline
from workbench.report.lock import locked
from workbench.report.publish import clean_stale, record_failure
from workbench.report.runner import (
    ReportRun,
    check_report_name,
    declared_parameters,
    default_reports_dir,
    find_notebook,
    run_report,
)

__all__ = [
    "HEADLINE_KEYS",
    "SCHEDULE_LOCK",
    "Job",
    "JobOutcome",
    "Schedule",
    "build_index",
    "default_jobs_file",
    "headline",
    "load_jobs",
    "run_schedule",
]

_TOP_KEYS = {"out", "timeout_s", "plotlyjs", "defaults", "jobs"}
_JOB_KEYS = {"name", "notebook", "parameters", "timeout_s"}
#: The lock a scheduler holds on its output folder (no report name starts with a dot).
SCHEDULE_LOCK = ".schedule.lock"
_INDEX_TEMP = re.compile(r"^\.index\.html\.[a-z0-9_]{8}$")
_PLOTLY_TEMP = re.compile(rf"^\.{re.escape(PLOTLY_FILE)}\.[a-z0-9_]{{8}}$")
#: A shared plotly.js's temporary file younger than this may be a live report's write.
_PLOTLY_TEMP_AGE_S = 600.0


@dataclass(frozen=True, kw_only=True)
class Job:
    """One report to run: a name, a notebook and parameter overrides."""

    name: str
    notebook: str
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """A parsed jobs file."""

    path: Path
    out_dir: Path
    jobs: tuple[Job, ...]
    defaults: dict[str, Any] = field(default_factory=dict)
    plotlyjs: str = "inline"


@dataclass(frozen=True, kw_only=True)
class JobOutcome:
    """What happened to one job: ``ok`` with its run, or the error message."""

    job: Job
    ok: bool
    elapsed_s: float
    run: ReportRun | None = None
    error: str | None = None


def default_jobs_file() -> Path:
    """``jobs.toml`` in :func:`~workbench.report.runner.default_reports_dir`."""
    return default_reports_dir() / "jobs.toml"


def _timeout(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{where}: timeout_s must be a positive number of seconds, got "
                          f"{value!r}")
    return float(value)


def load_jobs(path: str | os.PathLike[str]) -> Schedule:
    """Parse and check a jobs file (see the module docstring for its format).

    Raises
    ------
    DataError
        The file is missing or not valid TOML.
    ConfigError
        Unknown keys, a job without name or notebook, duplicate or unsafe names.
    """
    file = Path(path)
    if not file.is_file():
        raise DataError(f"{file}: no such jobs file; see reports/README.md for the format")
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{file}: not valid TOML ({exc})") from None
    if unknown := set(doc) - _TOP_KEYS:
        raise ConfigError(f"{file}: unknown top-level keys {sorted(unknown)}; allowed: "
                          f"{sorted(_TOP_KEYS)}")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ConfigError(f"{file}: [defaults] must be a table of parameters")
    raw_jobs = doc.get("jobs", [])
    if not isinstance(raw_jobs, list) or not raw_jobs:
        raise ConfigError(f"{file}: no jobs; add [[jobs]] tables with name and notebook")
    timeout = _timeout(doc.get("timeout_s"), str(file))
    jobs, seen = [], set()
    for i, raw in enumerate(raw_jobs, start=1):
        where = f"{file}: job {i}"
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: must be a [[jobs]] table")
        if unknown := set(raw) - _JOB_KEYS:
            raise ConfigError(f"{where}: unknown keys {sorted(unknown)}; "
                              f"{did_you_mean(sorted(unknown)[0], _JOB_KEYS)}")
        for key in ("name", "notebook"):
            if not isinstance(raw.get(key), str) or not raw[key]:
                raise ConfigError(f"{where}: {key} is required (a string)")
        name = check_report_name(raw["name"])
        if name in seen:
            raise ConfigError(f"{where}: duplicate name {name!r}; every job needs its own")
        seen.add(name)
        params = raw.get("parameters", {})
        if not isinstance(params, dict):
            raise ConfigError(f"{where}: parameters must be a table, e.g. "
                              "parameters = { strategy = \"ma_trend\" }")
        job_timeout = _timeout(raw.get("timeout_s"), where)
        jobs.append(Job(name=name, notebook=raw["notebook"], parameters=params,
                        timeout_s=job_timeout if job_timeout is not None else timeout))
    out = doc.get("out", ".")
    if not isinstance(out, str):
        raise ConfigError(f"{file}: out must be a folder path (a string), got {out!r}")
    out_dir = (file.parent / out).resolve()
    plotlyjs = doc.get("plotlyjs", "inline")
    try:
        check_plotlyjs(plotlyjs)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    return Schedule(path=file.resolve(), out_dir=out_dir, jobs=tuple(jobs), defaults=defaults,
                    plotlyjs=plotlyjs)


def _job_parameters(schedule: Schedule, job: Job) -> dict[str, Any]:
    """Defaults the job's notebook declares, overridden by the job's own parameters."""
    path = find_notebook(job.notebook, schedule.path.parent)
    declared = declared_parameters(path)
    return {k: v for k, v in schedule.defaults.items() if k in declared} | job.parameters


def _record(schedule: Schedule, job: Job, exc: Exception, started: dt.datetime,
            elapsed: float, wait_s: float) -> str | None:
    """Record a failure the runner did not (one found before its kernel started) in the
    job's folder; return why it could not be recorded, or None."""
    record = {"name": job.name, "notebook": job.notebook, "parameters": job.parameters,
              "started": started.isoformat(timespec="seconds"), "elapsed_s": round(elapsed, 2),
              "stage": "before the kernel started" if isinstance(exc, WorkbenchError)
              else "in the runner", "error": _message(exc)}
    try:
        record_failure(schedule.out_dir / job.name, record, wait_s=wait_s)
    except Exception as failure:  # e.g. another process holds the report, or a full disk
        return _message(failure)
    return None


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, WorkbenchError) else f"{type(exc).__name__}: {exc}"


def _clean_index_temps(root: Path) -> list[Path]:
    """Temporary files of an index write a killed scheduler left (hold the schedule lock),
    and of a shared plotly.js write (older than ten minutes: a ``report`` command writes it
    without the schedule lock)."""
    stale = [p for p in root.glob(".index.html.*") if _INDEX_TEMP.match(p.name)]
    now = time.time()
    for path in root.glob(f".{PLOTLY_FILE}.*"):
        with suppress(OSError):
            if (_PLOTLY_TEMP.match(path.name)
                    and now - path.stat().st_mtime > _PLOTLY_TEMP_AGE_S):
                stale.append(path)
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def run_schedule(jobs: str | os.PathLike[str] | Schedule, *, only: Sequence[str] | None = None,
                 echo: Callable[[str], None] | None = None,
                 wait_s: float = 0.0, plotlyjs: str | None = None) -> list[JobOutcome]:
    """Run the jobs of a jobs file one after another, then rebuild the index.

    Parameters
    ----------
    jobs
        A jobs file or a parsed :class:`Schedule`.
    only
        Run just these job names (the index still lists every report).
    echo
        Called with a progress line per job (default: print to stdout, flushed).
    wait_s
        Most seconds to wait while another scheduler runs on the same output folder (or
        another process writes one of its reports); 0 refuses at once.
    plotlyjs
        ``"inline"`` or ``"shared"`` (see :func:`~workbench.report.runner.run_report`);
        None: the jobs file's ``plotlyjs``, else ``"inline"``.

    Returns
    -------
    list of JobOutcome
        In job order; a failure is recorded, never raised.

    Raises
    ------
    LookupFailed
        ``only`` names a job the file does not have.
    ReportsBusy
        Another scheduler holds the output folder's lock (after ``wait_s`` seconds).
    """
    schedule = jobs if isinstance(jobs, Schedule) else load_jobs(jobs)
    mode = check_plotlyjs(plotlyjs if plotlyjs is not None else schedule.plotlyjs)
    say = echo or (lambda line: print(line, flush=True))
    selected = list(schedule.jobs)
    if only:
        names = [j.name for j in schedule.jobs]
        for n in only:
            if n not in names:
                raise LookupFailed(f"no job {n!r} in {schedule.path}; {did_you_mean(n, names)}")
        selected = [j for j in schedule.jobs if j.name in set(only)]
    t_all = time.perf_counter()
    with locked(schedule.out_dir / SCHEDULE_LOCK, what=f"reports folder {schedule.out_dir}",
                wait_s=wait_s):
        stale = clean_stale(schedule.out_dir) + _clean_index_temps(schedule.out_dir)
        if stale:
            say(f"removed {len(stale)} temporary files and folders that killed runs left")
        outcomes, unrecorded = _run_jobs(schedule, selected, say, wait_s, mode)
        index = build_index(schedule.out_dir, unrecorded=unrecorded)
    failed = [o.job.name for o in outcomes if not o.ok]
    total = len(outcomes)
    say(f"{total - len(failed)}/{total} reports ok in {time.perf_counter() - t_all:.1f} s"
        + (f"; failed: {', '.join(failed)}" if failed else "") + f"\nindex: {index}")
    return outcomes


def _run_jobs(schedule: Schedule, selected: list[Job], say: Callable[[str], None],
              wait_s: float, plotlyjs: str) -> tuple[list[JobOutcome], dict[str, str]]:
    """Run the jobs; return their outcomes and the failures no folder could record."""
    outcomes, unrecorded = [], {}
    total = len(selected)
    for k, job in enumerate(selected, start=1):
        say(f"[{k}/{total}] {job.name} ({job.notebook}) ...")
        started = dt.datetime.now().astimezone()
        t0 = time.perf_counter()
        try:
            run = run_report(job.notebook, _job_parameters(schedule, job),
                             schedule.out_dir / job.name, name=job.name,
                             timeout_s=job.timeout_s, base=schedule.path.parent,
                             wait_s=wait_s, plotlyjs=plotlyjs)
        except Exception as exc:  # one job's failure, whatever it is, must not stop the batch
            elapsed = time.perf_counter() - t0
            error = _message(exc)
            say(f"[{k}/{total}] {job.name} FAILED after {elapsed:.1f} s: {error}")
            if not isinstance(exc, ReportFailed):  # the runner records the runs it starts
                why = _record(schedule, job, exc, started, elapsed, wait_s)
                if why is not None:
                    unrecorded[job.name] = error
                    say(f"[{k}/{total}] {job.name}: the failure is not recorded in its folder "
                        f"({why}); the index shows it")
            outcomes.append(JobOutcome(job=job, ok=False, elapsed_s=elapsed, error=error))
            continue
        elapsed = time.perf_counter() - t0
        say(f"[{k}/{total}] {job.name} ok in {elapsed:.1f} s -> {run.html}")
        outcomes.append(JobOutcome(job=job, ok=True, elapsed_s=elapsed, run=run))
    return outcomes, unrecorded
