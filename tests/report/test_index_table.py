"""The reports' index: one table, a row per report (failed ones included), the provenance,
only the parameters that differ from the notebook's defaults, a column per headline metric;
and the page's own JavaScript sorts it in a real browser (numbers as numbers, dates as
instants, text in natural order, blanks last), from buttons a keyboard reaches.

The reports are written by hand (``report.json`` and an executed notebook whose parameters
cell holds the defaults), so the sort keys can be chosen to tell a numeric sort from a text
one and an instant from a string: no kernel starts.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from test_browser import console_errors, open_offline, page_errors
from test_runner import tiny_notebook

from workbench.report import index, schedule

DATA = {"kind": "synthetic", "name": "synthetic", "start": "2015-01-05", "end": "2024-12-31",
        "description": "Synthetic market (seed 7, generator v3): invented companies.",
        "n_symbols": 100, "n_delisted": 3, "benchmark": "synthetic cap-weighted index",
        "notes": []}
IMPORTED = {**DATA, "kind": "imported", "name": "mine",
            "description": "Imported market 'mine' from vendor exports (tushare ×2) in /data.",
            "notes": ["survivors only: no stock in the data was ever delisted, so ..."]}
DEFAULTS = {"strategy": "buy_and_hold", "start": "2024-01-02", "end": "2024-12-31",
            "capital_cny": 1_000_000.0, "fail": False}


def good_report(root: Path, name: str, generated: str, metrics: dict,
                parameters: dict | None = None) -> Path:
    """A published report folder as the runner leaves it (report.json, executed notebook)."""
    folder = root / name
    folder.mkdir()
    notebook = tiny_notebook(root)
    (folder / f"{name}.ipynb").write_bytes(notebook.read_bytes())  # its parameters cell
    (folder / f"{name}.html").write_text("<html></html>")
    effective = DEFAULTS | (parameters or {})
    (folder / "report.json").write_text(json.dumps({
        "name": name, "notebook": "tiny.ipynb", "parameters": effective,
        "overrides": {"capital_cny": 1_000_000.0, **(parameters or {})},
        "generated": generated, "html": f"{name}.html", "metrics": metrics}))
    return folder


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    good_report(tmp_path, "a", "2025-01-01T07:00:00+08:00",  # 2024-12-31 23:00 UTC
                {"strategy": "momentum", "sharpe_ratio": 9.2, "total_return": 0.5,
                 "data": DATA}, {"strategy": "momentum"})
    good_report(tmp_path, "b9", "2024-12-31T23:30:00+00:00",  # later, though "smaller"
                {"strategy": "buy_and_hold", "sharpe_ratio": 10.5, "total_return": -0.2,
                 "data": IMPORTED}, {"capital_cny": 2_000_000.0})
    good_report(tmp_path, "b10", "2024-06-01T10:00:00+08:00",
                {"strategy": "buy_and_hold", "sharpe_ratio": -1.0, "total_return": 0.1,
                 "params": {"nested": 1}, "data": DATA})
    good_report(tmp_path, "dq", "2024-01-01T10:00:00+08:00",
                {"coverage": 0.98, "symbols": 100, "data": DATA})
    # a job that failed before its kernel started, and never succeeded
    failed = tmp_path / "zfail"
    failed.mkdir()
    (failed / "zfail.failed.json").write_text(json.dumps({
        "name": "zfail", "notebook": str(tmp_path / "tiny.ipynb"),
        "parameters": {"strategy": "nope", "capital_cny": 1_000_000.0},
        "started": "2025-01-02T09:00:00+08:00", "stage": "before the kernel started",
        "error": "unknown strategy 'nope'; did you mean 'momentum'?", "failed_notebook": None}))
    return tmp_path


def rows(page: str) -> dict[str, list[str]]:
    """``{report name: its cells' HTML}`` of the index's one table."""
    (body,) = re.findall(r"<tbody>(.*?)</tbody>", page, re.S)
    out = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out[re.sub(r"<[^>]+>", "", cells[0])] = cells
    return out


def headings(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", page)]


def test_one_table_a_row_per_report_a_column_per_metric(reports):
    page = index.build_index(reports).read_text()
    assert page.count("<table") == 1 and page.count("<tr>") == 6  # the heading row and 5
    heads = headings(page)
    assert heads[:6] == ["report", "notebook", "status", "generated", "data",
                         "parameters (not the notebook's defaults)"]
    # the metrics some report emits, each its own column, in HEADLINE_KEYS order
    assert heads[6:] == ["strategy", "total return", "Sharpe ratio", "bar coverage", "symbols"]
    assert 'data-type="number" class="wb-num">Sharpe ratio' in page
    assert 'data-type="date">generated' in page and 'data-type="text">strategy' in page
    found = rows(page)
    assert list(found) == ["a", "b9", "b10", "dq", "zfail"]  # natural order, as sorted
    assert all(len(cells) == len(heads) for cells in found.values())
    a = dict(zip(heads, found["a"], strict=True))
    assert a["total return"] == "+50.00%" and a["Sharpe ratio"] == "9.20"
    assert a["strategy"] == "momentum" and "<br>" not in a["Sharpe ratio"]
    assert found["dq"][heads.index("Sharpe ratio")] == ""  # not emitted: blank
    assert 'data-sort="9.2">9.20</td>' in page  # sorted by the value, shown formatted


def test_parameters_show_as_values_never_as_json(tmp_path):
    good_report(tmp_path, "p", "2024-01-01T10:00:00+08:00", {"data": DATA},
                {"params": {"fast": 20, "slow": 60}, "cost_multipliers": [1.0, 2.0],
                 "start": "2023-01-03"})
    cell = html.unescape(rows(index.build_index(tmp_path).read_text())["p"][5])
    assert cell.split("<br>") == ["start: 2023-01-03", "params: fast=20, slow=60",
                                  "cost_multipliers: 1.00, 2.00"]


def test_data_every_report_shares_is_said_once_above_the_table(tmp_path):
    for name in ("x", "y"):
        good_report(tmp_path, name, "2024-01-01T10:00:00+08:00",
                    {"data": DATA, "sharpe_ratio": 1.0})
    page = index.build_index(tmp_path).read_text()
    heads = headings(page)
    assert "data" not in heads and heads[4] == "parameters (not the notebook's defaults)"
    assert all(len(cells) == len(heads) for cells in rows(page).values())
    (banner,) = re.findall(r'<p class="wb-shared-data">(.*?)</p>', page, re.S)
    assert "Synthetic market (seed 7, generator v3)" in banner
    assert page.count("Synthetic market (seed 7") == 1  # not on every row
    # one report on other data brings the column back, a row each
    good_report(tmp_path, "z", "2024-01-01T10:00:00+08:00", {"data": IMPORTED})
    page = index.build_index(tmp_path).read_text()
    assert "data" in headings(page) and "wb-shared-data" not in page


def test_status_provenance_and_only_the_parameters_that_differ(reports):
    found = rows(index.build_index(reports).read_text())
    status, data, params = 2, 4, 5
    assert [found[n][status] for n in ("a", "b9", "b10", "dq")] == [
        '<span class="wb-ok">ok</span>'] * 4
    failed = found["zfail"][status]
    assert "last run failed before the kernel started" in failed
    assert "unknown strategy &#x27;nope&#x27;; did you mean &#x27;momentum&#x27;?" in failed
    assert "no earlier good report" in failed and "never succeeded" in found["zfail"][3]
    # the defaults every report shares are not repeated on every row
    assert found["a"][params] == "strategy: momentum"
    assert found["b9"][params] == "capital_cny: 2,000,000.00"
    assert "defaults" in found["b10"][params] and "capital_cny" not in found["b10"][params]
    assert found["zfail"][params] == "strategy: nope"
    # provenance: synthetic or imported and from what, period, benchmark, notes
    assert found["a"][data].startswith("<b>synthetic</b><br><small>Synthetic market "
                                       "(seed 7, generator v3)</small>")
    assert "2015-01-05 to 2024-12-31 · 100 securities (3 delisted)" in found["a"][data]
    imported = found["b9"][data]
    assert "<b>imported</b> mine" in imported and "from vendor exports (tushare ×2)" in imported
    assert ">survivors only</span>" in imported


def test_a_failure_after_a_good_run_keeps_its_numbers_and_says_failed(reports):
    (reports / "a" / "a.failed.json").write_text(json.dumps({
        "name": "a", "notebook": "tiny.ipynb", "parameters": {}, "stage": "in the notebook",
        "started": "2025-02-01T09:00:00+08:00", "error": "AssertionError: asked to fail",
        "failed_notebook": "a.failed.ipynb"}))
    page = schedule.build_index(reports).read_text()
    cells = rows(page)["a"]
    assert "last run failed in the notebook" in cells[2] and "ok</span>" not in cells[2]
    assert 'href="a/a.failed.ipynb"' in cells[2] and 'href="a/a.html"' in cells[2]
    assert "9.20" in cells  # the last good report's numbers stay
    assert "5 reports, 2 failing" in page


SORT_HARNESS = """<script>
window.addEventListener("load", function () {
  var table = document.querySelector("table.wb-index");
  var buttons = Array.prototype.slice.call(table.querySelectorAll("thead th button"));
  function order() {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return r.cells[0].textContent.trim(); });
  }
  function press(label) {
    var button = buttons.filter(function (b) { return b.textContent.trim() === label; })[0];
    button.click();
    var sorted = Array.prototype.filter.call(table.tHead.rows[0].cells, function (th) {
      return th.hasAttribute("aria-sort"); });
    return {order: order(), sorted: sorted.map(function (th) {
      return th.textContent.trim() + " " + th.getAttribute("aria-sort"); })};
  }
  var out = {initial: order(), buttons: buttons.length,
             types: buttons.map(function (b) { return b.type + " " + b.tabIndex; })};
  buttons[3].focus();
  out.focused = document.activeElement === buttons[3];
  out.sharpe = press("Sharpe ratio");
  out.sharpeAgain = press("Sharpe ratio");
  out.generated = press("generated");
  out.report = press("report");
  out.status = press("status");
  out.announced = document.getElementById("wb-sort-status").textContent;
  document.body.setAttribute("data-sort-test", JSON.stringify(out));
});
</script>
"""


def test_the_page_sorts_by_any_column_in_a_browser(browser, reports, tmp_path):
    page = index.build_index(reports)
    harness = page.with_name("index-sort-test.html")
    harness.write_text(page.read_text().replace("</body>", SORT_HARNESS + "</body>"))
    dom, log = open_offline(browser, harness, tmp_path / "profile")
    assert page_errors(dom) == "" and console_errors(log) == []
    found = re.search(r'data-sort-test="([^"]*)"', dom)
    assert found, "the sort test did not run"
    out = json.loads(html.unescape(found.group(1)))
    heads = headings(page.read_text())
    assert out["buttons"] == len(heads)  # every heading is a button: Tab reaches it,
    assert set(out["types"]) == {"button 0"} and out["focused"]  # Enter and Space press it
    assert out["initial"] == ["a", "b9", "b10", "dq", "zfail"]
    # numbers as numbers (text would put "9.20" above "10.50"), largest first, blanks last
    assert out["sharpe"] == {"order": ["b9", "a", "b10", "dq", "zfail"],
                             "sorted": ["Sharpe ratio descending"]}
    assert out["sharpeAgain"] == {"order": ["b10", "a", "b9", "dq", "zfail"],
                                  "sorted": ["Sharpe ratio ascending"]}
    # dates as instants: 23:30 UTC on 31 December is after 07:00 +08:00 on 1 January
    assert out["generated"]["order"] == ["b9", "a", "b10", "dq", "zfail"]
    # text in natural order; a second press on the sorted column reverses it
    assert out["report"] == {"order": ["a", "b9", "b10", "dq", "zfail"],
                             "sorted": ["report ascending"]}
    assert out["status"]["order"] == ["zfail", "a", "b9", "b10", "dq"]  # failed, then ok
    assert out["announced"] == "Sorted by status, ascending."


def test_an_index_without_reports_has_no_table_and_no_script(tmp_path):
    page = index.build_index(tmp_path).read_text()
    assert "<table" not in page and "make report" in page and "wbOrder" not in page
