"""Comparisons: strategies side by side, a metrics table, in-sample against out-of-sample.

Builders only: the backtests and searches they draw are run by :mod:`workbench.research`
(``run_strategies``, ``evaluate_strategies``, ``out_of_sample_check``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench import metrics
from workbench.data.provenance import provenance
from workbench.errors import ConfigError, DataError
from workbench.format import format_value, label
from workbench.report.emit import jsonable
from workbench.report.figures.common import (
    date_strings,
    empty_note,
    f4,
    log_toggle,
    mark_split,
    new_figure,
    range_selector,
)
from workbench.report.figures.performance import benchmark_close, benchmark_returns
from workbench.report.figures.theme import TEMPLATE, palette
from workbench.trades import is_exchange_trade

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.research.search import GridSearchResult
    from workbench.result import BacktestResult

__all__ = [
    "BESIDE_METRICS",
    "TABLE_METRICS",
    "backtest_metrics",
    "beside_baseline",
    "comparison_data",
    "comparison_figure",
    "comparison_metrics",
    "headline_metrics",
    "in_out_sample",
    "in_out_sample_figure",
    "metrics_table",
    "metrics_table_figure",
    "risk_return_figure",
    "strategies_in_out_figure",
]

#: The metrics of :func:`metrics_table`, with a format string each (kept for callers; the
#: report's tables format through :func:`workbench.format.format_value`).
TABLE_METRICS: dict[str, str] = {
    "total_return": "{:+.1%}",
    "annual_return": "{:+.2%}",
    "annual_volatility": "{:.2%}",
    "sharpe_ratio": "{:.2f}",
    "sortino_ratio": "{:.2f}",
    "max_drawdown": "{:.1%}",
    "calmar_ratio": "{:.2f}",
    "annual_turnover": "{:.2f}",
    "n_trades": "{:,.0f}",
    "costs_cny": "{:,.0f}",
}
_BENCHMARK = "benchmark"
_BASELINE = "equal-weight buy and hold"

#: The headline rows of :func:`beside_baseline`: the strategy, the baseline, the benchmark.
BESIDE_METRICS: tuple[str, ...] = ("total_return", "annual_return", "annual_volatility",
                                   "sharpe_ratio", "max_drawdown", "calmar_ratio")


def beside_baseline(result: BacktestResult, baseline: BacktestResult | None = None, *,
                    market: Market | None = None) -> pd.DataFrame:
    """The headline figures of ``result`` beside the fair baseline and the benchmark.

    Columns: the strategy's name, ``'equal-weight buy and hold'`` (the ``baseline`` result
    of :func:`workbench.research.equal_weight_baseline`: same period, costs and rules) and
    the benchmark (its close over the same sessions, a price or total-return index as its
    name says; no costs). Rows :data:`BESIDE_METRICS` labelled with their units
    (:func:`workbench.format.label`), values formatted for reading. The same
    ``periods_per_year`` convention as :meth:`BacktestResult.metrics` applies to all three.
    With the ``market``, the benchmark column carries its name and kind
    (:func:`workbench.data.provenance`), e.g. ``'CSI 300 (price index)'``.
    """
    benchmark_name = provenance(market).benchmark if market is not None else _BENCHMARK
    columns: dict[str, Mapping[str, Any]] = {
        str(result.strategy.get("name", "strategy")): result.metrics()}
    if baseline is not None:
        columns[_BASELINE] = baseline.metrics()
    bench = benchmark_returns(result)
    if bench is not None:
        columns[benchmark_name] = metrics.summary(bench)
    table = pd.DataFrame({name: [m.get(k) for k in BESIDE_METRICS]
                          for name, m in columns.items()}, index=list(BESIDE_METRICS))
    return table.apply(lambda col: [format_value(k, v) for k, v in zip(
        table.index, col, strict=True)]).rename(index=label)


def headline_metrics(result: BacktestResult, benchmark: pd.Series | None = None
                     ) -> dict[str, Any]:
    """Headline statistics of one result: ``result.metrics()`` (JSON-ready).

    With an explicit ``benchmark`` (close by date) alpha, beta and the information ratio
    are measured against it instead of the result's own ``benchmark_close``. Annualised by
    the market's own calendar, as ``result.metrics()``.
    """
    if benchmark is None:
        return result.metrics()
    bench = benchmark_returns(result, benchmark)
    out = metrics.summary(result.returns, bench, result.trades, result.equity)
    return {k: v for k, v in result.metrics().items() if k not in out} | jsonable(out)


def comparison_data(results: Mapping[str, BacktestResult], benchmark: pd.Series | None = None
                    ) -> pd.DataFrame:
    """Growth of 1 CNY for each result (columns by name) and the benchmark, on shared dates.

    The benchmark is the argument, else the first result's ``benchmark_close`` column.
    """
    if not results:
        raise DataError("no results to compare; pass {name: BacktestResult, ...}")
    curves = {name: r.daily["equity_cny"] / r.config.capital_cny for name, r in results.items()}
    out = pd.DataFrame(curves)
    close = benchmark_close(next(iter(results.values())), benchmark)
    if close is not None:
        close = close.reindex(out.index).ffill()
        out[_BENCHMARK] = close / close.dropna().iloc[0]
    return out


def comparison_figure(results: Mapping[str, BacktestResult], benchmark: pd.Series | None = None,
                      *, baseline: str | None = "buy_and_hold", colors: str = "intl",
                      log: bool = False, split: object | None = None) -> go.Figure:
    """Growth of 1 CNY per strategy, the baseline dashed and the benchmark grey.

    One trace per result in the order given, then the benchmark; a Linear/Log toggle.
    Strategies take the palette's colours in turn (24 distinct ones, one of them blue).
    ``split`` (the first out-of-sample day) is marked by a dashed line.
    """
    pal = palette(colors)
    data = comparison_data(results, benchmark)
    fig = new_figure("Strategies compared: growth of 1 CNY", height=480)
    x = date_strings(data.index)
    # the baseline and the benchmark keep their colours; the others cycle through the rest
    colours = [c for c in pal.series if c not in (pal.baseline, pal.benchmark)]
    k = 0
    for name in data.columns:
        if name == _BENCHMARK and name not in results:
            line = {"color": pal.benchmark, "width": 2, "dash": "dot"}
        elif name == baseline:
            line = {"color": pal.baseline, "width": 2, "dash": "dash"}
        else:
            line = {"color": colours[k % len(colours)], "width": 1.5}
            k += 1
        fig.add_trace(go.Scatter(x=x, y=f4(data[name]), name=str(name), mode="lines",
                                 line=line, hovertemplate="%{y:.3f}"))
    menu = log_toggle()
    menu["active"] = 1 if log else 0
    fig.update_layout(updatemenus=[menu], yaxis={"type": "log" if log else "linear",
                                                 "title": "growth of 1 CNY"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, data.index)


def metrics_table(results: Mapping[str, BacktestResult], benchmark: pd.Series | None = None
                  ) -> pd.DataFrame:
    """One row per result (and the benchmark), columns :data:`TABLE_METRICS` (raw numbers).

    Each row is annualised by the market's own calendar over its dates
    (:func:`workbench.metrics.annualisation`); ``n_trades`` counts exchange fills.
    """
    rows = {}
    for name, r in results.items():
        m = headline_metrics(r, benchmark)
        rows[name] = {k: m.get(k, np.nan) for k in TABLE_METRICS}
    if results:
        b = benchmark_returns(next(iter(results.values())), benchmark)
        if b is not None:
            s = metrics.summary(b)
            rows[_BENCHMARK] = {k: s.get(k, np.nan) for k in TABLE_METRICS}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(TABLE_METRICS))
    table.index.name = "strategy"
    return table.astype(float)


def metrics_table_figure(table: pd.DataFrame, *, title: str = "Metrics") -> go.Figure:
    """A ``go.Table`` of a metrics table (rows: strategies), formatted as every report
    table is (:mod:`workbench.format`): labelled headers with units, formatted
    numbers."""
    shown = pd.DataFrame({c: [format_value(str(c), v) for v in table[c]] for c in table.columns},
                         index=table.index)
    fig = new_figure(title, height=90 + 28 * (len(table) + 2), margin={"t": 50, "b": 10})
    fig.add_trace(go.Table(
        header={"values": [label(table.index.name or "")] + [label(c) for c in table],
                "fill": {"color": "#f2f2f2"}, "align": "left", "font": {"size": 12}},
        cells={"values": [list(map(str, shown.index))] + [shown[c].tolist() for c in shown],
               "align": ["left"] + ["right"] * len(shown.columns), "height": 26}))
    return fig


def risk_return_figure(table: pd.DataFrame, *, colors: str = "intl") -> go.Figure:
    """Annual return against annual volatility, one labelled marker per row of ``table``."""
    pal = palette(colors)
    fig = new_figure("Risk and return", height=420)
    for col in ("annual_volatility", "annual_return"):
        if col not in table:
            raise DataError(f"table has no {col!r} column; build it with metrics_table()")
    ret = table["annual_return"].to_numpy(dtype=float)
    fig.add_trace(go.Scatter(
        x=table["annual_volatility"].to_numpy(dtype=float), y=ret, mode="markers+text",
        text=[str(i) for i in table.index], textposition="top center",
        marker={"size": 12, "color": np.where(ret >= 0, pal.up, pal.down)},
        hovertemplate="%{text}: %{y:.2%} a year at %{x:.2%} volatility<extra></extra>"))
    fig.update_layout(hovermode="closest", xaxis={"title": "annual volatility",
                                                  "tickformat": ".0%"},
                      yaxis={"title": "annual return", "tickformat": ".1%"})
    return fig


def in_out_sample(result: BacktestResult, split: object,
                  benchmark: pd.Series | None = None) -> pd.DataFrame:
    """Metrics before ``split`` (in sample) and from ``split`` on (out of sample).

    Honest only when the strategy's parameters were chosen on the in-sample part (see
    :mod:`workbench.research.search` for the grid search that does so).

    Returns
    -------
    pd.DataFrame
        Rows ``in_sample`` and ``out_of_sample``; columns ``start``, ``end``, ``sessions``,
        the return metrics of :data:`TABLE_METRICS` (each part annualised by the market's
        calendar over its own dates) and ``n_trades``, the exchange fills in the part.

    Raises
    ------
    ConfigError
        When ``split`` leaves either part with fewer than two sessions.
    """
    day = pd.Timestamp(split)
    r = result.returns
    parts = {"in_sample": r.loc[r.index < day], "out_of_sample": r.loc[r.index >= day]}
    t = result.trades
    trade_days = pd.DatetimeIndex(t["date"])[is_exchange_trade(t["reason"])]
    rows = {}
    for name, part in parts.items():
        if len(part) < 2:
            part_name = name.replace("_", "-")
            raise ConfigError(f"split {day.date()} leaves {len(part)} sessions {part_name}"
                              f" of the period {r.index[0].date()}..{r.index[-1].date()}; "
                              "choose a date inside it")
        s = metrics.summary(part)
        n_trades = int(((trade_days >= part.index[0]) & (trade_days <= part.index[-1])).sum())
        rows[name] = {"start": part.index[0], "end": part.index[-1], "sessions": len(part)} | {
            k: s[k] for k in TABLE_METRICS if k in s} | {"n_trades": n_trades}
    return pd.DataFrame.from_dict(rows, orient="index")


def in_out_sample_figure(table: pd.DataFrame | GridSearchResult,
                         metrics_shown: Sequence[str] = ("annual_return", "annual_volatility",
                                                         "sharpe_ratio", "max_drawdown"),
                         *, colors: str = "intl") -> go.Figure:
    """Grouped bars: each metric in sample against out of sample.

    ``table`` has one row per part (e.g. :func:`in_out_sample`), one column per metric; a
    :class:`workbench.research.search.GridSearchResult` (see
    :func:`workbench.research.compare.out_of_sample_check`) is
    read through its ``summary()``. Fractions (returns, volatility, drawdown) share a left
    panel with a percentage axis, ratios (Sharpe, Sortino, Calmar) a right panel of their
    own, so that neither is read on the other's scale; one trace per part and panel, the
    legend shared.
    """
    pal = palette(colors)
    frame: pd.DataFrame  # a GridSearchResult is read through its summary()
    if callable(getattr(table, "summary", None)):
        frame = table.summary().T
    else:
        frame = table
        if "in_sample" in frame.columns and "in_sample" not in frame.index:
            frame = frame.T
    missing = [m for m in metrics_shown if m not in frame.columns]
    if missing:
        raise DataError(f"table lacks metrics {missing}; it has {list(frame.columns)}")
    ratios = [m for m in metrics_shown if "ratio" in m or "sharpe" in m]
    fractions = [m for m in metrics_shown if m not in ratios]
    panels = [(names, percent) for names, percent in ((fractions, True), (ratios, False))
              if names]
    if frame.empty or not panels:
        return empty_note(new_figure("In sample against out of sample", height=380),
                          "no periods to compare")
    widths = [len(names) for names, _ in panels]
    fig = make_subplots(rows=1, cols=len(panels), column_widths=widths,
                        horizontal_spacing=0.1,
                        subplot_titles=["Returns and risk (%)" if percent else "Ratios"
                                        for _, percent in panels])
    fig.update_layout(template=TEMPLATE, height=380,
                      title={"text": "In sample against out of sample"})
    shades = (pal.strategy, pal.baseline, pal.benchmark)
    for col, (names, percent) in enumerate(panels, start=1):
        for i, (part, row) in enumerate(frame.iterrows()):
            values = row[names].to_numpy(dtype=float)
            fig.add_trace(go.Bar(
                x=[label(m).split(" (")[0] for m in names], y=values,
                name=str(part).replace("_", " "), legendgroup=str(part), showlegend=col == 1,
                marker={"color": shades[i % len(shades)]},
                text=[f"{v:.1%}" if percent else f"{v:.2f}" for v in values],
                textposition="outside"), row=1, col=col)
        fig.update_yaxes(tickformat=".0%" if percent else ".2f", row=1, col=col)
    fig.update_layout(barmode="group", hovermode="closest")
    return fig


def strategies_in_out_figure(table: pd.DataFrame, metric: str = "sharpe_ratio", *,
                             colors: str = "intl") -> go.Figure:
    """Grouped bars of one metric per strategy, in sample against out of sample.

    ``table`` is :func:`workbench.research.compare.evaluate_strategies`' output: indexed by
    ``(strategy, period)``.
    """
    pal = palette(colors)
    if metric not in table.columns:
        raise DataError(f"table has no {metric!r} column; it has {list(table.columns)}")
    fig = new_figure(f"{metric.replace('_', ' ').capitalize()}: in sample against out of "
                     "sample", height=400)
    if table.empty:
        return empty_note(fig, "no strategies evaluated")
    wide = table[metric].unstack("period")
    shades = {"in_sample": pal.strategy, "out_of_sample": pal.baseline}
    fmt = "%{y:.2f}" if "ratio" in metric else "%{y:.1%}"
    for part in wide.columns:
        fig.add_trace(go.Bar(x=[str(s) for s in wide.index],
                             y=wide[part].to_numpy(dtype=float), name=str(part).replace("_", " "),
                             marker={"color": shades.get(str(part), pal.benchmark)},
                             texttemplate=fmt, textposition="outside"))
    fig.update_layout(barmode="group", hovermode="closest",
                      yaxis={"tickformat": ".2f" if "ratio" in metric else ".0%"})
    return fig


def backtest_metrics(result: BacktestResult, search: GridSearchResult | None = None,
                     baseline: BacktestResult | None = None) -> dict[str, Any]:
    """What a backtest report emits: strategy, parameters, ``result.metrics()``; with a
    baseline its annual return, Sharpe ratio and maximum drawdown (``baseline_*``); with a
    grid search, the out-of-sample Sharpe ratio and return and the deflated Sharpe."""
    out: dict[str, Any] = {"strategy": str(result.strategy.get("name", "")),
                           "params": dict(result.strategy.get("params", {}))}
    out |= headline_metrics(result)
    if baseline is not None:
        base = baseline.metrics()
        out |= {f"baseline_{k}": base.get(k)
                for k in ("annual_return", "sharpe_ratio", "max_drawdown")}
    if search is not None:
        out |= {"in_sample_sharpe_ratio": search.in_sample.get("sharpe_ratio"),
                "out_of_sample_sharpe_ratio": search.out_of_sample.get("sharpe_ratio"),
                "out_of_sample_annual_return": search.out_of_sample.get("annual_return"),
                "deflated_sharpe": search.deflated_sharpe}
    return out


def comparison_metrics(table: pd.DataFrame, baseline: str | None = "buy_and_hold"
                       ) -> dict[str, Any]:
    """What the comparison report emits: the best strategy by Sharpe ratio and the table.

    ``table`` is :func:`metrics_table`'s output (a ``benchmark`` row is not a candidate).
    """
    candidates = table.drop(index=_BENCHMARK, errors="ignore")
    sharpe = candidates["sharpe_ratio"].astype(float)
    best = str(sharpe.idxmax()) if sharpe.notna().any() else None
    out: dict[str, Any] = {"strategies": len(candidates), "best_strategy": best,
                           "best_sharpe_ratio": float(sharpe.max()) if best else None,
                           "best_annual_return": (float(candidates.loc[best, "annual_return"])
                                                  if best else None)}
    if baseline in candidates.index:
        out["baseline_sharpe_ratio"] = float(candidates.loc[baseline, "sharpe_ratio"])
    if _BENCHMARK in table.index:
        out["benchmark_total_return"] = float(table.loc[_BENCHMARK, "total_return"])
    out["table"] = table.to_dict(orient="index")
    return out
