"""Backtests on an index universe: ``BacktestConfig(universe='csi300')``.

Three stocks at constant prices (no costs) on six sessions 2024-01-02..01-09, with CSI 300
spells (``end`` exclusive): 600000.SH a member throughout, 600519.SH until 01-05 (out from
01-05), 000001.SZ from 01-04. A strategy sees the members as of each decision day only, and
the engine never buys a non-member; a holding that left the index may be sold.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from test_backtest import NO_COSTS, make_market, trades_of, unfilled_of

from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.errors import ConfigError, DataWarning
from workbench.strategies.base import Strategy

A, B, C = "600000.SH", "600519.SH", "000001.SZ"


def spells(*rows: tuple[str, str, str | None]) -> pd.DataFrame:
    return pd.DataFrame({"index": "csi300", "symbol": [r[0] for r in rows],
                         "start": pd.to_datetime([r[1] for r in rows]),
                         "end": pd.to_datetime([r[2] for r in rows])})


MEMBERS = spells((A, "2024-01-02", None), (B, "2024-01-02", "2024-01-05"),
                 (C, "2024-01-04", None))


@pytest.fixture
def market() -> Market:
    m = make_market({A: {"close": [10.0] * 6}, B: {"close": [20.0] * 6},
                     C: {"close": [5.0] * 6}})
    return dataclasses.replace(m, index_members=MEMBERS)


@dataclass(frozen=True, kw_only=True)
class EqualListed(Strategy):
    """Equal weight over what the view lists, every session."""

    name: ClassVar[str] = "equal_listed"

    def target_weights(self, view):
        names = view.listed & view.has_bar
        return np.where(names, 1.0 / max(int(names.sum()), 1), 0.0)


@dataclass(frozen=True, kw_only=True)
class EqualAll(Strategy):
    """Equal weight over every symbol with a bar, ignoring the view's universe."""

    name: ClassVar[str] = "equal_all"

    def target_weights(self, view):
        return np.full(len(view.symbols), 1.0 / len(view.symbols))


CONFIG = BacktestConfig(costs=NO_COSTS, universe="csi300", max_participation_rate=None)


def test_the_strategy_picks_among_the_members_of_each_day(market: Market):
    seen = []

    @dataclass(frozen=True, kw_only=True)
    class Spy(EqualListed):
        def target_weights(self, view):
            seen.append((str(view.date.date())[5:], [str(s) for s in
                                                    view.symbols[view.listed]]))
            return super().target_weights(view)

    run(market, Spy(), CONFIG)
    assert seen == [("01-02", [A, B]), ("01-03", [A, B]), ("01-04", [C, A, B]),
                    ("01-05", [C, A]), ("01-08", [C, A])]


def test_members_are_bought_and_a_stock_that_left_is_sold(market: Market):
    trades = trades_of(run(market, EqualListed(), CONFIG))
    buys = {(d, s) for d, s, side, _, _ in trades if side == "buy"}
    sells = {(d, s) for d, s, side, _, _ in trades if side == "sell"}
    assert ("01-03", A) in buys and ("01-03", B) in buys
    assert min(d for d, s in buys if s == C) == "01-05"  # decided 01-04, its first day in
    assert ("01-08", B) in sells  # decided 01-05, the day it left
    assert not any(s == B and d >= "01-08" for d, s in buys)


def test_the_engine_buys_no_non_member_even_when_asked(market: Market):
    result = run(market, EqualAll(), CONFIG)
    member = market.membership("csi300")
    cal = list(market.calendar)
    col = {s: i for i, s in enumerate(market.symbols)}
    for d, s, side, _, _ in trades_of(result):
        if side == "buy":  # decided on the session before the fill
            decided = cal[cal.index(pd.Timestamp(f"2024-{d}")) - 1]
            assert member[cal.index(decided), col[s]], (d, s)
    barred = [(d, s) for d, s, _, _, reason in unfilled_of(result)
              if reason == "not_in_universe"]
    assert ("01-03", C) in barred and ("01-04", C) in barred
    assert not any(s == A for _, s in barred)
    # without a universe the same strategy buys all three on the first fill
    plain = trades_of(run(market, EqualAll(), dataclasses.replace(CONFIG, universe=None)))
    assert {s for d, s, side, _, _ in plain if d == "01-03" and side == "buy"} == {A, B, C}


def test_membership_after_a_day_does_not_change_the_run_before_it(market: Market):
    later = dataclasses.replace(market, index_members=pd.concat(
        [spells((A, "2024-01-02", "2024-01-08"), (B, "2024-01-02", "2024-01-05"),
                (C, "2024-01-04", None))], ignore_index=True))
    first = [t for t in trades_of(run(market, EqualListed(), CONFIG)) if t[0] <= "01-08"]
    second = [t for t in trades_of(run(later, EqualListed(), CONFIG)) if t[0] <= "01-08"]
    assert first == second  # A leaves on 01-08: seen from that decision on, filled 01-09


def test_a_run_before_the_first_snapshot_warns(market: Market):
    late = dataclasses.replace(market, index_members=spells(
        (A, "2024-01-04", None), (B, "2024-01-04", None), (C, "2024-01-04", None)))
    with pytest.warns(DataWarning, match=r"universe 'csi300': no membership is known before "
                                         r"2024-01-04 .* from 2024-01-02 buys nothing"):
        result = run(late, EqualListed(), CONFIG)
    assert min(d for d, *_ in trades_of(result)) == "01-05"


def test_an_index_the_market_lacks_is_refused(market: Market):
    with pytest.raises(ConfigError, match=r"no membership of index 'csi500'.*'csi300'"):
        run(market, EqualListed(), dataclasses.replace(CONFIG, universe="csi500"))


def test_the_config_keeps_universe_out_of_its_dict_unless_set():
    assert "universe" not in BacktestConfig().to_dict()
    doc = BacktestConfig(universe="csi300").to_dict()
    assert doc["universe"] == "csi300"
    assert BacktestConfig.from_dict(doc) == BacktestConfig(universe="csi300")
    assert BacktestConfig.from_dict(BacktestConfig().to_dict()).universe is None
    with pytest.raises(ConfigError, match="universe must be an index name such as 'csi300'"):
        BacktestConfig(universe="")
