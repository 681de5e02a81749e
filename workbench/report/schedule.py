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
``OUT/NAME/``. A failing job is reported and the batch goes on; the previous good report of
that job stays in place, with the failed run's notebook beside it (``NAME.failed.ipynb``).
Afterwards ``OUT/index.html`` lists every report folder under ``OUT`` with its date,
parameters and headline metrics.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import time
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError, DataError, LookupFailed, WorkbenchError, did_you_mean
from workbench.report.emit import write_text
from workbench.report.figures.tables import format_value
from workbench.report.html import page
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


def run_schedule(jobs: str | os.PathLike[str] | Schedule, *, only: Sequence[str] | None = None,
                 echo: Callable[[str], None] | None = None) -> list[JobOutcome]:
    """Run the jobs of a jobs file one after another, then rebuild the index.

    Parameters
    ----------
    jobs
        A jobs file or a parsed :class:`Schedule`.
    only
        Run just these job names (the index still lists every report).
    echo
        Called with a progress line per job (default: print to stdout, flushed).

    Returns
    -------
    list of JobOutcome
        In job order; a failure is recorded, never raised.

    Raises
    ------
    LookupFailed
        ``only`` names a job the file does not have.
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
    outcomes = []
    total = len(selected)
    t_all = time.perf_counter()
    for k, job in enumerate(selected, start=1):
        say(f"[{k}/{total}] {job.name} ({job.notebook}) ...")
        t0 = time.perf_counter()
        try:
            run = run_report(job.notebook, _job_parameters(schedule, job),
                             schedule.out_dir / job.name, name=job.name,
                             timeout_s=job.timeout_s, base=schedule.path.parent)
        except Exception as exc:  # one job's failure, whatever it is, must not stop the batch
            elapsed = time.perf_counter() - t0
            error = str(exc) if isinstance(exc, WorkbenchError) else (
                f"{type(exc).__name__}: {exc}")
            say(f"[{k}/{total}] {job.name} FAILED after {elapsed:.1f} s: {error}")
            outcomes.append(JobOutcome(job=job, ok=False, elapsed_s=elapsed, error=error))
            continue
        elapsed = time.perf_counter() - t0
        say(f"[{k}/{total}] {job.name} ok in {elapsed:.1f} s -> {run.html}")
        outcomes.append(JobOutcome(job=job, ok=True, elapsed_s=elapsed, run=run))
    index = build_index(schedule.out_dir)
    failed = [o.job.name for o in outcomes if not o.ok]
    say(f"{total - len(failed)}/{total} reports ok in {time.perf_counter() - t_all:.1f} s"
        + (f"; failed: {', '.join(failed)}" if failed else "") + f"\nindex: {index}")
    return outcomes


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


def build_index(out_dir: str | os.PathLike[str]) -> Path:
    """Write ``out_dir/index.html``: every report folder under ``out_dir``, atomically.

    Each row shows the report (linked), its notebook, when it was generated, the parameters
    it was given, its headline metrics, and a failure note when its latest run failed.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        good = _read_json(folder / "report.json")
        failures = sorted(folder.glob("*.failed.json"))
        failed = _read_json(failures[-1]) if failures else None
        if good is None and failed is None:
            continue
        name = html.escape(folder.name)
        if good is not None:
            link = f'<a href="{name}/{html.escape(good.get("html", name + ".html"))}">{name}</a>'
            when = html.escape(str(good.get("generated", ""))[:16].replace("T", " "))
            params = _parameters_html(good.get("overrides", good.get("parameters", {})))
            shown = _metrics_html(good.get("metrics", {}))
            data = _data_html(good.get("metrics", {}).get("data"))
            notebook = html.escape(str(good.get("notebook", "")))
            status = '<span class="wb-ok">ok</span>'
        else:
            link, when, shown, data = name, "never succeeded", "–", "–"
            params = _parameters_html((failed or {}).get("parameters", {}))
            notebook = html.escape(Path(str((failed or {}).get("notebook", ""))).name)
            status = ""
        if failed is not None:
            kept = failed.get("failed_notebook")
            note = html.escape(str(failed.get("error", "")))[:400]
            extra = (f' — <a href="{name}/{html.escape(kept)}">{html.escape(kept)}</a>'
                     if kept else "")
            status = (f'<span class="wb-failed">last run failed '
                      f'{html.escape(str(failed.get("started", ""))[:16].replace("T", " "))}'
                      f"</span><br><small>{note}{extra}</small>")
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
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    doc = page("Reports", body, with_plotly=False,
               subtitle=f"{len(rows)} reports; index rebuilt {html.escape(now)}")
    return Path(write_text(root / "index.html", doc))
