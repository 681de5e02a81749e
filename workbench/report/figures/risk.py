"""Risk figures: how much of each limit a backtest used over time, and what the pre-trade
checks rejected, by layer and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench import metrics
from workbench.errors import DataError
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
from workbench.risk import Layer, RiskLimits

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = [
    "REJECTION_COLUMNS",
    "USAGE_COLUMNS",
    "limit_usage",
    "limit_usage_figure",
    "rejection_table",
    "rejections_figure",
    "risk_metrics",
]

#: Columns of a rejections table (``BacktestResult.rejections``).
REJECTION_COLUMNS: tuple[str, ...] = ("date", "symbol", "side", "shares", "layer", "reason",
                                      "message")
#: The limits :func:`limit_usage` measures, with the :class:`RiskLimits` field of each.
USAGE_COLUMNS: dict[str, str] = {
    "position": "max_position_rate",
    "sector": "max_sector_rate",
    "daily_loss": "max_daily_loss_rate",
    "drawdown": "max_drawdown_rate",
    "leverage": "max_gross_leverage",
}


def limit_usage(result: BacktestResult, limits: RiskLimits | None = None) -> pd.DataFrame:
    """Fraction of each risk limit in use at every session's close (1.0 = at the limit).

    Parameters
    ----------
    result
        A backtest result.
    limits
        The limits to measure against; default the result's ``config.risk`` when it has
        one, else :class:`RiskLimits` ().

    Returns
    -------
    pd.DataFrame
        Index ``date``; columns :data:`USAGE_COLUMNS`: the largest holding's weight, the
        largest sector's weight, the day's loss (0 on a gain), the drawdown from peak
        equity and the gross exposure, each divided by its limit. Holdings drift with
        prices after the checks, so closing values above 1.0 happen.
    """
    if limits is None:
        limits = result.config.risk or RiskLimits()
    daily = result.daily
    w = result.weights()
    largest = w.max(axis=1) if w.shape[1] else pd.Series(0.0, index=daily.index)
    sectors = result.sector_exposure
    sector = sectors.max(axis=1) if sectors.shape[1] else pd.Series(0.0, index=daily.index)
    equity = daily["equity_cny"]
    loss = (-result.returns).clip(lower=0.0)
    peak = np.maximum(equity.cummax(), result.config.capital_cny)
    drawdown = 1.0 - equity / peak
    gross = w.sum(axis=1) if w.shape[1] else pd.Series(0.0, index=daily.index)
    values = {"position": largest, "sector": sector, "daily_loss": loss, "drawdown": drawdown,
              "leverage": gross}
    out = pd.DataFrame({k: v.reindex(daily.index).fillna(0.0) / getattr(limits, USAGE_COLUMNS[k])
                        for k, v in values.items()})
    out.index.name = "date"
    return out


def limit_usage_figure(result: BacktestResult, limits: RiskLimits | None = None, *,
                       max_points: int | None = 500, colors: str = "intl",
                       split: object | None = None) -> go.Figure:
    """Lines of :func:`limit_usage` per limit, with the limit itself at 100 %.

    Long periods are drawn from the largest usage of each run of sessions (``thin(...,
    how="max")``), so no peak is lost.
    ``split`` (the first out-of-sample day) is marked by a dashed line.
    """
    pal = palette(colors)
    usage = thin(limit_usage(result, limits), max_points, how="max")
    fig = new_figure("Risk limit usage at each close (100 % = at the limit)", height=420)
    x = date_strings(usage.index)
    for i, col in enumerate(usage.columns):
        fig.add_trace(go.Scatter(x=x, y=f4(usage[col]), name=col.replace("_", " "),
                                 mode="lines", line={"width": 1.2, "color": pal.series[i]},
                                 hovertemplate="%{y:.0%}"))
    fig.add_hline(y=1.0, line={"color": pal.down, "width": 1.5, "dash": "dash"},
                  annotation_text="limit", annotation_position="top left")
    fig.update_layout(yaxis={"tickformat": ".0%", "rangemode": "tozero"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, usage.index)


def rejection_table(rejections: pd.DataFrame | BacktestResult) -> pd.DataFrame:
    """Counts of rejected orders by layer and reason, layers in the order the checks run.

    Parameters
    ----------
    rejections
        A table with :data:`REJECTION_COLUMNS` (``layer`` and ``reason`` at least), or a
        result that has one as ``rejections``.

    Returns
    -------
    pd.DataFrame
        Columns ``layer``, ``reason``, ``orders``, ``shares`` (0 when the table has no
        ``shares`` column); sorted by layer order, then by count.

    Examples
    --------
    >>> t = pd.DataFrame({"layer": ["sector", "position_size", "sector"],
    ...                   "reason": ["SECTOR", "POSITION_SIZE", "SECTOR"]})
    >>> rejection_table(t)[["layer", "orders"]].values.tolist()
    [['position_size', 1], ['sector', 2]]
    """
    table = getattr(rejections, "rejections", rejections)
    if not isinstance(table, pd.DataFrame) or not {"layer", "reason"} <= set(table.columns):
        raise DataError("expected a rejections table with columns 'layer' and 'reason' (a "
                        "BacktestResult run with BacktestConfig(risk=RiskLimits(...)) has one)")
    columns = ["layer", "reason", "orders", "shares"]
    if table.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("layer", "reason") else int)
                             for c in columns})
    frame = pd.DataFrame({
        "layer": table["layer"].astype(str).to_numpy(),
        "reason": table["reason"].astype(str).to_numpy(),
        "shares": (table["shares"].to_numpy(dtype=np.int64) if "shares" in table
                   else np.zeros(len(table), dtype=np.int64)),
    })
    g = frame.groupby(["layer", "reason"], sort=False)["shares"].agg(["size", "sum"])
    g = g.reset_index().rename(columns={"size": "orders", "sum": "shares"})
    order = {layer.value: i for i, layer in enumerate(Layer)}
    g["_rank"] = g["layer"].map(order).fillna(len(order))
    g = g.sort_values(["_rank", "orders", "reason"], ascending=[True, False, True])
    return g[columns].reset_index(drop=True)


def rejections_figure(rejections: pd.DataFrame | BacktestResult, *, colors: str = "intl"
                      ) -> go.Figure:
    """Horizontal bars of rejected orders per layer, stacked by reason (one trace each)."""
    pal = palette(colors)
    table = rejection_table(rejections)
    total = int(table["orders"].sum()) if len(table) else 0
    fig = new_figure(f"Orders rejected by the pre-trade checks: {total:,}",
                     height=max(260, 120 + 36 * table["layer"].nunique()))
    if table.empty:
        return empty_note(fig, "no order was rejected")
    layers = list(dict.fromkeys(table["layer"]))
    for i, (reason, rows) in enumerate(table.groupby("reason", sort=False)):
        counts = rows.set_index("layer")["orders"].reindex(layers)
        fig.add_trace(go.Bar(y=layers, x=counts.to_numpy(dtype=float), name=str(reason),
                             orientation="h", marker={"color": pal.series[i % len(pal.series)]},
                             hovertemplate="%{y}: %{x:,} orders<extra>" + str(reason)
                             + "</extra>"))
    fig.update_layout(barmode="stack", hovermode="closest",
                      yaxis={"autorange": "reversed", "type": "category", "title": "layer"},
                      xaxis={"title": "orders"})
    return fig


def risk_metrics(result: BacktestResult, limits: RiskLimits | None = None) -> dict[str, Any]:
    """What a risk report emits: rejections by layer, and the peak usage of each limit.

    Returns
    -------
    dict
        ``rejections`` (total), ``rejections_<layer>`` per layer that occurred,
        ``peak_<limit>_usage`` per :data:`USAGE_COLUMNS` (1.0 = at the limit), and
        ``max_drawdown`` of the run.
    """
    table = rejection_table(result)
    out: dict[str, Any] = {"rejections": int(table["orders"].sum())}
    for layer, count in table.groupby("layer", sort=False)["orders"].sum().items():
        out[f"rejections_{layer}"] = int(count)
    usage = limit_usage(result, limits)
    for col in usage.columns:
        out[f"peak_{col}_usage"] = float(usage[col].max()) if len(usage) else 0.0
    out["max_drawdown"] = metrics.max_drawdown(result.returns) if len(usage) else 0.0
    return out
