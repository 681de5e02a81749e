"""The reports' index page, ``OUT/index.html``: one sortable table, a row per report.

:func:`build_index` reads every report folder under ``OUT`` (each from one published
version, :meth:`~workbench.report.publish.ReportFolder.current`) and writes one table:

* the report (linked) and its notebook;
* its status: ``ok``, or the last run's failure (when, at which stage, why, the failed
  notebook) with a link to the last good report, which stays in place; failures found
  before a kernel started (an unknown strategy, a missing notebook) included;
* when it was generated;
* what data it rests on (:func:`workbench.data.provenance`: synthetic or imported and from
  what, the period, the benchmark, anything that could flatter the numbers), said once
  above the table instead when every report rests on the same data;
* the parameters that differ from the notebook's defaults (the defaults every report shares
  are not repeated on every row);
* a column per headline metric (:data:`HEADLINE_KEYS`) that any report emits; a report
  without it leaves the cell blank.

A click on a column's heading (or Enter or Space on it: each heading is a button) sorts the
rows by it: numbers as numbers, dates as instants, text in natural order (``b9`` before
``b10``); blanks go last either way; numbers and dates sort largest and newest first, text
A to Z, and a second click reverses. The sort is plain JavaScript inside the page: nothing
is fetched, and without JavaScript the table reads as it is, by report name.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.jsonable import jsonable
from workbench.report.emit import write_text
from workbench.report.figures.tables import format_value
from workbench.report.html import page
from workbench.report.publish import report_folders
from workbench.report.runner import RESERVED_PARAMETERS, declared_parameters, find_notebook

__all__ = ["HEADLINE_KEYS", "INDEX_HEADINGS", "build_index", "headline"]

#: Metrics the index shows when a report emits them, in this order, a column each.
HEADLINE_KEYS: tuple[str, ...] = (
    "strategy", "total_return", "annual_return", "sharpe_ratio", "out_of_sample_sharpe_ratio",
    "max_drawdown", "annual_volatility", "benchmark_total_return", "best_strategy",
    "best_sharpe_ratio", "rejections", "coverage", "symbols", "sessions",
)
#: The index's column heading of each headline metric (units where the value has none).
INDEX_HEADINGS: dict[str, str] = {
    "strategy": "strategy",
    "total_return": "total return",
    "annual_return": "annual return (CAGR)",
    "sharpe_ratio": "Sharpe ratio",
    "out_of_sample_sharpe_ratio": "out-of-sample Sharpe ratio",
    "max_drawdown": "max drawdown",
    "annual_volatility": "annual volatility",
    "benchmark_total_return": "benchmark total return",
    "best_strategy": "best strategy",
    "best_sharpe_ratio": "best Sharpe ratio",
    "rejections": "risk rejections (orders)",
    "coverage": "bar coverage",
    "symbols": "symbols",
    "sessions": "sessions",
}
_MAX_SHOWN = 8

_STYLE = """<style>
main { max-width: none; }
.wb-index-wrap { overflow-x: auto; }
table.wb-index { width: 100%; }
table.wb-index caption { caption-side: top; text-align: left; color: #6b6b6b;
  font-size: 13px; padding: 0 0 6px; }
table.wb-index td, table.wb-index th { text-align: left; vertical-align: top; }
table.wb-index .wb-num { text-align: right; font-variant-numeric: tabular-nums; }
table.wb-index td.wb-num, table.wb-index td.wb-date { white-space: nowrap; }
table.wb-index th { min-width: 4.5em; }
table.wb-index td.wb-wide { min-width: 14em; max-width: 24em; }
table.wb-index td.wb-data { min-width: 18em; max-width: 26em; }
table.wb-index td.wb-status { min-width: 11em; max-width: 26em; }
table.wb-index th button { font: inherit; color: inherit; background: none; border: 0;
  padding: 0; margin: 0; cursor: pointer; text-align: inherit; }
