"""Exposure and turnover of one backtest: the fraction of equity invested and the holdings
count per session, and how fast the portfolio is replaced.

A strategy that sits in cash earns cash's return, and its full-period figures then describe
the cash as much as the picks; this figure shows when that happened, against the threshold
of the result's under-invested warning (:data:`workbench.result.MIN_INVESTED_RATE`).
Turnover is shown as the headline metric states it, times a year
(:attr:`workbench.result.BacktestResult.turnover` averaged and annualised), over a trailing
window and for the whole run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

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
from workbench.report.figures.theme import palette
from workbench.result import MIN_INVESTED_RATE, invested_rate

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["exposure_data", "exposure_figure", "turnover_data", "turnover_figure"]


def exposure_data(result: BacktestResult) -> pd.DataFrame:
    """Invested fraction and holdings count per session.

    Returns
    -------
    pd.DataFrame
        Index ``date``; ``invested_rate`` (holdings at the close / equity, a fraction:
        ``daily["invested_rate"]``, or computed from equity and cash when a result lacks
        it), ``cash_rate`` (``1 - invested_rate``) and ``n_positions`` (stocks held).
    """
    d = result.daily
    invested = (d["invested_rate"] if "invested_rate" in d.columns
                else invested_rate(d["equity_cny"], d["cash_cny"]))
    invested = invested.astype(float)
    return pd.DataFrame({"invested_rate": invested, "cash_rate": 1.0 - invested,
                         "n_positions": d["n_positions"].astype(int)}, index=d.index)


def exposure_figure(result: BacktestResult, *, max_points: int | None = 600,
                    colors: str = "intl", split: object | None = None) -> go.Figure:
    """Fraction of equity invested per session (filled), the holdings count on a second axis.

    A dashed line marks :data:`~workbench.result.MIN_INVESTED_RATE`: a result warns when
    it is below that line on more than :data:`~workbench.result.MAX_SESSIONS` sessions.

    Parameters
    ----------
    result
        A backtest result.
    max_points
        At most this many sessions are drawn (evenly spread, the last kept); None: all.
    colors
        ``"intl"`` or ``"cn"`` (see :mod:`workbench.report.figures.theme`).
    split
        The first out-of-sample day, marked by a dashed line; None: no marker.

    Returns
    -------
    go.Figure
        Two traces, invested fraction (left axis, %) and holdings count (right axis).
    """
    pal = palette(colors)
    fig = new_figure("Exposure: fraction of equity invested", height=360)
    if result.daily.empty:
        return empty_note(fig, "no sessions")
    data = thin(exposure_data(result), max_points)
    x = date_strings(data.index)
    fig.add_trace(go.Scatter(x=x, y=f4(data["invested_rate"]), name="invested", mode="lines",
                             fill="tozeroy", fillcolor=_translucent(pal.strategy, 0.3),
                             line={"color": pal.strategy, "width": 1.2},
                             hovertemplate="%{y:.1%}"))
    fig.add_trace(go.Scatter(x=x, y=data["n_positions"].to_numpy(), name="stocks held",
                             mode="lines", yaxis="y2",
                             line={"color": pal.baseline, "width": 1, "shape": "hv"},
                             hovertemplate="%{y:d}"))
    fig.add_hline(y=MIN_INVESTED_RATE, line={"color": pal.benchmark, "dash": "dash",
                                             "width": 1},
                  annotation_text=f"{MIN_INVESTED_RATE:.0%}: warning threshold",
                  annotation_position="bottom right", annotation_font_size=11)
    fig.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1.05], "title": "invested"},
                      yaxis2={"overlaying": "y", "side": "right", "rangemode": "tozero",
                              "showgrid": False, "title": "stocks held", "tickformat": ",d"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, data.index)


def turnover_data(result: BacktestResult, window: int = 63) -> pd.DataFrame:
    """Daily turnover and its annualised trailing mean over ``window`` sessions.

    Annualised with the sessions per year of the run's calendar
    (:func:`workbench.metrics.annualisation`), as the headline ``annual_turnover``, which is
    the whole run's mean ``turnover`` times sessions per year.

    Parameters
    ----------
    result
        A backtest result.
    window
        Sessions in the trailing window, ≥ 2 (63: about a quarter).

    Returns
    -------
    pd.DataFrame
        Index ``date``; ``turnover`` (exchange fills' value / 2 / equity that session, a
        fraction: :attr:`~workbench.result.BacktestResult.turnover`) and
        ``annual_turnover`` (its mean over the trailing ``window`` sessions times sessions
        per year, times a year: 2.0 replaces the portfolio twice a year; NaN for the first
        ``window - 1`` sessions).
    """
    window = metrics.check_window(window)
    daily = result.turnover.astype(float)
    ppy = metrics.annualisation(daily.index).periods_per_year
    return pd.DataFrame({"turnover": daily,
                         "annual_turnover": daily.rolling(window).mean() * ppy},
                        index=daily.index)


def turnover_figure(result: BacktestResult, window: int = 63, *,
                    max_points: int | None = 600, colors: str = "intl",
                    split: object | None = None) -> go.Figure:
    """Turnover over time: the trailing ``window``-session rate, times a year, and the whole
    run's (dashed).

    Parameters
    ----------
    result
        A backtest result.
    window
        Sessions in the trailing window, ≥ 2.
    max_points
        At most this many sessions are drawn (evenly spread, the last kept); None: all.
    colors
        ``"intl"`` or ``"cn"`` (see :mod:`workbench.report.figures.theme`).
    split
        The first out-of-sample day, marked by a dashed line; None: no marker.

    Returns
    -------
    go.Figure
        One trace (the trailing rate, ×/yr) and a horizontal line at the whole run's.
    """
    pal = palette(colors)
    fig = new_figure(f"Turnover: trailing {window} sessions, times a year", height=340)
    if result.daily.empty:
        return empty_note(fig, "no sessions")
    full = turnover_data(result, window)
    whole = float(full["turnover"].mean() * metrics.annualisation(full.index).periods_per_year)
    data = thin(full, max_points)
    fig.add_trace(go.Scatter(x=date_strings(data.index), y=f4(data["annual_turnover"]),
                             name=f"trailing {window} sessions", mode="lines",
                             line={"color": pal.strategy, "width": 1.5},
                             hovertemplate="%{y:.2f}×/yr"))
    fig.add_hline(y=whole, line={"color": pal.benchmark, "dash": "dash", "width": 1},
                  annotation_text=f"whole run: {whole:.2f}×/yr",
                  annotation_position="top right", annotation_font_size=11)
    fig.update_layout(yaxis={"title": "times a year", "rangemode": "tozero",
                             "tickformat": ".1f"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, data.index)


def _translucent(color: str, alpha: float) -> str:
    """A ``#rrggbb`` colour as ``rgba(...)`` with opacity ``alpha`` (0-1).

    Examples
    --------
    >>> _translucent("#1f4e79", 0.3)
    'rgba(31, 78, 121, 0.3)'
    """
    r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha:g})"
