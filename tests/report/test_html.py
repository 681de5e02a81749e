"""The self-contained HTML page of an executed notebook."""

from __future__ import annotations

import json
import re

import plotly.graph_objects as go
import pytest
from figure_data import ma_trend_result

import workbench as wb
from workbench import report


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


def _notebook_with(figures: list[go.Figure]) -> dict:
    outputs = [{"output_type": "display_data", "metadata": {},
                "data": {report.PLOTLY_MIME: json.loads(f.to_json()), "text/plain": "fig"}}
               for f in figures]
    return {"metadata": {"papermill": {"parameters": {"strategy": "ma_trend"}}},
            "cells": [
                {"cell_type": "markdown", "metadata": {}, "source": "# A title\n\nSome *text*."},
                {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": "x = 1",
                 "outputs": []},
                {"cell_type": "code", "metadata": {}, "source": "figs", "outputs": outputs},
                {"cell_type": "code", "metadata": {}, "source": "t", "outputs": [
                    {"output_type": "execute_result", "metadata": {}, "execution_count": 1,
                     "data": {"text/html": "<table class=\"dataframe\"><tr><td>1</td></tr>"
                                           "</table>", "text/plain": "t"}},
                    {"output_type": "stream", "name": "stderr", "text": "a <warning>\n"}]},
            ]}


def test_page_is_self_contained_with_plotly_js_once(result):
    title = report.equity_figure(result)
    title.update_layout(title_text="</script><script>alert(1)</script>")  # must not escape
    page = report.notebook_html(_notebook_with([title, report.drawdown_figure(result)]))
    assert page.count("plotly.js v") == 1
    assert page.count('class="wb-plot"') == 2
    assert "</script><script>alert(1)" not in page
    assert "<\\/script><script>alert(1)<\\/script>" in page
    tags = re.findall(r"<(script|link|img|iframe)\b[^>]*>", page)
    refs = re.findall(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*[\"']?([^\"' >]+)",
                      page)
    assert tags and not refs  # nothing is loaded from anywhere
    assert "mathjax" not in " ".join(re.findall(r"<script[^>]*>", page)).lower()
    assert "<h1>A title</h1>" in page and "<em>text</em>" in page
    assert "&lt;warning&gt;" in page and '<table class="dataframe">' in page
    assert "strategy" in page and "x = 1" not in page  # parameters shown, code hidden


def test_page_without_figures_has_no_plotly_js():
    page = report.notebook_html({"cells": [{"cell_type": "markdown", "metadata": {},
                                            "source": "# Only text"}]})
    assert "plotly.js v" not in page and "<title>Only text</title>" in page
