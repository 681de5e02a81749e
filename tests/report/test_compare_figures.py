"""Comparisons of strategies, in and out of sample, and the backtest's headline metrics."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from figure_data import ma_trend_result, small_market, y_values

import workbench as wb
from workbench import report, research
from workbench.errors import ConfigError


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return small_market()


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


def test_comparison_figure_draws_each_strategy_the_baseline_and_the_benchmark(market):
    config = wb.BacktestConfig(start="2022-03-01")
    results = report.run_strategies(market, ["buy_and_hold", "ma_trend"], config)
    fig = report.comparison_figure(results, baseline="buy_and_hold")
    assert [t.name for t in fig.data] == ["buy_and_hold", "ma_trend", "benchmark"]
    assert fig.data[0].line.dash == "dash" and fig.data[2].line.dash == "dot"
    assert all(y_values(t)[0] == pytest.approx(1.0, abs=0.05) for t in fig.data)
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
    # fractions on a percentage axis, ratios on their own: never one axis for both
    assert [(t.name, t.xaxis) for t in fig.data] == [
        ("in sample", "x"), ("out of sample", "x"), ("in sample", "x2"), ("out of sample", "x2")]
    assert list(fig.data[0].x) == ["Annual return, CAGR", "Annual volatility", "Max drawdown"]
    assert list(fig.data[2].x) == ["Sharpe ratio"]
    assert fig.data[3].y[0] == pytest.approx(table.loc["out_of_sample", "sharpe_ratio"])
    assert fig.layout.yaxis.tickformat == ".0%" and fig.layout.yaxis2.tickformat == ".2f"
    assert [t.showlegend for t in fig.data] == [True, True, False, False]
    with pytest.raises(ConfigError, match="choose a date inside"):
        report.in_out_sample(result, "2030-01-01")
    search = report.out_of_sample_check(market, "ma_trend", {"fast": 5, "slow": 20},
                                        result.config, "2023-07-03")
    assert search.best_params == {"fast": 5, "slow": 20}
    assert len(report.in_out_sample_figure(search).data) == 4


def test_strategies_in_out_figure_from_evaluate_strategies(market):
    from workbench import evaluation

    config = wb.BacktestConfig(start="2022-03-01")
    table = evaluation.evaluate_strategies(market, ["buy_and_hold", "momentum"],
                                           split=report.evaluation_split(config, "2023-07-03"),
                                           config=config)
    fig = report.strategies_in_out_figure(table)
    assert [t.name for t in fig.data] == ["in sample", "out of sample"]
    assert list(fig.data[0].x) == ["buy_and_hold", "momentum"]


def test_backtest_metrics_are_json_ready(result):
    doc = report.backtest_metrics(result)
    assert doc["strategy"] == "ma_trend" and doc["params"]["fast"] == 5
    json.dumps(doc, allow_nan=False)


def test_the_strategy_stands_beside_the_equal_weight_baseline_and_the_benchmark(market, result):
    from workbench import research
    from workbench.report.figures.tables import format_value

    baseline = research.equal_weight_baseline(market, result.config)
    table = report.beside_baseline(result, baseline, market=market)
    assert list(table.columns) == ["ma_trend", "equal-weight buy and hold",
                                   "synthetic cap-weighted index (price index)"]
    assert list(table.index) == [report.label(k) for k in report.BESIDE_METRICS]
    assert table.loc["Sharpe ratio", "ma_trend"] == format_value(
        "sharpe_ratio", result.metrics()["sharpe_ratio"])
    assert table.loc["Total return (%)", "equal-weight buy and hold"] == format_value(
        "total_return", baseline.metrics()["total_return"])
    # the benchmark's own return over the same sessions, by hand from its closes
    close = result.daily["benchmark_close"]
    assert table.loc["Total return (%)", "synthetic cap-weighted index (price index)"] == (
        format_value("total_return", close.iloc[-1] / close.iloc[0] - 1))
    fig = report.equity_figure(result, baseline=baseline)
    assert [t.name for t in fig.data] == ["ma_trend", "equal-weight buy and hold", "benchmark"]
    emitted = report.backtest_metrics(result, baseline=baseline)
    assert emitted["baseline_sharpe_ratio"] == baseline.metrics()["sharpe_ratio"]
def test_trade_counts_agree_in_metrics_metrics_json_and_the_tables(market, tmp_path):
    # buy_and_hold on the synthetic market books corporate actions and delistings
    config = wb.BacktestConfig(start="2022-03-01")
    r = wb.run_backtest(market, wb.strategies.get("buy_and_hold"), config)
    settled = r.trades["reason"].astype(str).isin(["corporate_action", "delisted"])
    assert settled.any() and (~settled).any()
    trades, settlements = int((~settled).sum()), int(settled.sum())
    m = r.metrics()
    assert (m["n_trades"], m["n_settlements"]) == (trades, settlements)
    assert m["n_buys"] + m["n_sells"] == trades
    path = tmp_path / "metrics.json"
    report.emit_metrics(report.backtest_metrics(r), path)
    doc = json.loads(path.read_text())
    assert (doc["n_trades"], doc["n_settlements"]) == (trades, settlements)
    assert research.result_metrics(r)["n_trades"] == trades
    assert report.metrics_table({"buy_and_hold": r}).loc["buy_and_hold", "n_trades"] == trades
    parts = report.in_out_sample(r, "2023-07-03")
    assert parts["n_trades"].sum() == trades
    assert (r.summary()["trades"], r.summary()["settlements"]) == (trades, settlements)
    assert f"{trades} trades and {settlements} settlements" in report.conventions_note(m).text


def test_the_tables_annualise_by_the_market_calendar(result, market):
    m = result.metrics()
    ppy = m["periods_per_year"]
    assert ppy == 242.0  # XSHG 2022 and 2023: 242 sessions each
    assert "242.0 sessions a year" in m["annualisation"]
    assert research.result_metrics(result)["periods_per_year"] == ppy
    assert research.result_metrics(result)["sharpe_ratio"] == pytest.approx(m["sharpe_ratio"])
    assert research.result_metrics(result)["annual_return"] == pytest.approx(m["annual_return"])
    table = report.metrics_table({"ma_trend": result})
    assert table.loc["ma_trend", "sharpe_ratio"] == pytest.approx(m["sharpe_ratio"])
    assert table.loc["ma_trend", "annual_return"] == pytest.approx(m["annual_return"])
    # 252 on request: empyrical's convention, the CAGR counting sessions
    old = result.metrics(periods_per_year=252)
    assert old["sharpe_ratio"] == pytest.approx(m["sharpe_ratio"] * (252 / 242) ** 0.5)
    n = m["n_periods"]
    assert old["annual_return"] == pytest.approx((1 + m["total_return"]) ** (252 / n) - 1)
