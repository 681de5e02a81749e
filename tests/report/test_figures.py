"""Figure builders, tables and the HTML page, on a small synthetic market and hand-built data.

Every builder returns a ``go.Figure``; the tests check what a reader relies on: the number
of traces, their lengths, the colours of the ``cn`` option, the controls that survive in
static HTML (log toggle, range selector, dropdown), and numbers against hand computations.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

import workbench as wb
from workbench import metrics, report
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, DataError, LookupFailed
from workbench.report import quality, theme
from workbench.report.figures.common import thin

RED, GREEN = theme.palette("cn").up, theme.palette("intl").up


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return synthetic_market(SyntheticConfig(n_stocks=15, start="2022-01-04", end="2023-12-29"))


@pytest.fixture(scope="module")
def result(market: wb.Market) -> wb.BacktestResult:
    strategy = wb.strategies.get("ma_trend", fast=5, slow=20, max_names=5)
    return wb.run_backtest(market, strategy, wb.BacktestConfig(start="2022-03-01"))


@pytest.fixture(scope="module")
def risky(market: wb.Market) -> wb.BacktestResult:
    limits = wb.RiskLimits(max_position_rate=0.2, max_sector_rate=0.25)
    strategy = wb.strategies.get("ma_trend", fast=5, slow=20, max_names=5)
    return wb.run_backtest(market, strategy, wb.BacktestConfig(start="2022-03-01", risk=limits))


def _y(trace: go.BaseTraceType) -> np.ndarray:
    return np.asarray(trace.y, dtype=float)


def _never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a figure builder called .show()")

    monkeypatch.setattr(go.Figure, "show", refuse)


# -- theme ------------------------------------------------------------------------------------
def test_template_is_registered_once_with_a_cjk_font_stack():
    assert theme.register() == theme.register() == "workbench"
    template = pio.templates["workbench"]
    family = template.layout.font.family
    for font in ("Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"):
        assert font in family
    assert not template.data.to_plotly_json()  # layout only: small in every figure


def test_palettes_swap_up_and_down_for_chinese_readers():
    intl, cn = theme.palette("intl"), theme.palette("cn")
    assert (intl.up, intl.down) == (cn.down, cn.up)
    assert cn.up == RED and intl.up == GREEN
    with pytest.raises(LookupFailed, match="did you mean 'intl'"):
        theme.palette("intel")


# -- performance ------------------------------------------------------------------------------
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
        strategy = fig.data[0]
        assert strategy.fill == "tozeroy" and strategy.line.color == down
        assert len(strategy.y) == len(result.daily)
        assert np.nanmax(_y(strategy)) <= 0.0
        np.testing.assert_allclose(_y(strategy), metrics.drawdown_series(result.returns),
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
    assert len(fig.data) == 2 and all(len(t.y) == 100 for t in fig.data)
    full = report.rolling_data(result, 20)
    kept = thin(full, 100)
    np.testing.assert_allclose(_y(fig.data[0]), kept["sharpe"], rtol=1e-5)
    np.testing.assert_allclose(_y(fig.data[1]), kept["volatility"], rtol=1e-5)
    np.testing.assert_allclose(full["volatility"], metrics.rolling_volatility(result.returns, 20))


# -- holdings ---------------------------------------------------------------------------------
def test_sector_exposure_stacks_held_sectors_and_cash_to_one(result):
    fig = report.sector_exposure_figure(result, max_points=None)
    held = (result.sector_exposure.abs().sum() > 0).sum()
    assert len(fig.data) == held + 1 and fig.data[-1].name == "cash"
    assert {t.stackgroup for t in fig.data} == {"exposure"}
    total = np.sum([_y(t) for t in fig.data], axis=0)
    invested = result.sector_exposure.sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, np.maximum(invested, 1.0), atol=1e-5)


def test_weights_keep_top_names_plus_other(result, market):
    names = report.security_names(market)
    data = report.weights_data(result, top=3)
    assert list(data.columns)[-1] == "other" and data.shape[1] == 4
    np.testing.assert_allclose(data.sum(axis=1), result.weights().sum(axis=1), atol=1e-12)
    fig = report.weights_figure(result, top=3, names=names, max_points=50)
    assert len(fig.data) == 4 and all(len(t.x) == 50 for t in fig.data)
    first = data.columns[0]
    assert fig.data[0].name == f"{first} {names[first]}"  # the Chinese name is in the legend
    with pytest.raises(ConfigError):
        report.weights_data(result, top=0)


def test_candlestick_has_a_bounded_dropdown_of_most_traded_symbols(result, market):
    symbols = report.most_traded(result, 3)
    assert len(symbols) == 3
    fig = report.candlestick_figure(market, result, top=3, sessions=None, colors="cn")
    per = 7  # candle, SMA 20, SMA 60, two bands, buys, sells
    assert len(fig.data) == 3 * per
    assert [t.visible for t in fig.data] == [True] * per + [False] * (2 * per)
    (menu,) = fig.layout.updatemenus
    assert [b.label.split()[0] for b in menu.buttons] == symbols
    for i, button in enumerate(menu.buttons):
        mask = button.args[0]["visible"]
        assert sum(mask) == per and mask[i * per] is True
    candle = fig.data[0]
    assert candle.type == "candlestick" and len(candle.x) == len(result.daily)
    assert candle.increasing.line.color == RED and candle.decreasing.line.color == GREEN
    buys, sells = fig.data[per - 2], fig.data[per - 1]
    assert buys.marker.color == RED and sells.marker.color == GREEN
    t = result.trades
    mine = t[(t["symbol"].astype(str) == symbols[0]) & (t["reason"] != "corporate_action")]
    assert len(buys.x) == int((mine["side"] == "buy").sum())
    assert len(sells.x) == int((mine["side"] == "sell").sum())
    short = report.candlestick_figure(market, result, symbols[:1], sessions=60)
    assert len(short.data) == per and len(short.data[0].x) == 60


def test_candlestick_refuses_too_many_symbols(result, market):
    with pytest.raises(ConfigError, match="at most"):
        report.candlestick_figure(market, result, list(market.symbols[:11]))
    with pytest.raises(LookupFailed):
        report.price_data(market, "999999.SH")


def test_price_indicators_follow_adjusted_prices_in_raw_units(market):
    symbol = str(market.symbols[0])
    data = report.price_data(market, symbol, sma_windows=(5,), bollinger_window=5)
    bars = market.bars[market.bars["symbol"] == symbol].set_index("date")
    adj = bars["close"] * bars["adj_factor"]
    expected = adj.rolling(5).mean() / bars["adj_factor"]
    np.testing.assert_allclose(data["sma_5"], expected, equal_nan=True)
    assert (data["bb_upper"].dropna() >= data["sma_5"].dropna() - 1e-9).all()


def test_costs_by_kind_sum_to_the_trade_log(result):
    table = report.cost_breakdown(result)
    assert list(table.columns) == list(report.COST_KINDS)
    np.testing.assert_allclose(table.sum(), result.trades[list(report.COST_KINDS)].sum())
    fig = report.costs_figure(result)
    assert [t.name for t in fig.data] == ["commission", "stamp duty", "transfer fee",
                                          "slippage"]
    assert fig.layout.barmode == "stack"
    assert sum(_y(t).sum() for t in fig.data) == pytest.approx(table.to_numpy().sum())


# -- risk -------------------------------------------------------------------------------------
def test_rejections_by_layer_count_every_rejected_order(risky):
    assert len(risky.rejections) > 0
    table = report.rejection_table(risky)
    assert table["orders"].sum() == len(risky.rejections)
    fig = report.rejections_figure(risky, colors="cn")
    assert len(fig.data) == table["reason"].nunique()
    assert sum(np.nansum(np.asarray(t.x, dtype=float)) for t in fig.data) == len(
        risky.rejections)
    assert str(len(risky.rejections)) in fig.layout.title.text.replace(",", "")


def test_rejection_table_orders_layers_as_the_checks_run():
    t = pd.DataFrame({"layer": ["sector", "position_size", "sector", "security"],
                      "reason": ["SECTOR", "POSITION_SIZE", "SECTOR", "ST_BLOCKED"],
                      "shares": [100, 200, 300, 400]})
    table = report.rejection_table(t)
    assert table.values.tolist() == [["security", "ST_BLOCKED", 1, 400],
                                     ["position_size", "POSITION_SIZE", 1, 200],
                                     ["sector", "SECTOR", 2, 400]]
    empty = report.rejections_figure(t.iloc[:0])
    assert not empty.data and "no order was rejected" in empty.layout.annotations[0].text
    with pytest.raises(DataError):
        report.rejection_table(pd.DataFrame({"x": [1]}))


def test_limit_usage_divides_by_each_limit(risky):
    limits = risky.config.risk
    usage = report.limit_usage(risky)
    assert list(usage.columns) == list(report.risk.USAGE_COLUMNS)
    day = risky.positions["date"].iloc[-1]
    largest = risky.positions.loc[risky.positions["date"] == day, "weight"].max()
    assert usage.loc[day, "position"] == pytest.approx(largest / limits.max_position_rate)
    fig = report.limit_usage_figure(risky, max_points=30)
    assert len(fig.data) == 5 and all(len(t.y) == 30 for t in fig.data)
    # thinned by the largest value of each run of sessions: no peak is lost
    assert np.max(_y(fig.data[0])) == pytest.approx(usage["position"].max(), rel=1e-6)
    m = report.risk_metrics(risky)
    assert m["rejections"] == len(risky.rejections)
    assert m["peak_position_usage"] == pytest.approx(usage["position"].max())


# -- comparisons ------------------------------------------------------------------------------
def test_comparison_figure_draws_each_strategy_the_baseline_and_the_benchmark(market):
    config = wb.BacktestConfig(start="2022-03-01")
    results = report.run_strategies(market, ["buy_and_hold", "ma_trend"], config)
    fig = report.comparison_figure(results, baseline="buy_and_hold")
    assert [t.name for t in fig.data] == ["buy_and_hold", "ma_trend", "benchmark"]
    assert fig.data[0].line.dash == "dash" and fig.data[2].line.dash == "dot"
    assert all(_y(t)[0] == pytest.approx(1.0, abs=0.05) for t in fig.data)
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Linear", "Log"]
    table = report.metrics_table(results)
    assert list(table.index) == ["buy_and_hold", "ma_trend", "benchmark"]
    assert table.loc["ma_trend", "total_return"] == pytest.approx(
        results["ma_trend"].metrics()["total_return"])
    shown = report.metrics_table_figure(table)
    assert shown.data[0].type == "table" and len(shown.data[0].cells.values[0]) == 3
    scatter = report.risk_return_figure(table)
    assert len(scatter.data[0].x) == 3
    headline = report.comparison_metrics(table)
    assert headline["strategies"] == 2 and headline["best_strategy"] in results
    json.dumps(report.jsonable(headline), allow_nan=False)


def test_in_and_out_of_sample_split_the_period(result, market):
    table = report.in_out_sample(result, "2023-07-03")
    assert list(table.index) == ["in_sample", "out_of_sample"]
    assert table.loc["out_of_sample", "start"] == pd.Timestamp("2023-07-03")
    total = (1 + table["total_return"]).prod() - 1
    assert total == pytest.approx(result.metrics()["total_return"])
    fig = report.in_out_sample_figure(table)
    assert [t.name for t in fig.data] == ["in sample", "out of sample"]
    with pytest.raises(ConfigError, match="choose a date inside"):
        report.in_out_sample(result, "2030-01-01")
    search = report.out_of_sample_check(market, "ma_trend", {"fast": 5, "slow": 20},
                                        result.config, "2023-07-03")
    assert search.best_params == {"fast": 5, "slow": 20}
    assert len(report.in_out_sample_figure(search).data) == 2


def test_strategies_in_out_figure_from_evaluate_strategies(market):
    from workbench import evaluation

    config = wb.BacktestConfig(start="2022-03-01")
    table = evaluation.evaluate_strategies(market, ["buy_and_hold", "momentum"],
                                           split=report.evaluation_split(config, "2023-07-03"),
                                           config=config)
    fig = report.strategies_in_out_figure(table)
    assert [t.name for t in fig.data] == ["in sample", "out of sample"]
    assert list(fig.data[0].x) == ["buy_and_hold", "momentum"]


# -- dashboards -------------------------------------------------------------------------------
def test_refresh_updates_a_figure_widget_in_place(result, market):
    widget = go.Figure(report.equity_figure(result))
    other = wb.run_backtest(market, wb.strategies.get("buy_and_hold"),
                            wb.BacktestConfig(start="2023-01-03"))
    same = report.refresh(widget, report.equity_figure(other))
    assert same is widget
    assert len(widget.data[0].x) == len(other.daily)
    assert widget.data[0].name == "buy_and_hold"


def test_no_builder_shows_a_figure(result, risky, market, monkeypatch):
    _never_shown(monkeypatch)
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


# -- tables and metrics -----------------------------------------------------------------------
def test_trade_table_shows_both_ends_of_the_log(result, market):
    names = report.security_names(market)
    table = report.trade_table(result, 3, names=names)
    n = len(result.trades)
    assert list(table.index) == [1, 2, 3, n - 2, n - 1, n]
    assert table["name"].iloc[0] == names[table["symbol"].iloc[0]]


def test_unfilled_table_counts_reasons_with_meanings(result):
    table = report.unfilled_table(result)
    counts = result.unfilled["reason"].astype(str).value_counts()
    assert table["orders"].to_dict() == {k: v for k, v in counts.items() if v}
    assert (table["buys"] + table["sells"] == table["orders"]).all()
    assert all(table["meaning"])


def test_emit_metrics_writes_strict_json(tmp_path):
    path = tmp_path / "m" / "metrics.json"
    doc = report.emit_metrics({"sharpe_ratio": np.float64("nan"), "start": pd.Timestamp(
        "2024-01-02"), "n": np.int64(3), "nested": {"x": [1.5, float("inf")]}}, path)
    assert doc == {"sharpe_ratio": None, "start": "2024-01-02", "n": 3,
                   "nested": {"x": [1.5, None]}}
    assert json.loads(path.read_text()) == doc
    assert report.read_metrics(path) == doc
    assert report.emit_metrics({"a": 1}) == {"a": 1}  # no path: nothing written
    with pytest.raises(DataError):
        report.emit_metrics([1, 2])  # type: ignore[arg-type]


def test_backtest_metrics_are_json_ready(result):
    doc = report.backtest_metrics(result)
    assert doc["strategy"] == "ma_trend" and doc["params"]["fast"] == 5
    json.dumps(doc, allow_nan=False)


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


# -- data quality -----------------------------------------------------------------------------
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
    assert _y(limits.data[0]).sum() == by_date["limit_up"].sum()
    assert len(report.suspensions_figure(by_date).data) == 2


def test_runs_of_a_mask():
    mask = pd.DataFrame({"A": [True, True, False, True], "B": [False, True, True, True]},
                        index=pd.date_range("2024-01-01", periods=4))
    out = quality.runs(mask)
    assert out[["symbol", "sessions"]].values.tolist() == [["B", 3], ["A", 2], ["A", 1]]
    assert out["end"].iloc[0] == pd.Timestamp("2024-01-04")


# -- the HTML page ----------------------------------------------------------------------------
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
