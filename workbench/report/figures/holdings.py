"""What a backtest held and what it cost: sector exposure, position weights, the trades on a
candlestick chart, and costs by kind.

As in :mod:`workbench.report.figures.performance`, every builder has a pure data function
next to it. Slow-moving series are thinned to ``max_points`` rows and the candlestick offers a
bounded number of symbols (:data:`MAX_SYMBOLS`), so a ten-year report stays a few MB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench import indicators
from workbench.errors import ConfigError, LookupFailed, did_you_mean
from workbench.report.figures.common import (
    SIDE_LEGEND,
    date_strings,
    empty_note,
    f4,
    mark_split,
    new_figure,
    range_selector,
    thin,
)
from workbench.report.figures.theme import palette
from workbench.trades import is_exchange_trade

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.result import BacktestResult

__all__ = [
    "COST_KINDS",
    "MAX_SYMBOLS",
    "candlestick_figure",
    "cost_breakdown",
    "costs_figure",
    "most_traded",
    "price_data",
    "sector_exposure_figure",
    "security_names",
    "weights_data",
    "weights_figure",
]

#: Most symbols one candlestick figure offers in its dropdown (each adds ~150 KB of HTML
#: for ten years of bars).
MAX_SYMBOLS = 10
#: The trade log's cost columns, CNY: the three charges and the slippage inside fill prices.
COST_KINDS: tuple[str, ...] = ("commission", "stamp_duty", "transfer_fee", "slippage")
#: Fills that are trades the strategy made (not settlements or corporate actions).


#: Appended to every name of a synthetic market's securities wherever a report shows them:
#: their codes and names look real, the companies are invented.
SYNTHETIC_MARK = " (synthetic)"


def security_names(market: Market | None) -> dict[str, str]:
    """``{symbol: name}`` from a market's security master (empty for None).

    On a synthetic market every name carries :data:`SYNTHETIC_MARK`, so no invented company
    passes for a listed one in a legend or a table.
    """
    if market is None:
        return {}
    sec = market.securities
    mark = SYNTHETIC_MARK if market.meta.get("source") == "synthetic" else ""
    return {s: f"{n}{mark}" for s, n in zip(sec["symbol"].astype(str), sec["name"].astype(str),
                                             strict=True)}


def _label(symbol: str, names: Mapping[str, str]) -> str:
    name = names.get(symbol)
    return f"{symbol} {name}" if name else symbol


# -- sector exposure ---------------------------------------------------------------------------
def sector_exposure_figure(result: BacktestResult, *, max_points: int | None = 250,
                           colors: str = "intl", split: object | None = None) -> go.Figure:
    """Stacked area of each sector's weight in equity per session, cash on top.

    Sectors never held are left out; the largest on average are drawn first (bottom), each
    in its own colour of the palette (24 of them: no two sectors share one).
    ``split`` (the first out-of-sample day) is marked by a dashed line.
    """
    pal = palette(colors)
    exp = result.sector_exposure
    exp = exp.loc[:, exp.abs().sum() > 0]
    exp = exp[exp.mean().sort_values(ascending=False).index]
    fig = new_figure("Sector exposure (fraction of equity)", height=420)
    if exp.empty:
        return empty_note(fig, "no positions held")
    data = thin(exp.assign(cash=(1.0 - exp.sum(axis=1)).clip(lower=0.0)), max_points)
    x = date_strings(data.index)
    for i, sector in enumerate(data.columns):
        color = pal.other if sector == "cash" else pal.series[i % len(pal.series)]
        fig.add_trace(go.Scatter(x=x, y=f4(data[sector]), name=str(sector), mode="lines",
                                 stackgroup="exposure", line={"width": 0.5, "color": color},
                                 hovertemplate="%{y:.1%}"))
    fig.update_layout(yaxis={"tickformat": ".0%", "range": [0, 1]},
                      legend=SIDE_LEGEND | {"traceorder": "reversed"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, data.index)


# -- position weights --------------------------------------------------------------------------
def weights_data(result: BacktestResult, top: int = 10) -> pd.DataFrame:
    """Weights of the ``top`` names by average weight, plus ``other`` for the rest.

    Returns
    -------
    pd.DataFrame
        Index ``date`` (every session), one column per top symbol (largest average first)
        and ``other``; values are fractions of equity.
    """
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ConfigError(f"top must be a whole number >= 1, got {top!r}")
    wide = result.weights()
    order = wide.mean().sort_values(ascending=False, kind="stable").index
    keep = [str(s) for s in order[:top]]
    out = pd.DataFrame({s: wide[s].to_numpy() for s in keep}, index=wide.index)
    out["other"] = wide[order[top:]].sum(axis=1) if len(order) > top else 0.0
    return out


def weights_figure(result: BacktestResult, top: int = 10, *,
                   names: Mapping[str, str] | None = None, max_points: int | None = 250,
                   colors: str = "intl", split: object | None = None) -> go.Figure:
    """Stacked area of the ``top`` holdings' weights and ``other``.

    ``names`` (``{symbol: name}``, see :func:`security_names`) labels the legend with the
    stocks' names, e.g. ``600519.SH 贵州茅台``;
    ``split`` (the first out-of-sample day) is marked by a dashed line.
    """
    pal = palette(colors)
    data = thin(weights_data(result, top), max_points)
    fig = new_figure(f"Position weights: top {top} names and the rest", height=420)
    if data.drop(columns="other").empty:
        return empty_note(fig, "no positions held")
    x = date_strings(data.index)
    for i, col in enumerate(data.columns):
        color = pal.other if col == "other" else pal.series[i % len(pal.series)]
        fig.add_trace(go.Scatter(x=x, y=f4(data[col]), mode="lines", stackgroup="weights",
                                 name=col if col == "other" else _label(col, names or {}),
                                 line={"width": 0.5, "color": color}, hovertemplate="%{y:.1%}"))
    fig.update_layout(yaxis={"tickformat": ".0%"},
                      legend=SIDE_LEGEND | {"traceorder": "reversed"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return mark_split(fig, split, data.index)


# -- candlestick with trades -------------------------------------------------------------------
def most_traded(result: BacktestResult, n: int = 5, since: object = None) -> list[str]:
    """The ``n`` symbols with the most strategy fills (ties: larger traded value, then name).

    ``since`` counts only fills on or after that date.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"symbol": ["B", "A", "A", "B", "C"], "shares": [100] * 5,
    ...                   "price": [1.0, 2.0, 2.0, 1.0, 9.0], "reason": ["signal"] * 5})
    >>> most_traded(SimpleNamespace(trades=t), 2)
    ['A', 'B']
    """
    t = result.trades
    keep = is_exchange_trade(t["reason"])
    if since is not None:
        keep &= t["date"] >= pd.Timestamp(since)
    t = t.loc[keep]
    if t.empty:
        return []
    stats = pd.DataFrame({"symbol": t["symbol"].astype(str).to_numpy(),
                          "value": (t["shares"] * t["price"]).to_numpy()})
    g = stats.groupby("symbol")["value"].agg(["size", "sum"])
    g = g.reset_index().sort_values(["size", "sum", "symbol"], ascending=[False, False, True])
    return g["symbol"].head(n).tolist()


def price_data(market: Market, symbol: str, start: object = None, end: object = None, *,
               sma_windows: Sequence[int] = (20, 60), bollinger_window: int = 20,
               bollinger_k: float = 2.0) -> pd.DataFrame:
    """One symbol's raw OHLC bars with moving averages and Bollinger bands, ``start..end``.

    Indicators are computed on the backward-adjusted close and expressed in each day's raw
    price (divided by that day's ``adj_factor``), so they line up with the candles and do
    not jump on ex-dates. They use the bars before ``start`` as warm-up.

    Returns
    -------
    pd.DataFrame
        Index ``date``; ``open, high, low, close`` (CNY, raw), ``sma_<w>`` per window and
        ``bb_upper``, ``bb_lower``.

    Raises
    ------
    LookupFailed
        For a symbol the market has no bars for.
    """
    bars = market.bars
    rows = bars.loc[bars["symbol"] == symbol]
    if rows.empty:
        raise LookupFailed(f"no bars for symbol {symbol!r}; "
                           f"{did_you_mean(str(symbol), market.symbols)}")
    rows = rows.set_index("date").sort_index()
    adj_close = rows["close"] * rows["adj_factor"]
    out = rows[["open", "high", "low", "close"]].astype(float)
    for w in sma_windows:
        out[f"sma_{w}"] = indicators.sma(adj_close, int(w)) / rows["adj_factor"]
    bands = indicators.bollinger(adj_close, bollinger_window, bollinger_k)
    out["bb_upper"] = bands["upper"] / rows["adj_factor"]
    out["bb_lower"] = bands["lower"] / rows["adj_factor"]
    lo = pd.Timestamp(start) if start is not None else out.index[0]
    hi = pd.Timestamp(end) if end is not None else out.index[-1]
    out = out.loc[(out.index >= lo) & (out.index <= hi)]
    out.index.name = "date"
    return out


def _trade_markers(result: BacktestResult, symbol: str, side: str, start: pd.Timestamp
                   ) -> pd.DataFrame:
    t = result.trades
    keep = ((t["symbol"].astype(str) == symbol) & (t["side"].astype(str) == side)
            & (t["reason"].astype(str) != "corporate_action") & (t["date"] >= start))
    return t.loc[keep, ["date", "shares", "price", "reason"]]


def candlestick_figure(market: Market, result: BacktestResult,
                       symbols: Sequence[str] | None = None, *, top: int = 5,
                       sessions: int | None = 500, sma_windows: Sequence[int] = (20, 60),
                       bollinger_window: int = 20, colors: str = "intl",
                       split: object | None = None) -> go.Figure:
    """Candlesticks with SMAs, Bollinger bands and the strategy's buys and sells.

    Shows the last ``sessions`` sessions of the backtest (about two years by default; None
    for the whole period: ten years of daily candles for five symbols add about 1.5 MB
    to a page). A dropdown switches among ``symbols`` (default: the ``top`` most-traded
    in that window, see :func:`most_traded`); at most :data:`MAX_SYMBOLS`. Buys are
    ``up``-coloured triangles at the fill price, sells ``down``-coloured ones. Every symbol
    contributes the same traces in the same order: candlestick, one line per SMA, upper and
    lower band, buys, sells. ``split`` (the first out-of-sample day) is marked by a dashed
    line when it falls in the window shown.

    Raises
    ------
    ConfigError
        For more than :data:`MAX_SYMBOLS` symbols.
    LookupFailed
        For a symbol without bars.
    """
    pal = palette(colors)
    days = result.daily.index
    if sessions is not None and (isinstance(sessions, bool) or not isinstance(sessions, int)
                                 or sessions < 2):
        raise ConfigError(f"sessions must be a whole number >= 2 or None, got {sessions!r}")
    start = days[max(0, len(days) - sessions)] if sessions is not None and len(days) else None
    chosen = list(symbols) if symbols is not None else most_traded(result, top, since=start)
    if len(chosen) > MAX_SYMBOLS:
        raise ConfigError(f"{len(chosen)} symbols asked for; a candlestick figure offers at "
                          f"most {MAX_SYMBOLS} (each adds its bars to the HTML); pick fewer")
    names = security_names(market)
    fig = new_figure("Prices and trades", height=520)
    if not chosen:
        return empty_note(fig, "no trades to show")
    start = start if start is not None else days[0]
    end = days[-1]
    per_symbol = 5 + len(sma_windows)
    for i, symbol in enumerate(chosen):
        data = price_data(market, symbol, start, end, sma_windows=sma_windows,
                          bollinger_window=bollinger_window)
        x = date_strings(data.index)
        visible = i == 0
        fig.add_trace(go.Candlestick(
            x=x, open=f4(data["open"]), high=f4(data["high"]), low=f4(data["low"]),
            close=f4(data["close"]), name=_label(symbol, names), visible=visible,
            increasing={"line": {"color": pal.up, "width": 1}, "fillcolor": pal.up},
            decreasing={"line": {"color": pal.down, "width": 1}, "fillcolor": pal.down}))
        for j, w in enumerate(sma_windows):
            fig.add_trace(go.Scatter(x=x, y=f4(data[f"sma_{w}"]), name=f"SMA {w}",
                                     mode="lines", visible=visible, hoverinfo="skip",
                                     line={"width": 1.2, "color": pal.series[1 + j]}))
        for band in ("bb_upper", "bb_lower"):
            fig.add_trace(go.Scatter(
                x=x, y=f4(data[band]), mode="lines", visible=visible, hoverinfo="skip",
                name=f"Bollinger {bollinger_window}", legendgroup="bollinger",
                showlegend=band == "bb_upper",
                line={"width": 0.8, "color": pal.benchmark, "dash": "dot"}))
        for side, color, shape in (("buy", pal.up, "triangle-up"),
                                   ("sell", pal.down, "triangle-down")):
            t = _trade_markers(result, symbol, side, start)
            fig.add_trace(go.Scatter(
                x=date_strings(t["date"]), y=t["price"].to_numpy(dtype=float), mode="markers",
                name=side, visible=visible,
                marker={"symbol": shape, "size": 10, "color": color,
                        "line": {"width": 1, "color": "#262626"}},
                customdata=np.column_stack([t["shares"].to_numpy(),
                                            t["reason"].astype(str).to_numpy()]),
                hovertemplate=(f"{side} %{{customdata[0]:,}} shares at %{{y:.2f}} "
                               "(%{customdata[1]})<extra></extra>")))
    buttons = []
    for i, symbol in enumerate(chosen):
        mask = [i * per_symbol <= k < (i + 1) * per_symbol for k in range(len(fig.data))]
        buttons.append({"label": _label(symbol, names), "method": "update",
                        "args": [{"visible": mask},
                                 {"title.text": f"Prices and trades: {_label(symbol, names)}"}]})
    fig.update_layout(
        title={"text": f"Prices and trades: {_label(chosen[0], names)}"},
        updatemenus=[{"type": "dropdown", "buttons": buttons, "active": 0, "x": 1.0,
                      "xanchor": "right", "y": 1.0, "yanchor": "bottom", "showactive": True}],
        xaxis={"rangeslider": {"visible": False}, "rangeselector": range_selector(),
               "type": "date"},
        yaxis={"title": "CNY", "tickformat": ".2f", "hoverformat": ".2f"},
        hovermode="x")
    return mark_split(fig, split, days[days >= start])


# -- costs ------------------------------------------------------------------------------------
def cost_breakdown(result: BacktestResult) -> pd.DataFrame:
    """Costs by year (rows) and kind (:data:`COST_KINDS`, CNY), from the trade log.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> t = pd.DataFrame({"date": pd.to_datetime(["2023-05-04", "2024-01-02"]),
    ...                   "commission": [5.0, 5.0], "stamp_duty": [0.0, 5.1],
    ...                   "transfer_fee": [0.1, 0.1], "slippage": [1.0, 1.0]})
    >>> cost_breakdown(SimpleNamespace(trades=t)).loc[2024, "stamp_duty"]
    np.float64(5.1)
    """
    t = result.trades
    if t.empty:
        return pd.DataFrame(columns=list(COST_KINDS), dtype=float)
    years = pd.DatetimeIndex(t["date"]).year
    table = t[list(COST_KINDS)].astype(float).groupby(years).sum()
    table.index.name = "year"
    return table


def costs_figure(result: BacktestResult, *, colors: str = "intl") -> go.Figure:
    """Stacked bars of costs per year, one trace per kind (:data:`COST_KINDS`)."""
    pal = palette(colors)
    table = cost_breakdown(result)
    total = float(table.to_numpy().sum()) if not table.empty else 0.0
    share = total / result.config.capital_cny
    fig = new_figure(f"Costs by kind: {total:,.0f} CNY in total ({share:.2%} of capital)",
                     height=380)
    if table.empty:
        return empty_note(fig, "no trades, no costs")
    x = [str(y) for y in table.index]
    for i, kind in enumerate(COST_KINDS):
        fig.add_trace(go.Bar(x=x, y=table[kind].to_numpy(), name=kind.replace("_", " "),
                             marker={"color": pal.series[i]},
                             hovertemplate="%{y:,.0f} CNY"))
    fig.update_layout(barmode="stack", yaxis={"title": "CNY", "tickformat": ",.0f"},
                      xaxis={"type": "category"})
    return fig
