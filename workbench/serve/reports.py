"""The reports folder over HTTP: its index as JSON, and each report's page.

The index is what ``reports/index.html`` shows (:func:`workbench.report.schedule.build_index`),
read the same way: every report folder of the reports folder
(:func:`workbench.report.publish.report_folders`), each from one published version
(:meth:`~workbench.report.publish.ReportFolder.records`), its ``report.json`` and the
record of a failed last run, if any.

A page is served only from the reports folder. The name in ``/v1/reports/{name}`` must be
a report name (:func:`workbench.report.runner.check_report_name`: letters, digits,
``_ - .``, starting with a letter or digit), which no traversal (``..``, a ``/`` or ``\\``,
an absolute path, percent-encoded or not) can pass: it is refused (422) before any file
is looked at. The file is then the page ``report.json`` names in that report's current
version, and it is served only if its resolved path lies inside the reports folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.report.publish import ReportFolder, read_json, report_folders
from workbench.report.runner import check_report_name
from workbench.serve.problems import Problem

__all__ = ["report_index", "report_page"]


def report_index(root: Path) -> list[dict[str, Any]]:
    """One entry per report in ``root``, by name: status, notebook, when, parameters,
    metrics, the failure of the last run (or None) and the page's path on the service."""
    out = []
    for folder in report_folders(root):
        found = folder.records()
        if found is None:
            continue
        good, failed = found.good, found.failed
        name = folder.path.name
        record = good or {}
        out.append({
            "name": name, "status": "failed" if failed is not None else "ok",
            "notebook": record.get("notebook", (failed or {}).get("notebook")),
            "generated": record.get("generated"),
            "parameters": record.get("overrides", record.get("parameters",
                                                             (failed or {}).get("parameters",
                                                                                {}))),
            "metrics": record.get("metrics", {}),
            "failure": failed,
            "html": f"/v1/reports/{name}" if good is not None else None,
        })
    return out


def report_page(root: Path, name: str) -> Path:
    """The HTML page of report ``name`` in ``root`` (see the module docstring).

    Raises
    ------
    ConfigError
        A name that is not a report name (a traversal attempt among them).
    Problem
        404 when there is no such report, or it has no page.
    """
    if "/" in name or "\\" in name or "\x00" in name:
        raise ConfigError(f"report name {name!r} must be a name such as 'backtest_ma_trend', "
                          "not a path; GET /v1/reports lists the reports")
    check_report_name(name)
    base = root.resolve()
    missing = Problem(404, f"no report {name!r} in the reports folder; GET /v1/reports lists "
                      "the reports")
    current = ReportFolder(base / name).current()
    if current is None:
        raise missing
    record = read_json(current / "report.json") or {}
    page = str(record.get("html", f"{name}.html"))
    if Path(page).name != page or page.startswith("."):
        raise missing
    path = (current / page).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise missing
    return path
