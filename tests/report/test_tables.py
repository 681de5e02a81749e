"""Display tables: the trade log's ends, unfilled orders by reason."""

from __future__ import annotations

import pytest
from figure_data import ma_trend_result, small_market

import workbench as wb
from workbench import report


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return small_market()


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


def test_trade_table_shows_both_ends_of_the_log(result, market):
    names = report.security_names(market)
    table = report.trade_table(result, 3, names=names)
    n = len(result.trades)
    assert list(table.index) == [1, 2, 3, n - 2, n - 1, n]
    assert table["name"].iloc[0] == names[table["symbol"].iloc[0]]


def test_unfilled_table_counts_reasons_with_meanings(result):
    table = report.unfilled_table(result)
    counts = result.unfilled["reason"].astype(str).value_counts()
    assert table["orders"].to_dict() == {k: v for k, v in counts.items() if v}
    assert (table["buys"] + table["sells"] == table["orders"]).all()
    assert all(table["meaning"])
