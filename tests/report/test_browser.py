"""A real browser opens the default reports from disk with the network off: every Plotly
figure renders, the console stays clean, every section is there, no table shows internals,
and a backtest report's headline card lies within the first 900 px.

Headless Chromium loads each page through ``file://`` with every connection refused
(``--proxy-server=127.0.0.1:9``, ``--host-resolver-rules``), so anything fetched from a CDN
would fail. ``--dump-dom`` prints the page after ``--virtual-time-budget`` of simulated
time; the page's own script (``workbench.report.html``) writes the number of drawn figures
into ``<body data-plots-rendered>`` and any error into ``<pre id="wb-js-errors">``, and
Chromium's console log goes to stderr (``--enable-logging=stderr``). For the layout, the
test opens a copy of each page with one more script that writes where the headline card
ends (``data-card-bottom``, in CSS pixels from the top of a 1400 × 900 window) and how tall
the page is (``data-page-height``).

The reports are the default jobs (``reports/jobs.toml``) over two years instead of the whole
history, to keep the run short. ``pytest --screenshots DIR`` also writes a full-page PNG of
each into ``DIR/NAME.png``, 1400 px wide, and of the index page into ``DIR/index.png``, to
look at.

Under CI (``CI=true``) a missing browser fails the test (``.ci/run`` installs Debian's
``chromium``); elsewhere the test is skipped with how to install one.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import re
import subprocess
import urllib.parse
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from conftest import INTERNALS

from workbench.report import card, runner, schedule

#: The default jobs, on a shorter period (the pages are laid out the same).
DEFAULT_JOBS = schedule.load_jobs(schedule.default_jobs_file())
PERIOD = {"start": "2023-01-03", "end": "2024-12-31", "split": "2024-07-01"}
REPORTS = [job.name for job in DEFAULT_JOBS.jobs]
BACKTESTS = [job.name for job in DEFAULT_JOBS.jobs if job.notebook == "backtest_report"]
WINDOW = (1400, 900)  # the window of the issue's measurements; the card must fit in it
_PROBE = """<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var card = document.getElementById("CARD_ID");
    var box = card ? card.getBoundingClientRect() : null;
    document.body.setAttribute("data-card-bottom",
                               box ? String(box.bottom + window.scrollY) : "none");
    document.body.setAttribute("data-page-height",
                               String(document.documentElement.scrollHeight));
    var cut = [];  // figure and axis titles, legend entries reaching outside their figure
    document.querySelectorAll(".js-plotly-plot").forEach(function (plot) {
      var outer = plot.getBoundingClientRect();
      plot.querySelectorAll(".gtitle, .g-xtitle text, .g-ytitle text, .g-y2title text, "
                            + ".legendtext").forEach(function (text) {
        var r = text.getBoundingClientRect();
        if (text.textContent.trim() && (r.left < outer.left - 1 || r.right > outer.right + 1
            || r.top < outer.top - 1 || r.bottom > outer.bottom + 1)) {
          cut.push(text.textContent.trim());
        }
      });
    });
    document.body.setAttribute("data-cut-titles", encodeURIComponent(JSON.stringify(cut)));
  }, 2000);
});
</script>
""".replace("CARD_ID", card.CARD_ID)




@pytest.fixture(scope="module")
def default_reports(browser: str, tmp_path_factory: pytest.TempPathFactory
                    ) -> dict[str, runner.ReportRun]:
    """Every default report, run once for the module (after the browser is found)."""
    out = tmp_path_factory.mktemp("reports")
    jobs = dataclasses.replace(DEFAULT_JOBS, out_dir=out,
                               defaults={**DEFAULT_JOBS.defaults, **PERIOD})
    outcomes = schedule.run_schedule(jobs, echo=lambda line: None)
    failed = {o.job.name: o.error for o in outcomes if not o.ok}
    assert not failed, failed
    return {o.job.name: o.run for o in outcomes if o.run is not None}


@pytest.fixture(scope="module")
def report_run(default_reports: dict[str, runner.ReportRun]) -> runner.ReportRun:
    return default_reports["backtest_ma_trend"]


def chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with no network and its console log on stderr."""
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
           "--hide-scrollbars", "--virtual-time-budget=30000", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def open_offline(browser: str, page: Path, profile: Path) -> tuple[str, str]:
    """Load ``page`` in a 1400 × 900 window with no network; return (DOM, console log).

    The page is opened where it is given, as a reader opens it: through a report folder's
    symlink (``OUT/NAME``) when the path has one, not through the version it points to.
    """
    done = chromium(browser, profile, f"--window-size={WINDOW[0]},{WINDOW[1]}", "--dump-dom",
                    Path(os.path.abspath(page)).as_uri())
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line
            and re.search(r"Uncaught|Error|error", line)]


