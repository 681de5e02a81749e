"""Lot rounding: 'floor' (targets rounded down to board lots) and 'fill' (the idle cash that
leaves buys extra lots), in :meth:`Portfolio.plan` and in a run.

The worked examples are computed by hand in the comments; the property test recomputes the
costs with :meth:`Costs.charges` (not the engine's ``charge_table`` path) and compares
'floor' with a reference copy of the planning rule as it was before 'fill' existed.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_backtest import NO_COSTS, Scripted, flat, make_market

from workbench import strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data import synthetic_market
from workbench.errors import ConfigError
from workbench.portfolio import (
    FILL_BUFFER_RATE,
    UNFILLED_REASONS,
    Portfolio,
    fill_lots,
    lot_floor,
    sell_floor,
)

DAY = pd.Timestamp("2024-01-03")  # stamp duty 0.05 %, transfer fee 0.001 %
A, B, C = "600000.SH", "688001.SH", "000001.SZ"  # SH main (100), STAR (200 then 1), SZ main
LOT_MIN, LOT_STEP = np.array([100, 200, 100]), np.array([100, 1, 100])


def reasons(pf: Portfolio) -> list[tuple[int, int, str]]:
    u = pf.unfilled.arrays()
    return [(int(s), int(q), UNFILLED_REASONS[r - 1])
            for s, q, r in zip(u["symbol"], u["shares"], u["reason"], strict=True)]


def plan3(weights: list[float], *, cash: float = 100_000.0, prices=(57.0, 45.0, 8.30),
          lot_rounding: str = "fill", costs: Costs | None = None) -> tuple[Portfolio, list]:
    pf = Portfolio(cash, lot_min=LOT_MIN, lot_step=LOT_STEP, costs=costs or Costs())
    orders = pf.plan(np.array(weights), equity_cny=cash, price=np.array(prices),
                     listed=np.ones(3, dtype=bool), row=0, fill_row=1,
                     lot_rounding=lot_rounding, day=DAY)  # type: ignore[arg-type]
    full = np.zeros(3, dtype=np.int64)
    full[orders.symbol] = orders.qty
    return pf, full.tolist()


# -- worked examples ----------------------------------------------------------------------------
def test_worked_example_three_stocks_the_lot_that_does_not_fit_is_skipped():
    # Capital 100,000 CNY, a third each (33,333.33 CNY), default costs on 2024-01-03:
    # buys cost price * 1.0005 (slippage), commission 0.03 % (min 5), transfer 0.001 %,
    # each rounded to the fen.
    #   A 57.00 (lots of 100): 33,333.33 / 57 = 584.8 -> floor 584 -> 500 shares,
    #     4,833.33 CNY short (33,333.33 - 28,500); 600 would be 16 above 584, under a lot
    #   B 45.00 (STAR, 200 then 1): 740.7 -> 740 shares, at its floored target: no extra
    #   C 8.30 (lots of 100): 4,016.1 -> 4,016 -> 4,000 shares, 133.33 CNY short; 4,100
    #     would be 84 above 4,016, under a lot
    # Floored buys at the decision price:
    #   A 500 * 57.0285 = 28,514.25 + 8.55 + 0.29 = 28,523.09
    #   B 740 * 45.0225 = 33,316.65 + 9.99 + 0.33 = 33,326.97
    #   C 4,000 * 8.30415 = 33,216.60 + 9.96 + 0.33 = 33,226.89    total 95,076.95
    # Cash kept back for the fill: 100,000 / 1.01 = 99,009.90, so 3,932.95 is left.
    # A is furthest below target, but its next lot costs
    #   600 * 57.0285 = 34,217.10 + 10.27 + 0.34 = 34,227.71, i.e. 5,704.62 more: skipped.
    # C's next lot: 4,100 * 8.30415 = 34,047.015 + 10.21 + 0.34 = 34,057.565, 830.675 more:
    # it fits. Planned: A 500, B 740, C 4,100.
    assert FILL_BUFFER_RATE == 0.01
    third = 1 / 3
    pf, qty = plan3([third, third, third])
    assert qty == [500, 740, 4100]
    assert reasons(pf) == []
    _, floored = plan3([third, third, third], lot_rounding="floor")
    assert floored == [500, 740, 4000]
    # With 3,000 CNY more cash (same equity and targets) A's lot fits too: 103,000 / 1.01 =
    # 101,980.20 leaves 6,903.25 >= 5,704.62 + 830.675.
    pf = Portfolio(103_000, lot_min=LOT_MIN, lot_step=LOT_STEP, costs=Costs())
    orders = pf.plan(np.full(3, third), equity_cny=100_000, price=np.array([57.0, 45.0, 8.30]),
                     listed=np.ones(3, dtype=bool), row=0, fill_row=1, lot_rounding="fill",
                     day=DAY)
    assert orders.qty.tolist() == [600, 740, 4100]


def test_fill_lots_skips_a_lot_that_does_not_fit_and_goes_on_down_the_list():
    # No costs, no margin, 10,000 CNY, nothing floored. Shortfalls: X 90 * 60 = 5,400,
    # Y 80 * 50 = 4,000, Z 70 * 30 = 2,100 CNY, so X, Y, Z in that order; lots cost 6,000,
    # 5,000 and 3,000. X fits (4,000 left), Y does not, Z does (1,000 left).
    lots = np.array([100, 100, 100])
    out = fill_lots(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=bool),
                    goal=np.array([90.0, 80.0, 70.0]), held=np.zeros(3, dtype=np.int64),
                    price=np.array([60.0, 50.0, 30.0]), lot_min=lots, lot_step=lots,
                    cash_cny=10_000.0, costs=Costs.zero(), stamp_rate=0.0, transfer_rate=0.0,
                    buffer_rate=0.0)
    assert out.tolist() == [100, 0, 100]
    # equal shortfalls go by position: two names 2,000 CNY short, cash for one lot
    out = fill_lots(np.zeros(2, dtype=np.int64), np.zeros(2, dtype=bool),
                    goal=np.array([50.0, 50.0]), held=np.zeros(2, dtype=np.int64),
                    price=np.array([40.0, 40.0]), lot_min=lots[:2], lot_step=lots[:2],
                    cash_cny=4_000.0, costs=Costs.zero(), stamp_rate=0.0, transfer_rate=0.0,
                    buffer_rate=0.0)
    assert out.tolist() == [100, 0]


def test_worked_example_an_extra_lot_needs_cash_for_its_minimum_commission():
    # 30,000 CNY, no holdings, weights A 0.5 and C 0.49 at A 57.00, C 8.30, B not wanted.
    #   A: 15,000 / 57 = 263.2 -> 263 -> 200 shares, 3,600 CNY short; 300 is 37 above 263
    #   C: 14,700 / 8.30 = 1,771.1 -> 1,771 -> 1,700 shares, 590 CNY short; 1,800 is 29 above
    # Floored: A 200 * 57.0285 = 11,405.70 + 5.00 (minimum) + 0.11 = 11,410.81
    #          C 1,700 * 8.30415 = 14,117.055 + 5.00 + 0.14 = 14,122.195   total 25,533.005
    # 30,000 / 1.01 = 29,702.97 leaves 4,169.965.
    # A's next lot: 300 * 57.0285 = 17,108.55 + 5.13 + 0.17 = 17,113.85, i.e. 5,703.04 more:
    # skipped. C's: 1,800 * 8.30415 = 14,947.47 + 5.00 + 0.15 = 14,952.62, 830.425 more: fits.
    _, qty = plan3([0.5, 0.0, 0.49], cash=30_000.0)
    assert qty == [200, 0, 1800]
    # without costs and margin the cash left is 30,000 - 11,400 - 14,110 = 4,490: still not
    # A's 5,700, so the same plan
    _, qty = plan3([0.5, 0.0, 0.49], cash=30_000.0, costs=NO_COSTS)
    assert qty == [200, 0, 1800]


def test_worked_example_floored_buys_above_the_cash_are_scaled_down_at_the_plan():
    # Half each of 100,000 CNY in two 10.00 stocks: floored 5,000 + 5,000 shares, each
    #   5,000 * 10.005 = 50,025.00 + 15.01 + 0.50 = 50,040.51, both 100,081.02 CNY,
    # above the 99,009.90 kept for the fill. Scaled by 99,009.90 / 100,081.02 = 0.9893 to
    # 4,946 -> 4,900 shares each: 49,024.50 + 14.71 + 0.49 = 49,039.70, both 98,079.40; one
    # more lot (1,000.81 more) does not fit the 930.50 left. The cuts are logged at the plan.
    pf = Portfolio(100_000, lot_min=np.array([100, 100]), lot_step=np.array([100, 100]),
                   costs=Costs())
    orders = pf.plan(np.array([0.5, 0.5]), equity_cny=100_000, price=np.array([10.0, 10.0]),
                     listed=np.array([True, True]), row=0, fill_row=1, lot_rounding="fill",
                     day=DAY)
    assert orders.qty.tolist() == [4900, 4900]
    assert reasons(pf) == [(0, 100, "insufficient_cash"), (1, 100, "insufficient_cash")]


def test_sells_pay_for_extra_lots_and_a_zero_weight_gets_none():
    # Holding 1,000 C at 8.30 (8,300 CNY) and no cash; equity 8,300. Target: A 0.9 (7,470
    # CNY: 131.05 -> 131 -> 100 shares), C 0 (sell all). No costs, so the 8,300 of the sale
    # pay for A's 100 (5,700) and a second lot (11,400) does not fit. B has weight 0: none.
    pf = Portfolio(0.0, lot_min=LOT_MIN, lot_step=LOT_STEP, costs=NO_COSTS)
    pf.shares[2] = 1000
    orders = pf.plan(np.array([0.9, 0.0, 0.0]), equity_cny=8_300.0,
                     price=np.array([57.0, 45.0, 8.30]), listed=np.ones(3, dtype=bool), row=0,
                     fill_row=1, lot_rounding="fill", day=DAY)
    assert orders.symbol.tolist() == [0, 2]
    assert orders.qty.tolist() == [100, -1000]
    assert orders.sell_all.tolist() == [False, True]


def test_fill_respects_buyable_and_needs_a_day():
    pf = Portfolio(100_000, lot_min=LOT_MIN, lot_step=LOT_STEP, costs=NO_COSTS)
    orders = pf.plan(np.array([0.3, 0.3, 0.3]), equity_cny=100_000,
                     price=np.array([57.0, 45.0, 8.30]), listed=np.ones(3, dtype=bool), row=0,
                     fill_row=1, buyable=np.array([False, True, True]), lot_rounding="fill",
                     day=DAY)
    assert 0 not in orders.symbol.tolist()  # A is not buyable: no lot, floored or extra
    with pytest.raises(ConfigError, match="needs day="):
        pf.plan(np.array([0.3, 0.3, 0.3]), equity_cny=100_000, price=np.array([57.0, 45.0, 8.3]),
                listed=np.ones(3, dtype=bool), row=0, fill_row=1, lot_rounding="fill")
    with pytest.raises(ConfigError, match="lot_rounding must be one of"):
        pf.plan(np.array([0.3, 0.3, 0.3]), equity_cny=100_000, price=np.array([57.0, 45.0, 8.3]),
                listed=np.ones(3, dtype=bool), row=0, fill_row=1,
                lot_rounding="nearest")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="lot_rounding must be one of"):
        BacktestConfig(lot_rounding="ceil")  # type: ignore[arg-type]


def test_a_run_fills_the_lots_the_next_plan_then_keeps():
    # 10,000 CNY, 0.6 in A at 57.00 (105.3 shares -> 100) and 0.3 in C at 8.30 (361.4 ->
    # 300). 'fill' gives A nothing (200 would be 95 above 105, but 11,400 does not fit) and
    # C one more lot (400, 39 above 361). On the next sessions, at the same prices, the
    # plan asks for the same weights and sells nothing back (C's 39 over is under a lot).
    m = make_market({A: flat(57.0, 4), C: flat(8.30, 4)})
    day = {str(d.date()): {A: 0.6, C: 0.3} for d in m.calendar[:3]}
    r = run(m, Scripted(plan=day), BacktestConfig(capital_cny=10_000, costs=NO_COSTS))
    assert dict(zip(r.trades["symbol"], r.trades["shares"], strict=True)) == {A: 100, C: 400}
    assert r.trades["date"].nunique() == 1  # bought once, then kept
    assert r.cash.iloc[-1] == pytest.approx(10_000 - 5_700 - 3_320)
    floored = run(m, Scripted(plan=day), BacktestConfig(capital_cny=10_000, costs=NO_COSTS,
                                                        lot_rounding="floor"))
    assert dict(zip(floored.trades["symbol"], floored.trades["shares"], strict=True)) == {
        A: 100, C: 300}


def test_saved_configs_without_the_field_read_as_floor():
    assert BacktestConfig().lot_rounding == "fill"
    assert BacktestConfig.from_dict({"capital_cny": 1e6}).lot_rounding == "floor"
    cfg = BacktestConfig(lot_rounding="floor")
    assert BacktestConfig.from_dict(cfg.to_dict()) == cfg


# -- buy_and_hold on the default synthetic market -----------------------------------------------
@pytest.fixture(scope="module")
def default_market():
    return synthetic_market()


def test_buy_and_hold_is_fully_invested_on_the_default_market(default_market):
    # Measured: 'floor' leaves 6.4 % in cash after the first fill (93.6 % invested), 'fill'
    # 1.6 % (98.4 %): the 1 % margin for the open and about 0.6 % the lots cannot use.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run(default_market, strategies.get("buy_and_hold"), BacktestConfig())
        floored = run(default_market, strategies.get("buy_and_hold"),
                      BacktestConfig(lot_rounding="floor"))
    invested = r.daily["invested_rate"]
    first = int(np.argmax(invested.to_numpy() > 0))
    assert invested.iloc[first] >= 0.98
    assert floored.daily["invested_rate"].iloc[first] < 0.95
    assert (r.unfilled["reason"] != "insufficient_cash").all()


# -- properties ---------------------------------------------------------------------------------
def floor_reference(pf: Portfolio, weights, equity, price, listed, buyable):
    """The plan of 'floor' as it was before 'fill' existed: (symbol, qty, sell_all), unfilled."""
    rel = np.flatnonzero((weights > 0) | (pf.shares != 0))
    w, p, held = weights[rel], price[rel], pf.shares[rel]
    bad = (w > 0) & ~(listed[rel] & (p > 0))
    p = np.where(bad, 1.0, p)
    target = np.where(bad, held, (w * equity / p).astype(np.int64))
    barred = (target > held) & ~buyable[rel]
    target = np.where(barred, held, target)
    delta = target - held
    move = delta != 0
    rel, delta, target, held = rel[move], delta[move], target[move], held[move]
    sell = delta < 0
    lot_min, lot_step = pf.lot_min[rel], pf.lot_step[rel]
    qty = np.where(sell, sell_floor(np.abs(delta), held, lot_min, lot_step),
                   lot_floor(np.abs(delta), lot_min, lot_step))
    sell_all = sell & (target == 0)
    keep = ~((qty == 0) & ~sell_all)
    return (rel[keep].tolist(), np.where(sell, -qty, qty)[keep].tolist(),
            sell_all[keep].tolist())


@st.composite
def books(draw: st.DrawFn):
    n = draw(st.integers(1, 8))
    rules = draw(st.lists(st.sampled_from([(100, 100), (200, 1), (100, 1)]), min_size=n,
                          max_size=n))
    price = np.array(draw(st.lists(st.integers(100, 30_000), min_size=n, max_size=n))) / 100
    held = np.array(draw(st.lists(st.sampled_from([0, 0, 100, 250, 1_000, 3_700]), min_size=n,
                                  max_size=n)), dtype=np.int64)
    raw = np.array(draw(st.lists(st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0, 3.0]), min_size=n,
                                 max_size=n)))
    total = draw(st.sampled_from([0.3, 0.9, 1.0]))
    weights = raw / raw.sum() * total if raw.sum() else raw
    cash = draw(st.sampled_from([0.0, 5_000.0, 60_000.0, 1_000_000.0]))
    listed = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) | draw(
        st.booleans())
    buyable = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n))) | draw(
        st.booleans())
    costs = Costs().scale(draw(st.sampled_from([0.0, 1.0, 4.0])))
    day = pd.Timestamp(draw(st.sampled_from(["2022-04-28", "2023-08-28"])))
    return dict(lot_min=np.array([r[0] for r in rules]), lot_step=np.array([r[1] for r in rules]),
                price=price, held=held, weights=weights, cash=cash, listed=listed,
                buyable=buyable, costs=costs, day=day)


def _portfolio(b) -> Portfolio:
    pf = Portfolio(b["cash"], lot_min=b["lot_min"], lot_step=b["lot_step"], costs=b["costs"])
    pf.shares[:] = b["held"]
    return pf


def _cash_moved(costs: Costs, qty: np.ndarray, price: np.ndarray, sell: np.ndarray,
                day: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Per order: cost of a buy and net proceeds of a sell at ``price`` (public Costs API)."""
    buy_px, sell_px = costs.fill_price(price, side="buy"), costs.fill_price(price, side="sell")
    bv, sv = qty * buy_px, qty * sell_px
    buy_cost = bv + costs.charges(bv, side="buy", day=day).fees
    sell_net = sv - costs.charges(sv, side="sell", day=day).fees
    return np.where(sell, 0.0, buy_cost), np.where(sell, sell_net, 0.0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_fill_stays_within_the_cash_and_a_lot_of_each_target(b):
    equity = b["cash"] + float((b["held"] * b["price"]).sum())
    if equity <= 0:
        equity = 1.0
    args = {"equity_cny": equity, "price": b["price"], "listed": b["listed"], "row": 0,
            "fill_row": 1, "buyable": b["buyable"], "day": b["day"]}
    floor_pf, fill_pf = _portfolio(b), _portfolio(b)
    floored = floor_pf.plan(b["weights"], lot_rounding="floor", **args)
    filled = fill_pf.plan(b["weights"], lot_rounding="fill", **args)

    # 'floor' is the rule as it was
    ref = floor_reference(_portfolio(b), b["weights"], equity, b["price"], b["listed"],
                          b["buyable"])
    assert (floored.symbol.tolist(), floored.qty.tolist(), floored.sell_all.tolist()) == ref

    n = len(b["price"])
    q_floor, q_fill = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    q_floor[floored.symbol], q_fill[filled.symbol] = floored.qty, filled.qty
    # sells are the same orders; buys only where the weight is positive, the name buyable
    # and listed with a price
    np.testing.assert_array_equal(np.minimum(q_fill, 0), np.minimum(q_floor, 0))
    bought = q_fill > 0
    assert (b["weights"][bought] > 0).all()
    assert b["buyable"][bought].all() and b["listed"][bought].all()
    # planned buys and their costs fit the cash after the sells, at the decision prices
    sell = q_fill < 0
    buy_cost, sell_net = _cash_moved(b["costs"], np.abs(q_fill), b["price"], sell, b["day"])
    budget = (b["cash"] + sell_net.sum()) / (1 + FILL_BUFFER_RATE)
    spent = buy_cost.sum()
    assert spent == 0 or spent <= budget + 1e-6
    assert spent <= b["cash"] + sell_net.sum() + 1e-6 or spent == 0
    # never more than equity
    after = b["held"] + q_fill
    assert (after * b["price"]).sum() <= equity + 1e-6
    # each name: within its target plus one increment; an extra is one increment
    goal = b["weights"] * equity / b["price"]
    extra = q_fill - q_floor
    up = extra > 0
    inc = np.where(q_floor > 0, b["lot_step"], b["lot_min"])
    np.testing.assert_array_equal(extra[up], inc[up])
    assert (after[up] < goal[up] + inc[up]).all()
    assert (after[up] - np.floor(goal[up]) < b["lot_min"][up]).all()  # the next plan keeps it
    # more than the floor only when the floored buys fit; else no more than the floor
    floor_cost, floor_net = _cash_moved(b["costs"], np.abs(q_floor), b["price"], q_floor < 0,
                                        b["day"])
    if floor_cost.sum() <= (b["cash"] + floor_net.sum()) / (1 + FILL_BUFFER_RATE) - 1e-6:
        assert (q_fill >= q_floor).all()
        # and the cash is spent: every name still eligible for a lot could not afford it
        left = budget - spent
        for i in np.flatnonzero((q_fill >= 0) & (extra == 0) & (b["weights"] > 0)
                                & b["buyable"] & b["listed"]):
            fl, now = int(np.floor(goal[i])), b["held"][i] + q_fill[i]
            step = inc[i]
            if now < fl and now + step - fl < b["lot_min"][i]:
                more, _ = _cash_moved(b["costs"], np.array([q_fill[i] + step]),
                                      b["price"][i : i + 1], np.array([False]), b["day"])
                less, _ = _cash_moved(b["costs"], np.array([q_fill[i]]),
                                      b["price"][i : i + 1], np.array([False]), b["day"])
                assert more[0] - less[0] > left - 1e-6
    else:
        assert (q_fill <= q_floor).all()
