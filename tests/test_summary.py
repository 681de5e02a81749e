"""What ``summary()`` methods return: raw values for code, formatted tables for people.

:func:`assert_reads_well` is the check the summary tests of the result, the market, the grid
search and the sweep share (``from test_summary import assert_reads_well``).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
from IPython.lib.pretty import pretty

from workbench.format import Table
from workbench.jsonable import jsonable
from workbench.summary import Summary, SummaryFrame

#: What a summary shown to a person must never contain, with why.
RAW: dict[str, re.Pattern[str]] = {
    "a time of midnight": re.compile(r"00:00:00"),
    "an unformatted float": re.compile(r"(?<![\d.,])-?\d+\.0*[1-9]\d{2,}"),  # 0.0041 is not
    "a Python dict or list": re.compile(r"\{\s*['\"]?\w+['\"]?\s*:|\[\s*['\"]"),
    "a missing number": re.compile(r"\b(nan|NaN|None|NaT)\b"),
}


def assert_reads_well(shown: Summary | SummaryFrame) -> Table:
    """``shown`` displays as a formatted table (text, IPython and HTML alike) whose labels
    are words, not keys; returns the table."""
    table = shown.table()
    text, html = str(shown), shown._repr_html_()
    assert repr(shown) == text == str(table) == pretty(shown)
    assert html == table.html() and "<table" in html
    for what, pattern in RAW.items():
        assert not pattern.search(text), f"{what} in\n{text}"
    labels = [*table.frame.columns, *table.frame.get("", [])]
    keys = [t for t in labels if re.search(r"[a-z]_[a-z]", str(t))]
    assert not keys, f"keys for labels: {keys}"
    return table


# -- Summary: a dict ---------------------------------------------------------------------------
FACTS = {"strategy": "ma_trend", "start": "2016-01-04", "end": pd.Timestamp("2024-12-31"),
         "sessions": 2185, "capital_cny": 1_000_000.0, "final_equity_cny": 1_701_873.456,
         "total_return": 0.701873456, "trades": 3042, "fees_cny": 57662.0,
         "unfilled": {"limit_up": 3, "lot_too_small": 12}}


def test_a_summary_keeps_its_raw_values_and_is_still_a_dict():
    s = Summary(FACTS)
    assert s == FACTS and isinstance(s, dict)
    assert s["total_return"] == 0.701873456 and isinstance(s["sessions"], int)
    assert json.loads(json.dumps(s, default=str))["trades"] == 3042
    assert jsonable(s)["end"] == "2024-12-31" and type(jsonable(s)) is dict


def test_a_summary_shows_itself_formatted():
    table = assert_reads_well(Summary(FACTS))
    rows = dict(zip(table.frame[""], table.frame["Value"], strict=True))
    assert rows == {
        "Strategy": "ma_trend", "Start": "2016-01-04", "End": "2024-12-31",
        "Sessions": "2,185", "Starting capital (CNY)": "1,000,000.00",
        "Final equity (CNY)": "1,701,873.46", "Total return (%)": "+70.19%",
        "Trades (exchange fills)": "3,042", "Costs excl. slippage (CNY)": "57,662.00",
        "Unfilled orders by reason": "limit up: 3, lot too small: 12"}


def test_the_checks_catch_a_raw_summary():
    """A plain dict's repr fails the same checks, so they can fail."""
    text = repr(dict(FACTS))
    assert RAW["an unformatted float"].search(text) and RAW["a time of midnight"].search(text)
    assert RAW["a Python dict or list"].search(text)
    assert not any(p.search(t) for p in RAW.values()
                   for t in ("+70.19%", "1,701,873.46", "2016-01-04", "0.70", "–"))


def test_an_empty_summary_says_so():
    assert str(Summary()) == "none found"
    assert "none found" in Summary()._repr_html_()


# -- SummaryFrame: a DataFrame -----------------------------------------------------------------
def metrics_by_period() -> SummaryFrame:
    return SummaryFrame({
        "in_sample": {"start": pd.Timestamp("2016-01-04"), "sharpe_ratio": 0.701873,
                      "total_return": 0.253, "max_drawdown": -0.1834, "n_trades": 1200.0,
                      "calmar_ratio": np.nan},
        "out_of_sample": {"start": pd.Timestamp("2023-01-03"), "sharpe_ratio": -0.1,
                          "total_return": -0.02, "max_drawdown": -0.05, "n_trades": 80.0,
                          "calmar_ratio": 0.4}})


def test_a_summary_frame_keeps_its_raw_values():
    s = metrics_by_period()
    assert s.loc["sharpe_ratio", "in_sample"] == 0.701873
    assert s.loc["start", "out_of_sample"] == pd.Timestamp("2023-01-03")
    assert s.to_dict()["out_of_sample"]["n_trades"] == 80.0
    assert "0.701873" in s.to_string()  # pandas' own text stays raw
    # whatever pandas derives from it is a plain DataFrame with a plain repr
    assert type(s.T) is pd.DataFrame and type(s.loc[["sharpe_ratio"]]) is pd.DataFrame
    assert type(s.copy()) is pd.DataFrame
    assert "0.701873" in repr(s.loc[["sharpe_ratio"]])


def test_a_summary_frame_shows_itself_formatted():
    table = assert_reads_well(metrics_by_period())
    assert list(table.frame.columns) == ["", "In sample", "Out of sample"]
    rows = {r[0]: r[1:] for r in table.frame.itertuples(index=False, name=None)}
    assert rows["Start"] == ("2016-01-04", "2023-01-03")
    assert rows["Sharpe ratio"] == ("0.70", "-0.10")
    assert rows["Total return (%)"] == ("+25.30%", "-2.00%")
    assert rows["Max drawdown (%)"] == ("-18.34%", "-5.00%")
    assert rows["Trades (exchange fills)"] == ("1,200", "80")
    assert rows["Calmar ratio"] == ("–", "0.40")


def test_a_summary_frame_with_keys_for_columns_drops_a_hash_index():
    s = SummaryFrame({"fast": [5, 10], "oos_sharpe_ratio": [0.651191, 0.6]},
                     index=pd.Index(["121ade0cda251a15", "67ef2982c73ab831"], name="row_id"))
    table = assert_reads_well(s)
    assert list(table.frame.columns) == ["Fast", "Out-of-sample Sharpe ratio"]
    assert "121ade0c" not in str(s) and "121ade0c" not in s._repr_html_()


def test_an_empty_summary_frame_says_so():
    empty = SummaryFrame(columns=["window_id", "sharpe_ratio"])
    assert str(empty) == "none found" and "<table" not in empty._repr_html_()
