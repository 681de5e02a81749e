"""The headline card at the top of a backtest report: the strategy beside its yardsticks.

Three columns, strategy | benchmark | equal-weight baseline, and the figures a reader wants
first: total return, CAGR, volatility, Sharpe ratio ± its standard error, the probabilistic
Sharpe ratio; the maximum drawdown with its dates and the Calmar ratio; annualised alpha and
beta; turnover, costs without and with slippage, average exposure.

* the strategy's figures are ``result.metrics()``;
* the benchmark's are :func:`workbench.metrics.summary` of ``result.benchmark_returns``
  against itself (so alpha is 0 and beta 1); an index trades nothing and pays nothing, so
  turnover, costs and exposure do not apply to it;
* the baseline's are ``baseline.metrics()``, the result of
  :func:`workbench.research.equal_weight_baseline` (same period, capital, costs and rules).

:func:`headline_data` returns the raw numbers; :func:`headline_card` the :class:`Card` a
notebook displays (HTML with inline styles, no scripts, so the report page stays
self-contained; plain text elsewhere).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench import metrics
from workbench.data.provenance import provenance
from workbench.format import MISSING, format_value

if TYPE_CHECKING:
    from workbench.data.market import Market
    from workbench.result import BacktestResult

__all__ = ["CARD_ID", "CARD_ROWS", "COLUMNS", "DATA_KEYS", "Card", "headline_card",
           "headline_data"]

#: The HTML id of the card (a report's tests and links find it by this).
CARD_ID = "wb-headline"
#: The columns of :func:`headline_data`, with their headers.
COLUMNS: dict[str, str] = {"strategy": "Strategy", "benchmark": "Benchmark",
                           "baseline": "Equal-weight baseline"}
#: The raw figures of :func:`headline_data` (rows), each as ``result.metrics()`` names it;
#: ``costs_with_slippage_cny`` is ``costs_cny + slippage_cny``.
DATA_KEYS: tuple[str, ...] = (
    "total_return", "annual_return", "annual_volatility", "sharpe_ratio",
    "sharpe_standard_error", "probabilistic_sharpe_ratio", "max_drawdown",
    "max_drawdown_peak", "max_drawdown_trough", "max_drawdown_recovery", "calmar_ratio",
    "alpha", "beta", "annual_turnover", "costs_cny", "slippage_cny", "costs_with_slippage_cny",
    "mean_invested_rate",
)
#: The card's rows in order: (key, label with unit); a blank key starts a new group.
CARD_ROWS: tuple[tuple[str, str], ...] = (
    ("total_return", "Total return (%)"),
    ("annual_return", "Annual return, CAGR (%)"),
    ("annual_volatility", "Annual volatility (%)"),
    ("sharpe", "Sharpe ratio ± standard error"),
    ("probabilistic_sharpe_ratio", "Probabilistic Sharpe ratio, P(SR > 0) (%)"),
    ("", ""),
    ("max_drawdown", "Max drawdown (%)"),
    ("drawdown_dates", "Max drawdown, peak → trough"),
    ("max_drawdown_recovery", "Recovered from max drawdown on"),
    ("calmar_ratio", "Calmar ratio"),
    ("", ""),
    ("alpha", "Alpha, annualised (%)"),
    ("beta", "Beta"),
    ("", ""),
    ("annual_turnover", "Turnover (×/yr)"),
    ("costs_cny", "Costs excl. slippage (CNY)"),
    ("costs_with_slippage_cny", "Costs incl. slippage (CNY)"),
    ("mean_invested_rate", "Average exposure (%)"),
)
_TRADING = ("annual_turnover", "costs_cny", "slippage_cny", "costs_with_slippage_cny",
            "mean_invested_rate")
_DATES = ("max_drawdown_peak", "max_drawdown_trough", "max_drawdown_recovery")


def _column(values: Mapping[str, Any], *, trades: bool) -> dict[str, Any]:
    out: dict[str, Any] = {k: values.get(k, np.nan) for k in DATA_KEYS}
    for k in _DATES:
        out[k] = pd.Timestamp(out[k]) if out[k] is not None else pd.NaT
    out = {k: np.nan if v is None else v for k, v in out.items()}
    if trades:
        out["costs_with_slippage_cny"] = float(out["costs_cny"]) + float(out["slippage_cny"])
    else:  # an index trades nothing, pays nothing and is never out of the market
        out |= dict.fromkeys(_TRADING, np.nan)
    return out


def headline_data(result: BacktestResult, baseline: BacktestResult | None = None
                  ) -> pd.DataFrame:
    """The raw figures of the headline card.

    Parameters
    ----------
    result
        The backtest.
    baseline
        The equal-weight buy and hold under the same configuration
        (:func:`workbench.research.equal_weight_baseline`), or None for no such column.

    Returns
    -------
    pd.DataFrame
        Index :data:`DATA_KEYS`; columns ``strategy``, then ``benchmark`` (when the result
        has benchmark closes) and ``baseline`` (when given). Fractions as fractions, money
        in CNY, turnover in times a year, dates as Timestamps (NaT: not recovered); NaN
        where a figure does not apply (an index's turnover, costs and exposure).
    """
    columns = {"strategy": _column(result.metrics(), trades=True)}
    bench = result.benchmark_returns
    if bench is not None:
        columns["benchmark"] = _column(metrics.summary(bench, bench), trades=False)
    if baseline is not None:
        columns["baseline"] = _column(baseline.metrics(), trades=True)
    return pd.DataFrame(columns, index=list(DATA_KEYS), dtype=object)


def _cell(key: str, column: pd.Series) -> str:
    if key == "sharpe":
        sharpe = format_value("sharpe_ratio", column["sharpe_ratio"])
        se = column["sharpe_standard_error"]
        return sharpe if sharpe == MISSING or pd.isna(se) else (
            f"{sharpe} ± {format_value('sharpe_ratio', se)}")
    if key == "drawdown_dates":
        peak, trough = column["max_drawdown_peak"], column["max_drawdown_trough"]
        if pd.isna(peak) or pd.isna(trough):
            return MISSING
        return f"{format_value('date', peak)} → {format_value('date', trough)}"
    if key == "max_drawdown_recovery" and pd.isna(column[key]):
        return "not yet" if not pd.isna(column["max_drawdown_trough"]) else MISSING
    return format_value(key, column[key])


@dataclass(frozen=True)
class Card:
    """The headline card: a title, a table of formatted figures, and notes under it.

    Attributes
    ----------
    title
        Strategy, parameters, period and capital.
    frame
        The figures as text: index the row labels of :data:`CARD_ROWS`, columns the headers
        of :data:`COLUMNS` present.
    notes
        Sentences under the table: what the columns are, and the warnings to read.
    alert
        A sentence in orange under the table (the result's warnings), or empty.
    """

    title: str
    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    alert: str = ""

    def html(self) -> str:
        """The card as one ``<section id="wb-headline">`` with inline styles."""
        cell = "padding: 3px 12px; border-bottom: 1px solid #ececec;"
        head = "".join(f'<th style="{cell} text-align: right; min-width: 120px;">'
                       f"{html.escape(c)}</th>" for c in self.frame.columns)
        rows = []
        group = False
        for name, values in self.frame.iterrows():
            if not name:
                group = True
                continue
            top = " border-top: 1px solid #bdbdbd;" if group else ""
            group = False
            cells = "".join(f'<td style="{cell}{top} text-align: right;">{html.escape(v)}</td>'
                            for v in values)
            rows.append(f'<tr><th scope="row" style="{cell}{top} text-align: left; '
                        f'font-weight: 500; background: none;">{html.escape(str(name))}</th>'
                        f"{cells}</tr>")
        notes = " ".join(self.notes)
        alert = (f'<p style="margin: 6px 0 0; color: #a04f00; font-weight: 600;">'
                 f"{html.escape(self.alert)}</p>") if self.alert else ""
        return (
            f'<section class="wb-card" id="{CARD_ID}" style="border: 1px solid #d0d7de; '
            "border-radius: 6px; padding: 12px 16px 10px; margin: 6px 0 12px; "
            'background: #fcfdff;">'
            f'<div style="font-size: 16px; font-weight: 600; margin-bottom: 6px;">'
            f"{html.escape(self.title)}</div>"
            f'<table class="wb-card-table" style="margin: 0; font-size: 13.5px;">'
            f'<thead><tr><th style="{cell} text-align: left;"></th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<p style="margin: 8px 0 0; font-size: 12px; color: #6b6b6b; line-height: 1.4;">'
            f"{html.escape(notes)}</p>{alert}</section>")

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        shown = self.frame.loc[[i for i in self.frame.index if i]]
        return "\n".join([self.title, shown.to_string(), *self.notes, self.alert]).strip()

    def __repr__(self) -> str:
        return str(self)


def headline_card(result: BacktestResult, baseline: BacktestResult | None = None, *,
                  market: Market | None = None) -> Card:
    """The card for the top of a backtest report (see the module docstring).

    Parameters
    ----------
    result
        The backtest.
    baseline
        :func:`workbench.research.equal_weight_baseline` under the same configuration; None
        leaves its column out.
    market
        The market, to name the benchmark and its kind (:func:`workbench.data.provenance`).

    Returns
    -------
    Card
        Displays as HTML in a notebook and in the report page.
    """
    data = headline_data(result, baseline)
    frame = pd.DataFrame(
        {COLUMNS[c]: [_cell(k, data[c]) if k else "" for k, _ in CARD_ROWS] for c in data},
        index=[text for _, text in CARD_ROWS])
    name = str(result.strategy.get("name", "strategy"))
    params = format_value("params", dict(result.strategy.get("params", {})))
    days = result.daily.index
    period = (f"{format_value('start', days[0])} to {format_value('end', days[-1])}"
              if len(days) else "no sessions")
    title = (f"{name} ({params}) · {period} · "
             f"{result.config.capital_cny:,.0f} CNY")
    notes = []
    if "benchmark" in data:
        bench = provenance(market).benchmark if market is not None else "the market's index"
        notes.append(f"Benchmark: {bench}; an index trades nothing and pays no costs, so "
                     f"{MISSING} marks what does not apply to it.")
    if "baseline" in data:
        notes.append("Equal-weight baseline: the stocks listed on the first session bought "
                     "in equal weights and held, under the same period, capital, costs and "
                     "rules.")
    notes.append("Costs are commission, stamp duty and transfer fees; slippage is inside the "
                 "fill prices. Annualised by the XSHG calendar's sessions per year; the CAGR "
                 "over elapsed calendar time.")
    n = len(result.warnings)
    alert = (f"⚠ This run has {n} warning{'s' if n != 1 else ''} (in the orange box): read "
             f"{'them' if n != 1 else 'it'} before trusting these numbers." if n else "")
    return Card(title=title, frame=frame, notes=tuple(notes), alert=alert)
