"""Figures of a parameter sweep (:func:`workbench.sweep.run`): a heatmap of the Sharpe ratio
over two parameters, in sample against out of sample, and the chosen parameters' equity.

Each figure has a pure data function beside it (``heatmap_data``, ``in_out_data``,
``sweep_equity_data``). Only rows at the cost multiplier the parameters were chosen at
(:attr:`workbench.sweep.SweepResult.choice_cost`) and without an error are drawn; for a
walk-forward sweep the heatmap and scatter show one window (default: the last). Titles
carry the number of combinations tried: the more there are, the higher the best in-sample
Sharpe ratio climbs by luck alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.errors import ConfigError
from workbench.format import label
from workbench.report.figures.common import (
    date_strings,
    empty_note,
    f4,
    mark_split,
    new_figure,
    range_selector,
)
from workbench.report.figures.theme import TEMPLATE, palette

if TYPE_CHECKING:
    from workbench.result import BacktestResult
    from workbench.sweep import SweepResult

__all__ = [
    "heatmap_data",
    "in_out_data",
    "sweep_equity_data",
    "sweep_equity_figure",
    "sweep_heatmap_figure",
    "sweep_scatter_figure",
]

_PERIODS = {"is": "in sample", "oos": "out of sample"}


def _window(result: SweepResult, window_id: int | None) -> int:
    last = int(result.windows.index[-1])
    if window_id is None:
        return last
    if window_id not in result.windows.index:
        raise ConfigError(f"window_id {window_id!r} is not a window of this sweep; give 0.."
                          f"{last}")
    return int(window_id)


def _rows(result: SweepResult, window_id: int | None) -> pd.DataFrame:
    """Rows drawn: the window's, at the choice cost multiplier, that ran without error."""
    t = result.table
    keep = ((t["window_id"] == _window(result, window_id))
            & (t["cost_multiplier"] == result.choice_cost) & t["error"].isna())
    return t.loc[keep]


def _label(row: pd.Series, names: tuple[str, ...]) -> str:
    return ", ".join(f"{n}={row[n]}" for n in names) or "defaults"


def _metric_name(metric: str) -> str:
    return metric.replace("_", " ").capitalize()


def _chosen(result: SweepResult, window_id: int | None) -> str | None:
    rid = result.chosen.loc[_window(result, window_id), "row_id"]
    return None if rid is None or pd.isna(rid) else str(rid)


def heatmap_data(result: SweepResult, x: str, y: str | None = None,
                 metric: str = "sharpe_ratio", *, period: str = "is",
                 window_id: int | None = None) -> pd.DataFrame:
    """A metric over one or two parameters: ``y`` values (rows) × ``x`` values (columns).

    Where the grid has further parameters, each cell holds the best value over them (what
    the search could pick there). Without ``y`` the frame has one row.

    Parameters
    ----------
    result
        A sweep.
    x, y
        Grid parameters (:attr:`workbench.sweep.SweepResult.parameters`).
    metric
        A key of :data:`workbench.research.trials.METRIC_COLUMNS`.
    period
        ``"is"`` (in sample) or ``"oos"`` (out of sample).
    window_id
        Walk-forward: the window (default the last).

    Raises
    ------
    ConfigError
        For a parameter not in the grid, an unknown period or window.
    """
    if period not in _PERIODS:
        raise ConfigError(f"period must be 'is' or 'oos', got {period!r}")
    for name in (x, y):
        if name is not None and name not in result.parameters:
            raise ConfigError(f"{name!r} is not a parameter of this sweep; its grid has "
                              f"{list(result.parameters)}")
    column = f"{period}_{metric}"
    if column not in result.table.columns:
        raise ConfigError(f"no metric {metric!r}; the rows hold "
                          f"{[c[3:] for c in result.table.columns if c.startswith('is_')]}")
    rows = _rows(result, window_id)
    keys = [x] if y is None else [y, x]
    values = rows.groupby(keys, sort=True)[column].max()
    if y is None:
        return values.to_frame().T.rename(index={column: metric})
    return values.unstack(x)


