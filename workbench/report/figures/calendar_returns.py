"""Returns by calendar period: year by year (a table and grouped bars) and to date (month
to date, year to date, the last 3 and 5 years a year).

Each column compares the strategy with the benchmark and, when given, the equal-weight
baseline (:func:`workbench.research.equal_weight_baseline`). A year the backtest covers
only in part counts the sessions it has (the ``Sessions`` column says how many). Display
tables hold percentages as numbers in percent (12.5 is 12.5 %).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from workbench import metrics
from workbench.report.figures.common import empty_note, new_figure
from workbench.report.figures.performance import benchmark_returns
from workbench.report.figures.theme import palette

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["BASELINE", "BENCHMARK", "PERIOD_ROWS", "STRATEGY", "compared_returns",
           "period_table", "statistics_table", "yearly_returns", "yearly_returns_figure",
           "yearly_table"]

#: Column names of the compared series.
STRATEGY, BENCHMARK, BASELINE = "Strategy", "Benchmark", "Equal-weight buy and hold"
#: The rows of :func:`period_table`: label (unit in it) and the key of
#: :func:`workbench.metrics.period_metrics`.
PERIOD_ROWS: dict[str, str] = {
    "Month to date (%)": "mtd_return",
    "Year to date (%)": "ytd_return",
    "Last 3 years, a year (%)": "three_year_annual_return",
    "Last 5 years, a year (%)": "five_year_annual_return",
}


def compared_returns(result: BacktestResult, benchmark: pd.Series | None = None, *,
                     baseline: BacktestResult | None = None) -> dict[str, pd.Series]:
    """The daily returns to compare: :data:`STRATEGY`, then :data:`BENCHMARK` and
    :data:`BASELINE` when there are such.

    The benchmark's are :func:`~workbench.report.figures.performance.benchmark_returns`
    on the result's sessions (``benchmark`` is a close by date; default the result's own).
    """
    out = {STRATEGY: result.returns}
    bench = benchmark_returns(result, benchmark)
    if bench is not None:
        out[BENCHMARK] = bench
    if baseline is not None:
        out[BASELINE] = baseline.returns
    return out


def yearly_returns(result: BacktestResult, benchmark: pd.Series | None = None, *,
                   baseline: BacktestResult | None = None) -> pd.DataFrame:
    """Compounded return of each calendar year, strategy beside benchmark (and baseline).

    Returns
    -------
    pd.DataFrame
        Index ``year`` (int); one column per series of :func:`compared_returns` (fractions:
        :func:`workbench.metrics.period_returns` by year) and ``sessions`` (the
        strategy's sessions that year).
    """
    series = compared_returns(result, benchmark, baseline=baseline)
    r = result.returns
    years = pd.DatetimeIndex(r.index).year
    columns: dict[str, pd.Series] = {}
    for name, returns in series.items():
        by_year = metrics.period_returns(returns, "year")
        columns[name] = pd.Series(by_year.to_numpy(), index=by_year.index.year)
    out = pd.DataFrame(columns, index=pd.Index(sorted(set(years)), name="year"))
    out["sessions"] = pd.Series(years).value_counts().reindex(out.index).fillna(0).astype(int)
    return out


def yearly_table(result: BacktestResult, benchmark: pd.Series | None = None, *,
                 baseline: BacktestResult | None = None) -> pd.DataFrame:
    """Year-by-year returns for reading, in percent, with the difference to the benchmark.

    Returns
    -------
    pd.DataFrame
        Index ``Year``; ``Strategy (%)``, ``Benchmark (%)`` and ``Difference (pp)``
        (strategy minus benchmark, percentage points) when there is a benchmark,
        ``Equal-weight buy and hold (%)`` with a baseline, and ``Sessions``.
    """
    data = yearly_returns(result, benchmark, baseline=baseline)
    table = pd.DataFrame(index=pd.Index(data.index, name="Year"))
    table[f"{STRATEGY} (%)"] = data[STRATEGY] * 100.0
    if BENCHMARK in data:
        table[f"{BENCHMARK} (%)"] = data[BENCHMARK] * 100.0
        table["Difference (pp)"] = (data[STRATEGY] - data[BENCHMARK]) * 100.0
    if BASELINE in data:
        table[f"{BASELINE} (%)"] = data[BASELINE] * 100.0
    table["Sessions"] = data["sessions"]
    return table


def yearly_returns_figure(result: BacktestResult, benchmark: pd.Series | None = None, *,
                          baseline: BacktestResult | None = None, colors: str = "intl"
                          ) -> go.Figure:
    """Grouped bars of each calendar year's return: strategy, benchmark, baseline.

    One ``go.Bar`` per series of :func:`compared_returns`, x the years (as text), y the
    returns (fractions), each bar labelled with its value.
    """
    pal = palette(colors)
    data = yearly_returns(result, benchmark, baseline=baseline)
    fig = new_figure("Returns by calendar year", height=380)
    if data.empty:
        return empty_note(fig, "no sessions")
    shades = {STRATEGY: pal.strategy, BENCHMARK: pal.benchmark, BASELINE: pal.baseline}
    names = {STRATEGY: str(result.strategy.get("name", "strategy")),
             BENCHMARK: "benchmark", BASELINE: "equal-weight buy and hold"}
    years = [str(y) for y in data.index]
    for column in (c for c in (STRATEGY, BENCHMARK, BASELINE) if c in data):
        fig.add_trace(go.Bar(x=years, y=data[column].to_numpy(dtype=float),
                             name=names[column], marker={"color": shades[column]},
                             texttemplate="%{y:.1%}", textposition="outside",
                             hovertemplate="%{x}: %{y:.2%}"))
    partial = [str(y) for y, n in data["sessions"].items() if n < 0.9 * data["sessions"].max()]
    title = "return" + (f" ({', '.join(partial)}: part of the year)" if partial else "")
    fig.update_layout(barmode="group", hovermode="x unified",
                      yaxis={"tickformat": ".0%", "title": title, "zeroline": True,
                             "zerolinecolor": "#b0b0b0"},
                      xaxis={"type": "category"})
    return fig


def statistics_table(rows: Mapping[str, str], measure: Callable[[pd.Series], Mapping[str, float]],
                     series: Mapping[str, pd.Series], percent: Collection[str]) -> pd.DataFrame:
    """Statistics by series: one row per label of ``rows``, one column per series.

    Parameters
    ----------
    rows
        ``{row label: key}``, ``key`` a key of the dict ``measure`` returns.
    measure
        Daily returns in, ``{key: value}`` out (e.g. :func:`workbench.metrics.period_metrics`).
    series
        ``{column name: daily returns}``, e.g. :func:`compared_returns`.
    percent
        The keys whose fractions are shown in percent (times 100).

    Examples
    --------
    >>> r = pd.Series([0.01, 0.03])
    >>> t = statistics_table({"Best (%)": "best"}, lambda x: {"best": x.max()}, {"A": r}, {"best"})
    >>> t.to_dict()
    {'A': {'Best (%)': 3.0}}
    """
    columns = {}
    for name, returns in series.items():
        values = measure(returns)
        columns[name] = [values[key] * (100.0 if key in percent else 1.0)
                         for key in rows.values()]
    return pd.DataFrame(columns, index=pd.Index(list(rows), name="Statistic"), dtype=float)


def period_table(result: BacktestResult, benchmark: pd.Series | None = None, *,
                 baseline: BacktestResult | None = None) -> pd.DataFrame:
    """Returns to the last session: month and year to date, the last 3 and 5 years a year.

    :func:`workbench.metrics.period_metrics` of each series of :func:`compared_returns`;
    a 3- or 5-year figure is NaN when the backtest is shorter.

    Returns
    -------
    pd.DataFrame
        Rows :data:`PERIOD_ROWS` (in percent), columns :data:`STRATEGY`,
        :data:`BENCHMARK` and :data:`BASELINE` when there are such.
    """
    series = compared_returns(result, benchmark, baseline=baseline)
    return statistics_table(PERIOD_ROWS, metrics.period_metrics, series, PERIOD_ROWS.values())
