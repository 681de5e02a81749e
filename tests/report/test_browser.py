"""A real browser opens a generated report from disk with the network off: every Plotly
figure must render and the page must log no JavaScript error.

Headless Chromium loads the page through ``file://`` with every connection refused
(``--proxy-server=127.0.0.1:9``, ``--host-resolver-rules``), so anything fetched from a CDN
would fail. ``--dump-dom`` prints the page after ``--virtual-time-budget`` of simulated
time; the page's own script (``workbench.report.html``) writes the number of drawn figures
into ``<body data-plots-rendered>`` and any error into ``<pre id="wb-js-errors">``, and
Chromium's console log goes to stderr (``--enable-logging=stderr``).

Under CI (``CI=true``) a missing browser fails the test (``.ci/run`` installs Debian's
``chromium``); elsewhere the test is skipped with how to install one.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from workbench.report import runner, schedule

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    for name in BROWSERS:
        if path := shutil.which(name):
            return path
    return None


@pytest.fixture(scope="module")
def browser() -> str:
    exe = find_browser()
    if exe is None:
        message = (f"no headless browser on PATH (looked for {', '.join(BROWSERS)}); install "
                   "one to run this test, e.g. `sudo apt-get install chromium` on Debian or "
                   "Ubuntu, or Google Chrome elsewhere")
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; .ci/run installs Debian's chromium before make test")
        pytest.skip(message)
    return exe


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory) -> runner.ReportRun:
    out = tmp_path_factory.mktemp("reports")
    return runner.run_report("backtest_report", {"start": "2023-01-03", "end": "2024-12-31",
                                                 "split": "2024-07-01", "colors": "cn"},
                             out / "backtest", name="backtest")


def open_offline(browser: str, page: Path, profile: Path) -> tuple[str, str]:
    """Load ``page`` in headless Chromium with no network; return (DOM, console log).

    The page is opened where it is given, as a reader opens it: through a report folder's
    symlink (``OUT/NAME``) when the path has one, not through the version it points to.
    """
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--proxy-server=127.0.0.1:9",
           "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=30000", "--dump-dom",
           Path(os.path.abspath(page)).as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout, done.stderr


def console_errors(log: str) -> list[str]:
    return [line for line in log.splitlines() if "CONSOLE" in line
            and re.search(r"Uncaught|Error|error", line)]


def page_errors(dom: str) -> str:
    m = re.search(r'<pre id="wb-js-errors">(.*?)</pre>', dom, re.S)
    assert m, "the page's error log is missing"
    return html.unescape(m.group(1)).strip()


def test_every_figure_renders_offline_without_javascript_errors(browser, report_run,
                                                                tmp_path):
    executed = nbformat.read(report_run.ipynb, as_version=4)
    figures = sum(1 for c in executed.cells if c.cell_type == "code" for o in c.outputs
                  if "application/vnd.plotly.v1+json" in o.get("data", {}))
    assert figures >= 9
    dom, log = open_offline(browser, report_run.html, tmp_path / "profile")
    assert page_errors(dom) == ""
    assert console_errors(log) == []
    rendered = re.search(r'data-plots-rendered="(\d+)"', dom)
    assert rendered, "the figures never finished drawing"
    assert int(rendered.group(1)) == figures
    # and independently of the page's own count: every figure's div holds Plotly's SVG
    chunks = re.split(r'<div class="wb-plot[^"]*" id="wb-fig-\d+"', dom)[1:]
    assert len(chunks) == figures
    assert all("main-svg" in chunk.split('class="wb-plot', 1)[0] for chunk in chunks)


def test_the_index_page_opens_cleanly(browser, report_run, tmp_path):
    index = schedule.build_index(report_run.out_dir.parent)
    dom, log = open_offline(browser, index, tmp_path / "profile")
    assert page_errors(dom) == "" and console_errors(log) == []
    assert 'href="backtest/backtest.html"' in dom


def test_the_check_sees_a_page_that_cannot_draw(browser, report_run, tmp_path, monkeypatch):
    """Without plotly.js (as if it were left on a CDN) the same checks fail."""
    from workbench.report import html as report_html

    monkeypatch.setattr(report_html, "plotly_js", lambda: "/* left out */")
    broken = tmp_path / "broken.html"
    broken.write_text(report_html.notebook_html(nbformat.read(report_run.ipynb, as_version=4)))
    dom, _ = open_offline(browser, broken, tmp_path / "profile")
    assert "Plotly is not defined" in page_errors(dom)
    assert re.search(r'data-plots-rendered="0"', dom)
