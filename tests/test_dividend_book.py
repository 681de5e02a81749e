"""Dividends booked as a broker books them: a worked example to the fen, then the rules."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from test_backtest import NO_COSTS, make_market, trades_of

from workbench.backtest import run
from workbench.calendar import sessions
from workbench.config import BacktestConfig
from workbench.data.corporate import actions_frame
from workbench.dividend_book import DividendBook, Entitlements
from workbench.strategies.base import Strategy

A = "600000.SH"


@dataclass(frozen=True, kw_only=True)
class TargetShares(Strategy):
    """Hold exactly ``plan[date]`` shares of A from the next session on (weights sized so)."""

    name: ClassVar[str] = "target_shares"
    plan: dict[str, int] = dataclasses.field(default_factory=dict)

    def target_weights(self, view):
        target = self.plan.get(str(view.date.date()))
        if target is None:
            return None
        price = float(view.latest("close")[0])
        return {A: (target + 0.5) * price / view.equity_cny}


def market_with_events(start: str, closes: list[float], ex: dict[int, float],
                       events: pd.DataFrame):
    """A market of one stock A; ``ex[i]`` is the ex-rights ``prev_close`` of bar ``i``."""
    prev = np.r_[closes[:1], closes[:-1]].astype(float)
    for i, ref in ex.items():
        prev[i] = ref
    m = make_market({A: {"close": closes, "prev_close": prev.tolist()}}, start=start)
    return dataclasses.replace(m, corporate_actions=events)


def test_worked_example_to_the_fen():
    # Sessions from 2024-01-02 (row 0). Tax rule from 2015-09-08: held <= 1 month 20 %,
    # 1 month..1 year 10 %, over a year 0; nothing withheld at payment.
    days = sessions("2024-01-02", "2025-03-10")
    row = {str(d.date()): i for i, d in enumerate(days)}
    # A closes at 10.00; goes ex 0.50 cash on 2025-01-20 (paid 2025-01-21): 9.50; goes ex
    # 10送10转0.5 on 2025-02-10: 9.50 / 2.05 = 4.634... -> 4.63.
    e1, e2 = row["2025-01-20"], row["2025-02-10"]
    closes = [10.0] * e1 + [9.5] * (e2 - e1) + [4.63] * (len(days) - e2)
    events = actions_frame(
        symbol=np.array([A, A], dtype=object),
        ex_date=np.array(["2025-01-20", "2025-02-10"], dtype="datetime64[ns]"),
        pay_date=np.array(["2025-01-21", "NaT"], dtype="datetime64[ns]"),
        cash_pre_tax_cny=np.array([0.50, 0.0]), bonus_ratio=np.array([0.0, 1.0]),
        transfer_ratio=np.array([0.0, 0.05]), source="vendor")
    m = market_with_events("2024-01-02", closes, {e1: 9.5, e2: 4.63}, events)
    s = TargetShares(plan={
        "2024-01-02": 1000,  # lot 1: 1,000 bought 2024-01-03
        "2024-12-02": 2000,  # lot 2: 1,000 bought 2024-12-03
        "2025-01-13": 3000,  # lot 3: 1,000 bought 2025-01-14
        "2025-01-21": 2000,  # sells lot 1 on 01-22: held over a year: 0 %
        "2025-01-23": 1000,  # sells lot 2 on 01-24: held 1 month..1 year: 10 %
        "2025-02-11": 0,     # sells lot 3 (2,050 after the bonus, odd lot too) on 02-12:
    })                       # held <= 1 month: 20 %
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))

    assert trades_of(r) == [
        ("01-03", A, "buy", 1000, "signal"),
        ("12-03", A, "buy", 1000, "signal"),
        ("01-14", A, "buy", 1000, "signal"),
        ("01-22", A, "sell", 1000, "signal"),
        ("01-24", A, "sell", 1000, "signal"),
        ("02-10", A, "buy", 1050, "corporate_action"),  # 1,000 x 2.05 = 2,050 held
        ("02-12", A, "sell", 2050, "signal"),  # 50 of them an odd lot, sold with the rest
    ]
    # Income per share of lot 3: 0.50 cash + 1.00 par of the bonus share = 1.50 per old
    # share, 1,500.00 CNY over its 2,050 shares after the issue.
    # Sale taxes: lot 1: 1,000 x 0.50 x 0 = 0; lot 2: 1,000 x 0.50 x 10 % = 50.00;
    # lot 3: 1,500.00 x 20 % = 300.00.
    assert r.trades["dividend_tax"].tolist() == [0.0, 0.0, 0.0, 0.0, 50.0, 0.0, 300.0]
    d = r.daily
    # 3,000 x 0.50 = 1,500.00 goes ex on 01-20 (receivable, in equity), paid on 01-21.
    at = days[[e1 - 1, e1, e1 + 1]]
    assert d.loc[at, "receivable_cny"].tolist() == [0.0, 1500.0, 0.0]
    assert d.loc[at, "dividends_cny"].tolist() == [0.0, 0.0, 1500.0]
    assert d.loc[at, "equity_cny"].tolist() == [100_000.0, 100_000.0, 100_000.0]
    assert r.trades.loc[r.trades["reason"] == "corporate_action", "price"].tolist() == [4.63]
    # Cash: 100,000 - 3 x 10,000 + 1,500 + 9,500 + (9,500 - 50) + (2,050 x 4.63 - 300)
    assert r.cash.iloc[-1] == pytest.approx(99_641.50, abs=1e-9)
    # Equity lost exactly the tax (350.00) and the ex-price's rounding to the fen on
    # 2025-02-10 (1,000 x 9.50 - 2,050 x 4.63 = 8.50).
    assert r.equity.iloc[-1] == pytest.approx(100_000 - 350 - 8.5, abs=1e-9)
    assert r.dividends[["shares", "cash_pre_tax_cny", "new_shares", "gross_cny",
                        "withheld_cny", "net_cny"]].to_numpy().tolist() == [
        [3000, 0.5, 0, 1500.0, 0.0, 1500.0], [1000, 0.0, 1050, 0.0, 0.0, 0.0]]
    assert r.dividends["pay_date"].dt.strftime("%m-%d").tolist() == ["01-21", "02-10"]
    m_ = r.metrics()
    assert (m_["dividends_cny"], m_["dividend_tax_cny"]) == (1500.0, 350.0)
    assert not any("went ex" in w for w in r.warnings)  # every ex-date had its event


def test_2013_rule_withholds_at_payment_and_charges_the_rest_on_sale():
    # Ex-date 2014-06-03, 1.00 CNY a share: 5 % withheld when paid (50.00 on 1,000), and a
    # sale within the month owes 20 % - 5 % = 15 % more (150.00).
    days = sessions("2014-05-05", "2014-07-31")
    row = {str(d.date()): i for i, d in enumerate(days)}
    ex = row["2014-06-03"]
    closes = [20.0] * ex + [19.0] * (len(days) - ex)
    events = actions_frame(symbol=np.array([A], dtype=object),
                           ex_date=np.array(["2014-06-03"], dtype="datetime64[ns]"),
                           cash_pre_tax_cny=np.array([1.0]), source="vendor")
    m = market_with_events("2014-05-05", closes, {ex: 19.0}, events)
    s = TargetShares(plan={"2014-05-19": 1000, "2014-06-09": 0})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert r.dividends[["gross_cny", "withheld_cny", "net_cny"]].to_numpy().tolist() == [
        [1000.0, 50.0, 950.0]]
    assert r.trades["dividend_tax"].tolist() == [0.0, 150.0]
    assert r.cash.iloc[-1] == pytest.approx(100_000 - 20_000 + 950 + 19_000 - 150)
    assert r.metrics()["dividend_tax_cny"] == 200.0


def test_reinvest_is_the_untaxed_total_return_view():
    days = sessions("2014-05-05", "2014-07-31")
    ex = {str(d.date()): i for i, d in enumerate(days)}["2014-06-03"]
    closes = [20.0] * ex + [19.0] * (len(days) - ex)
    events = actions_frame(symbol=np.array([A], dtype=object),
                           ex_date=np.array(["2014-06-03"], dtype="datetime64[ns]"),
                           cash_pre_tax_cny=np.array([1.0]), source="vendor")
    m = market_with_events("2014-05-05", closes, {ex: 19.0}, events)
    s = TargetShares(plan={"2014-05-19": 1000})
    r = run(m, s, BacktestConfig(capital_cny=100_000, costs=NO_COSTS,
                                 corporate_actions="reinvest"))
    # 1,000 x 1.00 reinvested at 19.00: 52 shares (988.00), 12.00 left in cash; no tax
    assert r.positions["shares"].iloc[-1] == 1052
    assert r.trades["dividend_tax"].sum() == 0.0 and r.dividends.empty
    assert r.equity.iloc[-1] == pytest.approx(100_000.0)


def test_an_ex_date_without_an_event_is_named_in_a_warning():
    days = sessions("2024-01-02", "2024-03-29")
    closes = [10.0] * 20 + [9.0] * (len(days) - 20)
    other = actions_frame(symbol=np.array(["000001.SZ"], dtype=object),
                          ex_date=np.array(["2024-01-10"], dtype="datetime64[ns]"),
                          cash_pre_tax_cny=np.array([0.1]), source="vendor")
    m = market_with_events("2024-01-02", closes, {20: 9.0}, other)
    r = run(m, TargetShares(plan={"2024-01-02": 1000}),
            BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    assert r.equity.iloc[-1] == pytest.approx(99_000.0)  # the 1.00 drop was never paid
    (w,) = r.warnings
    assert w.startswith("1 held position went ex without a corporate-action event "
                        "(1,000.00 CNY left the prices unpaid); first 600000.SH on "
                        f"{days[20].date()}")


def test_lots_are_rebuilt_first_in_first_out_when_an_event_arrives():
    dates = sessions("2024-01-02", "2025-06-30").to_numpy(dtype="datetime64[ns]")
    ev = Entitlements(row=np.array([300]), symbol=np.array([0]),
                      cash_pre_tax_cny=np.array([1.0]), bonus_ratio=np.array([0.0]),
                      transfer_ratio=np.array([0.0]), pay_row=np.array([300]),
                      rule=np.array([3]), source="table")
    book = DividendBook(ev, dates, 2)
    held = np.zeros(2, dtype=np.int64)
    for r, q in ((1, 500), (100, 300), (200, -600), (290, 400)):  # lots left: 200 @100, 400 @290
        book.record(r, np.array([0]), np.array([q]), held[[0]])
        held[0] += q
    sym, new, gross = book.entitle(300, held)
    assert (sym.tolist(), new.tolist(), gross) == ([0], [0], 600.0)
    assert book.pay(300) == 600.0
    # selling 300 on row 310: 200 from the row-100 lot (over a month: 10 %) and 100 from
    # the row-290 lot (within a month: 20 %): 200 x 0.10 + 100 x 0.20 = 40.00
    assert book.sale_tax(310, np.array([0]), np.array([300])).tolist() == [40.0]


def test_events_from_prices_split_cash_and_shares():
    close = np.array([[10.0], [10.0], [8.0], [8.0], [16.0]])
    prev = np.array([[10.0], [10.0], [8.0], [8.0], [16.0]])  # 8.0 after 10.0: ex; 16: split?
    prev[4, 0] = 16.0  # a reference above the last close: a consolidation (2 -> 1)
    dates = sessions("2024-01-02", "2024-01-31")[:5].to_numpy(dtype="datetime64[ns]")
    ev = Entitlements.from_prices(close, prev, dates, 0, 4)
    assert ev.row.tolist() == [2, 4]
    assert ev.cash_pre_tax_cny.tolist() == [0.4, 0.0]
    assert ev.bonus_ratio.tolist() == [0.2, 0.0]
    assert ev.transfer_ratio.tolist() == [0.0, -0.5]
