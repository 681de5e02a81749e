"""The worst drawdowns of one backtest: a table of their dates, depth and length, and the
shading that marks them on the equity chart.

A drawdown runs from a peak (the last close at the running high, the starting capital
included) through its trough to the recovery (the first close back at the peak). Lengths
are counted in sessions of the backtest: a drawdown that peaks on session ``p`` and
recovers on session ``q`` lasts ``q - p`` sessions; one that has not recovered is counted
to the last session. :func:`workbench.metrics.drawdown_details` finds the episodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench import metrics
from workbench.checks import whole_number
from workbench.report.figures.theme import palette

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["DRAWDOWN_COLUMNS", "LABEL_GAP", "LABEL_ROW_PX", "drawdown_periods", "drawdown_table",
           "shade_drawdowns"]

#: The columns of :func:`drawdown_table`: dates as ``YYYY-MM-DD``, the depth in percent.
DRAWDOWN_COLUMNS: tuple[str, ...] = ("Peak", "Trough", "Recovery", "Depth (%)",
                                     "Decline (sessions)", "Length (sessions)")
#: Shown for a peak that is the starting capital, and for a drawdown not yet recovered.
START, NOT_RECOVERED = "start", "not recovered"
#: How far apart (fraction of the chart's dates) two drawdown labels on one row must start:
#: a label such as ``'3: -13%'`` is about 45 px wide, 7 % of a 650 px plot.
LABEL_GAP = 0.07
#: How far up (px) each further row of drawdown labels sits.
LABEL_ROW_PX = 13


def drawdown_periods(result: BacktestResult | pd.Series, top: int = 5) -> pd.DataFrame:
    """The ``top`` deepest drawdowns of a backtest's equity, deepest first.

    Parameters
    ----------
    result
        A backtest result, or daily simple returns indexed by session date.
    top
        How many drawdowns to keep, ≥ 1.

    Returns
    -------
    pd.DataFrame
        Index ``rank`` (1 = deepest); ``peak`` (NaT when the starting capital was the
        high), ``trough``, ``recovery`` (NaT if not recovered by the last session)
        timestamps; ``drawdown`` (a fraction ≤ 0); ``decline_sessions`` (peak to trough)
        and ``length_sessions`` (peak to recovery, or to the last session), whole numbers;
        ``recovered`` (bool).

    Examples
    --------
    >>> r = pd.Series([0.1, -0.1, 0.2, -0.5, 0.1],
    ...               index=pd.bdate_range("2024-01-01", periods=5))
    >>> p = drawdown_periods(r)  # wealth 1.1, 0.99, 1.188, 0.594, 0.6534
    >>> p["drawdown"].round(6).tolist(), p["length_sessions"].tolist(), p["recovered"].tolist()
    ([-0.5, -0.1], [2, 2], [False, True])
    """
    top = whole_number(top, "top", hint="e.g. top=5 for the five worst drawdowns")
    returns = result if isinstance(result, pd.Series) else result.returns
    details = metrics.drawdown_details(returns, top=top)
    index = pd.DatetimeIndex(returns.index)

    def position(dates: pd.Series, missing: int) -> np.ndarray:
        return np.array([missing if pd.isna(d) else index.get_loc(d) for d in dates],
                        dtype=np.int64)

    peak = position(details["peak"], -1)
    trough = position(details["trough"], -1)
    recovery = position(details["recovery"], len(index) - 1)
    out = pd.DataFrame({
        "peak": pd.DatetimeIndex(details["peak"]),
        "trough": pd.DatetimeIndex(details["trough"]),
        "recovery": pd.DatetimeIndex(details["recovery"]),
        "drawdown": details["drawdown"].to_numpy(dtype=float),
        "decline_sessions": trough - peak,
        "length_sessions": recovery - peak,
        "recovered": details["recovery"].notna().to_numpy(dtype=bool),
    }, index=pd.RangeIndex(1, len(details) + 1, name="rank"))
    return out


def drawdown_table(result: BacktestResult | pd.Series, top: int = 5) -> pd.DataFrame:
    """The worst ``top`` drawdowns for reading: dates, depth in percent, lengths in sessions.

    Parameters
    ----------
    result
        A backtest result, or daily simple returns indexed by session date.
    top
        How many drawdowns to show, ≥ 1.

    Returns
    -------
    pd.DataFrame
        Index ``Rank`` (1 = deepest); columns :data:`DRAWDOWN_COLUMNS`: dates as
        ``YYYY-MM-DD`` strings (``'start'`` for a peak at the starting capital,
        ``'not recovered'``), ``Depth (%)`` in percent (-12.5 is a fall of 12.5 %), the
        lengths as whole sessions. No rows when equity never fell.

    Examples
    --------
    >>> r = pd.Series([0.1, -0.1, 0.2, -0.5, 0.1],
    ...               index=pd.bdate_range("2024-01-01", periods=5))
    >>> t = drawdown_table(r)
    >>> t["Recovery"].tolist(), t["Depth (%)"].round(6).tolist()
    (['not recovered', '2024-01-03'], [-50.0, -10.0])
    """
    p = drawdown_periods(result, top)

    def days(column: pd.Series, missing: str) -> list[str]:
        return [missing if pd.isna(d) else d.strftime("%Y-%m-%d") for d in column]

    table = pd.DataFrame({
        "Peak": days(p["peak"], START),
        "Trough": days(p["trough"], ""),
        "Recovery": days(p["recovery"], NOT_RECOVERED),
        "Depth (%)": p["drawdown"].to_numpy() * 100.0,
        "Decline (sessions)": p["decline_sessions"].to_numpy(),
        "Length (sessions)": p["length_sessions"].to_numpy(),
    }, index=pd.Index(p.index, name="Rank"), columns=list(DRAWDOWN_COLUMNS))
    return table


def shade_drawdowns(fig: go.Figure, result: BacktestResult | pd.Series, top: int = 5, *,
                    colors: str = "intl") -> go.Figure:
    """Shade the ``top`` worst drawdowns on a date chart, peak to recovery; return ``fig``.

    Each is a translucent rectangle in the palette's ``down`` colour named
    ``"drawdown <rank>"``, below the traces, from the peak (the first session when the
    starting capital was the peak) to the recovery (the last session if not recovered),
    labelled at its bottom left with its rank and depth. Labels closer than
    :data:`LABEL_GAP` of the chart's width to one already placed go up a row, so that
    neighbouring drawdowns' labels never overlap.

    Parameters
    ----------
    fig
        A figure with one date x axis.
    result
        A backtest result, or daily simple returns indexed by session date.
    top
        How many drawdowns to shade; 0 shades none.
    colors
        ``"intl"`` or ``"cn"`` (see :mod:`workbench.report.figures.theme`).
    """
    if top == 0:
        return fig
    pal = palette(colors)
    returns = result if isinstance(result, pd.Series) else result.returns
    if returns.empty:
        return fig
    first, last = returns.index[0], returns.index[-1]
    span = max((last - first).days, 1)
    rows: list[list[float]] = []  # per row of labels, where each starts (fraction of span)
    for rank, row in drawdown_periods(returns, top).iterrows():
        start = first if pd.isna(row["peak"]) else row["peak"]
        x0 = start.strftime("%Y-%m-%d")
        x1 = (last if pd.isna(row["recovery"]) else row["recovery"]).strftime("%Y-%m-%d")
        name = f"drawdown {rank}"
        fig.add_shape(type="rect", name=name, x0=x0, x1=x1, xref="x", y0=0, y1=1,
                      yref="y domain", fillcolor=pal.down, opacity=0.10, layer="below",
                      line={"width": 0})
        at = (start - first).days / span
        level = next((i for i, placed in enumerate(rows)
                      if all(abs(at - p) >= LABEL_GAP for p in placed)), len(rows))
        if level == len(rows):
            rows.append([])
        rows[level].append(at)
        fig.add_annotation(x=x0, xref="x", y=0, yref="y domain", name=name,
                           text=f"{rank}: {row['drawdown']:.0%}", showarrow=False,
                           xanchor="left", yanchor="bottom", yshift=LABEL_ROW_PX * level,
                           font={"size": 10, "color": pal.down})
    return fig
