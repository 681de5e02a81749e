"""The strategy relative to its benchmark: the active return curve with its drawdown, and
the rolling beta.

The active return is geometric (:func:`workbench.metrics.active_returns`): the curve is
the strategy's wealth over the benchmark's, minus 1, so +10 % means the strategy has
grown 10 % more than the benchmark over the same sessions, whatever the benchmark did.
Its drawdown is how far that ratio has fallen from its best. Both figures need a
benchmark and say so when there is none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench import metrics
from workbench.report.figures.common import (
    date_strings,
    empty_note,
    f4,
    mark_split,
    new_figure,
    range_selector,
    thin,
)
from workbench.report.figures.performance import benchmark_returns
from workbench.report.figures.theme import TEMPLATE, palette

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["NO_BENCHMARK", "active_data", "active_figure", "rolling_beta_data",
           "rolling_beta_figure"]

#: The note of a figure that needs a benchmark the market does not have.
NO_BENCHMARK = "no benchmark: the market has none"


def active_data(result: BacktestResult, benchmark: pd.Series | None = None) -> pd.DataFrame:
    """The active return curve and its drawdown, per session.

    Parameters
    ----------
    result
        A backtest result.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.

    Returns
    -------
    pd.DataFrame
        Index ``date``; ``active`` (the daily geometric active return, a fraction),
        ``cumulative`` (``prod(1 + active) - 1`` so far: the strategy's growth over the
        benchmark's, minus 1) and ``drawdown`` (of that ratio below its running best,
        ≤ 0, :func:`workbench.metrics.drawdown_series`). No rows without a benchmark.
    """
    bench = benchmark_returns(result, benchmark)
    if bench is None or result.daily.empty:
        return pd.DataFrame(columns=["active", "cumulative", "drawdown"], dtype=float)
    active = metrics.active_returns(result.returns, bench)
    return pd.DataFrame({"active": active,
                         "cumulative": np.cumprod(1.0 + active.to_numpy()) - 1.0,
                         "drawdown": metrics.drawdown_series(active)}, index=active.index)


def active_figure(result: BacktestResult, benchmark: pd.Series | None = None, *,
                  colors: str = "intl", max_points: int | None = None,
                  split: object | None = None) -> go.Figure:
    """Active return against the benchmark (top) and its drawdown (bottom).

    Parameters
    ----------
    result
        A backtest result.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.
    colors
        ``"intl"`` or ``"cn"`` (see :mod:`workbench.report.figures.theme`).
    max_points
        At most this many sessions are drawn (evenly spread, the last kept); None: all.
    split
        The first out-of-sample day, marked on both panels; None: no marker.

    Returns
    -------
    go.Figure
        Two traces: the cumulative active return (fraction) and its drawdown (filled).
    """
    pal = palette(colors)
    full = active_data(result, benchmark)
    if full.empty:
        return empty_note(new_figure("Active return against the benchmark"), NO_BENCHMARK)
    data = thin(full, max_points)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.65, 0.35],
                        subplot_titles=("Growth over the benchmark's",
                                        "Drawdown of the active return"))
    fig.update_layout(template=TEMPLATE, height=480, showlegend=False,
                      title={"text": "Active return against the benchmark"})
    x = date_strings(data.index)
    fig.add_trace(go.Scatter(x=x, y=f4(data["cumulative"]), name="active return",
                             mode="lines", line={"color": pal.strategy, "width": 1.5},
                             hovertemplate="%{y:.2%}"), row=1, col=1)
    fig.add_trace(go.Scatter(x=x, y=f4(data["drawdown"]), name="active drawdown",
                             mode="lines", fill="tozeroy", line={"color": pal.down, "width": 1},
                             hovertemplate="%{y:.2%}"), row=2, col=1)
    fig.add_hline(y=0.0, line={"color": "#b0b0b0", "width": 1}, row=1, col=1)
    fig.update_yaxes(tickformat=".0%")
    fig.update_xaxes(type="date")
    fig.update_layout(xaxis={"rangeselector": range_selector()})
    return mark_split(fig, split, data.index)


def rolling_beta_data(result: BacktestResult, window: int = 126,
                      benchmark: pd.Series | None = None) -> pd.Series:
    """Beta against the benchmark over a trailing window of ``window`` sessions.

    :func:`workbench.metrics.rolling_beta` of the daily returns; an empty series without a
    benchmark. The first ``window - 1`` values are NaN.
    """
    bench = benchmark_returns(result, benchmark)
    if bench is None or result.daily.empty:
        return pd.Series(dtype=float, name="rolling_beta")
    return metrics.rolling_beta(result.returns, bench, window)


def rolling_beta_figure(result: BacktestResult, window: int = 126, *,
                        benchmark: pd.Series | None = None, colors: str = "intl",
                        max_points: int | None = 600, split: object | None = None
                        ) -> go.Figure:
    """Rolling beta over ``window`` sessions, with the whole run's beta (dashed) and 1.

    The whole run's beta is :func:`workbench.metrics.alpha_beta`'s, as in the headline
    metrics; a beta of 1 moves with the benchmark, 0 apart from it.

    Returns
    -------
    go.Figure
        One trace (the rolling beta); the whole-run beta and 1 are horizontal lines.
    """
    pal = palette(colors)
    fig = new_figure(f"Rolling {window}-session beta against the benchmark", height=340)
    bench = benchmark_returns(result, benchmark)
    if bench is None or result.daily.empty:
        return empty_note(fig, NO_BENCHMARK)
    data = thin(metrics.rolling_beta(result.returns, bench, window).to_frame(), max_points)
    fig.add_trace(go.Scatter(x=date_strings(data.index), y=f4(data["rolling_beta"]),
                             name="beta", mode="lines",
                             line={"color": pal.strategy, "width": 1.5},
                             hovertemplate="%{y:.2f}"))
    _, whole = metrics.alpha_beta(result.returns, bench)
    fig.add_hline(y=1.0, line={"color": "#b0b0b0", "width": 1})
    if np.isfinite(whole):
        fig.add_hline(y=whole, line={"color": pal.benchmark, "dash": "dash", "width": 1},
                      annotation_text=f"whole run: {whole:.2f}",
                      annotation_position="top right", annotation_font_size=11)
    fig.update_layout(yaxis={"title": "beta", "tickformat": ".2f"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, data.index)
