"""Data-quality tables and figures, on a hand-built market and a synthetic one."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from figure_data import GREEN, RED, small_market, y_values

import workbench as wb
from workbench import report
from workbench.report.figures import quality


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return small_market()


def test_quality_tables_on_a_hand_built_market(tiny):
    bars = tiny.bars.copy()
    # a gap: 600000.SH has no bar on 2024-01-04; a suspension: 000002.SZ on 01-03..01-04;
    # a limit-up close: 600000.SH on 2024-01-05
    bars = bars[~((bars["symbol"] == "600000.SH") & (bars["date"] == "2024-01-04"))]
    sus = (bars["symbol"] == "000002.SZ") & bars["date"].isin(pd.to_datetime(
        ["2024-01-03", "2024-01-04"]))
    bars.loc[sus, "suspended"] = True
    up = (bars["symbol"] == "600000.SH") & (bars["date"] == "2024-01-05")
    bars.loc[up, "limit_up"] = bars.loc[up, "close"]
    bars.loc[up, "limit_down"] = bars.loc[up, "close"] * 0.8
    m = wb.Market(bars=bars.reset_index(drop=True), securities=tiny.securities,
                  fundamentals=tiny.fundamentals, st_periods=tiny.st_periods,
                  benchmark=tiny.benchmark, meta=dict(tiny.meta))
    gaps = report.gaps(m)
    assert gaps.values.tolist() == [["600000.SH", pd.Timestamp("2024-01-04"),
                                     pd.Timestamp("2024-01-04"), 1]]
    sus_runs = report.suspensions(m)
    assert sus_runs[["symbol", "sessions"]].values.tolist() == [["000002.SZ", 2]]
    by_symbol = report.coverage_by_symbol(m)
    assert by_symbol.loc["600000.SH", ["listed", "bars", "gaps"]].tolist() == [5, 4, 1]
    assert by_symbol.loc["600000.SH", "coverage"] == pytest.approx(0.8)
    assert by_symbol.loc["000002.SZ", ["listed", "suspended", "st"]].tolist() == [4, 2, 3]
    assert by_symbol.loc["600000.SH", "limit_up"] == 1
    assert by_symbol.loc["600000.SH", "name"] == "浦发银行"
    by_date = report.coverage_by_date(m)
    assert by_date.loc["2024-01-08", "listed"] == 1  # 000002.SZ delisted that day
    assert by_date["gaps"].sum() == 1 and by_date["limit_up"].sum() == 1
    summary = report.quality_summary(m)
    assert summary["gap_sessions"] == 1 and summary["suspended_sessions"] == 2
    assert summary["coverage"] == pytest.approx(8 / 9)
    json.dumps(report.jsonable(summary), allow_nan=False)


def test_validation_findings_record_warnings_and_errors(tiny):
    assert report.validation_findings(tiny).empty
    bad = tiny.bars.copy()
    bad.loc[0, "high"] = bad.loc[0, "low"] - 1.0
    m = wb.Market(bars=bad, securities=tiny.securities, fundamentals=tiny.fundamentals,
                  st_periods=tiny.st_periods, benchmark=tiny.benchmark, meta=dict(tiny.meta))
    findings = report.validation_findings(m)
    assert findings["level"].tolist() == ["error"]
    assert "high below max(open, close)" in findings["message"].iloc[0]


def test_quality_figures(market):
    by_date = report.coverage_by_date(market)
    fig = report.coverage_figure(by_date, max_points=100)
    assert [t.name for t in fig.data] == ["listed", "bars", "suspended", "gaps"]
    assert all(len(t.y) == 100 for t in fig.data)
    limits = report.limit_days_figure(by_date, colors="cn")
    assert [t.marker.color for t in limits.data] == [RED, GREEN]
    months = len(by_date.resample("MS").size())
    assert len(limits.data[0].x) == months
    assert y_values(limits.data[0]).sum() == by_date["limit_up"].sum()
    assert len(report.suspensions_figure(by_date).data) == 2


def test_runs_of_a_mask():
    mask = pd.DataFrame({"A": [True, True, False, True], "B": [False, True, True, True]},
                        index=pd.date_range("2024-01-01", periods=4))
    out = quality.runs(mask)
    assert out[["symbol", "sessions"]].values.tolist() == [["B", 3], ["A", 2], ["A", 1]]
    assert out["end"].iloc[0] == pd.Timestamp("2024-01-04")
