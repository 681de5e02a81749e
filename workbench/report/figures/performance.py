"""Performance figures of one backtest: equity against the benchmark (its worst drawdowns
shaded), drawdown, monthly returns, rolling Sharpe ratio and volatility beside the
benchmark's.

Each figure has a pure data function (``equity_data``, ``monthly_returns``, ...) that a
dashboard can call again with new inputs, and a builder that draws it and returns a
``go.Figure`` (never shown). Builders draw their traces in a fixed order for given
options, so :func:`workbench.report.refresh` can update a displayed widget in place.
Every chart over time takes ``split``, the first out-of-sample day, and marks it
(:func:`~workbench.report.figures.common.mark_split`).
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
    log_toggle,
    mark_split,
    new_figure,
    range_selector,
    thin,
)
from workbench.report.figures.drawdowns import shade_drawdowns
from workbench.report.figures.theme import TEMPLATE, palette

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = [
    "benchmark_close",
    "drawdown_data",
    "drawdown_figure",
    "equity_data",
    "equity_figure",
    "monthly_returns",
    "monthly_returns_figure",
    "rolling_data",
    "rolling_figure",
]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def benchmark_close(result: BacktestResult, benchmark: pd.Series | None = None
                    ) -> pd.Series | None:
    """The benchmark's close on the result's sessions, or None when there is none.

    ``benchmark`` (a close series indexed by date, e.g. ``market.benchmark.set_index("date")
    ["close"]``) wins; otherwise the result's ``daily["benchmark_close"]`` is used (all NaN
    for a market without a benchmark: None). Sessions without a close are forward-filled.
    """
    if benchmark is None:
        benchmark = result.daily["benchmark_close"]
    close = pd.Series(benchmark, dtype=float)
    close.index = pd.DatetimeIndex(close.index)
    close = close.reindex(result.daily.index).ffill()
    return None if close.isna().all() else close.rename("benchmark")


def benchmark_returns(result: BacktestResult, benchmark: pd.Series | None = None
                      ) -> pd.Series | None:
    """The benchmark's daily simple returns on the result's sessions, or None without one.

    From :func:`benchmark_close`; the first session (and any before the benchmark's first
    close) is 0.0, so the benchmark covers the same sessions as the strategy's returns.
    Every table that sets a benchmark beside a strategy reads it here.
    """
    close = benchmark_close(result, benchmark)
    return None if close is None else close.pct_change().fillna(0.0)


def equity_data(result: BacktestResult, benchmark: pd.Series | None = None, *,
                baseline: BacktestResult | None = None) -> pd.DataFrame:
    """Equity in CNY, the baseline's, and the benchmark rebased to the starting capital.

    Returns
    -------
    pd.DataFrame
        Index ``date``; column ``strategy`` (end-of-session equity, CNY); with a
        ``baseline`` result (:func:`workbench.research.equal_weight_baseline`), ``baseline``
        (its equity on the same sessions, CNY); and, when there is a benchmark,
        ``benchmark`` (its close scaled so that its first valid close equals
        ``capital_cny``).
    """
    out = pd.DataFrame({"strategy": result.daily["equity_cny"].astype(float)})
    if baseline is not None:
        out["baseline"] = baseline.daily["equity_cny"].astype(float).reindex(out.index)
    close = benchmark_close(result, benchmark)
    if close is not None:
        first = close.dropna().iloc[0]
        out["benchmark"] = close / first * result.config.capital_cny
    return out


def equity_figure(result: BacktestResult, benchmark: pd.Series | None = None, *,
                  baseline: BacktestResult | None = None, colors: str = "intl",
                  log: bool = False, title: str | None = None, drawdowns: int = 5,
                  split: object | None = None) -> go.Figure:
    """Equity curve against the benchmark, with a Linear/Log toggle and range selector.

    The ``drawdowns`` worst drawdowns of the strategy are shaded, peak to recovery
    (:func:`~workbench.report.figures.drawdowns.shade_drawdowns`; the same episodes as
    :func:`~workbench.report.figures.drawdowns.drawdown_table`).

    Parameters
    ----------
    result
        A backtest result.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.
    baseline
        The equal-weight buy and hold under the same configuration
        (:func:`workbench.research.equal_weight_baseline`), drawn as a third line.
    colors
        ``"intl"`` or ``"cn"`` (see :mod:`workbench.report.figures.theme`).
    log
        Start on a log scale (the toggle switches either way).
    title
        Default: the strategy's name.
    drawdowns
        How many of the worst drawdowns to shade; 0: none.
    split
        The first out-of-sample day, marked by a dashed line; None: no marker.

    Returns
    -------
    go.Figure
        One trace for the strategy, then the baseline and the benchmark when given; the
        shading and the split marker are layout shapes.
    """
    pal = palette(colors)
    data = equity_data(result, benchmark, baseline=baseline)
    name = str(result.strategy.get("name", "strategy"))
    fig = new_figure(title or f"Equity: {name} against the benchmark", height=440)
    x = date_strings(data.index)
    fig.add_trace(go.Scatter(x=x, y=f4(data["strategy"]), name=name, mode="lines",
                             line={"color": pal.strategy, "width": 2}))
    if "baseline" in data:
        fig.add_trace(go.Scatter(x=x, y=f4(data["baseline"]), name="equal-weight buy and hold",
                                 mode="lines",
                                 line={"color": pal.baseline, "width": 1.5, "dash": "dash"}))
    if "benchmark" in data:
        fig.add_trace(go.Scatter(x=x, y=f4(data["benchmark"]), name="benchmark",
                                 mode="lines", line={"color": pal.benchmark, "width": 1.5}))
    menu = log_toggle()
    menu["active"] = 1 if log else 0
    fig.update_layout(updatemenus=[menu], yaxis={"title": "CNY", "type": "log" if log else
                                                 "linear", "tickformat": ",.0f"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    shade_drawdowns(fig, result, drawdowns, colors=colors)
    return mark_split(fig, split, data.index)


def drawdown_data(result: BacktestResult) -> pd.Series:
    """Drawdown per session: equity over its running peak (capital included) minus 1, <= 0."""
    if result.daily.empty:
        return pd.Series(dtype=float, name="drawdown")
    return metrics.drawdown_series(result.returns).rename("drawdown")


def drawdown_figure(result: BacktestResult, *, colors: str = "intl",
                    benchmark: pd.Series | None = None, split: object | None = None
                    ) -> go.Figure:
    """Underwater chart: the drawdown below the running peak, filled to zero.

    A second, unfilled line shows the benchmark's drawdown when there is a benchmark;
    ``split`` (the first out-of-sample day) is marked by a dashed line.
    """
    pal = palette(colors)
    dd = drawdown_data(result)
    # the words go in the title, not up the y axis: a rotated axis title was seen clipped
    # ("elow peak"), and the ticks already say "-10%"
    fig = new_figure("Drawdown below the running peak (underwater)", height=320)
    x = date_strings(dd.index)
    fig.add_trace(go.Scatter(x=x, y=f4(dd), name="strategy", mode="lines",
                             fill="tozeroy", line={"color": pal.down, "width": 1}))
    close = benchmark_close(result, benchmark)
    if close is not None:
        bench_dd = close / close.cummax() - 1.0
        fig.add_trace(go.Scatter(x=x, y=f4(bench_dd), name="benchmark", mode="lines",
                                 line={"color": pal.benchmark, "width": 1, "dash": "dot"}))
    fig.update_layout(yaxis={"tickformat": ".0%"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, dd.index)


def monthly_returns(result: BacktestResult) -> pd.DataFrame:
    """Compounded return of each calendar month: years (rows) × months 1-12 (columns).

    Months outside the backtest are NaN.

    Examples
    --------
    >>> r = pd.Series([0.1, 0.1, -0.5], index=pd.to_datetime(
    ...     ["2024-01-02", "2024-01-03", "2024-02-01"]))
    >>> _monthly(r).round(4).loc[2024, [1, 2]].tolist()
    [0.21, -0.5]
    """
    return _monthly(result.returns)


def _monthly(returns: pd.Series) -> pd.DataFrame:
    if returns.empty:
        return pd.DataFrame(columns=pd.RangeIndex(1, 13), dtype=float)
    idx = pd.DatetimeIndex(returns.index)
    growth = (1.0 + returns).groupby([idx.year, idx.month]).prod() - 1.0
    table = growth.unstack()
    table.index.name, table.columns.name = "year", "month"
    return table.reindex(columns=range(1, 13))


def monthly_returns_figure(result: BacktestResult, *, colors: str = "intl") -> go.Figure:
    """Heatmap of monthly returns, years × months, gains in ``up`` and losses in ``down``.

    Each cell is labelled with its return; the latest year is at the top.
    """
    pal = palette(colors)
    table = monthly_returns(result)
    fig = new_figure("Monthly returns", height=max(260, 60 + 28 * len(table)))
    if table.empty:
        return empty_note(fig, "no sessions")
    z = table.to_numpy(dtype=float)
    finite = z[np.isfinite(z)]
    bound = float(np.max(np.abs(finite))) if finite.size else 0.01
    fig.add_trace(go.Heatmap(
        z=z, x=list(_MONTHS), y=[str(y) for y in table.index], zmid=0.0,
        zmin=-bound, zmax=bound, colorscale=pal.diverging(), texttemplate="%{z:.1%}",
        textfont={"size": 11}, hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
        colorbar={"tickformat": ".0%", "title": {"text": "return"}}, xgap=1, ygap=1))
    fig.update_layout(yaxis={"autorange": "reversed", "type": "category", "showgrid": False},
                      xaxis={"side": "top", "showgrid": False}, hovermode="closest")
    return fig


def rolling_data(result: BacktestResult, window: int = 126,
                 benchmark: pd.Series | None = None) -> pd.DataFrame:
    """Rolling annualised Sharpe ratio and volatility over ``window`` sessions, and the
    benchmark's.

    Annualised with the XSHG calendar's sessions per year over the run, as the headline
    metrics (:func:`workbench.metrics.annualisation`); the benchmark with the same figure.

    Parameters
    ----------
    result
        A backtest result.
    window
        Sessions in each window, ≥ 2.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.

    Returns
    -------
    pd.DataFrame
        Index ``date``, columns ``sharpe`` and ``volatility`` (fraction per year) and, with
        a benchmark, ``benchmark_sharpe`` and ``benchmark_volatility``; the first
        ``window - 1`` rows are NaN.
    """
    r = result.returns
    if len(r) == 0:
        return pd.DataFrame({"sharpe": [], "volatility": []}, dtype=float)
    ppy = metrics.annualisation(r).periods_per_year
    out = pd.DataFrame({"sharpe": metrics.rolling_sharpe(r, window, periods_per_year=ppy),
                        "volatility": metrics.rolling_volatility(r, window,
                                                                 periods_per_year=ppy)})
    bench = benchmark_returns(result, benchmark)
    if bench is not None:
        out["benchmark_sharpe"] = metrics.rolling_sharpe(bench, window, periods_per_year=ppy)
        out["benchmark_volatility"] = metrics.rolling_volatility(bench, window,
                                                                 periods_per_year=ppy)
    return out


def rolling_figure(result: BacktestResult, window: int = 126, *, colors: str = "intl",
                   max_points: int | None = 600, benchmark: pd.Series | None = None,
                   split: object | None = None) -> go.Figure:
    """Rolling Sharpe ratio (top) and volatility (bottom) over ``window`` sessions, the
    benchmark's beside them.

    Both are smooth over the window, so ``max_points`` evenly spaced sessions draw them.
    Traces: the strategy's Sharpe ratio and volatility, then (with a benchmark) the
    benchmark's, dotted grey; ``split`` is marked on both panels.
    """
    pal = palette(colors)
    data = thin(rolling_data(result, window, benchmark), max_points)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("Sharpe ratio", "Volatility (annualised)"))
    fig.update_layout(template=TEMPLATE, height=460,
                      title={"text": f"Rolling {window}-session Sharpe ratio and volatility"})
    x = date_strings(data.index)
    name = str(result.strategy.get("name", "strategy"))
    lines = [("", name, {"color": pal.strategy, "width": 1.5})]
    if "benchmark_sharpe" in data:
        lines.append(("benchmark_", "benchmark",
                      {"color": pal.benchmark, "width": 1.2, "dash": "dot"}))
    for prefix, label, line in lines:
        for row, column in ((1, "sharpe"), (2, "volatility")):
            fig.add_trace(go.Scatter(x=x, y=f4(data[prefix + column]), name=label,
                                     mode="lines", line=line, legendgroup=label,
                                     showlegend=row == 1,
                                     hovertemplate="%{y:.2f}" if row == 1 else "%{y:.1%}"),
                          row=row, col=1)
    fig.add_hline(y=0.0, line={"color": "#b0b0b0", "width": 1}, row=1, col=1)
    fig.update_yaxes(tickformat=".2f", title_text="Sharpe ratio", row=1, col=1)
    fig.update_yaxes(tickformat=".0%", title_text="a year", row=2, col=1)
    fig.update_xaxes(type="date")
    return mark_split(fig, split, data.index)
