"""Costs: pencil numbers for each charge, the dated rates, rounding to the fen, scaling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_backtest import Scripted, make_market

from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.errors import ConfigError
from workbench.rules import round_fen


def charges(value: float, side: str, day: str, costs: Costs | None = None):
    ch = (costs or Costs()).charges(np.array([value]), side=side, day=day)  # type: ignore[arg-type]
    return (float(ch.commission[0]), float(ch.stamp_duty[0]), float(ch.transfer_fee[0]))


def test_stamp_duty_is_0_1_percent_to_2023_08_27_and_0_05_percent_from_2023_08_28():
    # sell 10,000 CNY: 10,000 * 0.001 = 10.00 on Friday 25 August; * 0.0005 = 5.00 on Monday
    assert charges(10_000, "sell", "2023-08-25")[1] == 10.00
    assert charges(10_000, "sell", "2023-08-27")[1] == 10.00
    assert charges(10_000, "sell", "2023-08-28")[1] == 5.00
    # never on buys
    assert charges(10_000, "buy", "2023-08-25")[1] == 0.0


def test_transfer_fee_is_0_002_percent_before_2022_04_29_and_0_001_percent_from_then():
    # 100,000 CNY: * 0.00002 = 2.00 on 28 April 2022; * 0.00001 = 1.00 on 29 April; both sides
    assert charges(100_000, "buy", "2022-04-28")[2] == 2.00
    assert charges(100_000, "sell", "2022-04-28")[2] == 2.00
    assert charges(100_000, "buy", "2022-04-29")[2] == 1.00
    assert charges(100_000, "sell", "2022-04-29")[2] == 1.00


def test_commission_has_a_5_cny_minimum_per_order():
    # 10,000 * 0.0003 = 3.00 -> 5.00;  50,000 * 0.0003 = 15.00;
    # 16,675 * 0.0003 = 5.0025 -> 5.00 (the minimum); 16,685 * 0.0003 = 5.0055 -> 5.01
    assert charges(10_000, "buy", "2024-01-02")[0] == 5.00
    assert charges(50_000, "sell", "2024-01-02")[0] == 15.00
    assert charges(16_675, "buy", "2024-01-02")[0] == 5.00
    assert charges(16_685, "buy", "2024-01-02")[0] == 5.01
    # no fill, no charge
    assert charges(0, "buy", "2024-01-02") == (0.0, 0.0, 0.0)
    assert charges(1_000, "buy", "2024-01-02", Costs(min_commission_cny=0))[0] == 0.30


def test_every_charge_rounds_half_up_to_the_fen():
    # transfer 12,500 * 0.00001 = 0.125 -> 0.13 (half up; banker's rounding would say 0.12)
    assert charges(12_500, "buy", "2024-01-02")[2] == 0.13
    # stamp 4,330 * 0.0005 = 2.165 -> 2.17, although the float 2.165 is 2.16499999...
    assert charges(4_330, "sell", "2024-01-02")[1] == 2.17
    # stamp 4,321 * 0.0005 = 2.1605 -> 2.16
    assert charges(4_321, "sell", "2024-01-02")[1] == 2.16
    assert round_fen(np.array([0.004999, 0.005, 1234.5649])).tolist() == [0.0, 0.01, 1234.56]


def test_fill_price_moves_against_the_trader_and_is_not_rounded():
    c = Costs(slippage_rate=0.0005)
    assert c.fill_price(np.array([3.21]), side="buy")[0] == pytest.approx(3.211605, abs=1e-12)
    assert c.fill_price(np.array([3.21]), side="sell")[0] == pytest.approx(3.208395, abs=1e-12)
    # slippage in the log: 1,000 shares * 0.001605 = 1.605 -> 1.61 (attribution only)
    value = 1_000 * c.fill_price(np.array([3.21]), side="buy")
    assert c.charges(value, side="buy", day="2024-01-02").slippage.tolist() == [1.61]


def test_scale_multiplies_every_charge():
    two = Costs().scale(2.0)
    assert (two.commission_rate, two.min_commission_cny, two.slippage_rate) == (
        0.0006, 10.0, 0.001)
    # sell 100,000 on 2024-01-02: 1x = (30.00, 50.00, 1.00); 2x = (60.00, 100.00, 2.00)
    assert charges(100_000, "sell", "2024-01-02") == (30.0, 50.0, 1.0)
    assert charges(100_000, "sell", "2024-01-02", two) == (60.0, 100.0, 2.0)
    assert charges(100_000, "sell", "2024-01-02", Costs.zero()) == (0.0, 0.0, 0.0)
    assert Costs().scale(0) == Costs.zero()
    assert two.stamp_duty_rate("2024-01-02") == 0.001
    with pytest.raises(ConfigError, match="multiplier must be a finite number >= 0"):
        Costs().scale(-1)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"commission_rate": 3}, r"commission_rate must be a finite fraction >= 0 and < 0.01, "
                             r"got 3; write 3 bps as 0.0003"),
    ({"commission_rate": 0.03}, "write 3 bps as 0.0003"),
    ({"commission_rate": -0.0003}, "commission_rate must be a finite fraction"),
    ({"slippage_rate": 5}, "write 5 bps as 0.0005"),
    ({"min_commission_cny": -5}, "min_commission_cny must be a finite number >= 0"),
    ({"min_commission_cny": 5000}, "per-order amount"),
    ({"stamp_duty_scale": float("inf")}, "stamp_duty_scale must be a finite number"),
])
def test_bad_cost_settings_are_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        Costs(**kwargs)


def test_costs_round_trip_through_a_dict():
    c = Costs(commission_rate=0.00025, min_commission_cny=0.0)
    assert Costs.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError, match="unknown cost fields"):
        Costs.from_dict({"fee": 1.0})


def _two_stock_run(start: str, plan: dict) -> list[tuple]:
    m = make_market({"600000.SH": {"close": [10.0] * 5}, "600001.SH": {"close": [10.0] * 5}},
                    start=start)
    # lot_rounding='floor': the share counts in the comments are the targets floored to lots
    r = run(m, Scripted(plan=plan), BacktestConfig(capital_cny=100_000, lot_rounding="floor",
                                                   costs=Costs(slippage_rate=0.0)))
    t = r.trades
    return list(zip(t["date"].dt.strftime("%Y-%m-%d"), t["side"], t["commission"],
                    t["stamp_duty"], t["transfer_fee"], strict=True))


def test_a_run_across_the_stamp_duty_cut_charges_each_sell_at_its_date():
    # 4,000 shares at 10.00 = 40,000 CNY a fill: commission 12.00, transfer 0.40;
    # stamp duty 40.00 on Friday 2023-08-25, 20.00 on Monday 2023-08-28.
    plan = {"2023-08-23": {"600000.SH": 0.4, "600001.SH": 0.4},
            "2023-08-24": {"600001.SH": 0.4},
            "2023-08-25": {}}
    assert _two_stock_run("2023-08-23", plan) == [
        ("2023-08-24", "buy", 12.0, 0.0, 0.4),
        ("2023-08-24", "buy", 12.0, 0.0, 0.4),
        ("2023-08-25", "sell", 12.0, 40.0, 0.4),
        ("2023-08-28", "sell", 12.0, 20.0, 0.4),
    ]


def test_a_run_across_the_transfer_fee_cut_charges_each_fill_at_its_date():
    # 40,000 CNY buys: transfer fee 0.80 on 2022-04-28, 0.40 on 2022-04-29. (After the first
    # buy equity is 99,987.20, so the second target is floor(0.41 * 99,987.20 / 10) = 4,099
    # shares -> 4,000; the first stock's 3,999 asks for a 1-share sale, less than a lot.)
    plan = {"2022-04-27": {"600000.SH": 0.4},
            "2022-04-28": {"600000.SH": 0.4, "600001.SH": 0.41}}
    assert _two_stock_run("2022-04-26", plan) == [
        ("2022-04-28", "buy", 12.0, 0.0, 0.8),
        ("2022-04-29", "buy", 12.0, 0.0, 0.4),
    ]


def test_more_costs_never_raise_equity():
    m = make_market({"600000.SH": {"open": [10, 10.3, 10.1, 9.8, 10.4],
                                   "close": [10, 10.2, 10.0, 9.9, 10.5]},
                     "600001.SH": {"close": [20, 20.5, 21, 20.2, 19.9]}})
    plan = {"2024-01-02": {"600000.SH": 0.5, "600001.SH": 0.4},
            "2024-01-04": {"600000.SH": 0.2, "600001.SH": 0.7}}
    finals = [run(m, Scripted(plan=plan),
                  BacktestConfig(capital_cny=200_000, costs=Costs().scale(k))).equity.iloc[-1]
              for k in (0.0, 1.0, 2.0)]
    assert finals[0] > finals[1] > finals[2]


def test_rates_on_many_days_are_the_rates_of_each_day():
    days = pd.date_range("2007-12-28", "2024-01-05", freq="D")
    for costs in (Costs(), Costs(stamp_duty_scale=0.5, transfer_fee_scale=3.0)):
        found = costs.rates_on(days)
        assert list(found) == list(days)
        for day in days[::7].append(pd.DatetimeIndex(["2008-09-19", "2022-04-29",
                                                      "2023-08-27", "2023-08-28"])):
            assert found[day] == (costs.stamp_duty_rate(day), costs.transfer_fee_rate(day))
