"""Performance figures: equity, drawdown, monthly returns, rolling risk; numbers
against hand computations and :mod:`workbench.metrics`."""

from __future__ import annotations

import numpy as np
import pytest
from figure_data import GREEN, RED, ma_trend_result, y_values

import workbench as wb
from workbench import metrics, report
from workbench.report.figures import theme
from workbench.report.figures.common import thin


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


def test_equity_figure_has_strategy_benchmark_and_a_log_toggle(result):
    fig = report.equity_figure(result)
    n = len(result.daily)
    assert [t.name for t in fig.data] == ["ma_trend", "benchmark"]
    assert all(len(t.x) == len(t.y) == n for t in fig.data)
    assert fig.layout.template.layout.font.family == theme.FONT_FAMILY
    (menu,) = fig.layout.updatemenus
    args = {b.label: b.args[0] for b in menu.buttons}
    assert args == {"Linear": {"yaxis.type": "linear"}, "Log": {"yaxis.type": "log"}}
    assert fig.layout.yaxis.type == "linear" and menu.active == 0
    assert [b.label for b in fig.layout.xaxis.rangeselector.buttons][-1] == "All"
    log = report.equity_figure(result, log=True)
    assert log.layout.yaxis.type == "log" and log.layout.updatemenus[0].active == 1


def test_a_market_without_benchmark_draws_the_strategy_alone(result):
    from dataclasses import replace

    bare = replace(result, daily=result.daily.assign(benchmark_close=np.nan))
    assert report.benchmark_close(bare) is None
    assert [t.name for t in report.equity_figure(bare).data] == ["ma_trend"]
    assert len(report.drawdown_figure(bare).data) == 1
    assert "benchmark" not in report.metrics_table({"ma_trend": bare}).index


def test_equity_data_rebases_the_benchmark_to_the_capital(result):
    data = report.equity_data(result)
    assert data["benchmark"].iloc[0] == pytest.approx(result.config.capital_cny)
    close = result.daily["benchmark_close"]
    ratio = data["benchmark"].iloc[-1] / data["benchmark"].iloc[0]
    assert ratio == pytest.approx(close.iloc[-1] / close.iloc[0])
    explicit = report.equity_data(result, benchmark=close * 2.0)  # scale does not matter
    np.testing.assert_allclose(explicit["benchmark"], data["benchmark"])


def test_drawdown_figure_is_underwater_in_the_down_colour(result):
    for colors, down in (("intl", theme.palette("intl").down), ("cn", GREEN)):
        fig = report.drawdown_figure(result, colors=colors)
        # said in the title, not in a rotated y-axis title that a narrow margin clips
        assert "below the running peak" in fig.layout.title.text
        assert not fig.layout.yaxis.title.text and fig.layout.yaxis.tickformat == ".0%"
        strategy = fig.data[0]
        assert strategy.fill == "tozeroy" and strategy.line.color == down
        assert len(strategy.y) == len(result.daily)
        assert np.nanmax(y_values(strategy)) <= 0.0
        np.testing.assert_allclose(y_values(strategy), metrics.drawdown_series(result.returns),
                                   atol=1e-6)


def test_monthly_returns_compound_daily_returns_years_by_months(result):
    table = report.monthly_returns(result)
    assert list(table.columns) == list(range(1, 13))
    assert list(table.index) == [2022, 2023]
    r = result.returns
    june = r[(r.index.year == 2023) & (r.index.month == 6)]
    assert table.loc[2023, 6] == pytest.approx(float(np.prod(1.0 + june) - 1.0))
    assert np.isnan(table.loc[2022, 1])  # before the backtest
    fig = report.monthly_returns_figure(result, colors="cn")
    (heat,) = fig.data
    assert np.asarray(heat.z).shape == (2, 12)
    assert heat.colorscale[-1][1] == RED and heat.colorscale[0][1] == GREEN  # cn: gains red
    assert report.monthly_returns_figure(result).data[0].colorscale[-1][1] == GREEN


def test_rolling_figure_thins_smooth_series(result):
    fig = report.rolling_figure(result, window=20, max_points=100)
    assert len(fig.data) == 4 and all(len(t.y) == 100 for t in fig.data)
    full = report.rolling_data(result, 20)
    kept = thin(full, 100)
    np.testing.assert_allclose(y_values(fig.data[0]), kept["sharpe"], rtol=1e-5)
    np.testing.assert_allclose(y_values(fig.data[1]), kept["volatility"], rtol=1e-5)
    # the benchmark's beside them, dotted grey, on the same panels
    np.testing.assert_allclose(y_values(fig.data[2]), kept["benchmark_sharpe"], rtol=1e-5)
    np.testing.assert_allclose(y_values(fig.data[3]), kept["benchmark_volatility"], rtol=1e-5)
    assert [t.name for t in fig.data] == ["ma_trend", "ma_trend", "benchmark", "benchmark"]
    assert [t.yaxis for t in fig.data] == ["y", "y2", "y", "y2"]
    assert fig.data[2].line.color == theme.palette("intl").benchmark
    # annualised by the XSHG calendar, as the headline metrics: 2022-2023 have 242 sessions
    np.testing.assert_allclose(full["volatility"], metrics.rolling_volatility(
        result.returns, 20, periods_per_year=242))
    np.testing.assert_allclose(full["sharpe"], metrics.rolling_sharpe(
        result.returns, 20, periods_per_year=242))
    bench = result.benchmark_returns
    np.testing.assert_allclose(full["benchmark_sharpe"], metrics.rolling_sharpe(
        bench, 20, periods_per_year=242))
    np.testing.assert_allclose(full["benchmark_volatility"], metrics.rolling_volatility(
        bench, 20, periods_per_year=242))
