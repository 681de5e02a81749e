"""Data quality of a :class:`~workbench.data.Market`: coverage, gaps, suspensions, limit days
and validation findings, as tables, plus the figures of the data-quality report.

Definitions (all on the market's own sessions, ``market.calendar``):

* A symbol is **listed** on a session when ``list_date <= session < delist_date``.
* A **gap** is a listed session without a bar row. Suspended days are rows with
  ``suspended=True``, not gaps (see ``data/README.md``).
* A **limit-up (limit-down) day** closes at the day's ``limit_up`` (``limit_down``) price,
  within half a fen; days without a limit (a new listing's first sessions) never count.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from workbench.data import validate_market
from workbench.errors import DataError
from workbench.report.figures.common import (
    date_strings,
    empty_note,
    new_figure,
    range_selector,
    thin,
)
from workbench.report.figures.theme import palette

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = [
    "coverage_by_date",
    "coverage_by_symbol",
    "coverage_figure",
    "gaps",
    "limit_days_figure",
    "quality_summary",
    "runs",
    "suspensions",
    "suspensions_figure",
    "validation_findings",
]

_HALF_FEN = 0.005


def _listed(market: Market) -> np.ndarray:
    """Sessions × symbols mask of listed days (security master dates)."""
    sec = market.securities.set_index(market.securities["symbol"].astype(str))
    sec = sec.reindex(market.symbols)
    cal = market.calendar.to_numpy()[:, None]
    listed_from = sec["list_date"].to_numpy(dtype="datetime64[ns]")[None, :]
    gone = sec["delist_date"].to_numpy(dtype="datetime64[ns]")[None, :]
    with np.errstate(invalid="ignore"):
        return (listed_from <= cal) & (np.isnat(gone) | (cal < gone))


def _masks(market: Market) -> dict[str, np.ndarray]:
    close = market.panel("close").to_numpy()
    has_bar = np.isfinite(close)
    suspended = market.panel("suspended").to_numpy(dtype=bool) & has_bar
    up = market.panel("limit_up").to_numpy()
    down = market.panel("limit_down").to_numpy()
    with np.errstate(invalid="ignore"):
        at_up = has_bar & ~suspended & (close >= up - _HALF_FEN)
        at_down = has_bar & ~suspended & (close <= down + _HALF_FEN)
    st = (market.panel("is_st").to_numpy(dtype=bool) & has_bar if "is_st" in market.bars
          else np.zeros_like(has_bar))
    listed = _listed(market)
    return {"listed": listed, "bar": has_bar, "suspended": suspended, "limit_up": at_up,
            "limit_down": at_down, "st": st, "gap": listed & ~has_bar}


def runs(mask: pd.DataFrame) -> pd.DataFrame:
    """Runs of consecutive True rows per column of a sessions × symbols mask.

    Returns
    -------
    pd.DataFrame
        ``symbol, start, end, sessions`` (``start``/``end`` inclusive), longest first.

    Examples
    --------
    >>> m = pd.DataFrame({"A": [True, True, False, True]},
    ...                  index=pd.date_range("2024-01-01", periods=4))
    >>> runs(m)[["symbol", "sessions"]].values.tolist()
    [['A', 2], ['A', 1]]
    """
    values = mask.to_numpy(dtype=bool).T  # symbols × sessions: nonzero is in symbol order
    padded = np.zeros((values.shape[0], values.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = values
    step = np.diff(padded, axis=1)
    sym, start = np.nonzero(step == 1)
    _, stop = np.nonzero(step == -1)  # one past the run's last session
    dates = pd.DatetimeIndex(mask.index)
    out = pd.DataFrame({
        "symbol": np.asarray(mask.columns.astype(str))[sym],
        "start": dates[start] if len(start) else pd.DatetimeIndex([]),
        "end": dates[stop - 1] if len(stop) else pd.DatetimeIndex([]),
        "sessions": (stop - start).astype(np.int64),
    })
    return out.sort_values(["sessions", "symbol", "start"], ascending=[False, True, True],
                           kind="stable").reset_index(drop=True)


def _frame(market: Market, mask: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(mask, index=market.calendar, columns=market.symbols)


def gaps(market: Market) -> pd.DataFrame:
    """Runs of listed sessions without a bar (:func:`runs` of the gap mask), longest first."""
    return runs(_frame(market, _masks(market)["gap"]))


def suspensions(market: Market) -> pd.DataFrame:
    """Runs of suspended sessions per symbol (:func:`runs`), longest first."""
    return runs(_frame(market, _masks(market)["suspended"]))


def coverage_by_symbol(market: Market) -> pd.DataFrame:
    """Per symbol: listed sessions, bars, gaps, coverage and event counts.

    Returns
    -------
    pd.DataFrame
        Index ``symbol``; ``name, board, first_bar, last_bar, listed, bars, gaps,
        coverage`` (bars on listed sessions / listed sessions; NaN if never listed in the
        data's range), ``suspended, limit_up, limit_down, st`` (session counts).
    """
    m = _masks(market)
    sec = market.securities.set_index(market.securities["symbol"].astype(str)).reindex(
        market.symbols)
    cal = market.calendar
    has = m["bar"]
    any_bar = has.any(axis=0)
    first = np.where(any_bar, has.argmax(axis=0), 0)
    last = np.where(any_bar, len(cal) - 1 - has[::-1].argmax(axis=0), 0)
    listed = m["listed"].sum(axis=0)
    on_listed = (has & m["listed"]).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        coverage = np.where(listed > 0, on_listed / listed, np.nan)
    out = pd.DataFrame({
        "name": sec["name"].astype(str).to_numpy(),
        "board": sec["board"].astype(str).to_numpy(),
        "first_bar": pd.DatetimeIndex(np.where(any_bar, cal.to_numpy()[first],
                                               np.datetime64("NaT"))),
        "last_bar": pd.DatetimeIndex(np.where(any_bar, cal.to_numpy()[last],
                                              np.datetime64("NaT"))),
        "listed": listed,
        "bars": has.sum(axis=0),
        "gaps": m["gap"].sum(axis=0),
        "coverage": coverage,
        "suspended": m["suspended"].sum(axis=0),
        "limit_up": m["limit_up"].sum(axis=0),
        "limit_down": m["limit_down"].sum(axis=0),
        "st": m["st"].sum(axis=0),
    }, index=pd.Index(market.symbols, name="symbol"))
    return out


def coverage_by_date(market: Market) -> pd.DataFrame:
    """Per session: symbols listed, with a bar, missing (gaps), suspended, at a limit, ST.

    Returns
    -------
    pd.DataFrame
        Index ``date``; integer columns ``listed, bars, gaps, suspended, limit_up,
        limit_down, st``.
    """
    m = _masks(market)
    out = pd.DataFrame({
        "listed": m["listed"].sum(axis=1),
        "bars": m["bar"].sum(axis=1),
        "gaps": m["gap"].sum(axis=1),
        "suspended": m["suspended"].sum(axis=1),
        "limit_up": m["limit_up"].sum(axis=1),
        "limit_down": m["limit_down"].sum(axis=1),
        "st": m["st"].sum(axis=1),
    }, index=market.calendar)
    out.index.name = "date"
    return out.astype(np.int64)


def validation_findings(market: Market) -> pd.DataFrame:
    """Run :func:`workbench.data.validate_market` and tabulate what it reports.

    Returns
    -------
    pd.DataFrame
        ``level`` (``"warning"`` or ``"error"``), ``category`` and ``message``; empty when
        the market is clean. An error stops validation, so at most one is listed.
    """
    rows: list[tuple[str, str, str]] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            validate_market(market, source=market.name)
        except DataError as exc:
            rows.append(("error", type(exc).__name__, str(exc)))
    rows[:0] = [("warning", w.category.__name__, str(w.message)) for w in caught]
    return pd.DataFrame(rows, columns=["level", "category", "message"], dtype=object)


def quality_summary(market: Market) -> dict[str, Any]:
    """Headline facts for the index page: sizes, coverage, gaps, suspensions, limit days.

    ``coverage`` is bars on listed sessions over listed sessions, over all symbols.
    """
    m = _masks(market)
    listed = int(m["listed"].sum())
    findings = validation_findings(market)
    cal = market.calendar
    return {
        "market": market.name,
        "source": str(market.meta.get("source", "unknown")),
        "symbols": len(market.symbols),
        "sessions": len(cal),
        "start": cal[0] if len(cal) else None,
        "end": cal[-1] if len(cal) else None,
        "bars": len(market.bars),
        "coverage": float((m["bar"] & m["listed"]).sum() / listed) if listed else None,
        "gap_sessions": int(m["gap"].sum()),
        "suspended_sessions": int(m["suspended"].sum()),
        "limit_up_days": int(m["limit_up"].sum()),
        "limit_down_days": int(m["limit_down"].sum()),
        "validation_warnings": int((findings["level"] == "warning").sum()),
        "validation_errors": int((findings["level"] == "error").sum()),
    }


def coverage_figure(by_date: pd.DataFrame, *, colors: str = "intl",
                    max_points: int | None = 600) -> go.Figure:
    """Symbols listed, with a bar, suspended and missing per session (``coverage_by_date``).

    Long histories are drawn from the largest count of each run of sessions (``thin(...,
    how="max")``), so a single day's gap still shows.
    """
    pal = palette(colors)
    fig = new_figure("Coverage: symbols per session", height=380)
    if by_date.empty:
        return empty_note(fig, "no sessions")
    by_date = thin(by_date, max_points, how="max")
    x = date_strings(by_date.index)
    styles = {"listed": pal.benchmark, "bars": pal.strategy, "suspended": pal.baseline,
              "gaps": pal.down}
    for col, color in styles.items():
        fig.add_trace(go.Scatter(x=x, y=by_date[col].to_numpy(), name=col, mode="lines",
                                 line={"color": color, "width": 1.5}))
    fig.update_layout(yaxis={"title": "symbols", "rangemode": "tozero"},
                      xaxis={"rangeselector": range_selector(), "type": "date"})
    return fig


def _monthly_bars(by_date: pd.DataFrame, title: str, height: int,
                  bars: Sequence[tuple[str, str, str, int]], *, barmode: str,
                  y_title: str) -> go.Figure:
    """Monthly sums of ``by_date`` columns as bars: (column, name, colour, sign) each."""
    fig = new_figure(title, height=height)
    if by_date.empty:
        return empty_note(fig, "no sessions")
    monthly = by_date[[b[0] for b in bars]].resample("MS").sum()
    x = date_strings(monthly.index)
    for column, name, color, sign in bars:
        counts = monthly[column].to_numpy()
        fig.add_trace(go.Bar(x=x, y=sign * counts, name=name, marker={"color": color},
                             customdata=counts, hovertemplate="%{customdata}"))
    fig.update_layout(barmode=barmode, yaxis={"title": y_title}, xaxis={"type": "date"},
                      bargap=0.1)
    return fig


def limit_days_figure(by_date: pd.DataFrame, *, colors: str = "intl") -> go.Figure:
    """Monthly counts of limit-up and limit-down closes (``coverage_by_date``), up/down colours.
    """
    pal = palette(colors)
    return _monthly_bars(by_date, "Price-limit days per month", 360,
                         [("limit_up", "limit up", pal.up, 1),
                          ("limit_down", "limit down", pal.down, -1)],
                         barmode="relative", y_title="stock-days (down below zero)")


def suspensions_figure(by_date: pd.DataFrame, *, colors: str = "intl") -> go.Figure:
    """Suspended stock-days and gaps per month (``coverage_by_date``)."""
    pal = palette(colors)
    return _monthly_bars(by_date, "Suspensions and gaps per month", 340,
                         [("suspended", "suspended", pal.baseline, 1),
                          ("gaps", "gaps (no bar)", pal.down, 1)],
                         barmode="stack", y_title="stock-days")
