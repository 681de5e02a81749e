"""The tearsheet's figures and tables: worst drawdowns, year by year, to date, return
distributions and tails, rolling beta, active return, turnover, stress episodes, the split
marker and :func:`workbench.report.tearsheet_sections`.

Numbers are checked against independent computations from the result's equity and the
benchmark's closes (ratios of levels, not the package's return functions) or by hand;
figures by their traces and shapes, not pixels.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import SHARED_REAL
from figure_data import ma_trend_result, risky_result, small_market, y_values
from plotly.subplots import make_subplots

import workbench as wb
from workbench import metrics, report
from workbench.calendar import is_session, sessions, sessions_per_year
from workbench.errors import ConfigError
from workbench.report.figures import common, drawdowns, stress, theme
from workbench.report.figures.common import thin

SPLIT = "2023-01-03"


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


def no_benchmark(result: wb.BacktestResult) -> wb.BacktestResult:
    return replace(result, daily=result.daily.assign(benchmark_close=np.nan))


def split_shapes(fig: go.Figure) -> list:
    return [s for s in fig.layout.shapes if s.name == "split"]


def equity_ratio(result: wb.BacktestResult, start: pd.Timestamp | None,
                 end: pd.Timestamp) -> float:
    """Equity at ``end`` over equity at the close before ``start`` (capital if none)."""
    eq = result.daily["equity_cny"]
    before = eq.loc[eq.index < start] if start is not None else eq.iloc[:0]
    base = before.iloc[-1] if len(before) else result.config.capital_cny
    return float(eq.loc[end] / base)


def close_ratio(result: wb.BacktestResult, start: pd.Timestamp | None,
                end: pd.Timestamp) -> float:
    """The benchmark's close at ``end`` over its close before ``start`` (the first if none)."""
    close = result.daily["benchmark_close"]
    before = close.loc[close.index < start] if start is not None else close.iloc[:0]
    base = before.iloc[-1] if len(before) else close.iloc[0]
    return float(close.loc[end] / base)


# --------------------------------------------------------------------------- split marker


def test_the_split_marker_is_a_dashed_line_on_every_panel():
    dates = pd.bdate_range("2024-01-01", periods=10)
    fig = common.mark_split(common.new_figure("one"), "2024-01-05", dates)
    (line,) = split_shapes(fig)
    assert (line.x0, line.x1, line.xref, line.yref) == ("2024-01-05", "2024-01-05", "x",
                                                         "y domain")
    assert (line.y0, line.y1, line.line.dash) == (0, 1, "dash")
    assert fig.layout.annotations[0].text == common.SPLIT_TEXT
    panels = make_subplots(rows=3, cols=1, shared_xaxes=True)
    common.mark_split(panels, pd.Timestamp("2024-01-05"), dates)
    assert [(s.xref, s.yref) for s in split_shapes(panels)] == [
        ("x", "y domain"), ("x2", "y2 domain"), ("x3", "y3 domain")]
    assert len(panels.layout.annotations) == 1  # labelled once


def test_no_marker_outside_the_chart_or_without_a_split():
    dates = pd.bdate_range("2024-01-01", periods=10)
    for split in (None, "2023-06-01", "2024-01-01", "2024-02-01"):
        assert not common.mark_split(go.Figure(), split, dates).layout.shapes
    assert split_shapes(common.mark_split(go.Figure(), "2024-01-12", dates))  # the last day
    with pytest.raises(ConfigError, match="split must be a date"):
        common.mark_split(go.Figure(), "soon", dates)


def time_charts(result: wb.BacktestResult) -> dict[str, go.Figure]:
    return {
        "equity": report.equity_figure(result, split=SPLIT),
        "drawdown": report.drawdown_figure(result, split=SPLIT),
        "rolling": report.rolling_figure(result, 20, split=SPLIT),
        "exposure": report.exposure_figure(result, split=SPLIT),
        "turnover": report.turnover_figure(result, split=SPLIT),
        "rolling beta": report.rolling_beta_figure(result, 20, split=SPLIT),
        "active": report.active_figure(result, split=SPLIT),
        "sectors": report.sector_exposure_figure(result, split=SPLIT),
        "weights": report.weights_figure(result, split=SPLIT),
        "limit usage": report.limit_usage_figure(risky_result(), split=SPLIT),
        "comparison": report.comparison_figure({"a": result}, split=SPLIT),
        "candlestick": report.candlestick_figure(small_market(), result, split=SPLIT),
    }