def sweep_heatmap_figure(result: SweepResult, x: str | None = None, y: str | None = None,
                         metric: str = "sharpe_ratio", *, window_id: int | None = None,
                         colors: str = "intl") -> go.Figure:
    """Heatmaps of a metric over two parameters, in sample (left) and out of sample (right).

    One colour scale for both, centred on 0 (gains in ``up``, losses in ``down``); the
    chosen combination is outlined. ``x`` and ``y`` default to the grid's first two
    parameters.
    """
    pal = palette(colors)
    names = result.parameters
    x = x if x is not None else (names[0] if names else None)
    y = y if y is not None else (names[1] if len(names) > 1 and names[1] != x else None)
    title = (f"{_metric_name(metric)} over the grid: {result.n_trials} combinations "
             f"of {result.strategy}")
    if x is None:
        return empty_note(new_figure(title, height=360), "the grid has no parameters")
    parts = {p: heatmap_data(result, x, y, metric, period=p, window_id=window_id)
             for p in _PERIODS}
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1,
                        subplot_titles=tuple(p.capitalize() for p in _PERIODS.values()))
    height = max(320, 160 + 36 * len(parts["is"]))
    fig.update_layout(template=TEMPLATE, height=height, title={"text": title})
    finite = np.concatenate([d.to_numpy(dtype=float).ravel() for d in parts.values()])
    finite = finite[np.isfinite(finite)]
    bound = float(np.max(np.abs(finite))) if finite.size else 1.0
    fmt = ".2f" if "ratio" in metric else ".1%"
    rid = _chosen(result, window_id)
    for col, (period, data) in enumerate(parts.items(), start=1):
        xs = [str(v) for v in data.columns]
        ys = [str(v) for v in data.index]
        fig.add_trace(go.Heatmap(
            z=data.to_numpy(dtype=float), x=xs, y=ys, coloraxis="coloraxis",
            texttemplate=f"%{{z:{fmt}}}", textfont={"size": 11}, xgap=1, ygap=1,
            name=_PERIODS[period],
            hovertemplate=f"{x}=%{{x}}" + (f", {y}=%{{y}}" if y else "")
            + f": %{{z:{fmt}}}<extra>{_PERIODS[period]}</extra>"), row=1, col=col)
        if rid is not None:
            pick = result.table.loc[rid]
            fig.add_trace(go.Scatter(
                x=[str(pick[x])], y=[str(pick[y]) if y else ys[0]], mode="markers",
                name="chosen", showlegend=col == 1, hoverinfo="skip",
                marker={"symbol": "square-open", "size": 26, "color": "#262626",
                        "line": {"width": 2}}), row=1, col=col)
    fig.update_layout(coloraxis={"colorscale": pal.diverging(), "cmid": 0.0, "cmin": -bound,
                                 "cmax": bound, "colorbar": {"title": {"text": label(metric)},
                                              "tickformat": fmt}},
                      hovermode="closest")
    fig.update_xaxes(type="category", title={"text": x}, showgrid=False)
    fig.update_yaxes(type="category", title={"text": y or ""}, showgrid=False)
    return fig


def in_out_data(result: SweepResult, metric: str = "sharpe_ratio", *,
                window_id: int | None = None) -> pd.DataFrame:
    """One row per combination: ``label``, ``in_sample``, ``out_of_sample`` and ``chosen``."""
    rows = _rows(result, window_id)
    names = result.parameters
    return pd.DataFrame({
        "label": [_label(r, names) for _, r in rows.iterrows()],
        "in_sample": rows[f"is_{metric}"].to_numpy(dtype=float),
        "out_of_sample": rows[f"oos_{metric}"].to_numpy(dtype=float),
        "chosen": rows.index == _chosen(result, window_id),
    }, index=rows.index)


def sweep_scatter_figure(result: SweepResult, metric: str = "sharpe_ratio", *,
                         window_id: int | None = None, colors: str = "intl") -> go.Figure:
    """Each combination's metric out of sample against in sample, the pick highlighted.

    Points on the dashed diagonal did as well out of sample as in sample; a cloud with no
    upward slope means the in-sample ranking carried no information.
    """
    pal = palette(colors)
    data = in_out_data(result, metric, window_id=window_id)
    dsr = result.deflated_sharpe
    note = "" if not np.isfinite(dsr) else f", deflated Sharpe of the pick {dsr:.2f}"
    fig = new_figure(f"{_metric_name(metric)}: in sample against out of sample "
                     f"({result.n_trials} combinations tried{note})", height=460)
    if data.empty:
        return empty_note(fig, "no combination ran without error")
    fmt = ".2f" if "ratio" in metric else ".1%"
    both = data[["in_sample", "out_of_sample"]].to_numpy(dtype=float)
    finite = both[np.isfinite(both)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="out = in",
                             hoverinfo="skip",
                             line={"color": pal.benchmark, "width": 1, "dash": "dash"}))
    for chosen, name, color, size in ((False, "combinations", pal.strategy, 9),
                                      (True, "chosen", pal.baseline, 15)):
        part = data.loc[data["chosen"] == chosen]
        fig.add_trace(go.Scatter(
            x=f4(part["in_sample"]), y=f4(part["out_of_sample"]), mode="markers", name=name,
            text=part["label"].tolist(), marker={"color": color, "size": size,
                                                 "line": {"width": 1, "color": "#ffffff"}},
            hovertemplate=f"%{{text}}<br>in sample %{{x:{fmt}}}, out of sample "
                          f"%{{y:{fmt}}}<extra></extra>"))
    fig.update_layout(hovermode="closest",
                      xaxis={"title": {"text": "in sample"}, "tickformat": fmt},
                      yaxis={"title": {"text": "out of sample"}, "tickformat": fmt})
    return fig


