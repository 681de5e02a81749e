"""How returns are spread: histograms of daily and monthly returns, strategy against the
benchmark, and the tail statistics (value at risk, expected shortfall, skewness, kurtosis,
the best and worst day and month).

The histograms are counted here (:func:`distribution_data`), not by the browser, so the
page carries a few dozen bars instead of every return, and the numbers can be checked.
Strategy and benchmark share the bins, and bar heights are fractions of the periods, so
two series of different lengths compare. Display tables hold percentages as numbers in
percent (12.5 is 12.5 %).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench import metrics
from workbench.checks import whole_number
from workbench.errors import ConfigError
from workbench.report.figures.calendar_returns import (
    BASELINE,
    BENCHMARK,
    STRATEGY,
    compared_returns,
    statistics_table,
)
from workbench.report.figures.common import empty_note, new_figure
from workbench.report.figures.theme import TEMPLATE, palette

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["DEFAULT_BINS", "TAIL_PERCENT", "distribution_data", "return_distribution_figure",
           "tail_rows", "tail_table"]

#: Bins of each histogram when not given: daily returns are many, monthly ones few.
DEFAULT_BINS: dict[str, int] = {"day": 60, "month": 20}
#: The keys of :func:`workbench.metrics.tail_metrics` that are returns (shown in percent).
TAIL_PERCENT: frozenset[str] = frozenset({
    "value_at_risk", "conditional_value_at_risk", "best_day_return", "worst_day_return",
    "best_month_return", "worst_month_return"})


def _by_period(returns: pd.Series, period: str) -> pd.Series:
    if period == "day":
        return returns
    if period == "month":
        return metrics.period_returns(returns, "month")
    raise ConfigError(f"period must be 'day' or 'month', got {period!r}")


def distribution_data(result: BacktestResult, benchmark: pd.Series | None = None, *,
                      period: str = "day", bins: int | None = None) -> pd.DataFrame:
    """Histogram of the strategy's and the benchmark's daily or monthly returns.

    Parameters
    ----------
    result
        A backtest result.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.
    period
        ``'day'`` (session returns) or ``'month'`` (calendar months compounded,
        :func:`workbench.metrics.period_returns`).
    bins
        Number of equal-width bins over the range of both series; default
        :data:`DEFAULT_BINS`.

    Returns
    -------
    pd.DataFrame
        One row per bin: ``left`` and ``right`` edges (returns, fractions; the last bin
        holds its right edge, as ``numpy.histogram``), then per series the fraction of its
        periods in the bin: ``strategy`` and, with a benchmark, ``benchmark``. Each of
        those columns sums to 1. No rows without returns.
    """
    series = {name: _by_period(r, period) for name, r in
              compared_returns(result, benchmark).items()}
    n_bins = whole_number(DEFAULT_BINS.get(period, 20) if bins is None else bins, "bins",
                          hint="e.g. bins=50")
    values = np.concatenate([s.to_numpy(dtype=float) for s in series.values()])
    columns = ["left", "right", *(name.lower() for name in series)]
    if values.size == 0:
        return pd.DataFrame(columns=columns, dtype=float)
    edges = np.histogram_bin_edges(values, bins=n_bins)
    out = pd.DataFrame({"left": edges[:-1], "right": edges[1:]})
    for name, s in series.items():
        counts, _ = np.histogram(s.to_numpy(dtype=float), bins=edges)
        out[name.lower()] = counts / max(len(s), 1)
    return out[columns]


def return_distribution_figure(result: BacktestResult, benchmark: pd.Series | None = None, *,
                               colors: str = "intl", level: float = 0.95) -> go.Figure:
    """Histograms of daily (left) and monthly (right) returns, strategy over benchmark.

    Bars are fractions of the periods (:func:`distribution_data`), overlaid and
    translucent; a dashed line named ``"value at risk"`` marks the strategy's historical
    value at risk at ``level`` in each panel (:func:`workbench.metrics.value_at_risk`).

    Returns
    -------
    go.Figure
        Per panel a ``go.Bar`` for the strategy, then the benchmark's when there is one.
    """
    pal = palette(colors)
    if result.daily.empty:
        return empty_note(new_figure("Distribution of returns"), "no sessions")
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.08,
                        subplot_titles=("Daily returns", "Monthly returns"))
    fig.update_layout(template=TEMPLATE, height=380, barmode="overlay", hovermode="closest",
                      title={"text": "Distribution of returns: share of periods"})
    shades = {"strategy": pal.strategy, "benchmark": pal.benchmark}
    names = {"strategy": str(result.strategy.get("name", "strategy")),
             "benchmark": "benchmark"}
    what = {"day": "sessions", "month": "months"}
    for col, period in ((1, "day"), (2, "month")):
        data = distribution_data(result, benchmark, period=period)
        centre = (data["left"] + data["right"]).to_numpy() / 2.0
        width = (data["right"] - data["left"]).to_numpy()
        for name in (c for c in ("strategy", "benchmark") if c in data):
            fig.add_trace(go.Bar(x=centre, y=data[name].to_numpy(dtype=float), width=width,
                                 name=names[name], legendgroup=name, showlegend=col == 1,
                                 marker={"color": shades[name], "line": {"width": 0}},
                                 opacity=0.85 if name == "strategy" else 0.55,
                                 hovertemplate=f"%{{x:.2%}}: %{{y:.1%}} of the {what[period]}"
                                               "<extra></extra>"), row=1, col=col)
        var = metrics.value_at_risk(_by_period(result.returns, period), level)
        if np.isfinite(var):
            fig.add_vline(x=var, line={"color": pal.down, "dash": "dash", "width": 1},
                          name="value at risk", row=1, col=col)
            fig.add_annotation(x=var, y=1, xref=f"x{'' if col == 1 else col}",
                               yref=f"y{'' if col == 1 else col} domain",
                               text=f"VaR {level:.0%}: {var:.1%}", showarrow=False,
                               xanchor="right", yanchor="top",
                               font={"size": 10, "color": pal.down})
    fig.update_xaxes(tickformat=".0%")
    fig.update_yaxes(tickformat=".0%")
    fig.update_yaxes(title_text="share of periods", row=1, col=1)
    return fig


def tail_rows(level: float = 0.95) -> dict[str, str]:
    """The rows of :func:`tail_table`: label (with the unit) → key of
    :func:`workbench.metrics.tail_metrics`.

    Examples
    --------
    >>> list(tail_rows(0.99))[0]
    'Value at risk 99 %, daily (%)'
    """
    pct = f"{level * 100:g} %"
    return {
        f"Value at risk {pct}, daily (%)": "value_at_risk",
        f"Expected shortfall (CVaR) {pct}, daily (%)": "conditional_value_at_risk",
        "Skewness, daily": "skewness",
        "Excess kurtosis, daily": "excess_kurtosis",
        "Best day (%)": "best_day_return",
        "Worst day (%)": "worst_day_return",
        "Best month (%)": "best_month_return",
        "Worst month (%)": "worst_month_return",
    }


def tail_table(result: BacktestResult, benchmark: pd.Series | None = None, *,
               baseline: BacktestResult | None = None, level: float = 0.95) -> pd.DataFrame:
    """Tail statistics of the daily returns, strategy beside benchmark (and baseline).

    :func:`workbench.metrics.tail_metrics` of each series: historical value at risk and
    expected shortfall at ``level``, skewness and excess kurtosis (pandas' bias-corrected
    estimators), the best and worst session and calendar month.

    Returns
    -------
    pd.DataFrame
        Rows :func:`tail_rows` (returns in percent; skewness and kurtosis as numbers),
        columns ``Strategy``, ``Benchmark`` and ``Equal-weight buy and hold`` when there
        are such.
    """
    series = compared_returns(result, benchmark, baseline=baseline)
    table = statistics_table(tail_rows(level), lambda r: metrics.tail_metrics(r, level),
                             series, TAIL_PERCENT)
    return table[[c for c in (STRATEGY, BENCHMARK, BASELINE) if c in table]]
