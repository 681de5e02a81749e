"""The session validator: the per-order validator's decisions, messages and state, float
for float, on random sessions; and what it refuses to take.

The property test drives a :class:`PreTradeValidator` the way the backtester drove it
before the session path existed (a frame per day, a dict of marks, ``check`` on each
order and ``on_fill`` on each accepted one) and a :class:`SessionValidator` with the same
events as arrays, and holds every decision and every field of the two states equal.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.calendar import sessions
from workbench.errors import ConfigError, DataError, LookupFailed
from workbench.risk import (
    Decision,
    Order,
    PreTradeValidator,
    Reason,
    RiskLimits,
    SessionValidator,
)
from workbench.risk.state import AccountState, EquityState, SymbolState

TZ = "Asia/Shanghai"
BOARDS = {"SH main": "60{:04d}.SH", "SZ main": "00{:04d}.SZ", "ChiNext": "30{:04d}.SZ",
          "STAR": "68{:04d}.SH", "BSE": "83{:04d}.BJ"}
SECTORS = ["Banks", "Tech", "Energy"]
DAYS = sessions("2024-01-02", "2024-03-29")
SCALARS = ("cash_cny", "gross_cny", "priced_equity_cny", "peak_cny", "day_base_cny",
           "drawdown_stopped", "stopped_since_day", "stopped_sessions", "peak_resets",
           "buy_block", "position_cap_cny", "sector_cap_cny", "gross_cap_cny", "unpriced",
           "day", "day_number", "session", "window_ns", "window_s")
SYMBOL_FIELDS = ("symbol", "board", "sector", "min_shares", "step_shares", "st", "suspended",
                 "delisted", "limits_known", "limit_up_fen", "limit_down_fen", "held",
                 "sellable", "odd", "mark", "value")


def same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN, floats bit for bit."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                     math.copysign(1, b))
    return type(a) is type(b) and a == b


def assert_same_state(ref: AccountState, fast: SessionValidator) -> None:
    for name in SCALARS:
        a, b = getattr(ref, name), getattr(fast, name)
        assert same(a, b) or (a is None and b is None), (name, a, b)
    for symbol, sec in ref.securities.items():
        other = fast.symbol_state(fast.symbols.index(symbol))
        for name in SYMBOL_FIELDS:
            a, b = getattr(sec, name), getattr(other, name)
            assert same(a, b), (symbol, name, a, b)
        assert same(ref.sector_values_cny[sec.sector], fast.sector_values_cny[sec.sector])


def assert_same_decisions(ref: list[Decision], fast: list[Decision]) -> None:
    assert [(d.accepted, d.layer, d.reason, d.message) for d in ref] == [
        (d.accepted, d.layer, d.reason, d.message) for d in fast]


class Reference:
    """A PreTradeValidator fed by symbol code, as the backtester fed it: the frames, the
    dicts and the orders of a session, one at a time."""

    def __init__(self, limits: RiskLimits, cash: float, symbols: list[str],
                 boards: list[str], sectors: list[str]) -> None:
        self.v = PreTradeValidator(limits, cash_cny=cash)
        self.symbols, self.boards, self.sectors = symbols, boards, sectors
        self.registered: set[int] = set()

    def start_day(self, day, sym, up, down, st_, suspended, delisted) -> None:
        new = [i for i in dict.fromkeys(sym) if i not in self.registered]
        if new:
            self.v.update_securities(pd.DataFrame({
                "symbol": [self.symbols[i] for i in new], "board": [self.boards[i] for i in new],
                "sector": [self.sectors[i] for i in new]}))
            self.registered.update(new)
        self.v.start_day(day, pd.DataFrame({
            "symbol": [self.symbols[i] for i in sym], "limit_up": up, "limit_down": down,
            "is_st": st_, "suspended": suspended, "delisted": delisted}))

    def mark(self, sym, prices, keep_missing: bool) -> None:
        marks = {self.symbols[i]: p for i, p in zip(sym, prices, strict=True)
                 if not keep_missing or (p > 0 and math.isfinite(p))}
        if marks:
            self.v.on_prices(marks)

    def settle(self, shares: np.ndarray, cash: float, marks: np.ndarray) -> None:
        held = {self.symbols[i]: self.v.position(self.symbols[i])[0] for i in self.registered}
        changed = {self.symbols[i]: int(shares[i]) for i in range(len(shares))
                   if held.get(self.symbols[i], 0) != shares[i]}
        priced = {self.symbols[i]: float(marks[i]) for i in range(len(shares))
                  if shares[i] and marks[i] > 0 and math.isfinite(marks[i])}
        self.v.on_settlement(changed, priced, cash)

    def judge(self, side, sym, q, limit, at, price=None, fee=None) -> list[Decision]:
        out = []
        for j, (i, n, lp) in enumerate(zip(sym, q, limit, strict=True)):
            d = self.v.check(Order(symbol=self.symbols[i], side=side, quantity=n,
                                   limit_price=lp, timestamp=at))
            out.append(d)
            if side == "buy" and d.accepted:
                self.v.on_fill(self.symbols[i], "buy", n, price[j], fee_cny=fee[j])
        return out

    def book_sells(self, sym, q, price, fee) -> None:
        for i, n, px, f in zip(sym, q, price, fee, strict=True):
            self.v.on_fill(self.symbols[i], "sell", n, px, fee_cny=f)


@st.composite
def universes(draw: st.DrawFn) -> tuple[list[str], list[str], list[str]]:
    n = draw(st.integers(2, 6))
    boards = draw(st.lists(st.sampled_from(list(BOARDS)), min_size=n, max_size=n))
    symbols = [BOARDS[b].format(k) for k, b in enumerate(boards)]
    sectors = draw(st.lists(st.sampled_from(SECTORS), min_size=n, max_size=n))
    return symbols, boards, sectors


limits_ = st.builds(
    RiskLimits,
    max_position_rate=st.sampled_from([0.1, 0.4, 1.0]),
    max_daily_loss_rate=st.sampled_from([0.02, 1.0]),
    max_drawdown_rate=st.sampled_from([0.05, 0.2, 1.0]),
    max_sector_rate=st.sampled_from([0.3, 1.0]),
    max_gross_leverage=st.sampled_from([0.8, 1.0, 2.0]),
    allow_opening_auction=st.booleans(),
    block_st_buys=st.booleans(),
    drawdown_rearm=st.sampled_from(["never", "recover", "cooloff"]),
    drawdown_cooloff_sessions=st.sampled_from([1, 2, 20]),
)


def _rare(data: st.DataObject, one_in: int) -> bool:
    return data.draw(st.integers(1, one_in)) == 1


def _near(data: st.DataObject, level: float, spread: float, *, tick: bool = True) -> float:
    """A CNY price within ``spread`` (a fraction) of ``level``, on the tick or not (a mark
    need not be: with any digits, sums taken in another order differ in the last bits)."""
    move = data.draw(st.integers(-1_000, 1_000)) / 1_000 * spread
    return max(round(level * (1 + move), 2), 0.01) if tick else level * (1 + move)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(universes(), limits_, st.integers(2, 12), st.data())
def test_the_session_path_equals_check_and_on_fill_one_order_at_a_time(universe, limits,
                                                                       n_days, data):
    symbols, boards, sectors = universe
    n = len(symbols)
    cash = float(data.draw(st.sampled_from([20_000, 100_000, 1_000_000])))
    ref = Reference(limits, cash, symbols, boards, sectors)
    fast = SessionValidator(limits, cash_cny=cash, symbols=symbols, boards=boards,
                            sectors=sectors)
    assert_same_state(ref.v.state, fast)
    # each symbol's price level walks, by up to 30 % a session, and now and then all fall
    # by 30 %: drawdowns, daily losses, stops that trip, lift and re-arm
    level = [data.draw(st.integers(200, 5_000)) / 100 for _ in range(n)]
    steps = data.draw(st.lists(st.integers(1, 4), min_size=n_days, max_size=n_days))
    row = 0
    for step in steps:
        row += step
        if row >= len(DAYS):
            break
        day = DAYS[row]
        if _rare(data, 10) and day.day_of_week == 4:
            day = day + pd.Timedelta(days=1)  # a Saturday: no session
        crash = 0.7 if _rare(data, 5) else 1.0  # a market-wide fall: the stops trip
        level = [_near(data, x * crash, 0.3) for x in level]
        held = np.array([fast.position(i)[0] for i in range(n)])
        # an ex-date or a delisting: holdings and cash set without a trade
        if held.any() and _rare(data, 3):
            shares = held.copy()
            for i in np.flatnonzero(held):
                shares[i] = data.draw(st.sampled_from([0, held[i], held[i] * 2, held[i] + 37]))
            settle_cash = fast.cash_cny + data.draw(st.integers(-500, 2_000))
            marks = np.array([math.nan if _rare(data, 4) else _near(data, x, 0.05, tick=False)
                              for x in level])
            ref.settle(shares, settle_cash, marks)
            fast.settle(shares, settle_cash, marks)
            assert_same_state(ref.v.state, fast)
        # the day's rows of the symbols in play (registered if new)
        sym = sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1)))
        free = [_rare(data, 8) for _ in sym]
        up = [math.nan if f else round(level[i] * 1.1, 2) for i, f in zip(sym, free,
                                                                           strict=True)]
        down = [math.nan if f else round(level[i] * 0.9, 2) for i, f in zip(sym, free,
                                                                             strict=True)]
        flags = [[_rare(data, 15) for _ in sym] for _ in range(3)]
        ref.start_day(day, sym, up, down, *flags)
        fast.start_day(day, np.array(sym), limit_up=np.array(up), limit_down=np.array(down),
                       is_st=np.array(flags[0]), suspended=np.array(flags[1]),
                       delisted=np.array(flags[2]))
        assert_same_state(ref.v.state, fast)
        # marks at the fill time, a price missing now and then
        owned = [i for i in range(n) if fast.position(i)[0]]
        prices = [math.nan if _rare(data, 6) else _near(data, level[i], 0.02, tick=False)
                  for i in owned]
        ref.mark(owned, prices, keep_missing=True)
        fast.mark(np.array(owned, dtype=np.int64), np.array(prices), keep_missing=True)
        assert_same_state(ref.v.state, fast)
        clock = "09:20" if _rare(data, 6) else data.draw(st.sampled_from(["09:30", "14:57"]))
        at = pd.Timestamp(f"{day.date()} {clock}", tz=TZ)
        # sells (judged against one state, then the accepted ones booked), then buys; now
        # and then an order on a symbol without today's limits
        play = [i for i in range(n) if i in sym or (i in ref.registered and _rare(data, 8))]
        sells = [i for i in play if fast.position(i)[1]]
        if sells:
            q = [data.draw(st.sampled_from([fast.position(i)[1], fast.position(i)[1] + 100,
                                            100, 150])) for i in sells]
            limit = [_near(data, level[i], 0.12) for i in sells]
            found = fast.judge_sells(np.array(sells), np.array(q), np.array(limit), at)
            assert_same_decisions(ref.judge("sell", sells, q, limit, at), found)
            ok = [j for j, d in enumerate(found) if d.accepted]
            px = [limit[j] for j in ok]
            fee = [data.draw(st.sampled_from([0.0, 5.0, 12.34])) for _ in ok]
            ref.book_sells([sells[j] for j in ok], [q[j] for j in ok], px, fee)
            fast.book_sells([sells[j] for j in ok], [q[j] for j in ok], px, fee)
            assert_same_state(ref.v.state, fast)
        buys = data.draw(st.lists(st.sampled_from(play), max_size=5))
        if buys:
            q = [data.draw(st.sampled_from([100, 200, 250, 1_000, 3_000])) for _ in buys]
            limit = [_near(data, level[i], 0.12) for i in buys]
            px = [max(round(lp - 0.01, 2), 0.01) for lp in limit]
            fee = [data.draw(st.sampled_from([0.0, 5.0])) for _ in buys]
            found = fast.judge_buys(buys, q, limit, at, price=px, fee_cny=fee)
            assert_same_decisions(ref.judge("buy", buys, q, limit, at, px, fee), found)
            assert_same_state(ref.v.state, fast)
        # the close (now and then a price missing: the holding is unpriced until marked)
        owned = [i for i in range(n) if fast.position(i)[0]]
        prices = [math.nan if _rare(data, 25) else _near(data, level[i], 0.05, tick=False)
                  for i in owned]
        ref.mark(owned, prices, keep_missing=False)
        fast.mark(owned, prices)
        assert_same_state(ref.v.state, fast)


# ---- by hand ---------------------------------------------------------------------------------

def session_validator(limits: RiskLimits | None = None, cash: float = 1_000_000.0
                      ) -> SessionValidator:
    return SessionValidator(limits, cash_cny=cash, symbols=["600000.SH", "600036.SH",
                                                            "300750.SZ"],
                            boards=["SH main", "SH main", "ChiNext"],
                            sectors=["Banks", "Banks", float("nan")])


AT = pd.Timestamp("2024-01-02 09:30", tz=TZ)


def test_a_day_registers_its_symbols_and_forgets_yesterdays_limits():
    v = session_validator()
    assert isinstance(v, EquityState) and v.sector_values_cny == {"Banks": 0.0,
                                                                   "(unknown)": 0.0}
    v.start_day("2024-01-02", [2, 0], limit_up=[220.0, 11.0], limit_down=[180.0, 9.0])
    assert v.symbol_state(2).limit_up_fen == 22_000.0 and v.symbol_state(0).limits_known
    assert not v.symbol_state(1).limits_known
    v.start_day("2024-01-03", [1], limit_up=[math.nan], limit_down=[math.nan])  # no limit
    assert not v.symbol_state(0).limits_known and math.isnan(v.symbol_state(0).limit_up_fen)
    sec = v.symbol_state(1)
    assert (sec.limits_known, sec.limit_up_fen, sec.limit_down_fen) == (True, math.inf,
                                                                         -math.inf)


def test_bought_shares_become_sellable_the_next_day_and_sums_are_recomputed():
    v = session_validator()
    v.start_day("2024-01-02", [0], limit_up=[11.0], limit_down=[9.0])
    assert [d.accepted for d in v.judge_buys([0], [1_000], [10.0], AT, price=[10.0],
                                             fee_cny=[5.0])] == [True]
    assert v.position(0) == (1_000, 0)
    assert (v.cash_cny, v.gross_cny, v.sector_values_cny["Banks"]) == (989_995.0, 10_000.0,
                                                                       10_000.0)
    v.mark([0], [10.5])
    assert v.gross_cny == 10_500.0 and v.priced_equity_cny == 1_000_495.0
    v.start_day("2024-01-03", [1], limit_up=[5.5], limit_down=[4.5])
    assert v.position(0) == (1_000, 1_000)
    sells = v.judge_sells([0], [1_000], [10.4], AT + pd.Timedelta(days=1))
    assert [d.reason for d in sells] == [Reason.UNKNOWN_LIMITS]  # no limits for it today


def test_keep_missing_leaves_the_last_mark_and_nan_otherwise_makes_it_unpriced():
    v = session_validator()
    v.start_day("2024-01-02", [0, 1], limit_up=[11.0, 11.0], limit_down=[9.0, 9.0])
    v.judge_buys([0], [1_000], [10.0], AT, price=[10.0], fee_cny=[0.0])
    v.mark([0], [math.nan], keep_missing=True)
    assert v.symbol_state(0).mark == 10.0 and not v.unpriced
    v.mark([0], [math.nan])
    assert v.unpriced == {"600000.SH"} and v.buy_block is Reason.MISSING_PRICE
    assert math.isnan(v.equity_cny)
    d = v.judge_buys([1], [100], [10.0], AT, price=[10.0], fee_cny=[0.0])
    assert d[0].reason is Reason.MISSING_PRICE
    assert d[0].message.startswith("no valid price for held 600000.SH")
    v.start_day("2024-01-03", [0], limit_up=[11.0], limit_down=[9.0])
    d = v.judge_buys([1], [100], [10.0], AT + pd.Timedelta(days=1), price=[10.0],
                     fee_cny=[0.0])
    assert d[0].reason is Reason.UNKNOWN_LIMITS  # order rules come before the stops
    v.mark([0], [10.0])
    assert not v.unpriced and v.buy_block is None


def test_orders_outside_the_session_are_all_refused_for_the_hours():
    v = session_validator()
    v.start_day("2024-01-06", [0, 1], limit_up=[11.0, 11.0], limit_down=[9.0, 9.0])  # Saturday
    found = v.judge_buys([0, 1], [100, 100], [10.0, 10.0],
                         pd.Timestamp("2024-01-06 10:00", tz=TZ), price=[10.0, 10.0],
                         fee_cny=[0.0, 0.0])
    assert [d.reason for d in found] == [Reason.MARKET_HOURS] * 2
    assert "2024-01-06 is not an XSHG session" in found[0].message
    assert v.position(0) == (0, 0)


def test_what_the_session_path_refuses_to_take():
    v = session_validator()
    with pytest.raises(DataError, match="board 'Main' is not one of"):
        SessionValidator(cash_cny=1.0, symbols=["600000.SH"], boards=["Main"], sectors=["x"])
    with pytest.raises(DataError, match="as long as each other"):
        SessionValidator(cash_cny=1.0, symbols=["600000.SH"], boards=[], sectors=[])
    with pytest.raises(ConfigError, match="limits must be a RiskLimits"):
        SessionValidator({"max_position_rate": 0.1}, cash_cny=1.0, symbols=[], boards=[],  # type: ignore[arg-type]
                         sectors=[])
    with pytest.raises(DataError, match=r"on the 0\.01 tick"):
        v.start_day("2024-01-02", [0], limit_up=[11.005], limit_down=[9.0])
    assert v.day is None  # nothing changed
    with pytest.raises(DataError, match="both NaN: no limit"):
        v.start_day("2024-01-02", [0], limit_up=[11.0], limit_down=[math.nan])
    v.start_day("2024-01-02", [0], limit_up=[11.0], limit_down=[9.0])
    with pytest.raises(ConfigError, match="must come after the current day"):
        v.start_day("2024-01-02", [0], limit_up=[11.0], limit_down=[9.0])
    with pytest.raises(LookupFailed, match=r"600036\.SH"):
        v.judge_sells([1], [100], [10.0], AT)
    with pytest.raises(ConfigError, match="timezone-aware"):
        v.judge_sells([0], [100], [10.0], AT.tz_localize(None))
    with pytest.raises(DataError, match=r"0\.01 tick"):
        v.judge_buys([0], [100], [10.001], AT, price=[10.0], fee_cny=[0.0])
    with pytest.raises(DataError, match="shares"):
        v.judge_buys([0], [0], [10.0], AT, price=[10.0], fee_cny=[0.0])
    with pytest.raises(DataError, match="only 0 were sellable"):
        v.book_sells([0], [100], [10.0], [0.0])
    with pytest.raises(DataError, match="must be whole numbers >= 0"):
        v.settle(np.array([-100, 0, 0]), 1.0, np.full(3, 10.0))
    with pytest.raises(LookupFailed, match=r"300750\.SZ"):
        v.settle(np.array([0, 0, 100]), 1.0, np.full(3, 10.0))


def test_a_settlement_sets_holdings_cash_and_marks():
    v = session_validator(RiskLimits(max_drawdown_rate=0.1))
    v.start_day("2024-01-02", [0, 1], limit_up=[11.0, 11.0], limit_down=[9.0, 9.0])
    v.judge_buys([0, 1], [1_000, 1_000], [10.0, 10.0], AT, price=[10.0, 10.0],
                 fee_cny=[0.0, 0.0])
    # a 10-for-10 bonus on 600000.SH, ex-rights 5.00; a payout on 600036.SH at 9.50
    v.settle(np.array([2_000, 1_000, 0]), v.cash_cny + 500.0, np.array([5.0, 9.5, math.nan]))
    assert v.position(0) == (2_000, 0) and v.symbol_state(0).mark == 5.0
    assert v.gross_cny == 19_500.0 and v.priced_equity_cny == 1_000_000.0
    assert v.buy_block is None

    assert type(v.symbol_state(0)) is SymbolState


def reference_and_session() -> tuple[Reference, SessionValidator]:
    """The per-order reference and a session validator over three SH main-board symbols
    (two banks, one utility), 1,000,000 CNY each."""
    symbols, boards, sectors = ["600000.SH", "600036.SH", "600900.SH"], ["SH main"] * 3, [
        "Banks", "Banks", "Power"]
    return (Reference(RiskLimits(), 1_000_000.0, symbols, boards, sectors),
            SessionValidator(RiskLimits(), cash_cny=1_000_000.0, symbols=symbols,
                             boards=boards, sectors=sectors))


def buy_on_both(ref: Reference, fast: SessionValidator, day: pd.Timestamp, sym: list[int],
                q: list[int], px: list[float], fee: list[float]) -> None:
    """Start ``day`` for ``sym`` (limits 10 % either side of ``px``) on both, then buy."""
    up, down = [round(p * 1.1, 2) for p in px], [round(p * 0.9, 2) for p in px]
    ref.start_day(day, sym, up, down, *[[False] * len(sym)] * 3)
    fast.start_day(day, sym, limit_up=up, limit_down=down)
    at = pd.Timestamp(f"{day.date()} 09:30", tz=TZ)
    ref.judge("buy", sym, q, px, at, px, fee)
    fast.judge_buys(sym, q, px, at, price=px, fee_cny=fee)


def test_sums_are_taken_in_registration_order_as_the_per_order_validator_takes_them():
    # 600900.SH (position 2) registers first; a day's start adds the positions in that
    # order, and with these prices the order shows in the last bit of the sum
    ref, fast = reference_and_session()
    for k, (sym, px) in enumerate([([2], [0.29]), ([0, 1], [10.03, 10.01])]):
        buy_on_both(ref, fast, DAYS[k], sym, [100] * len(sym), px, [0.0] * len(sym))
    ref.start_day(DAYS[2], [0], [11.0], [9.0], [False], [False], [False])
    fast.start_day(DAYS[2], [0], limit_up=[11.0], limit_down=[9.0])
    assert_same_state(ref.v.state, fast)
    value = [100 * p for p in (10.03, 10.01, 0.29)]
    assert fast.gross_cny == ((0.0 + value[2]) + value[0]) + value[1] == 2032.9999999999998
    assert fast.gross_cny != ((0.0 + value[0]) + value[1]) + value[2]


def test_a_settlement_at_the_current_marks_keeps_the_books_as_on_settlement_does():
    # The engine settles on every ex-date of any symbol; a holding marked again at its
    # mark is skipped (every change would be 0), and the state stays the reference's
    ref, fast = reference_and_session()
    sym = [0, 1, 2]
    buy_on_both(ref, fast, DAYS[0], sym, [1_000, 900, 100], [10.03, 10.01, 0.29],
                [5.0, 5.0, 5.0])
    marks = [10.07, 9.99, 0.31]
    ref.mark(sym, marks, keep_missing=True)
    fast.mark(np.array(sym), np.array(marks), keep_missing=True)
    assert_same_state(ref.v.state, fast)
    cash = fast.cash_cny + 12.5
    for shares, settle_at in [([1_000, 900, 100], [10.07, 9.99, 0.31]),   # all at the mark
                              ([1_000, 1_800, 100], [10.07, 4.99, 0.31]),  # a bonus on one
                              ([1_000, 1_800, 0], [10.07, 4.99, 0.31])]:   # one delisted
        ref.settle(np.array(shares), cash, np.array(settle_at))
        fast.settle(np.array(shares), cash, np.array(settle_at))
        assert_same_state(ref.v.state, fast)
    assert fast.symbol_state(1).mark == 4.99 and fast.position(2) == (0, 0)
