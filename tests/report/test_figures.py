"""What every figure builder shares: a ``go.Figure`` never shown, refreshed in place for
dashboards, compact data (:func:`~workbench.report.thin`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from figure_data import ma_trend_result, refuse_show, risky_result, small_market

import workbench as wb
from workbench import report
from workbench.errors import ConfigError
from workbench.report.figures.common import thin


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return small_market()


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


@pytest.fixture(scope="module")
def risky() -> wb.BacktestResult:
    return risky_result()


def test_refresh_updates_a_figure_widget_in_place(result, market):
    widget = go.Figure(report.equity_figure(result))
    other = wb.run_backtest(market, wb.strategies.get("buy_and_hold"),
                            wb.BacktestConfig(start="2023-01-03"))
    same = report.refresh(widget, report.equity_figure(other))
    assert same is widget
    assert len(widget.data[0].x) == len(other.daily)
    assert widget.data[0].name == "buy_and_hold"


def test_no_builder_shows_a_figure(result, risky, market, monkeypatch):
    refuse_show(monkeypatch)
    figures = [
        report.equity_figure(result), report.drawdown_figure(result),
        report.monthly_returns_figure(result), report.rolling_figure(result),
        report.sector_exposure_figure(result), report.weights_figure(result),
        report.candlestick_figure(market, result), report.costs_figure(result),
        report.rejections_figure(risky), report.limit_usage_figure(risky),
        report.coverage_figure(report.coverage_by_date(market)),
    ]
    assert all(isinstance(f, go.Figure) and f.layout.template.layout.font.family
               for f in figures)


def test_thin_keeps_the_last_row_and_peaks():
    frame = pd.DataFrame({"x": np.arange(1000.0)}, index=pd.date_range("2020-01-01",
                                                                        periods=1000))
    out = thin(frame, 10)
    assert len(out) == 10 and out.index[-1] == frame.index[-1]
    spiky = frame.assign(x=0.0)
    spiky.iloc[500, 0] = 9.0
    assert thin(spiky, 10, how="max")["x"].max() == 9.0
    assert thin(spiky, 10)["x"].max() == 0.0  # sampling alone may miss it
    with pytest.raises(ConfigError):
        thin(frame, 1)
