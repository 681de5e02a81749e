"""The headline card: strategy | benchmark | equal-weight baseline, checked by hand."""

from __future__ import annotations

import dataclasses
import re

import nbformat
import numpy as np
import pandas as pd
import pytest
from figure_data import ma_trend_result, small_market

from workbench import report, research
from workbench.report import card as card_module
from workbench.report.runner import find_notebook


@pytest.fixture(scope="module")
def result():
    return ma_trend_result()


@pytest.fixture(scope="module")
def baseline(result):
    return research.equal_weight_baseline(small_market(), result.config)


@pytest.fixture(scope="module")
def data(result, baseline) -> pd.DataFrame:
    return report.headline_data(result, baseline)


def test_the_strategy_column_adds_up_from_the_run_itself(result, data):
    s = data["strategy"]
    equity = result.daily["equity_cny"]
    capital = result.config.capital_cny
    assert s["total_return"] == pytest.approx(equity.iloc[-1] / capital - 1)
    fills = result.trades
    fees = float((fills["commission"] + fills["stamp_duty"] + fills["transfer_fee"]).sum())
    assert s["costs_cny"] == pytest.approx(fees)
    assert s["costs_with_slippage_cny"] == pytest.approx(
        fees + float(result.daily["slippage_cny"].sum()))
    assert s["costs_with_slippage_cny"] > s["costs_cny"] > 0
    assert s["mean_invested_rate"] == pytest.approx(result.daily["invested_rate"].mean())
    # the drawdown's dates from the growth of 1 CNY: the trough, and the high before it
    wealth = equity / capital
    trough = (wealth / wealth.cummax() - 1).idxmin()
    assert s["max_drawdown_trough"] == trough
    assert s["max_drawdown_peak"] == wealth.loc[:trough].idxmax()
    assert s["max_drawdown"] == pytest.approx(wealth[trough] / wealth.loc[:trough].max() - 1)


def test_the_benchmark_column_is_the_index_over_the_same_sessions(result, data):
    b = data["benchmark"]
    close = result.daily["benchmark_close"]
    assert b["total_return"] == pytest.approx(close.iloc[-1] / close.iloc[0] - 1)
    daily = close.pct_change().fillna(0.0)  # the first session counts, as for the strategy
    years_sessions = result.metrics()["periods_per_year"]
    assert b["annual_volatility"] == pytest.approx(daily.std(ddof=1) * np.sqrt(years_sessions),
                                                   rel=1e-3)
    assert b["beta"] == pytest.approx(1.0) and b["alpha"] == pytest.approx(0.0, abs=1e-12)
    for key in ("annual_turnover", "costs_cny", "costs_with_slippage_cny",
                "mean_invested_rate"):
        assert np.isnan(b[key]), key  # an index trades nothing and pays nothing


def test_the_baseline_column_is_the_baseline_run(baseline, data):
    m = baseline.metrics()
    for key in ("total_return", "annual_return", "sharpe_ratio", "alpha", "beta",
                "annual_turnover", "costs_cny"):
        assert data.loc[key, "baseline"] == pytest.approx(m[key]), key


def test_the_card_shows_formatted_figures_with_units(result, baseline, data):
    card = report.headline_card(result, baseline, market=small_market())
    frame = card.frame
    assert list(frame.columns) == ["Strategy", "Benchmark", "Equal-weight baseline"]
    s = data["strategy"]
    assert frame.loc["Sharpe ratio ± standard error", "Strategy"] == (
        f"{s['sharpe_ratio']:.2f} ± {s['sharpe_standard_error']:.2f}")
    assert frame.loc["Max drawdown, peak → trough", "Strategy"] == (
        f"{s['max_drawdown_peak']:%Y-%m-%d} → {s['max_drawdown_trough']:%Y-%m-%d}")
    assert frame.loc["Recovered from max drawdown on", "Strategy"] == "not yet"
    assert frame.loc["Costs incl. slippage (CNY)", "Strategy"] == (
        f"{s['costs_with_slippage_cny']:,.2f}")
    assert frame.loc["Turnover (×/yr)", "Benchmark"] == "–"
    assert frame.loc["Total return (%)", "Strategy"] == f"{s['total_return']:+.2%}"
    page = card.html()
    assert f'id="{card_module.CARD_ID}"' in page
    assert "nan" not in page.lower().replace("financ", "") and "00:00:00" not in page
    assert "synthetic cap-weighted index (price index)" in page
    assert card.title.startswith("ma_trend (fast=5, slow=20, max_names=5) · 2022-03-01 to ")
    assert "1 warning" in card.alert if result.warnings else card.alert == ""


def test_without_a_baseline_or_a_benchmark_the_columns_are_left_out(result):
    no_bench = dataclasses.replace(result, daily=result.daily.drop(columns="benchmark_close"))
    card = report.headline_card(no_bench)
    assert list(card.frame.columns) == ["Strategy"]
    assert "Benchmark" not in " ".join(card.notes)


def test_the_backtest_report_shows_the_card_first_then_its_contents():
    nb = nbformat.read(find_notebook("backtest_report"), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    shown = [c.source for c in code if "parameters" not in c.metadata.get("tags", [])]
    assert shown[1].startswith("report.headline_card(")
    assert not shown[0].rstrip().endswith("\nresult"), "the raw repr goes below the card"
    cells = list(nb.cells)
    at = next(i for i, c in enumerate(cells) if c.source.startswith("report.headline_card("))
    contents = cells[at + 1]
    assert contents.cell_type == "markdown" and contents.source.startswith("**Contents:**")
    # every section is linked, in order, by the id nbconvert and JupyterLab give it
    headings = [line[3:].strip() for c in cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("## ")]
    links = re.findall(r"\]\(#([^)]+)\)", contents.source)
    assert links == [h.replace(" ", "-") for h in headings]