table.wb-index th button:focus-visible { outline: 2px solid #1f77b4; outline-offset: 2px; }
table.wb-index th .wb-arrow::after { content: " \\2195"; color: #b0b0b0; }
table.wb-index th[aria-sort=ascending] .wb-arrow::after { content: " \\25B2"; color: inherit; }
table.wb-index th[aria-sort=descending] .wb-arrow::after { content: " \\25BC"; color: inherit; }
.wb-ok { color: #2e8b57; } .wb-failed { color: #b3261e; font-weight: 600; }
.wb-dim { color: #8c8c8c; }
.wb-sr { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
</style>"""

# Plain JavaScript, run once at the end of the page (see the module docstring).
_SORT_SCRIPT = """
(function () {
  var table = document.querySelector("table.wb-index");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var status = document.getElementById("wb-sort-status");
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  Array.prototype.forEach.call(body.rows, function (row, i) { row.wbOrder = i; });
  function key(cell, type) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort")
                                             : cell.textContent.trim();
    if (raw === "") { return null; }
    if (type === "number") { var x = Number(raw); return isFinite(x) ? x : null; }
    if (type === "date") { var t = Date.parse(raw); return isNaN(t) ? null : t; }
    return raw;
  }
  function sortBy(col, descending) {
    var th = heads[col];
    var type = th.getAttribute("data-type") || "text";
    var rows = Array.prototype.map.call(body.rows, function (row) {
      return {row: row, key: key(row.cells[col], type)};
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {  // blanks last, whichever the direction
        return a.key === b.key ? a.row.wbOrder - b.row.wbOrder : (a.key === null ? 1 : -1);
      }
      var c = type === "text" ? collator.compare(a.key, b.key) : a.key - b.key;
      return c === 0 ? a.row.wbOrder - b.row.wbOrder : (descending ? -c : c);
    });
    rows.forEach(function (r) { body.appendChild(r.row); });
    heads.forEach(function (h) { if (h !== th) { h.removeAttribute("aria-sort"); } });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
    status.textContent = "Sorted by " + th.textContent.trim() + ", " +
                         (descending ? "descending" : "ascending") + ".";
  }
  heads.forEach(function (th, col) {
    var button = document.createElement("button");
    button.type = "button";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    var arrow = document.createElement("span");
    arrow.className = "wb-arrow";
    arrow.setAttribute("aria-hidden", "true");
    button.appendChild(arrow);
    th.appendChild(button);
    button.addEventListener("click", function () {
      var now = th.getAttribute("aria-sort");
      var descending = now ? now === "ascending"
                           : (th.getAttribute("data-type") || "text") !== "text";
      sortBy(col, descending);
    });
  });
})();
"""


def _scalars(metrics: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items()
            if v is None or isinstance(v, (str, int, float, bool))}


def headline(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Up to eight ``(name, formatted value)`` pairs of scalar metrics, preferred keys first.

    Examples
    --------
    >>> headline({"sessions": 10, "sharpe_ratio": 0.5, "nested": {"a": 1}})
    [('sharpe_ratio', '0.50'), ('sessions', '10')]
    """
    scalars = _scalars(metrics)
    keys = [k for k in HEADLINE_KEYS if k in scalars]
    keys += [k for k in scalars if k not in keys]
    return [(k, format_value(k, scalars[k])) for k in keys[:_MAX_SHOWN]]


# -- the cells: (HTML, sort key or None for the cell's text) -----------------------------------
Cell = tuple[str, str | None]


def _natural(name: str) -> list[Any]:
    """Sort key of natural order, as the page's sort has it: ``b9`` before ``b10``.

    Examples
    --------
    >>> sorted(["b10", "B9", "a"], key=_natural)
    ['a', 'B9', 'b10']
    """
    return [int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", name)]


def _attr(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _when(value: Any) -> str:
    return html.escape(str(value or "")[:16].replace("T", " "))


def _notebook_defaults(*candidates: str | Path | None) -> dict[str, Any] | None:
    """The parameters' defaults of the first candidate notebook that can be read: a path
    (the report's executed notebook, which keeps its parameters cell) or a notebook name."""
    for candidate in candidates:
        if not candidate:
            continue
        try:
            path = (candidate if isinstance(candidate, Path)
                    else find_notebook(str(candidate)))
            if path.is_file():
                return jsonable(declared_parameters(path))
        except Exception:  # any unreadable notebook: try the next, else show every value
            continue
    return None


def _differing(values: Mapping[str, Any], defaults: Mapping[str, Any] | None
               ) -> dict[str, Any]:
    """``values`` without those equal to the notebook's defaults (all of them when the
    defaults are unknown) and without the parameters the runner sets."""
    return {k: v for k, v in values.items() if k not in RESERVED_PARAMETERS
            and (defaults is None or k not in defaults or defaults[k] != v)}


def _parameters_cell(params: Mapping[str, Any]) -> Cell:
    if not params:
        return '<span class="wb-dim">defaults</span>', ""
    # as the formatting layer shows values: params: fast=20, slow=60, never a JSON dict
    shown = [f"{k}: {format_value(k, v)}" for k, v in params.items()]
    return "<br>".join(html.escape(s) for s in shown), "; ".join(shown)


def _data_cell(data: Any) -> Cell:
    """The data banner in short: synthetic or imported and from what, period, benchmark,
    and the first words of each note that could flatter the numbers (full in the report)."""
    if not isinstance(data, Mapping):
        return '<span class="wb-dim">not recorded</span>', ""
    kind, name = str(data.get("kind", "unknown")), str(data.get("name") or "")
    head = f"<b>{html.escape(kind)}</b>" + (f" {html.escape(name)}" if name != kind else "")
    period = f"{data.get('start')} to {data.get('end')}"
    facts = [period]
    if data.get("n_symbols") is not None:
        facts.append(f"{data['n_symbols']:,} securities ({data.get('n_delisted', 0):,} "
                     "delisted)")
    if data.get("benchmark"):
        facts.append(f"benchmark {data['benchmark']}")
    notes = "".join(f'<br><span class="wb-failed" title="{_attr(n)}">'
                    f"{html.escape(str(n).split(':')[0])}</span>"
                    for n in data.get("notes", []) or [])
    # a synthetic market's description is "Synthetic market (seed, generator): what that
    # means"; the index keeps the first part, an imported one's says where from: all of it
    about = str(data.get("description") or "")
    if kind == "synthetic":
        about = about.split(": ", 1)[0]
    about = f"<br><small>{html.escape(about)}</small>" if about else ""
    return (f"{head}{about}<br><small>{html.escape(' · '.join(facts))}</small>{notes}",
            f"{kind} {name}")


def _status_cell(name: str, good: Mapping[str, Any] | None,
                 failed: Mapping[str, Any] | None) -> Cell:
    """``ok``; or the last run's failure with its reason, the failed notebook and the last
    good report still shown."""
    if failed is None:
        return '<span class="wb-ok">ok</span>', "ok"
    stage = f" {html.escape(str(failed['stage']))}" if failed.get("stage") else ""
    note = html.escape(str(failed.get("error", "")))
    kept = failed.get("failed_notebook")
    extra = (f' — <a href="{name}/{_attr(kept)}">{html.escape(kept)}</a>'
             if kept else "")
    page_name = str((good or {}).get("html", name + ".html"))
    previous = ("<br><small>no earlier good report</small>" if good is None else
                f'<br><small>showing the last good report, from {_when(good.get("generated"))}'
                f': <a href="{name}/{_attr(page_name)}">{html.escape(page_name)}</a></small>')
    return (f'<span class="wb-failed">last run failed{stage} {_when(failed.get("started"))}'
            f"</span><br><small>{note}{extra}</small>{previous}", "failed")


def _metric_cell(key: str, value: Any) -> Cell:
    if value is None:
        return "", ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return html.escape(format_value(key, value)), repr(float(value))
    return html.escape(format_value(key, value)), None


def _row(key: str, good: Mapping[str, Any] | None, failed: Mapping[str, Any] | None,
         current: Path | None, columns: list[str]) -> list[Cell]:
    name = html.escape(key)
    status = _status_cell(name, good, failed)
    if good is not None:
        page_name = str(good.get("html", key + ".html"))
        link = f'<a href="{name}/{_attr(page_name)}">{name}</a>'
        executed = current / f"{Path(page_name).stem}.ipynb" if current else None
        defaults = _notebook_defaults(executed, good.get("notebook"))
        values = good.get("parameters", good.get("overrides", {})) or {}
        metrics = good.get("metrics", {}) or {}
        cells: list[Cell] = [
            (link, key), (html.escape(str(good.get("notebook", ""))), None), status,
            (_when(good.get("generated")), str(good.get("generated") or "")),
            _data_cell(metrics.get("data")), _parameters_cell(_differing(values, defaults))]
    else:
        failed = failed or {}
        kept = failed.get("failed_notebook")
        defaults = _notebook_defaults(current / kept if current and kept else None,
                                      failed.get("notebook"))
        metrics = {}
        cells = [(name, key), (html.escape(Path(str(failed.get("notebook", ""))).name), None),
                 status, ('<span class="wb-dim">never succeeded</span>', ""),
                 ('<span class="wb-dim">–</span>', ""),
                 _parameters_cell(_differing(failed.get("parameters", {}) or {}, defaults))]
    scalars = _scalars(metrics)
    return cells + [_metric_cell(k, scalars.get(k)) for k in columns]


_DATA = 4  # the data column's position in a row


def _records(root: Path, unrecorded: Mapping[str, str], now: dt.datetime
             ) -> dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None, Path | None]]:
    """``{name: (report.json, the last failure's record, the version read)}``."""
    records: dict[str, tuple[dict[str, Any] | None, dict[str, Any] | None, Path | None]] = {}
    for folder in report_folders(root):
        if (found := folder.records()) is not None:
            records[folder.path.name] = (found.good, found.failed, found.version)
    for key, error in unrecorded.items():
        good, _, current = records.get(key, (None, None, None))
        records[key] = (good, {"name": key, "error": error, "started": now.isoformat(),
                               "stage": "(not recorded in its folder)"}, current)
    return records


def _shared_data(rows: list[list[Cell]]) -> str | None:
    """The data cell every row shows, when there are several rows and they all show the
    same one (it is then said once above the table instead of on every row)."""
    cells = {row[_DATA][0] for row in rows}
    return cells.pop() if len(rows) > 1 and len(cells) == 1 else None


def _table(rows: list[list[Cell]], columns: list[str], numeric: set[str],
           *, with_data: bool = True) -> str:
    heads = [("report", "text"), ("notebook", "text"), ("status", "text"),
             ("generated", "date"), ("data", "text"),
             ("parameters (not the notebook's defaults)", "text")]
    heads += [(INDEX_HEADINGS.get(k, k.replace("_", " ")), "number" if k in numeric else "text")
              for k in columns]
    wide = {4: "wb-data", 5: "wb-wide"}
    if not with_data:
        heads.pop(_DATA)
        rows = [row[:_DATA] + row[_DATA + 1:] for row in rows]
        wide = {4: "wb-wide"}
    head = "".join(
        f'<th scope="col" data-type="{kind}"'
        + (' class="wb-num"' if kind == "number" else "")
        + (' aria-sort="ascending"' if i == 0 else "") + f">{html.escape(label)}</th>"
        for i, (label, kind) in enumerate(heads))
    body = []
    for row in rows:
        tds = []
        for i, (text, sort) in enumerate(row):
            cls = ("wb-num" if heads[i][1] == "number" else "wb-date" if heads[i][1] == "date"
                   else "wb-status" if i == 2 and sort == "failed" else wide.get(i, ""))
            attrs = (f' class="{cls}"' if cls else "") + (
                f' data-sort="{_attr(sort)}"' if sort is not None and i > 0 else "")
            tds.append(f"<td{attrs}>{text}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    caption = ("<caption>Select a column heading to sort by it (numbers and dates largest and "
               "newest first, text A to Z); select it again to reverse."
               '<span id="wb-sort-status" class="wb-sr" aria-live="polite"></span></caption>')
    return (f'<div class="wb-index-wrap"><table class="wb-index">{caption}<thead><tr>{head}'
            f"</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table></div>")


def build_index(out_dir: str | os.PathLike[str], *,
                unrecorded: Mapping[str, str] | None = None) -> Path:
    """Write ``out_dir/index.html``: every report folder under ``out_dir``, atomically.

    One sortable table (see the module docstring); a failed report is never shown as
    ``ok``. Each folder is read from one published version
    (:meth:`~workbench.report.publish.ReportFolder.current`).

    Parameters
    ----------
    out_dir
        The reports folder.
    unrecorded
        ``{report name: error}`` of failures that could not be recorded in their folders
        (the scheduler's); shown as failed runs too.

    Returns
    -------
    Path
        ``out_dir/index.html``.
    """
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now().astimezone()
    records = _records(root, dict(unrecorded or {}), now)
    found = [_scalars((good or {}).get("metrics", {}) or {}) for good, _, _ in records.values()]
    columns = [k for k in HEADLINE_KEYS if any(m.get(k) is not None for m in found)]
    numeric = {k for k in columns if any(isinstance(m.get(k), (int, float))
                                         and not isinstance(m.get(k), bool) for m in found)}
    rows = [_row(key, *records[key], columns) for key in sorted(records, key=_natural)]
    shared = _shared_data(rows)
    banner = ("" if shared is None else
              f'<p class="wb-shared-data">Every report rests on the same data: {shared}</p>')
    body = _STYLE + (banner + _table(rows, columns, numeric, with_data=shared is None)
                     if rows else "<p>No reports yet: run <code>make report</code>.</p>")
    failing = sum(1 for _, failed, _ in records.values() if failed is not None)
    doc = page("Reports", body, with_plotly=False, script=_SORT_SCRIPT if rows else "",
               subtitle=f"{len(rows)} reports" + (f", {failing} failing" if failing else "")
               + f"; index rebuilt {html.escape(now.strftime('%Y-%m-%d %H:%M %Z'))}")
    return Path(write_text(root / "index.html", doc))
