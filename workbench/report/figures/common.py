"""Helpers shared by the figure builders: a themed empty figure, compact data, controls.

Compactness matters because every number of every figure is written into the report's
HTML: dates go out as ``YYYY-MM-DD`` strings (not ISO timestamps), slow-moving series can
be thinned to at most ``max_points`` rows, and plotly encodes numpy arrays as base64 typed
arrays (``float32`` where six significant digits are plenty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.errors import ConfigError
from workbench.report.figures.theme import TEMPLATE, register

__all__ = ["SIDE_LEGEND", "SPLIT_TEXT", "date_strings", "empty_note", "f4", "log_toggle",
           "mark_split", "new_figure", "range_selector", "refresh", "thin"]

#: A vertical legend right of the plot, for figures with many named traces.
SIDE_LEGEND: dict[str, Any] = {"orientation": "v", "yref": "paper", "yanchor": "top", "y": 1.0,
                               "xanchor": "left", "x": 1.02}


#: The label beside the split marker (:func:`mark_split`).
SPLIT_TEXT = "out of sample →"


def new_figure(title: str, *, height: int = 420, **layout: Any) -> go.Figure:
    """An empty figure with the workbench template, a title and a height in pixels."""
    register()
    fig = go.Figure()
    fig.update_layout(template=TEMPLATE, title={"text": title}, height=height, **layout)
    return fig


def date_strings(index: pd.Index | Sequence[Any]) -> np.ndarray:
    """Dates as ``YYYY-MM-DD`` strings: half the bytes of plotly's ISO timestamps.

    Examples
    --------
    >>> date_strings(pd.DatetimeIndex(["2024-01-02"])).tolist()
    ['2024-01-02']
    """
    return np.asarray(pd.DatetimeIndex(index).strftime("%Y-%m-%d"), dtype=object)


def f4(values: Any) -> np.ndarray:
    """Values as float32: plotly writes them as 4-byte typed arrays (7 significant digits)."""
    return np.asarray(values, dtype=np.float32)


def thin(frame: pd.DataFrame, max_points: int | None, how: str = "sample") -> pd.DataFrame:
    """At most ``max_points`` rows of ``frame``, evenly spread, the last row always kept.

    For slowly changing series (exposures, weights) a few hundred points draw the same
    picture as thousands and keep the HTML small. ``how="sample"`` keeps evenly spaced
    rows; ``how="max"`` keeps, per column, the largest value of each run of rows (dated by
    the run's last row), so that peaks survive. ``None`` keeps every row.

    Examples
    --------
    >>> thin(pd.DataFrame({"x": range(10)}), 4)["x"].tolist()
    [0, 3, 6, 9]
    >>> thin(pd.DataFrame({"x": [0, 5, 0, 0, 0, 0, 7, 0, 0, 0]}), 4, how="max")["x"].tolist()
    [0, 5, 7, 0]
    """
    if how not in ("sample", "max"):
        raise ConfigError(f"how must be 'sample' or 'max', got {how!r}")
    if max_points is None or len(frame) <= max_points:
        return frame
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 2:
        raise ConfigError(f"max_points must be a whole number >= 2 or None, got {max_points!r}")
    rows = np.unique(np.linspace(0, len(frame) - 1, max_points).round().astype(np.int64))
    if how == "sample":
        return frame.iloc[rows]
    bucket = np.searchsorted(rows, np.arange(len(frame)), side="left")
    out = frame.groupby(bucket).max()
    out.index = frame.index[rows]
    return out


def range_selector() -> dict[str, Any]:
    """Range-selector buttons for a date x-axis (they work in static HTML)."""
    return {
        "buttons": [
            {"count": 6, "label": "6m", "step": "month", "stepmode": "backward"},
            {"count": 1, "label": "YTD", "step": "year", "stepmode": "todate"},
            {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
            {"count": 3, "label": "3y", "step": "year", "stepmode": "backward"},
            {"label": "All", "step": "all"},
        ],
        "x": 0.0, "xanchor": "left", "y": 1.0, "yanchor": "bottom",
        "bgcolor": "#f2f2f2", "font": {"size": 11},
    }


def log_toggle(axis: str = "yaxis") -> dict[str, Any]:
    """An ``updatemenus`` entry with Linear / Log buttons for ``axis``."""
    return {
        "type": "buttons",
        "direction": "left",
        "showactive": True,
        "active": 0,
        "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom",
        "pad": {"t": 2, "r": 2},
        "font": {"size": 11},
        "buttons": [
            {"label": "Linear", "method": "relayout", "args": [{f"{axis}.type": "linear"}]},
            {"label": "Log", "method": "relayout", "args": [{f"{axis}.type": "log"}]},
        ],
    }


def empty_note(fig: go.Figure, text: str) -> go.Figure:
    """Write ``text`` in the middle of a figure that has nothing to draw; return it."""
    fig.add_annotation(text=text, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 14, "color": "#7f7f7f"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def refresh(target: go.Figure, source: go.Figure) -> go.Figure:
    """Copy the traces and layout of ``source`` into ``target`` in place; return ``target``.

    For dashboards: build a new figure with the same builder and new inputs, then refresh
    the displayed ``go.FigureWidget`` with it, so the widget updates without being
    replaced. Traces are updated one by one when both figures have the same trace types
    in the same order (the builders guarantee this for equal options), else swapped.

    Examples
    --------
    >>> a = go.Figure(go.Scatter(y=[1, 2]))
    >>> _ = refresh(a, go.Figure(go.Scatter(y=[3, 4, 5])))
    >>> list(a.data[0].y)
    [3, 4, 5]
    """
    same = [t.type for t in target.data] == [t.type for t in source.data]
    with target.batch_update():
        if same:
            for old, new in zip(target.data, source.data, strict=True):
                old.update(new.to_plotly_json(), overwrite=True)
        else:
            target.data = ()
            target.add_traces(list(source.data))
        target.layout = source.layout
    return target


def mark_split(fig: go.Figure, split: object | None, dates: pd.Index) -> go.Figure:
    """Mark the first out-of-sample day on every x axis of a time chart; return ``fig``.

    A dashed vertical line named ``"split"`` at ``split`` on each subplot (from the bottom
    to the top of its plot area), labelled :data:`SPLIT_TEXT` on the first. Nothing is
    drawn when ``split`` is None or falls outside ``dates`` (the sessions the chart draws,
    first excluded: a split on the first day leaves nothing in sample), so a marker never
    stretches an axis.

    Parameters
    ----------
    fig
        A figure whose x axes are dates (one plot or subplots from ``make_subplots``).
    split
        The first out-of-sample day (anything ``pd.Timestamp`` reads), or None.
    dates
        The dates the chart draws.

    Raises
    ------
    ConfigError
        If ``split`` is not a date.

    Examples
    --------
    >>> fig = mark_split(go.Figure(), "2024-01-03", pd.bdate_range("2024-01-01", periods=5))
    >>> [(s.name, s.x0) for s in fig.layout.shapes]
    [('split', '2024-01-03')]
    """
    if split is None:
        return fig
    try:
        day = pd.Timestamp(split)
    except (TypeError, ValueError):
        day = pd.NaT
    if pd.isna(day):
        raise ConfigError(f"split must be a date such as '2023-01-03', got {split!r}")
    days = pd.DatetimeIndex(dates)
    if days.empty or not days[0] < day <= days[-1]:
        return fig
    x = day.strftime("%Y-%m-%d")
    layout = fig.layout.to_plotly_json()
    axes = sorted((k for k in layout if k.startswith("xaxis")), key=lambda k: (len(k), k))
    for i, axis in enumerate(axes or ["xaxis"]):
        xref = "x" + axis[len("xaxis"):]
        yref = str(layout.get(axis, {}).get("anchor") or "y" + axis[len("xaxis"):])
        fig.add_shape(type="line", name="split", x0=x, x1=x, xref=xref, y0=0, y1=1,
                      yref=f"{yref} domain", line={"color": "#595959", "width": 1,
                                                   "dash": "dash"})
        if i == 0:
            fig.add_annotation(x=x, xref=xref, y=1, yref=f"{yref} domain", text=SPLIT_TEXT,
                               showarrow=False, xanchor="left", yanchor="top",
                               font={"size": 11, "color": "#595959"}, name="split",
                               bgcolor="rgba(255, 255, 255, 0.8)")  # readable over a trace
    return fig
