"""What a report's numbers mean: the footnote under its headline table.

Annual figures follow the market's own calendar (:func:`workbench.metrics.annualisation`:
the XSHG calendar's sessions per year, the CAGR over elapsed calendar time), and a trade is
an exchange fill while corporate actions and delisting close-outs are settlements
(:mod:`workbench.trades`), and dividends are paid in cash and taxed by holding period, or
reinvested (:mod:`workbench.dividend_book`). :func:`conventions_note` says so in a few
sentences, with the run's own figures when it is given its metrics; a notebook displays it
under the table.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.report.figures.tables import format_value

__all__ = ["ANNUALISATION_RULE", "TRADE_RULE", "Note", "conventions_note"]

#: The annualisation convention in general (each period uses its own figures).
ANNUALISATION_RULE = (
    "Each period is annualised by the market's own calendar: volatility, Sharpe, Sortino, "
    "alpha, information ratio and turnover with the XSHG calendar's mean number of sessions "
    "per calendar year over the years the period spans (about 242-244, not 252), and the "
    "annual return is the CAGR over elapsed calendar time, (1 + total) ^ (365.25 / days) - 1, "
    "counting days from the day before the first session to the last.")
#: What the trade counts count.
TRADE_RULE = ("Trades are exchange fills (orders the strategy sent); settlements (corporate "
              "actions, delisting close-outs) are not trades and are counted apart.")


@dataclass(frozen=True)
class Note:
    """A footnote a notebook displays: a small grey paragraph (HTML), or the plain text.

    Examples
    --------
    >>> Note("Sharpe & co.")._repr_html_()
    '<p class="wb-note" style="font-size: 12px; color: #6b6b6b;">Sharpe &amp; co.</p>'
    """

    text: str

    def _repr_html_(self) -> str:
        return (f'<p class="wb-note" style="font-size: 12px; color: #6b6b6b;">'
                f"{html.escape(self.text)}</p>")

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def conventions_note(metrics: Mapping[str, Any] | None = None) -> Note:
    """The conventions behind a report's figures, as a footnote.

    Parameters
    ----------
    metrics
        A run's metrics (``BacktestResult.metrics()``, or any
        :func:`workbench.metrics.summary`): the note then states the run's own
        annualisation (its ``annualisation`` sentence) and its ``n_trades`` and
        ``n_settlements``. None (or metrics without ``annualisation``): the general rule,
        for tables whose periods differ (in and out of sample).

    Returns
    -------
    Note
        Displays as a small paragraph in a notebook and in its HTML page.

    Examples
    --------
    >>> conventions_note({"annualisation": "annualised with 243.0 sessions a year",
    ...                   "n_trades": 75, "n_settlements": 773}).text
    'Annualised with 243.0 sessions a year. 75 trades and 773 settlements: trades are \
exchange fills (orders the strategy sent); settlements (corporate actions, delisting \
close-outs) are not trades and are counted apart.'
    """
    if metrics is None or not metrics.get("annualisation"):
        return Note(f"{ANNUALISATION_RULE} {TRADE_RULE}")
    text = str(metrics["annualisation"])
    parts = [text[:1].upper() + text[1:] + "."]
    if "n_trades" in metrics and "n_settlements" in metrics:
        trades = format_value("n_trades", metrics["n_trades"])
        settlements = format_value("n_settlements", metrics["n_settlements"])
        parts.append(f"{trades} trades and {settlements} settlements: "
                     + TRADE_RULE[:1].lower() + TRADE_RULE[1:])
    else:
        parts.append(TRADE_RULE)
    if metrics.get("corporate_actions"):
        booked = str(metrics["corporate_actions"])
        if booked.startswith("cash"):
            div = format_value("dividends_cny", metrics.get("dividends_cny", 0.0))
            tax = format_value("dividend_tax_cny", metrics.get("dividend_tax_cny", 0.0))
            parts.append(f"Corporate actions: {booked}; {div} CNY of dividends paid in cash, "
                         f"{tax} CNY dividend tax (withheld, and charged on sales by holding "
                         "period).")
        else:
            parts.append(f"Corporate actions: {booked}.")
    return Note(" ".join(parts))
