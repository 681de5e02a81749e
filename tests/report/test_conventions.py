"""The conventions footnote under a report's headline table."""

from __future__ import annotations

import pandas as pd

from workbench import metrics, report
from workbench.calendar import sessions


def test_the_note_states_the_runs_own_annualisation_and_trade_counts():
    days = sessions("2016-01-04", "2024-12-31")
    s = metrics.summary(pd.Series(0.0001, index=days))
    note = report.conventions_note(s | {"n_trades": 1234, "n_settlements": 56})
    assert note.text.startswith("Volatility, Sharpe, Sortino, alpha, information ratio and "
                                "turnover annualised with 243.0 sessions a year")
    assert "3,285 days (from the day before 2016-01-04 to 2024-12-31)" in note.text
    assert "1,234 trades and 56 settlements: trades are exchange fills" in note.text
    html = note._repr_html_()
    assert html.startswith('<p class="wb-note"') and "243.0 sessions" in html
    assert str(note) == repr(note) == note.text


def test_without_metrics_the_note_states_the_general_rule():
    note = report.conventions_note()
    assert "XSHG calendar's mean number of sessions per calendar year" in note.text
    assert "(1 + total) ^ (365.25 / days) - 1" in note.text
    assert note.text.endswith("are not trades and are counted apart.")
    assert report.conventions_note({"sharpe_ratio": 0.5}).text == note.text


def test_the_note_says_how_dividends_were_booked():
    cash = report.conventions_note({"annualisation": "annualised with 243.0 sessions a year",
                             "corporate_actions": "cash, 949 events (vendor)",
                             "dividends_cny": 322502.5, "dividend_tax_cny": 986.0}).text
    assert cash.endswith("Corporate actions: cash, 949 events (vendor); 322,502.50 CNY of "
                         "dividends paid in cash, 986.00 CNY dividend tax (withheld, and "
                         "charged on sales by holding period).")
    total = report.conventions_note({"annualisation": "annualised with 243.0 sessions a year",
                              "corporate_actions": "reinvested at the ex-rights price"}).text
    assert total.endswith("Corporate actions: reinvested at the ex-rights price.")
