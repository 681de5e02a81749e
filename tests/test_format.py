"""The one formatting layer: labels with units, values for people, tables without internals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import format as fmt
from workbench.risk.orders import Reason


@pytest.mark.parametrize(("key", "value", "shown"), [
    ("total_return", 0.123456, "+12.35%"),
    ("annual_volatility", 0.1432, "14.32%"),
    ("max_drawdown", -0.2838, "-28.38%"),
    ("mean_invested_rate", 0.68619, "68.62%"),
    ("probabilistic_sharpe_ratio", 0.9233, "92.33%"),
    ("alpha", 0.0702, "+7.02%"),
    ("sharpe_ratio", 0.448297, "0.45"),
    ("annual_turnover", 2.947, "2.95"),
    ("avg_holding_days", 80.0833, "80.08"),
    ("costs_cny", 64472.783, "64,472.78"),
    ("final_equity_cny", 1715361.79, "1,715,361.79"),
    ("n_trades", 3042, "3,042"),
    ("n_trades", 3042.0, "3,042"),
    ("trials_sharpe_variance", 0.004136, "0.0041"),
    ("start", pd.Timestamp("2016-01-04"), "2016-01-04"),
    ("start", np.datetime64("2016-01-04T00:00:00"), "2016-01-04"),
    ("start", "2016-01-04 00:00:00", "2016-01-04"),
    ("max_drawdown_recovery", pd.NaT, "–"),
    ("sharpe_ratio", float("nan"), "–"),
    ("sharpe_ratio", None, "–"),
    ("params", {"fast": 20, "slow": 60}, "fast=20, slow=60"),
    ("params", {}, "none"),
    ("warnings", [], "none"),
    ("reason", Reason.POSITION_SIZE, "position size"),
    ("enabled", True, "yes"),
    ("unfilled", {"limit_up": 3, "lot_too_small": 1200}, "limit up: 3, lot too small: 1,200"),
    ("unfilled", {}, "none"),
    ("boards", {"SH main": 30, "BSE": 2, "STAR": 5}, "SH main: 30, BSE: 2, STAR: 5"),
    ("trades", 3042, "3,042"),
])
def test_values_are_formatted_by_what_their_key_says(key, value, shown):
    assert fmt.format_value(key, value) == shown


@pytest.mark.parametrize(("key", "text"), [
    ("alpha", "Alpha, annualised (%)"),
    ("annual_turnover", "Turnover (×/yr)"),
    ("avg_holding_days", "Average holding period (days)"),
    ("costs_cny", "Costs excl. slippage (CNY)"),
    ("fees_cny", "Costs excl. slippage (CNY)"),
    ("costs_with_slippage_cny", "Costs incl. slippage (CNY)"),
    ("baseline_sharpe_ratio", "Baseline Sharpe ratio"),
    ("oos_n_trades", "Out-of-sample trades (exchange fills)"),
    ("in_sample_sharpe_ratio", "In-sample Sharpe ratio"),
    ("benchmark_total_return", "Benchmark total return (%)"),
    ("peak_daily_loss_usage", "Peak daily loss usage (% of the limit)"),
    ("rejections_position_size", "Rejected by the position size check"),
    ("max_gross_leverage_rate", "Max gross leverage (%)"),
    ("fast", "Fast"),
])
def test_labels_carry_words_and_units(key, text):
    assert fmt.label(key) == text


def test_a_table_drops_its_positional_index_and_its_empty_columns():
    frame = pd.DataFrame({"start": pd.to_datetime(["2016-01-04", "2017-02-03"]),
                          "sessions": [90, 5], "error": [np.nan, None]})
    table = fmt.present(frame)
    assert list(table.frame.columns) == ["Start", "Sessions"]
    assert table.frame["Start"].tolist() == ["2016-01-04", "2017-02-03"]
    assert "00:00:00" not in table.html() and "error" not in table.html().lower()


def test_hash_ids_and_zero_based_ids_are_not_shown():
    frame = pd.DataFrame({"fast": [5, 10], "is_sharpe_ratio": [0.651191, 0.6]},
                         index=pd.Index(["121ade0cda251a15", "67ef2982c73ab831"], name="row_id"))
    table = fmt.present(frame)
    assert list(table.frame.columns) == ["Fast", "In-sample Sharpe ratio"]
    assert "121ade0c" not in table.html()
    windows = fmt.present(frame.set_axis(pd.Index([0, 1], name="window_id")))
    assert "Window" not in " ".join(windows.frame.columns)


def test_messages_are_shown_whole_and_codes_as_words():
    message = ("buy 3400 603797.SH: sector Non-bank Financials would reach 212,345.67 CNY, "
               "over its cap of 200,000.00 CNY (20% of 1,000,000.00 CNY equity); " * 3)
    frame = pd.DataFrame({"layer": ["sector"], "reason": ["SECTOR"], "message": [message]})
    table = fmt.present(frame)
    assert table.frame.loc[0, "Reason"] == "sector"
    assert table.frame.loc[0, "Message"] == message
    assert "…" not in table.html() and "..." not in table.html()
    assert message.strip().replace("&", "&amp;") in table.html()


def test_a_mapping_becomes_a_two_column_table_and_multiindexes_are_flattened():
    table = fmt.present({"sharpe_ratio": 0.5, "params": {"fast": 5}, "start": None})
    assert table.frame.values.tolist() == [["Sharpe ratio", "0.50"],
                                           ["Parameters", "fast=5"], ["Start", "–"]]
    frame = pd.DataFrame({"sharpe_ratio": [0.1, 0.2]}, index=pd.MultiIndex.from_tuples(
        [("ma_trend", "in_sample"), ("ma_trend", "out_of_sample")],
        names=["strategy", "period"]))
    flat = fmt.present(frame).frame
    assert list(flat.columns) == ["Strategy", "Period", "Sharpe ratio"]
    assert flat["Period"].tolist() == ["in sample", "out of sample"]
    assert flat["Strategy"].tolist() == ["ma_trend", "ma_trend"]  # names stay as typed


def test_cells_are_escaped():
    table = fmt.present(pd.DataFrame({"name": ["<b>A&B</b>"]}))
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in table.html() and "<b>" not in table.html()


def test_a_table_as_text_aligns_words_left_and_numbers_right_with_wide_characters():
    table = fmt.present(pd.DataFrame({"name": ["浦发银行", "PAB"], "final_equity_cny": [1e6, 5.0]}))
    lines = str(table).splitlines()
    # a Chinese character takes two columns: every line ends in the same column
    assert lines == ["Name      Final equity (CNY)",
                     "浦发银行        1,000,000.00",
                     "PAB" + " " * 21 + "5.00"]
    captioned = fmt.present({"sharpe_ratio": 0.5}, caption="Headline")
    assert str(captioned).splitlines()[0] == "Headline"
