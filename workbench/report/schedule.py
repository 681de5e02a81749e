"""Batches of reports from a TOML jobs file, for cron: keep going, report, rebuild the index.

The jobs file (``reports/jobs.toml`` is the default batch; see ``reports/README.md``)::

    out = "."                  # optional: output folder, relative to this file
    timeout_s = 900            # optional: most seconds one cell may run

    [defaults]                 # optional: parameters for every job whose notebook has them
    colors = "intl"

    [[jobs]]
    name = "backtest_ma_trend" # the report's folder and file names
    notebook = "backtest_report"   # a bundled notebook, or a path relative to this file
    parameters = { strategy = "ma_trend", params = { fast = 20, slow = 60 } }

:func:`run_schedule` runs every job with :func:`~workbench.report.runner.run_report` into
``OUT/NAME/``, each report published whole by one atomic swap
(:mod:`workbench.report.publish`). A failing job is reported and the batch goes on, whatever
stage it failed at: a bad parameter, an unknown strategy or a missing notebook (found before
any kernel starts), the notebook itself, or publishing. The failure is recorded in the job's
folder (``NAME.failed.json``, with the failed run's notebook as ``NAME.failed.ipynb`` when
there is one) beside the previous good report, which stays in place. Afterwards
``OUT/index.html`` lists every report folder under ``OUT`` with its date, parameters and
headline metrics, and marks each failed one with the reason and a link to its last good
report.

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
import html
import json
import os
import re
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
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
from workbench.report.emit import write_text
from workbench.report.figures.tables import format_value
from workbench.report.html import page
from workbench.report.lock import locked
from workbench.report.publish import clean_stale, record_failure, report_folders
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

#: Metrics the index shows first when a report emits them (then other scalars, up to 8).
HEADLINE_KEYS: tuple[str, ...] = (
    "strategy", "total_return", "annual_return", "sharpe_ratio", "out_of_sample_sharpe_ratio",
    "max_drawdown", "annual_volatility", "benchmark_total_return", "best_strategy",
    "best_sharpe_ratio", "rejections", "coverage", "symbols", "sessions",
)
_MAX_SHOWN = 8
_TOP_KEYS = {"out", "timeout_s", "defaults", "jobs"}
_JOB_KEYS = {"name", "notebook", "parameters", "timeout_s"}
#: The lock a scheduler holds on its output folder (no report name starts with a dot).
SCHEDULE_LOCK = ".schedule.lock"
_INDEX_TEMP = re.compile(r"^\.index\.html\.[a-z0-9_]{8}$")


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
    return Schedule(path=file.resolve(), out_dir=out_dir, jobs=tuple(jobs), defaults=defaults)


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
    """Temporary files of an index write a killed scheduler left (hold the schedule lock)."""
    stale = [p for p in root.glob(".index.html.*") if _INDEX_TEMP.match(p.name)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def run_schedule(jobs: str | os.PathLike[str] | Schedule, *, only: Sequence[str] | None = None,
                 echo: Callable[[str], None] | None = None,
                 wait_s: float = 0.0) -> list[JobOutcome]:
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
        outcomes, unrecorded = _run_jobs(schedule, selected, say, wait_s)
        index = build_index(schedule.out_dir, unrecorded=unrecorded)
    failed = [o.job.name for o in outcomes if not o.ok]
    total = len(outcomes)
    say(f"{total - len(failed)}/{total} reports ok in {time.perf_counter() - t_all:.1f} s"
        + (f"; failed: {', '.join(failed)}" if failed else "") + f"\nindex: {index}")
    return outcomes


def _run_jobs(schedule: Schedule, selected: list[Job], say: Callable[[str], None],
              wait_s: float) -> tuple[list[JobOutcome], dict[str, str]]:
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
                             wait_s=wait_s)
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


# -- the index ---------------------------------------------------------------------------------
def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def headline(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Up to eight ``(name, formatted value)`` pairs of scalar metrics, preferred keys first.

    Examples
    --------
    >>> headline({"sessions": 10, "sharpe_ratio": 0.5, "nested": {"a": 1}})
    [('sharpe_ratio', '0.50'), ('sessions', '10')]
    """
    scalars = {k: v for k, v in metrics.items()
               if v is None or isinstance(v, (str, int, float, bool))}
    keys = [k for k in HEADLINE_KEYS if k in scalars]
    keys += [k for k in scalars if k not in keys]
    return [(k, format_value(k, scalars[k])) for k in keys[:_MAX_SHOWN]]


def _parameters_html(params: Mapping[str, Any]) -> str:
    if not params:
        return '<span class="wb-dim">defaults</span>'
    return "<br>".join(f"{html.escape(str(k))}={html.escape(json.dumps(v, ensure_ascii=False))}"
                       for k, v in params.items())


def _metrics_html(metrics: Mapping[str, Any]) -> str:
    pairs = headline(metrics)
    if not pairs:
        return '<span class="wb-dim">–</span>'
    return "<br>".join(f"{html.escape(k.replace('_', ' '))}: <b>{html.escape(v)}</b>"
                       for k, v in pairs)