def test_every_time_chart_marks_the_split(result):
    for name, fig in time_charts(result).items():
        shapes = split_shapes(fig)
        assert shapes, f"{name} has no split marker"
        assert {s.x0 for s in shapes} == {SPLIT}, name
        axes = {k for k in fig.layout.to_plotly_json() if k.startswith("xaxis")}
        assert len(shapes) == max(1, len(axes)), f"{name}: one line per panel"
    # and none without a split
    assert not split_shapes(report.drawdown_figure(result))


# --------------------------------------------------------------------------- drawdowns


def test_worst_drawdowns_by_hand():
    # wealth: 0.9 (below the starting 1), 1.08 (recovered, a new peak), 0.972, 0.7776,
    # 1.1664 (recovered), 1.05 (not recovered)
    r = pd.Series([-0.10, 0.20, -0.10, -0.20, 0.50, -0.10],
                  index=pd.bdate_range("2024-01-01", periods=6))
    periods = report.drawdown_periods(r)
    assert periods["drawdown"].tolist() == pytest.approx([0.7776 / 1.08 - 1, -0.10, -0.10])
    first = periods.loc[1]  # peak 01-02 (1.08), trough 01-04, recovered 01-05
    assert (first["peak"], first["trough"], first["recovery"]) == (
        pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-04"), pd.Timestamp("2024-01-05"))
    assert (first["decline_sessions"], first["length_sessions"]) == (2, 3)
    # the first episode peaks at the starting capital: no date, counted from before 01-01
    opening = periods.loc[periods["trough"] == pd.Timestamp("2024-01-01")].iloc[0]
    assert pd.isna(opening["peak"])
    assert (opening["decline_sessions"], opening["length_sessions"]) == (1, 2)
    last = periods.loc[periods["trough"] == pd.Timestamp("2024-01-08")].iloc[0]
    assert pd.isna(last["recovery"]) and not last["recovered"]
    assert last["length_sessions"] == 1  # from the peak 01-05 to the last session
    table = report.drawdown_table(r)
    assert table.columns.tolist() == ["Peak", "Trough", "Recovery", "Depth (%)",
                                      "Decline (sessions)", "Length (sessions)"]
    assert table.index.name == "Rank" and table.index.tolist() == [1, 2, 3]
    assert table.loc[1, "Depth (%)"] == pytest.approx((0.7776 / 1.08 - 1) * 100)
    assert set(table["Peak"]) == {"2024-01-02", "start", "2024-01-05"}
    assert "not recovered" in set(table["Recovery"])
    assert len(report.drawdown_table(r, top=1)) == 1
    assert report.drawdown_table(pd.Series([0.01, 0.02], index=r.index[:2])).empty


def test_the_equity_chart_shades_the_worst_drawdowns(result):
    fig = report.equity_figure(result)
    shades = [s for s in fig.layout.shapes if str(s.name).startswith("drawdown")]
    assert [s.name for s in shades] == [f"drawdown {i}" for i in range(1, 6)]
    periods = report.drawdown_periods(result)
    last = result.daily.index[-1]
    for (_, row), shape in zip(periods.iterrows(), shades, strict=True):
        assert shape.x0 == row["peak"].strftime("%Y-%m-%d")
        end = row["recovery"] if row["recovered"] else last
        assert shape.x1 == end.strftime("%Y-%m-%d")
        assert shape.type == "rect" and shape.layer == "below"
    # the deepest is the headline maximum drawdown
    assert periods.loc[1, "drawdown"] == pytest.approx(result.metrics()["max_drawdown"])
    assert not report.equity_figure(result, drawdowns=0).layout.shapes


def test_labels_of_neighbouring_drawdowns_go_up_a_row_instead_of_overlapping():
    # 100 sessions: dips on sessions 10, 12 and 14 (close together), one on 70
    r = pd.Series(0.001, index=pd.bdate_range("2024-01-01", periods=100))
    for day, depth in ((10, -0.05), (12, -0.04), (14, -0.03), (70, -0.10)):
        r.iloc[day] = depth
        r.iloc[day + 1] = -depth / (1 + depth) + 0.01  # back above the peak the next day
    fig = drawdowns.shade_drawdowns(go.Figure(), r, top=4)
    labels = [(pd.Timestamp(a.x), a.yshift or 0) for a in fig.layout.annotations]
    assert len(labels) == 4 and {shift for _, shift in labels} == {0, 13, 26}
    span = (r.index[-1] - r.index[0]).days
    for i, (x, shift) in enumerate(labels):
        for y, other in labels[i + 1:]:
            if abs((x - y).days) < drawdowns.LABEL_GAP * span:
                assert shift != other, f"labels at {x.date()} and {y.date()} overlap"


# --------------------------------------------------------------------------- calendar


def test_year_by_year_against_the_equity_and_the_closes(result):
    table = report.yearly_table(result)
    assert table.columns.tolist() == ["Strategy (%)", "Benchmark (%)", "Difference (pp)",
                                      "Sessions"]
    days = result.daily.index
    for year in (2022, 2023):
        in_year = days[days.year == year]
        start = in_year[0] if year > days[0].year else None
        strategy = (equity_ratio(result, start, in_year[-1]) - 1) * 100
        bench = (close_ratio(result, start, in_year[-1]) - 1) * 100
        assert table.loc[year, "Strategy (%)"] == pytest.approx(strategy)
        assert table.loc[year, "Benchmark (%)"] == pytest.approx(bench)
        assert table.loc[year, "Difference (pp)"] == pytest.approx(strategy - bench)
        assert table.loc[year, "Sessions"] == len(in_year)
    fig = report.yearly_returns_figure(result, colors="cn")
    assert [t.name for t in fig.data] == ["ma_trend", "benchmark"]
    assert list(fig.data[0].x) == ["2022", "2023"]
    np.testing.assert_allclose(y_values(fig.data[0]), table["Strategy (%)"] / 100)
    assert "2022: part of the year" in fig.layout.yaxis.title.text  # from March


def test_year_by_year_with_a_baseline_and_without_a_benchmark(result):
    baseline = risky_result()
    table = report.yearly_table(no_benchmark(result), baseline=baseline)
    assert table.columns.tolist() == ["Strategy (%)", "Equal-weight buy and hold (%)",
                                      "Sessions"]
    last = baseline.daily.index[-1]
    assert table.loc[2023, "Equal-weight buy and hold (%)"] == pytest.approx(
        (equity_ratio(baseline, pd.Timestamp("2023-01-01"), last) - 1) * 100)


def test_returns_to_date(result):
    table = report.period_table(result)
    assert table.index.tolist() == list(report.figures.calendar_returns.PERIOD_ROWS)
    last = result.daily.index[-1]
    month_start = last.replace(day=1)
    assert table.loc["Month to date (%)", "Strategy"] == pytest.approx(
        (equity_ratio(result, month_start, last) - 1) * 100)
    assert table.loc["Year to date (%)", "Benchmark"] == pytest.approx(
        (close_ratio(result, last.replace(month=1, day=1), last) - 1) * 100)
    assert table.loc["Last 3 years, a year (%)"].isna().all()  # under two years of data


# --------------------------------------------------------------------------- distribution


def test_return_histograms_count_each_series_in_shared_bins(result):
    data = report.distribution_data(result, bins=30)
    assert data.columns.tolist() == ["left", "right", "strategy", "benchmark"]
    assert len(data) == 30
    np.testing.assert_allclose(data[["strategy", "benchmark"]].sum(), 1.0)
    r, b = result.returns, result.benchmark_returns
    low, high = min(r.min(), b.min()), max(r.max(), b.max())
    assert data["left"].iloc[0] == pytest.approx(low)
    assert data["right"].iloc[-1] == pytest.approx(high)
    # one bin by hand: the strategy's returns in [left, right)
    row = data.iloc[12]
    inside = ((r >= row["left"]) & (r < row["right"])).sum()
    assert row["strategy"] == pytest.approx(inside / len(r))
    months = report.distribution_data(result, period="month")
    assert len(months) == report.figures.distribution.DEFAULT_BINS["month"]
    np.testing.assert_allclose(months["strategy"].sum(), 1.0)
    with pytest.raises(ConfigError, match="period must be"):
        report.distribution_data(result, period="week")


def test_distribution_figure_draws_the_histograms_and_the_value_at_risk(result):
    fig = report.return_distribution_figure(result)
    assert [t.type for t in fig.data] == ["bar"] * 4
    assert [t.xaxis for t in fig.data] == ["x", "x", "x2", "x2"]
    daily = report.distribution_data(result)
    np.testing.assert_allclose(y_values(fig.data[0]), daily["strategy"])
    var_lines = [s for s in fig.layout.shapes if s.name == "value at risk"]
    assert var_lines[0].x0 == pytest.approx(np.percentile(result.returns, 5))
    eq = result.daily["equity_cny"]
    month_end = eq.groupby(eq.index.to_period("M")).last()
    monthly = month_end / month_end.shift(1).fillna(result.config.capital_cny) - 1
    assert var_lines[1].x0 == pytest.approx(np.percentile(monthly, 5))


def test_tail_table_against_the_returns(result):
    table = report.tail_table(result)
    assert table.columns.tolist() == ["Strategy", "Benchmark"]
    r = result.returns
    s = table["Strategy"]
    assert s["Value at risk 95 %, daily (%)"] == pytest.approx(np.percentile(r, 5) * 100)
    worst = np.sort(r.to_numpy())[: math.floor((len(r) - 1) * 0.05) + 1]
    assert s["Expected shortfall (CVaR) 95 %, daily (%)"] == pytest.approx(worst.mean() * 100)
    assert s["Skewness, daily"] == pytest.approx(r.skew())
    assert s["Excess kurtosis, daily"] == pytest.approx(r.kurt())
    assert s["Best day (%)"] == pytest.approx(r.max() * 100)
    assert s["Worst day (%)"] == pytest.approx(r.min() * 100)
    eq = result.daily["equity_cny"]
    month_end = eq.groupby(eq.index.to_period("M")).last()
    monthly = month_end / month_end.shift(1).fillna(result.config.capital_cny) - 1
    assert s["Worst month (%)"] == pytest.approx(monthly.min() * 100)
    assert s["Best month (%)"] == pytest.approx(monthly.max() * 100)
    assert "Value at risk 99 %, daily (%)" in report.tail_table(result, level=0.99).index


# --------------------------------------------------------------------------- benchmark


def test_active_return_is_the_growth_over_the_benchmarks(result):
    data = report.active_data(result)
    growth = result.daily["equity_cny"] / result.config.capital_cny
    close = result.daily["benchmark_close"]
    np.testing.assert_allclose(data["cumulative"], growth / (close / close.iloc[0]) - 1,
                               rtol=1e-10, atol=1e-14)
    relative = 1 + data["cumulative"]
    np.testing.assert_allclose(data["drawdown"],
                               relative / np.maximum(relative.cummax(), 1.0) - 1, atol=1e-12)
    fig = report.active_figure(result)
    np.testing.assert_allclose(y_values(fig.data[0]), data["cumulative"], rtol=1e-5,
                               atol=1e-7)
    assert fig.data[1].fill == "tozeroy" and fig.data[1].yaxis == "y2"
    bare = no_benchmark(result)
    assert report.active_data(bare).empty
    assert report.active_figure(bare).layout.annotations[0].text == (
        report.figures.relative.NO_BENCHMARK)


def test_rolling_beta_figure(result):
    fig = report.rolling_beta_figure(result, 60, max_points=None)
    (line,) = fig.data
    expected = metrics.rolling_beta(result.returns, result.benchmark_returns, 60)
    np.testing.assert_allclose(y_values(line), expected, rtol=1e-5)
    # one window by hand: cov / var of the last 60 sessions
    r, b = result.returns.iloc[-60:], result.benchmark_returns.iloc[-60:]
    assert expected.iloc[-1] == pytest.approx(np.cov(r, b)[0, 1] / np.var(b, ddof=1))
    _, beta = metrics.alpha_beta(result.returns, result.benchmark_returns)
    assert any(s.y0 == pytest.approx(beta) for s in fig.layout.shapes)
    assert report.rolling_beta_data(no_benchmark(result)).empty
    assert not report.rolling_beta_figure(no_benchmark(result)).data


def test_turnover_is_the_headline_rate_over_a_trailing_window(result):
    data = report.turnover_data(result, window=63)
    daily = result.daily["traded_cny"] / 2 / result.daily["equity_cny"]
    np.testing.assert_allclose(data["turnover"], daily)
    ppy = sessions_per_year(result.daily.index)
    assert ppy == 242.0  # 2022 and 2023
    assert data["annual_turnover"].iloc[-1] == pytest.approx(daily.iloc[-63:].sum() / 63 * 242)
    assert data["annual_turnover"].iloc[:62].isna().all()
    fig = report.turnover_figure(result, max_points=None)
    np.testing.assert_allclose(y_values(fig.data[0]), data["annual_turnover"], rtol=1e-5)
    (whole,) = [s for s in fig.layout.shapes if s.name != "split"]
    assert whole.y0 == pytest.approx(result.metrics()["annual_turnover"])
    assert len(thin(data, 100)) == len(report.turnover_figure(result, max_points=100).data[0].y)


# --------------------------------------------------------------------------- stress


def redated(result: wb.BacktestResult, first: str) -> wb.BacktestResult:
    """The same result on the XSHG sessions from ``first`` on (for dated episodes)."""
    days = sessions(first, "2026-12-31")[: len(result.daily)]
    return replace(result, daily=result.daily.set_axis(days))


def test_the_stress_table_in_and_out_of_the_data(result):
    moved = redated(result, "2015-12-01")  # covers January 2016, nothing else
    table = report.stress_table(moved)
    assert table.columns.tolist() == list(stress.STRESS_COLUMNS)
    assert table.index.tolist() == [p.name for p in stress.STRESS_PERIODS]
    breaker = table.loc["January 2016 circuit breaker"]
    assert breaker["In the data"] == "yes" and breaker["Sessions"] == 19
    first, last = pd.Timestamp("2016-01-04"), pd.Timestamp("2016-01-28")
    assert breaker["Strategy return (%)"] == pytest.approx(
        (equity_ratio(moved, first, last) - 1) * 100)
    assert breaker["Benchmark return (%)"] == pytest.approx(
        (close_ratio(moved, first, last) - 1) * 100)
    eq = moved.daily["equity_cny"].loc["2015-12-31":"2016-01-28"]  # from the close before
    assert breaker["Strategy max drawdown (%)"] == pytest.approx(
        (eq / eq.cummax() - 1).min() * 100)
    close = moved.daily["benchmark_close"].loc["2015-12-31":"2016-01-28"]
    assert breaker["Benchmark max drawdown (%)"] == pytest.approx(
        (close / close.cummax() - 1).min() * 100)
    crash = table.loc["2015 crash"]
    assert crash["In the data"] == stress.NOT_IN_DATA and crash["Sessions"] == 0
    assert np.isnan(crash[["Strategy return (%)", "Benchmark max drawdown (%)"]].astype(
        float)).all()


def test_an_episode_covered_in_part_is_measured_on_what_there_is(result):
    moved = redated(result, "2016-01-11")
    row = report.stress_table(moved).loc["January 2016 circuit breaker"]
    assert row["In the data"] == "partly: 2016-01-11 to 2016-01-28"
    assert row["Sessions"] == 14
    assert row["Strategy return (%)"] == pytest.approx(
        (equity_ratio(moved, None, pd.Timestamp("2016-01-28")) - 1) * 100)
    assert np.isnan(report.stress_table(no_benchmark(moved)).loc[
        "January 2016 circuit breaker", "Benchmark return (%)"])


def test_stress_periods_are_sessions_in_order():
    for period in stress.STRESS_PERIODS:
        assert is_session(period.first) and is_session(period.last), period.name
        assert pd.Timestamp(period.first) < pd.Timestamp(period.last)
    with pytest.raises(ConfigError, match="is after last"):
        stress.StressPeriod(name="x", first="2020-02-01", last="2020-01-01", what="",
                            sse_return=0.0)


@pytest.mark.skipif(not (SHARED_REAL / "index" / "sh.000001.csv").exists(),
                    reason=f"real index closes not found under {SHARED_REAL}")
def test_stress_dates_match_the_sse_composite_closes():
    close = pd.read_csv(SHARED_REAL / "index" / "sh.000001.csv", parse_dates=["date"],
                        index_col="date")["close"]
    for period in stress.STRESS_PERIODS:
        first, last = pd.Timestamp(period.first), pd.Timestamp(period.last)
        before = close.loc[close.index < first].iloc[-1]
        assert close.loc[last] / before - 1 == pytest.approx(period.sse_return, abs=5e-5), (
            period.name)
        inside = close.loc[first:last]
        if period.sse_return > 0:  # the rally ends at its closing high
            assert close.loc[last] == inside.max(), period.name
            continue
        # a fall starts after a closing high (of the last 60 days; January 2016 is measured
        # from the 2015 year end instead) and, but for 2018 (cut at the year end), ends at
        # the episode's closing low
        if not period.name.startswith("January 2016"):
            assert before == close.loc[first - pd.Timedelta(days=60): first].max(), period.name
        if not period.name.startswith("2018"):
            assert close.loc[last] == inside.min(), period.name


# --------------------------------------------------------------------------- tearsheet


TITLES = ["Equity", "Worst drawdowns", "Drawdown", "Returns by calendar year", "Year by year",
          "Monthly returns", "Returns to date", "Distribution of returns", "Tail statistics",
          "Rolling Sharpe ratio and volatility", "Rolling beta", "Active return", "Exposure",
          "Turnover", "Stress periods"]
OVER_TIME = {"Equity", "Drawdown", "Rolling Sharpe ratio and volatility", "Rolling beta",
             "Active return", "Exposure", "Turnover"}


def test_tearsheet_sections_in_order_with_the_split_on_every_time_chart(result):
    sections = report.tearsheet_sections(result, baseline=risky_result(), split=SPLIT,
                                         colors="cn", window=40)
    assert [title for title, _ in sections] == TITLES
    for title, item in sections:
        assert isinstance(item, go.Figure | pd.DataFrame), title
        if title in OVER_TIME:
            assert {s.x0 for s in split_shapes(item)} == {SPLIT}, title
        if isinstance(item, go.Figure):
            assert item.layout.template.layout.font.family == theme.FONT_FAMILY
    shown = dict(sections)
    assert "Equal-weight buy and hold (%)" in shown["Year by year"]
    assert shown["Rolling beta"].layout.title.text.startswith("Rolling 40-session")
    bare = report.tearsheet_sections(no_benchmark(result))
    assert [t for t, _ in bare] == [t for t in TITLES if t not in ("Rolling beta",
                                                                   "Active return")]
    assert not any(split_shapes(f) for _, f in bare if isinstance(f, go.Figure))


def test_a_result_without_sessions_still_gives_every_section(result):
    empty = replace(result, daily=result.daily.iloc[:0])
    sections = dict(report.tearsheet_sections(empty, split=SPLIT))
    assert sections["Worst drawdowns"].empty and sections["Year by year"].empty
    assert (sections["Stress periods"]["In the data"] == stress.NOT_IN_DATA).all()
    assert sections["Tail statistics"]["Strategy"].isna().all()
