"""Tests of workbench.portfolio: lots, odd lots and T+1 at the level of the cash account."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_backtest import NO_COSTS

from workbench.portfolio import UNFILLED_REASONS, Orders, Portfolio, SessionBars, block_codes


def _portfolio(**kw: Any) -> Portfolio:
    defaults = {"lot_min": np.array([100]), "lot_step": np.array([100]),
                "costs": NO_COSTS, "max_participation_rate": None}
    return Portfolio(100_000, **{**defaults, **kw})


def _bars(price: float = 10.0, **kw: Any) -> SessionBars:
    values = {"price": [price], "limit_up": [np.nan], "limit_down": [np.nan],
              "suspended": [False], "volume": [1e6], "listed": [True], "delisted": [False]}
    values.update({k: [v] for k, v in kw.items()})
    return SessionBars.from_bars(**{k: np.asarray(v) for k, v in values.items()})


def _order(qty: int = 0, sell_all: bool = False) -> Orders:
    return Orders(np.array([0]), np.array([qty]), np.array([sell_all]), np.array([0]),
                  np.array([False]))


def test_odd_lot_remainder_sells_only_in_full():
    pf = _portfolio()
    pf.shares[:] = pf.sellable[:] = 150  # e.g. after a 5-for-10 bonus issue on 100 shares
    day = pd.Timestamp("2024-01-03")
    # target 20 shares: sell 130 -> rounded to one lot of 100, the odd 50 stays
    orders = pf.plan(np.array([0.002]), equity_cny=100_000, price=np.array([10.0]),
                     listed=np.array([True]), row=0, fill_row=1)
    assert orders.qty.tolist() == [-100]
    pf.execute(1, day, orders, _bars())
    assert pf.shares.tolist() == [50]
    # selling 30 of the 50 is not allowed: an odd lot goes in one piece
    pf.execute(1, day, _order(-30), _bars())
    assert pf.shares.tolist() == [50]
    assert pf.unfilled.arrays()["reason"].tolist() == [4]  # lot_too_small
    # a target of zero sells the odd lot in full
    orders = pf.plan(np.array([0.0]), equity_cny=100_000, price=np.array([10.0]),
                     listed=np.array([True]), row=1, fill_row=2)
    pf.execute(2, day, orders, _bars())
    assert pf.shares.tolist() == [0]
    assert pf.trade_log()["shares"].tolist() == [100, 50]


def test_star_sells_200_then_steps_of_one_and_the_rest_in_full():
    pf = _portfolio(lot_min=np.array([200]), lot_step=np.array([1]))
    pf.shares[:] = pf.sellable[:] = 450
    day = pd.Timestamp("2024-01-03")
    pf.execute(1, day, _order(-199), _bars())  # below the 200 minimum: refused
    assert pf.shares.tolist() == [450]
    pf.execute(1, day, _order(-201), _bars())  # 200 + 1
    assert pf.shares.tolist() == [249]
    pf.execute(1, day, _order(sell_all=True), _bars())  # the rest, 249, in one piece
    assert pf.shares.tolist() == [0]


# -- T+1 ----------------------------------------------------------------------------------------
def test_t_plus_1_shares_bought_today_are_not_sellable_today():
    pf = _portfolio()
    day = pd.Timestamp("2024-01-03")
    pf.start_session()
    pf.execute(1, day, _order(500), _bars())
    assert pf.shares.tolist() == [500]
    pf.execute(1, day, _order(sell_all=True), _bars())  # same session
    assert pf.shares.tolist() == [500]
    u = pf.unfilled.arrays()
    assert (u["shares"].tolist(), u["reason"].tolist()) == ([500], [6])  # t_plus_1
    pf.start_session()  # next session
    pf.execute(2, day, _order(sell_all=True), _bars())
    assert pf.shares.tolist() == [0]
    # with the rule off the shares are sellable at once
    free = _portfolio(t_plus_1=False)
    free.execute(1, day, _order(500), _bars())
    free.execute(1, day, _order(sell_all=True), _bars())
    assert free.shares.tolist() == [0]


def block_codes_by_select(price, limit_up, limit_down, suspended, listed, delisted,
                          price_limits):
    """block_codes as first written (np.select over the reasons), the reference."""
    code = {name: k for k, name in enumerate(UNFILLED_REASONS, start=1)}
    base = np.select([delisted, ~listed, suspended, ~np.isfinite(price)],
                     [code["delisted"], code["not_listed"], code["suspended"],
                      code["no_bar"]], 0).astype(np.int8)
    buy, sell = base, base.copy()
    if price_limits:
        with np.errstate(invalid="ignore"):
            buy = np.where((base == 0) & (price >= limit_up - 1e-9), code["limit_up"],
                           base).astype(np.int8)
            sell = np.where((base == 0) & (price <= limit_down + 1e-9), code["limit_down"],
                            base).astype(np.int8)
    return buy, sell


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (40, 9)])
@pytest.mark.parametrize("price_limits", [True, False])
def test_block_codes_give_the_first_reason_that_applies(shape, price_limits):
    rng = np.random.default_rng(sum(shape) + price_limits)
    price = rng.choice([9.0, 10.0, 11.0, np.nan, np.inf], size=shape)
    limit_up = rng.choice([10.0, 11.0, np.nan], size=shape)
    limit_down = rng.choice([9.0, 10.0, np.nan], size=shape)
    masks = [rng.random(shape) < 0.2 for _ in range(2)] + [rng.random(shape) < 0.9]
    suspended, delisted, listed = masks
    args = (price, limit_up, limit_down, suspended, listed, delisted)
    got = block_codes(*args, price_limits=price_limits)
    want = block_codes_by_select(*args, price_limits)
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.int8 and g.tobytes() == w.tobytes()