def page_errors(dom: str) -> str:
    m = re.search(r'<pre id="wb-js-errors">(.*?)</pre>', dom, re.S)
    assert m, "the page's error log is missing"
    return html.unescape(m.group(1)).strip()


def body_number(dom: str, name: str) -> float | None:
    m = re.search(rf'data-{name}="([\d.]+)"', dom)
    return float(m.group(1)) if m else None


class Tables(HTMLParser):
    """Every ``<table>`` of a page: its header cells and its body rows, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict[str, list]] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._part = "body"

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag == "thead":
            self._part = "head"
        elif tag == "tbody":
            self._part = "body"
        elif tag == "tr" and self.tables:
            self._row = []
            self.tables[-1]["head" if self._part == "head" else "rows"].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._part = "body"

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def opened(browser: str, default_reports: dict[str, runner.ReportRun],
           tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[str, str]]:
    """``opened(name)``: the DOM and console log of a report's page with the layout probe,
    loaded once."""
    pages: dict[str, tuple[str, str]] = {}
    profile = tmp_path_factory.mktemp("profile")

    def load(name: str) -> tuple[str, str]:
        if name not in pages:
            page = default_reports[name].html
            probe = page.with_name(f".probe-{page.name}")  # beside it: relative links hold
            probe.write_text(page.read_text().replace("</body>", _PROBE + "</body>"))
            pages[name] = open_offline(browser, probe, profile)
            probe.unlink()
        return pages[name]

    return load


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_draws_every_figure_offline_without_errors(name, opened,
                                                               default_reports):
    dom, log = opened(name)
    assert page_errors(dom) == ""
    assert console_errors(log) == []
    executed = nbformat.read(default_reports[name].ipynb, as_version=4)
    figures = sum(1 for c in executed.cells if c.cell_type == "code" for o in c.outputs
                  if "application/vnd.plotly.v1+json" in o.get("data", {}))
    assert body_number(dom, "plots-rendered") == figures


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_has_its_sections_and_its_links_land(name, opened):
    dom, _ = opened(name)
    job = next(j for j in DEFAULT_JOBS.jobs if j.name == name)
    source = nbformat.read(runner.find_notebook(job.notebook), as_version=4)
    sections = [line[3:].strip() for c in source.cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("## ")]
    assert sections
    ids = set(re.findall(r'\sid="([^"]+)"', dom))
    missing = [s for s in sections if s.replace(" ", "-") not in ids]
    assert not missing, f"sections not on the page: {missing}"
    broken = [href for href in re.findall(r'href="#([^"]+)"', dom) if href not in ids]
    assert not broken


def assert_tables_read_well(dom: str) -> None:
    """Every table of the page has rows, and no header or cell shows :data:`INTERNALS`, a
    code for a header, or a column with nothing in it."""
    parser = Tables()
    parser.feed(dom)
    assert parser.tables, "a page without a table"
    for table in parser.tables:
        head = table["head"][0] if table["head"] else []
        rows = [r for r in table["rows"] if r]
        assert rows, f"a table with a header and no rows: {head}"
        for cell in [*head, *(c for r in rows for c in r)]:
            for what, pattern in INTERNALS.items():
                assert not pattern.search(cell), f"{what} in a cell: {cell!r} (table {head})"
        for i, text in enumerate(head):
            assert "_" not in text, f"a code for a header: {text!r}"
            column = [r[i] for r in rows if i < len(r)]
            assert any(c not in ("", "–") for c in column), f"column {text!r} shows nothing"


@pytest.mark.parametrize("name", REPORTS)
def test_no_table_shows_internals_or_nothing(name, opened):
    dom, _ = opened(name)
    assert_tables_read_well(dom)


@pytest.mark.parametrize("name", REPORTS)
def test_no_figure_title_or_legend_is_cut_off_at_the_figure_edge(name, opened):
    dom, _ = opened(name)
    m = re.search(r'data-cut-titles="([^"]*)"', dom)
    assert m, "the layout probe did not run"
    assert json.loads(urllib.parse.unquote(m.group(1))) == []


@pytest.mark.parametrize("name", BACKTESTS)
def test_the_headline_card_lies_within_the_first_900_px(name, opened):
    dom, _ = opened(name)
    bottom = body_number(dom, "card-bottom")
    assert bottom is not None, "no headline card on the page"
    assert bottom <= WINDOW[1]
    # the card comes before the first figure, and the raw repr after it
    at = dom.index(f'id="{card.CARD_ID}"')
    assert at < dom.index('class="wb-plot')
    repr_at = dom.find("&lt;BacktestResult")
    assert repr_at == -1 or repr_at > at


@pytest.mark.parametrize("name", REPORTS)
def test_a_screenshot_of_each_report_on_request(name, request, browser, opened,
                                               default_reports, tmp_path):
    folder = request.config.getoption("--screenshots")
    if not folder:
        pytest.skip("pass --screenshots DIR to write a PNG of every default report")
    dom, _ = opened(name)
    height = int(body_number(dom, "page-height") or 3000)
    target = Path(folder).resolve() / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    chromium(browser, tmp_path / "profile", f"--window-size={WINDOW[0]},{min(height, 16000)}",
             f"--screenshot={target}", Path(os.path.abspath(default_reports[name].html)).as_uri())
    assert target.stat().st_size > 10_000


def test_the_index_page_opens_cleanly(browser, report_run, tmp_path, request):
    index = schedule.build_index(report_run.out_dir.parent)
    dom, log = open_offline(browser, index, tmp_path / "profile")
    assert page_errors(dom) == "" and console_errors(log) == []
    assert 'href="backtest_ma_trend/backtest_ma_trend.html"' in dom
    assert_tables_read_well(dom)
    if folder := request.config.getoption("--screenshots"):
        target = Path(folder).resolve() / "index.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        chromium(browser, tmp_path / "shot", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                 f"--screenshot={target}", Path(os.path.abspath(index)).as_uri())
        assert target.stat().st_size > 10_000


def test_the_check_sees_a_page_that_cannot_draw(browser, report_run, tmp_path, monkeypatch):
    """Without plotly.js (as if it were left on a CDN) the same checks fail."""
    from workbench.report import html as report_html

    monkeypatch.setattr(report_html, "plotly_js", lambda: "/* left out */")
    broken = tmp_path / "broken.html"
    broken.write_text(report_html.notebook_html(nbformat.read(report_run.ipynb, as_version=4)))
    dom, _ = open_offline(browser, broken, tmp_path / "profile")
    assert "Plotly is not defined" in page_errors(dom)
    assert re.search(r'data-plots-rendered="0"', dom)


def test_the_table_checks_catch_what_the_issue_found():
    """Each pattern flags the raw output the reports used to show, and passes its fix."""
    raw = {"a time of midnight": "2016-01-04 00:00:00", "a raw repr": "<BacktestResult x>",
           "a hash ID": "121ade0cda251a15", "a Python dict or list": "{'fast': 20}",
           "a cut-off text": "buy 3400 603797.SH: sector Non-bank Financials...",
           "a missing number": "NaN"}
    fixed = ["2016-01-04", "ma_trend (fast=20, slow=60)", "000036.SZ", "fast=20",
             "0.0041", "–", "Costs incl. slippage (CNY)"]
    for what, text in raw.items():
        assert INTERNALS[what].search(text), what
    assert not any(p.search(t) for p in INTERNALS.values() for t in fixed)
