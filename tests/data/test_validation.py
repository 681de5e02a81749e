"""Every validation fault names the source, the row and the column; oddities only warn."""

import numpy as np
import pandas as pd
import pytest

from workbench.data.validation import validate, validate_bars
from workbench.errors import DataError, DataWarning


def good_bars() -> pd.DataFrame:
    return pd.DataFrame({
        "date": pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-02", "2024-01-03"]),
        "symbol": ["600000.SH", "600000.SH", "000001.SZ", "000001.SZ"],
        "open": [10.0, 10.1, 9.0, 9.1],
        "high": [10.2, 10.3, 9.2, 9.3],
        "low": [9.9, 10.0, 8.9, 9.0],
        "close": [10.1, 10.2, 9.1, 9.2],
        "volume": [1000, 2000, 3000, 4000],
        "amount": [10100.0, 20400.0, 27300.0, 36800.0],
        "adj_factor": [1.0, 1.0, 1.0, 1.0],
    })


def test_good_bars_pass():
    validate_bars(good_bars(), source="ok.csv")


@pytest.mark.parametrize(
    ("column", "value", "fault"),
    [
        ("date", "2024-13-45", "unparseable date"),
        ("open", -1.0, "non-positive price"),
        ("close", 0.0, "non-positive price"),
        ("high", 9.95, r"high below max\(open, close\)"),
        ("low", 10.15, r"low above min\(open, close\)"),
        ("volume", -5, "negative volume"),
        ("symbol", "900901.SH", ".*no known A-share board prefix"),
        ("adj_factor", 0.0, "adjustment factor must be positive"),
        ("close", np.nan, "missing or non-numeric price"),
    ],
)
def test_each_fault_names_file_line_and_column(column, value, fault):
    bars = good_bars()
    if column == "date":
        bars["date"] = bars["date"].dt.strftime("%Y-%m-%d").astype(object)
    bars[column] = bars[column].astype(object)
    bars.loc[1, column] = value
    lines = np.arange(len(bars)) + 2  # header on line 1
    with pytest.raises(DataError, match=rf"x\.csv: line 3, column '{column}': {fault}"):
        validate_bars(bars, source="x.csv", lines=lines)


def test_missing_columns_are_listed():
    with pytest.raises(DataError, match=r"missing columns \['adj_factor'\]"):
        validate_bars(good_bars().drop(columns="adj_factor"), source="x.csv")


def test_duplicate_date_symbol():
    bars = pd.concat([good_bars(), good_bars().iloc[[0]]], ignore_index=True)
    with pytest.raises(DataError, match=r"rows 0, 4: duplicate \(date, symbol\)"):
        validate(bars)


def test_move_beyond_the_limit_warns_not_fails():
    bars = good_bars()
    bars.loc[1, ["open", "high", "low", "close"]] = [5.05, 5.1, 5.0, 5.05]  # a 1:2 split
    bars["amount"] = bars["volume"] * bars["close"]  # traded at the close
    with pytest.warns(DataWarning, match=r"1 adjusted daily moves beyond .*600000\.SH"):
        validate_bars(bars)
    bars.loc[1, "adj_factor"] = 2.0  # adjusted: continuous, no warning
    validate_bars(bars)


def test_gaps_warn_with_the_symbols():
    bars = good_bars().iloc[[0, 2, 3]]
    sessions = pd.DatetimeIndex(pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]))
    bars = pd.concat([bars, bars.iloc[[0]].assign(date=pd.Timestamp("2024-01-04"))])
    with pytest.warns(DataWarning, match=r"1 symbols miss sessions.*600000\.SH \(1\)"):
        validate_bars(bars.reset_index(drop=True), gaps=sessions)


def test_limit_move_after_a_bonus_issue_is_not_flagged():
    # close 1.99, then a 1:1 bonus issue (factor 1 -> 2): reference price 0.995 -> 1.00,
    # the exchange's limit-up is round(0.995 * 1.1) = 1.09 / 1.10 depending on rounding;
    # a close at 1.10 is a legal limit-up day even though 1.10 * 2 / 1.99 - 1 = +10.55 %.
    bars = good_bars().iloc[:2].copy()
    bars.loc[0, ["open", "high", "low", "close"]] = [1.99, 1.99, 1.99, 1.99]
    bars.loc[1, ["open", "high", "low", "close", "adj_factor"]] = [1.10, 1.10, 1.10, 1.10, 2.0]
    bars["amount"] = bars["volume"] * bars["close"]
    validate_bars(bars)


def test_st_stock_moving_beyond_five_percent_warns():
    bars = good_bars().iloc[:2].copy()
    bars["is_st"] = True
    bars.loc[1, ["open", "high", "low", "close"]] = [10.8, 10.8, 10.8, 10.8]  # +6.9 %
    bars["amount"] = bars["volume"] * bars["close"]
    with pytest.warns(DataWarning, match=r"600000\.SH 2024-01-03 \+6\.9%"):
        validate_bars(bars)
    bars["is_st"] = False
    validate_bars(bars)
