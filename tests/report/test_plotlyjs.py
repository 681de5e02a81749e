"""``--plotlyjs inline|shared``: inline pages carry plotly.js and load nothing; shared pages
load ``../plotly.min.js``, written once per reports folder beside ``index.html``, and draw
in a real browser opened where a reader opens them, through the report folder's symlink
(``OUT/NAME -> .versions/NAME/v-*``), and through the version's real path too.

The batches run the tiny notebook of ``test_runner`` on the real kernel (a few seconds each).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from test_browser import console_errors, open_offline, page_errors
from test_html import _notebook_with
from test_runner import tiny_notebook
from test_schedule import fake_kernel, jobs_file  # noqa: F401

from workbench import cli
from workbench.cli import main
from workbench.errors import ConfigError
from workbench.report import html as report_html
from workbench.report import schedule
from workbench.report.html import PLOTLY_FILE, PLOTLYJS_MODES, notebook_html, plotly_js

SHARED_TAG = '<script src="../plotly.min.js"></script>'
LOADS = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)")


def tiny_jobs(folder: Path, top: str = "") -> Path:
    tiny_notebook(folder)
    jobs = folder / "jobs.toml"
    jobs.write_text(f'{top}\n[[jobs]]\nname = "one"\nnotebook = "tiny.ipynb"\n')
    return jobs


def rendered(dom: str) -> tuple[int, int]:
    done = re.search(r'data-plots-rendered="(\d+)"', dom)
    expected = re.search(r'data-plots-expected="(\d+)"', dom)
    assert done and expected, "the figures never finished drawing"
    return int(done.group(1)), int(expected.group(1))


def test_shared_pages_load_one_copy_and_draw_through_the_report_symlink(browser,
                                                                        tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    jobs = tiny_jobs(out, 'plotlyjs = "shared"')  # the jobs file's key ...
    assert [o.ok for o in schedule.run_schedule(jobs, echo=lambda line: None)] == [True]
    # ... and the report command's option, into the same reports folder
    assert main(["report", str(out / "tiny.ipynb"), "--out", str(out / "two"),
                 "--plotlyjs", "shared"]) == 0
    pages = [out / "one" / "one.html", out / "two" / "tiny.html"]
    for page in pages:
        text = page.read_text()
        assert text.count(SHARED_TAG) == 1 and LOADS.findall(text) == ["../plotly.min.js"]
        assert "plotly.js v" not in text and page.stat().st_size < 200_000
    copies = [p for p in tmp_path.rglob("*") if "plotly" in p.name and p.suffix == ".js"]
    assert copies == [out / PLOTLY_FILE]  # once, beside index.html, not in the versions
    assert (out / PLOTLY_FILE).read_text() == plotly_js()
    assert (out / "index.html").is_file()
    assert (out / "one").is_symlink()  # reports/NAME is a symlink to its version

    # opened through the symlink, as a reader opens it: ../ is the reports folder
    dom, log = open_offline(browser, pages[0], tmp_path / "profile")
    assert page_errors(dom) == "" and console_errors(log) == []
    assert rendered(dom) == (1, 1)
    # opened through the version's real path (.versions/NAME/v-*/): found three levels up
    real = pages[0].resolve()
    assert real.parent.parent.parent.parent == out.resolve()
    dom, _ = open_offline(browser, real, tmp_path / "profile")
    assert page_errors(dom) == "" and rendered(dom) == (1, 1)
    # without the shared copy the page says what is missing and how to fix it
    (out / PLOTLY_FILE).rename(tmp_path / PLOTLY_FILE)
    dom, _ = open_offline(browser, pages[0], tmp_path / "profile")
    assert "plotly.js not found" in page_errors(dom) and "--plotlyjs inline" in page_errors(dom)
    assert rendered(dom) == (0, 1)


def test_inline_pages_are_self_contained_and_the_option_overrides_the_file(tmp_path):
    jobs = tiny_jobs(tmp_path, 'plotlyjs = "shared"')
    assert main(["schedule", str(jobs), "--plotlyjs", "inline"]) == 0
    text = (tmp_path / "one" / "one.html").read_text()
    assert text.count("plotly.js v") == 1 and LOADS.findall(text) == []
    # the error log, plotly.js, the figure's JSON and the drawing: nothing else
    assert SHARED_TAG not in text and text.count("<script") == 4
    assert not list(tmp_path.rglob(PLOTLY_FILE))
    assert (tmp_path / "one" / "one.html").stat().st_size > 3_000_000


def test_the_modes_of_the_page_builder(tmp_path):
    nb = _notebook_with([])
    nb["cells"][2]["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {
        report_html.PLOTLY_MIME: {"data": [{"type": "scatter", "y": [1, 2]}], "layout": {}}}}]
    inline, shared = (notebook_html(nb, plotlyjs=m) for m in PLOTLYJS_MODES)
    assert "plotly.js v" in inline and SHARED_TAG not in inline
    assert SHARED_TAG in shared and "plotly.js v" not in shared
    assert '["../plotly.min.js","../../../plotly.min.js"]' in shared  # where else to look
    assert len(shared) < len(inline) - 3_000_000
    # a page without figures loads nothing, whatever the mode
    text_only = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Only"}]}
    assert "plotly" not in notebook_html(text_only, plotlyjs="shared").lower()
    with pytest.raises(ConfigError, match="plotlyjs must be one of inline, shared, got 'cdn'"):
        notebook_html(nb, plotlyjs="cdn")
    # write_notebook_html puts the shared copy where the page looks: one folder up
    page = tmp_path / "reports" / "r" / "r.html"
    report_html.write_notebook_html(nb, page, plotlyjs="shared")
    copy = tmp_path / "reports" / PLOTLY_FILE
    assert copy.read_text() == plotly_js() and SHARED_TAG in page.read_text()


def test_the_shared_copy_is_written_only_when_it_changes(tmp_path, monkeypatch):
    first = report_html.write_plotly_js(tmp_path)
    stamp = first.stat().st_ino, first.stat().st_mtime_ns
    assert report_html.write_plotly_js(tmp_path) == first
    assert (first.stat().st_ino, first.stat().st_mtime_ns) == stamp  # left alone
    monkeypatch.setattr(report_html, "plotly_js", lambda: "/* plotly.js v9 */")
    report_html.write_plotly_js(tmp_path)  # plotly upgraded: replaced
    assert first.read_text() == "/* plotly.js v9 */"


def test_the_option_and_the_jobs_key_are_checked(tmp_path, capsys):
    parser = cli.build_parser()
    for command in (["report", "nb"], ["schedule", "jobs.toml"], ["report-all"]):
        for mode in PLOTLYJS_MODES:
            assert parser.parse_args([*command, "--plotlyjs", mode]).plotlyjs == mode
        assert parser.parse_args(command).plotlyjs is None  # the default: inline, or the file's
        with pytest.raises(SystemExit) as exc:
            parser.parse_args([*command, "--plotlyjs", "cdn"])
        assert exc.value.code == 2
        assert "invalid choice: 'cdn' (choose from" in capsys.readouterr().err
        with pytest.raises(SystemExit):
            parser.parse_args([command[0], "--help"])
        assert "--plotlyjs {inline,shared}" in capsys.readouterr().out
    jobs = tiny_jobs(tmp_path, 'plotlyjs = "cdn"')
    with pytest.raises(ConfigError, match=r"jobs.toml: plotlyjs must be one of inline, shared"):
        schedule.load_jobs(jobs)
    assert schedule.load_jobs(tiny_jobs(tmp_path)).plotlyjs == "inline"


def test_a_killed_write_of_the_shared_copy_is_cleaned_when_old(tmp_path, fake_kernel):  # noqa: F811
    jobs = jobs_file(tmp_path, {"r": 'notebook = "tiny.ipynb"'})
    old, fresh = tmp_path / ".plotly.min.js.ab12cd34", tmp_path / ".plotly.min.js.ef56gh78"
    for path in (old, fresh):
        path.write_text("half a plotly.js")
    hour_ago = time.time() - 3600
    os.utime(old, (hour_ago, hour_ago))
    lines: list[str] = []
    schedule.run_schedule(jobs, echo=lines.append)
    assert not old.exists() and fresh.exists()  # a live `report` run may be writing it
    assert lines[0] == "removed 1 temporary files and folders that killed runs left"
