"""The report's tables and keys through the formatting layer (:mod:`workbench.format`):
every key a report emits has a label, and the report's own tables read well."""

from __future__ import annotations

import re

import pandas as pd
from figure_data import ma_trend_result, risky_result, small_market

from workbench import format as fmt
from workbench import report, research


def test_every_key_a_report_emits_gets_a_label_without_internals():
    result = ma_trend_result()
    market = small_market()
    keys = [*result.metrics(), *report.quality_summary(market),
            *report.risk_metrics(risky_result()), *report.backtest_metrics(result),
            *result.summary(), *market.summary()]
    for key in keys:
        text = fmt.label(key)
        assert "_" not in text and text[0].isupper(), (key, text)


def test_a_named_index_becomes_the_first_column():
    result = ma_trend_result()
    table = report.present(report.trade_table(result, 2))
    n = len(result.trades)
    assert table.frame.columns[0] == "Fill"
    assert table.frame["Fill"].tolist() == ["1", "2", f"{n - 1:,}", f"{n:,}"]
    assert "Costs excl. slippage (CNY)" in table.frame.columns


def test_an_empty_table_says_so_instead_of_showing_a_header():
    table = report.present(report.unfilled_table(ma_trend_result()).iloc[:0],
                           empty="none found: every order filled")
    page = table.html()
    assert "<table" not in page and "none found: every order filled" in page
    assert str(table) == "none found: every order filled"
    assert "<table" not in report.present(pd.DataFrame()).html()


def test_a_table_of_metrics_by_row_is_formatted_row_by_row():
    search = research.out_of_sample_check(small_market(), "ma_trend", {"fast": 5, "slow": 20},
                                          ma_trend_result().config, "2023-07-03")
    table = report.present(search.summary())
    rows = dict(zip(table.frame[""], table.frame["Out of sample"], strict=True))
    assert rows["Start"] == "2023-07-03"
    assert rows["Total return (%)"] == fmt.format_value(
        "total_return", search.out_of_sample["total_return"])
    assert re.fullmatch(r"[+-]\d+\.\d\d%", rows["Annual return, CAGR (%)"])