def _data_html(data: Any) -> str:
    """The index's data cell: synthetic or imported, period, benchmark, survivorship notes."""
    if not isinstance(data, Mapping):
        return '<span class="wb-dim">not recorded</span>'
    kind = html.escape(str(data.get("kind", "unknown")))
    period = html.escape(f"{data.get('start')} to {data.get('end')}")
    bench = html.escape(str(data.get("benchmark", "")))
    notes = "".join(f'<br><span class="wb-failed">{html.escape(str(n).split(":")[0])}</span>'
                    for n in data.get("notes", []) or [])
    return f"<b>{kind}</b> {html.escape(str(data.get('name', '')))}<br>{period}<br>{bench}{notes}"


def _when(value: Any) -> str:
    return html.escape(str(value or "")[:16].replace("T", " "))


def _status_html(name: str, good: Mapping[str, Any] | None,
                 failed: Mapping[str, Any] | None) -> str:
    """``ok``; or the last run's failure with its reason, the failed notebook and the last
    good report still shown."""
    if failed is None:
        return '<span class="wb-ok">ok</span>'
    stage = f" {html.escape(str(failed['stage']))}" if failed.get("stage") else ""
    note = html.escape(str(failed.get("error", "")))[:400]
    kept = failed.get("failed_notebook")
    extra = (f' — <a href="{name}/{html.escape(kept)}">{html.escape(kept)}</a>'
             if kept else "")
    previous = ("<br><small>no earlier good report</small>" if good is None else
                f'<br><small>showing the last good report, from {_when(good.get("generated"))}'
                f': <a href="{name}/{html.escape(good.get("html", name + ".html"))}">'
                f'{html.escape(good.get("html", name + ".html"))}</a></small>')
    return (f'<span class="wb-failed">last run failed{stage} {_when(failed.get("started"))}'
            f"</span><br><small>{note}{extra}</small>{previous}")


def build_index(out_dir: str | os.PathLike[str], *,
                unrecorded: Mapping[str, str] | None = None) -> Path:
    """Write ``out_dir/index.html``: every report folder under ``out_dir``, atomically.

    Each row shows the report (linked), its notebook, when it was generated, the parameters
    it was given, its headline metrics, and, when its latest run failed, the failure (when,
    at which stage, why, the failed notebook) and a link to the last good report, which
    stays in place; a failed report is never shown as ``ok``. Each folder is read from one
    published version (:meth:`~workbench.report.publish.ReportFolder.current`).

    Parameters
    ----------
    out_dir
        The reports folder.
    unrecorded
        ``{report name: error}`` of failures that could not be recorded in their folders
        (the scheduler's); shown as failed runs too.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now().astimezone()
    extra = dict(unrecorded or {})
    records: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None]] = {}
    for folder in report_folders(root):
        for _ in range(3):  # a run publishing meanwhile may remove the version being read
            current = folder.current()
            if current is None:
                break
            good = _read_json(current / "report.json")
            failures = sorted(current.glob("*.failed.json"))
            failed = _read_json(failures[-1]) if failures else None
            if folder.current() == current:
                break
        if current is not None and (good is not None or failed is not None):
            records[folder.path.name] = (good, failed)
    for key, error in extra.items():
        good = records.get(key, (None, None))[0]
        records[key] = (good, {"name": key, "error": error, "started": now.isoformat(),
                               "stage": "(not recorded in its folder)"})
    rows = []
    for key in sorted(records):
        good, failed = records[key]
        name = html.escape(key)
        if good is not None:
            link = f'<a href="{name}/{html.escape(good.get("html", name + ".html"))}">{name}</a>'
            when = _when(good.get("generated"))
            params = _parameters_html(good.get("overrides", good.get("parameters", {})))
            shown = _metrics_html(good.get("metrics", {}))
            data = _data_html(good.get("metrics", {}).get("data"))
            notebook = html.escape(str(good.get("notebook", "")))
        else:
            link, when, shown, data = name, "never succeeded", "–", "–"
            params = _parameters_html((failed or {}).get("parameters", {}))
            notebook = html.escape(Path(str((failed or {}).get("notebook", ""))).name)
        status = _status_html(name, good, failed)
        rows.append(f"<tr><td>{link}</td><td>{notebook}</td><td>{when}</td><td>{status}</td>"
                    f'<td class="wb-left">{data}</td><td class="wb-left">{params}</td>'
                    f'<td class="wb-left">{shown}</td></tr>')
    body = (
        "<style>table.wb-index td, table.wb-index th { text-align: left; vertical-align: top; }"
        " .wb-ok { color: #2e8b57; } .wb-failed { color: #b3261e; font-weight: 600; }"
        " .wb-dim { color: #8c8c8c; } table.wb-index { width: 100%; }</style>"
        + ("<table class=\"wb-index\"><thead><tr><th>report</th><th>notebook</th>"
           "<th>generated</th><th>status</th><th class=\"wb-left\">data</th>"
           "<th class=\"wb-left\">parameters</th>"
           "<th class=\"wb-left\">headline metrics</th></tr></thead><tbody>"
           + "\n".join(rows) + "</tbody></table>" if rows else
           "<p>No reports yet: run <code>make report</code>.</p>"))
    failing = sum(1 for _, failed in records.values() if failed is not None)
    doc = page("Reports", body, with_plotly=False,
               subtitle=f"{len(rows)} reports" + (f", {failing} failing" if failing else "")
               + f"; index rebuilt {html.escape(now.strftime('%Y-%m-%d %H:%M %Z'))}")
    return Path(write_text(root / "index.html", doc))