def sweep_equity_data(result: SweepResult, baseline: BacktestResult | None = None
                      ) -> pd.DataFrame:
    """Growth of 1 CNY of the pick: ``in_sample`` then ``out_of_sample`` chained on from
    where it ended, and ``benchmark`` likewise where the market has one. With a
    ``baseline`` result (:func:`workbench.research.equal_weight_baseline` over the whole
    period), its growth of 1 CNY on the same sessions as ``baseline``.

    Walk-forward: the stitched test periods only (``out_of_sample``).
    """
    out = _pick_growth(result)
    if baseline is not None and not baseline.daily.empty and not out.empty:
        growth = baseline.daily["equity_cny"] / baseline.config.capital_cny
        out["baseline"] = growth.reindex(out.index)
    return out


def _pick_growth(result: SweepResult) -> pd.DataFrame:
    if result.mode == "walk_forward" or result.in_sample_result is None:
        if result.equity is None:
            return pd.DataFrame(columns=["out_of_sample"], dtype=float)
        return pd.DataFrame({"out_of_sample": result.equity / result.config.capital_cny})
    parts = {"in_sample": result.in_sample_result, "out_of_sample": result.out_of_sample_result}
    curves, bench, level, bench_level = {}, [], 1.0, 1.0
    for name, r in parts.items():
        if r is None or r.daily.empty:
            continue
        growth = r.daily["equity_cny"] / r.config.capital_cny * level
        curves[name] = growth
        level = float(growth.iloc[-1])
        close = r.daily["benchmark_close"].astype(float).ffill()
        if close.notna().any():
            bench.append(close / close.dropna().iloc[0] * bench_level)
            bench_level = float(bench[-1].dropna().iloc[-1])
    out = pd.DataFrame(curves)
    if bench:
        out["benchmark"] = pd.concat(bench)
    return out


def sweep_equity_figure(result: SweepResult, *, baseline: BacktestResult | None = None,
                        colors: str = "intl") -> go.Figure:
    """The pick's growth of 1 CNY in sample, then out of sample (another colour), against
    the equal-weight ``baseline`` (dashed) when given and the benchmark (dotted grey);
    walk-forward: the stitched test periods."""
    pal = palette(colors)
    data = sweep_equity_data(result, baseline)
    params = ", ".join(f"{k}={v}" for k, v in result.best_params.items()) or "defaults"
    fig = new_figure(f"Equity of the pick ({params}): growth of 1 CNY", height=440)
    if data.empty:
        return empty_note(fig, "no combination was chosen")
    styles = {"in_sample": {"color": pal.strategy, "width": 2},
              "out_of_sample": {"color": pal.baseline, "width": 2},
              "benchmark": {"color": pal.benchmark, "width": 1.5, "dash": "dot"},
              "baseline": {"color": pal.series[2], "width": 1.5, "dash": "dash"}}
    labels = {"baseline": "equal-weight buy and hold"}
    for name in data.columns:
        series = data[name].dropna()
        fig.add_trace(go.Scatter(x=date_strings(series.index), y=f4(series),
                                 name=labels.get(name, name.replace("_", " ")),
                                 mode="lines",
                                 line=styles[name], hovertemplate="%{y:.3f}"))
    fig.update_layout(yaxis={"title": {"text": "growth of 1 CNY"}},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    if "in_sample" in data and "out_of_sample" in data:
        mark_split(fig, data["out_of_sample"].first_valid_index(), data.index)
    return fig
