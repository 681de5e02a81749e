"""Rule table: limits by board and date, rounding to the fen, dated charges, lots."""

from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from workbench import rules
from workbench.symbols import Board


@pytest.mark.parametrize(
    ("board", "day", "is_st", "pct"),
    [
        (Board.SH_MAIN, "2015-01-05", False, 10),
        (Board.SH_MAIN, "2015-01-05", True, 5),
        (Board.SZ_MAIN, "2024-12-31", True, 5),
        (Board.SZ_MAIN, "2025-07-07", True, 10),
        (Board.CHINEXT, "2020-08-21", False, 10),
        (Board.CHINEXT, "2020-08-21", True, 5),
        (Board.CHINEXT, "2020-08-24", False, 20),
        (Board.CHINEXT, "2020-08-24", True, 20),
        (Board.STAR, "2019-07-22", False, 20),
        (Board.BSE, "2021-11-15", False, 30),
    ],
)
def test_limit_percent_by_board_date_and_st(board, day, is_st, pct):
    assert rules.limit_percent(board, day, st=is_st) == pct


def test_board_before_it_existed_has_no_rule():
    with pytest.raises(ValueError, match="no price-limit rule"):
        rules.limit_percent(Board.STAR, "2018-01-02")


def test_limit_prices_worked_examples():
    # 10.05 * 1.10 = 11.055 -> 11.06 (half up); 10.05 * 0.90 = 9.045 -> 9.05
    # 1.76 * 1.10 = 1.936 -> 1.94; 1.76 * 0.90 = 1.584 -> 1.58 (a +10.23 % limit move)
    # 0.01 * 0.90 = 0.009 -> 0.01 floor of one fen
    up, down = rules.limit_prices(np.array([10.05, 1.76, 0.01, np.nan]), 10)
    np.testing.assert_array_equal(up[:3], [11.06, 1.94, 0.01])
    np.testing.assert_array_equal(down[:3], [9.05, 1.58, 0.01])
    assert np.isnan(up[3]) and np.isnan(down[3])


@given(fen=st.integers(min_value=1, max_value=1_000_000), pct=st.sampled_from([5, 10, 20, 30]))
def test_limit_prices_match_decimal_half_up(fen, pct):
    prev = fen / 100
    up, down = rules.limit_prices(prev, pct)
    d = Decimal(fen) / 100
    cent = Decimal("0.01")
    exp_up = (d * (100 + pct) / 100).quantize(cent, rounding=ROUND_HALF_UP)
    exp_down = max((d * (100 - pct) / 100).quantize(cent, rounding=ROUND_HALF_UP), cent)
    assert float(up) == float(exp_up)
    assert float(down) == float(exp_down)


def test_stamp_duty_and_transfer_fee_by_date():
    assert rules.rate_on(rules.STAMP_DUTY, "2023-08-27") == 0.001
    assert rules.rate_on(rules.STAMP_DUTY, "2023-08-28") == 0.0005
    assert rules.rate_on(rules.TRANSFER_FEE, "2022-04-28") == 0.00002
    assert rules.rate_on(rules.TRANSFER_FEE, "2022-04-29") == 0.00001
    days = pd.to_datetime(["2015-01-05", "2022-04-29", "2023-08-25", "2023-08-28"])
    np.testing.assert_array_equal(rules.rates_on(rules.STAMP_DUTY, days),
                                  [0.001, 0.001, 0.001, 0.0005])
    np.testing.assert_array_equal(rules.rates_on(rules.TRANSFER_FEE, days),
                                  [0.00002, 0.00001, 0.00001, 0.00001])


def test_lots_by_board():
    assert rules.lot_rule("SH main") == rules.LotRule(board=Board.SH_MAIN, min_shares=100,
                                                      step_shares=100)
    assert (rules.lot_rule(Board.STAR).min_shares, rules.lot_rule(Board.STAR).step_shares) == (
        200, 1)


def test_ipo_unlimited_days():
    assert rules.ipo_unlimited_days(Board.CHINEXT, "2020-08-24") == 5
    assert rules.ipo_unlimited_days(Board.CHINEXT, "2019-01-02") == 1
    assert rules.ipo_unlimited_days(Board.STAR, "2020-01-02") == 5
    assert rules.ipo_unlimited_days(Board.SH_MAIN, "2020-01-02") == 1


def test_dividend_tax_rules_is_the_scalar_rule_on_every_day():
    days = pd.date_range("1989-12-25", "2026-01-10", freq="D")
    want = [rules.dividend_tax_rule(d) for d in days]
    assert rules.dividend_tax_rules(days).tolist() == want
    assert rules.dividend_tax_rules(days.to_numpy()).dtype == np.int64
    nat = np.array(["NaT", "2015-09-08"], dtype="datetime64[ns]")
    assert rules.dividend_tax_rules(nat).tolist() == [0, 3]


def test_holding_tier_counts_months_as_pd_date_offset_does():
    def by_offsets(bought: pd.Timestamp, sold: pd.Timestamp) -> int:  # the rule as written
        held_to = sold - pd.Timedelta(days=1)
        if held_to <= bought + pd.DateOffset(months=1):
            return 0
        return 1 if held_to <= bought + pd.DateOffset(years=1) else 2

    # month ends, 29 February and year ends, sold around one month and one year later
    bought = pd.date_range("2015-12-25", "2017-03-05", freq="D")
    for b in bought:
        for later in (28, 29, 30, 31, 32, 33, 364, 365, 366, 367):
            sold = b + pd.Timedelta(days=later)
            assert rules.holding_tier(b, sold) == by_offsets(b, sold), (b, sold)
    b = pd.Timestamp("2024-01-31 09:30", tz="Asia/Shanghai")
    for sold in ("2024-03-01 09:29", "2024-03-01 09:31", "2025-02-01 09:31"):
        s = pd.Timestamp(sold, tz="Asia/Shanghai")
        assert rules.holding_tier(b, s) == by_offsets(b, s)
