"""Every event of the pre-trade validator is transactional, or fails closed (issue 12).

A call that raises (a bad frame, a date that is not one, an unknown symbol, a bad fill)
raises a :class:`~workbench.errors.WorkbenchError` naming the input and leaves the state
exactly as it was, compared field by field with ``snapshot()``; so the same day can be
retried. An error no check foresees, once the changes have begun, fails closed: every buy
is refused (INTERNAL_ERROR) until the next good ``start_day``.

Each bad call below was run on the code before the change; the comments say what it did
then (``advanced`` = the day moved on before the error, so a retry was refused).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_validator import DataChoices, RngChoices, batch_verdicts, chance, pick, verdict

from workbench.calendar import sessions
from workbench.errors import ConfigError, DataError, LookupFailed, WorkbenchError
from workbench.risk import (
    AccountState,
    EquityState,
    Order,
    PreTradeValidator,
    Reason,
    RiskLimits,
    SessionValidator,
)
from workbench.risk.state import SymbolState

TZ = "Asia/Shanghai"
DAYS = [str(d.date()) for d in sessions("2024-01-02", "2024-06-28")]
D1, D2 = DAYS[0], DAYS[1]
AT1 = pd.Timestamp(f"{D1} 10:00", tz=TZ)
MIDS = {"600000.SH": 10.0, "601398.SH": 5.0, "000001.SZ": 12.0, "300750.SZ": 200.0,
        "688981.SH": 50.0}
SYMBOLS = list(MIDS)
SECURITIES = pd.DataFrame({"symbol": SYMBOLS,
                           "sector": ["Banks", "Banks", "Banks", "Power", "Semis"]})
MARGIN = RiskLimits(max_gross_leverage=2.0)


# ---- comparing states --------------------------------------------------------------------

def difference(a: Any, b: Any, path: str = "state") -> str | None:
    """Where two snapshots differ (None: nowhere); NaN equals NaN, floats bit for bit."""
    if isinstance(a, float) and isinstance(b, float):
        if (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)
        ):
            return None
        return f"{path}: {a!r} != {b!r}"
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        return next((d for k in a if (d := difference(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True))
                     if (d := difference(x, y, f"{path}[{i}]"))), None)
    if type(a) is not type(b) or a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def assert_same(a: dict, b: dict) -> None:
    where = difference(a, b)
    assert where is None, where


def band(symbol: str, mid: float | None = None) -> tuple[float, float]:
    mid = MIDS[symbol] if mid is None else mid
    return round(mid * 1.1, 2), round(mid * 0.9, 2)


def frame(symbols: list[str] | None = None, mids: dict[str, float] | None = None,
          **columns: list) -> pd.DataFrame:
    """Today's rows: each symbol in a ±10 % band around its mid price, not suspended or ST."""
    symbols = SYMBOLS if symbols is None else symbols
    bands = [band(s, None if mids is None else mids[s]) for s in symbols]
    return pd.DataFrame({"symbol": symbols, "limit_up": [u for u, _ in bands],
                         "limit_down": [d for _, d in bands],
                         "suspended": False, "is_st": False, **columns})


def fresh(limits: RiskLimits = MARGIN) -> PreTradeValidator:
    """Day one started; positions held from before, and 10,000 601398.SH bought today."""
    v = PreTradeValidator(limits, cash_cny=500_000.0, securities=SECURITIES,
                          positions={"600000.SH": 20_000, "300750.SZ": 1_000},
                          prices={"600000.SH": 10.0, "300750.SZ": 200.0})
    v.start_day(D1, frame())
    v.on_fill("601398.SH", "buy", 10_000, 5.0, fee_cny=5.0)
    return v


def order(symbol: str = "000001.SZ", side: str = "buy", quantity: int = 100,
          price: float = 12.0, at: Any = AT1) -> Order:
    return Order(symbol=symbol, side=side, quantity=quantity, limit_price=price, timestamp=at)


def table(orders: list[Order]) -> pd.DataFrame:
    """Orders as the frame ``check_batch`` takes."""
    return pd.DataFrame({"symbol": [o.symbol for o in orders], "side": [o.side for o in orders],
                         "quantity": [o.quantity for o in orders],
                         "limit_price": [o.limit_price for o in orders],
                         "timestamp": [o.timestamp for o in orders]})


def corrupt(f: pd.DataFrame, how: str, row: int = 1) -> pd.DataFrame:
    """``f`` with one fault in row ``row`` (row 0 stays good, and every row moves sector,
    so that a frame applied in part would show)."""
    f = f.copy()
    f["sector"] = "Changed"

    def put(column: str, value: Any) -> None:
        f[column] = f[column].astype(object) if column in f else pd.Series(
            [None] * len(f), dtype=object)
        f.at[row, column] = value

    if how == "limit text":
        put("limit_up", "11.x")
    elif how == "crossed":
        up, down = f.at[row, "limit_up"], f.at[row, "limit_down"]
        f.at[row, "limit_up"], f.at[row, "limit_down"] = down, up
    elif how == "one-sided":
        f.at[row, "limit_down"] = np.nan
    elif how == "limit None":
        put("limit_up", None)
    elif how == "limit bool":
        put("limit_down", True)
    elif how == "off tick":
        f.at[row, "limit_up"] = f.at[row, "limit_up"] + 0.005
    elif how == "flag text":
        put("suspended", "yes")
    elif how == "flag NaN":
        put("is_st", np.nan)
    elif how == "board":
        f["board"] = "SH main"
        f.at[row, "board"] = "Main"
    elif how == "no board":
        f.at[row, "symbol"] = "900901.SH"
    elif how == "delist text":
        put("delist_date", "garbage")
    elif how == "delist number":
        put("delist_date", 20230601)
    elif how == "sector list":
        put("sector", ["Banks"])
    elif how == "symbol number":
        put("symbol", 601398)
    elif how == "duplicate row":
        f = pd.concat([f, f.iloc[[row]]], ignore_index=True)
    elif how == "duplicate column":
        f = pd.concat([f, f[["suspended"]]], axis=1)
    elif how == "no limit_down":
        f = f.drop(columns="limit_down")
    elif how == "no symbol":
        f = f.rename(columns={"symbol": "ticker"})
    else:
        raise ValueError(how)
    return f


FRAME_FAULTS = ["limit text", "crossed", "one-sided", "limit None", "limit bool", "off tick",
                "flag text", "flag NaN", "board", "no board", "delist text", "delist number",
                "sector list", "symbol number", "duplicate row", "duplicate column",
                "no limit_down", "no symbol"]


# ---- the bad calls, one per fault --------------------------------------------------------

Call = Callable[[PreTradeValidator], object]

BAD_CALLS: list[tuple[str, Call]] = [
    # before: a raw ValueError / TypeError / DataError after the day advanced
    *[(f"start_day frame {how}", lambda v, how=how: v.start_day(D2, corrupt(frame(), how)))
      for how in FRAME_FAULTS],
    ("start_day frame is a dict", lambda v: v.start_day(D2, {"symbol": ["600000.SH"]})),
    ("start_day prices unknown symbol",  # before: LookupFailed, advanced
     lambda v: v.start_day(D2, frame(), {"600000.SH": 9.5, "999999.SH": 1.0})),
    ("start_day prices list", lambda v: v.start_day(D2, frame(), [9.5])),  # AttributeError
    # before: DateParseError, AttributeError ('NaTType' ... 'normalize'), OverflowError,
    # TypeError; ints were read as nanoseconds since 1970
    *[(f"start_day date {date!r}", lambda v, date=date: v.start_day(date, frame()))
      for date in ["garbage", None, pd.NaT, "", "NaT", 5, True, 20240103, [D2], 3.5,
                   "3000-01-01", np.datetime64("NaT"), D1, "2023-12-29"]],
    *[(f"update_securities {how}", lambda v, how=how: v.update_securities(
        corrupt(frame(), how))) for how in FRAME_FAULTS],
    ("update_securities list", lambda v: v.update_securities([("600000.SH",)])),
    ("on_price unknown", lambda v: v.on_price("999999.SH", 9.0)),
    ("on_price list symbol", lambda v: v.on_price(["600000.SH"], 9.0)),  # TypeError
    # before: 600000.SH marked at 9.0 but no refresh: stale equity, stops and caps
    ("on_prices one unknown", lambda v: v.on_prices({"600000.SH": 9.0, "999999.SH": 1.0})),
    ("on_prices list", lambda v: v.on_prices([("600000.SH", 9.0)])),  # AttributeError
    ("on_fill unknown", lambda v: v.on_fill("999999.SH", "buy", 100, 10.0)),
    ("on_fill list symbol", lambda v: v.on_fill(["600000.SH"], "buy", 100, 10.0)),
    ("on_fill side", lambda v: v.on_fill("600000.SH", "BUY", 100, 10.0)),
    ("on_fill array side", lambda v: v.on_fill("600000.SH", np.array(["buy", "sell"]), 100,
                                               10.0)),  # before: ValueError (truth value)
    *[(f"on_fill quantity {q!r}", lambda v, q=q: v.on_fill("600000.SH", "buy", q, 10.0))
      for q in [0, -100, 150.5, True, "100", None]],
    *[(f"on_fill price {p!r}", lambda v, p=p: v.on_fill("600000.SH", "buy", 100, p))
      for p in [math.nan, 0.0, -1.0, "10", None]],
    *[(f"on_fill fee {f!r}", lambda v, f=f: v.on_fill("600000.SH", "buy", 100, 10.0,
                                                     fee_cny=f)) for f in [-1.0, math.nan]],
    ("on_fill sell bought today", lambda v: v.on_fill("601398.SH", "sell", 100, 5.0)),
    ("on_settlement negative", lambda v: v.on_settlement({"600000.SH": -1}, {}, 1.0)),
    ("on_settlement fraction", lambda v: v.on_settlement({"600000.SH": 100.5}, {}, 1.0)),
    ("on_settlement NaN mark", lambda v: v.on_settlement({}, {"600000.SH": math.nan}, 1.0)),
    ("on_settlement NaN cash", lambda v: v.on_settlement({}, {}, math.nan)),
    ("on_settlement None cash", lambda v: v.on_settlement({}, {}, None)),
    ("on_settlement unknown", lambda v: v.on_settlement({"600000.SH": 1, "999999.SH": 1},
                                                        {}, 1.0)),
    ("on_settlement unknown mark", lambda v: v.on_settlement({}, {"999999.SH": 1.0}, 1.0)),
    ("on_settlement list", lambda v: v.on_settlement([("600000.SH", 1)], {}, 1.0)),
]


@pytest.mark.parametrize(("name", "call"), BAD_CALLS, ids=[n for n, _ in BAD_CALLS])
def test_a_failed_event_raises_a_clear_error_and_changes_nothing(name, call):
    v = fresh()
    before = v.snapshot()
    with pytest.raises(WorkbenchError) as caught:
        call(v)
    assert str(caught.value)  # a sentence, not a bare key
    assert_same(v.snapshot(), before)


@pytest.mark.parametrize(("name", "call"), [c for c in BAD_CALLS if c[0].startswith("start_day")],
                         ids=[n for n, _ in BAD_CALLS if n.startswith("start_day")])
def test_the_same_day_can_be_retried_after_a_failed_start(name, call):
    v, twin = fresh(), fresh()
    with pytest.raises(WorkbenchError):
        call(v)
    v.start_day(D2, frame())
    twin.start_day(D2, frame())
    assert_same(v.snapshot(), twin.snapshot())
    assert v.position("601398.SH") == (10_000, 10_000)  # the T+1 release happened
    assert v.check(order(at=AT1 + pd.Timedelta(days=1))).accepted


def test_the_errors_name_their_input():
    v = fresh()
    for date, match in [("garbage", r"start_day date 'garbage' is not a date"),
                        (None, r"start_day date None is missing"),
                        (pd.NaT, r"start_day date NaT is missing"),
                        (5, r"start_day date 5 is of type int, not a date"),
                        ("3000-01-01", r"'3000-01-01' is outside the days pandas holds")]:
        with pytest.raises(ConfigError, match=match):
            v.start_day(date)
    with pytest.raises(DataError, match=r"601398\.SH: limit_up '11\.x' is not a number"):
        v.start_day(D2, corrupt(frame(), "limit text"))
    with pytest.raises(DataError, match=r"601398\.SH: delist_date 'garbage' is not a date"):
        v.start_day(D2, corrupt(frame(), "delist text"))
    with pytest.raises(LookupFailed, match=r"'999999\.SH' is not registered"):
        v.on_prices({"600000.SH": 9.0, "999999.SH": 1.0})
    for cash in (None, "1e6", math.nan, True):
        with pytest.raises(ConfigError, match=r"cash_cny must be a finite amount in CNY"):
            PreTradeValidator(cash_cny=cash)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="positions must map symbols"):
        PreTradeValidator(cash_cny=1.0, positions=[("600000.SH", 100)])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="prices must map symbols"):
        PreTradeValidator(cash_cny=1.0, prices=[10.0])  # type: ignore[arg-type]


def test_a_failed_start_no_longer_fails_open_on_the_daily_loss_stop():
    """The issue's case: after a good day (+10 %), a failed start_day left yesterday's P&L
    base, so a -5 % day read as +4.5 % and buys passed. Now the day stays unstarted
    (orders for it are refused for the hours), and the retried start rebases."""
    v = PreTradeValidator(MARGIN, cash_cny=0.0, securities=SECURITIES,
                          positions={"600000.SH": 100_000}, prices={"600000.SH": 10.0})
    v.start_day(D1, frame())
    v.on_price("600000.SH", 11.0)  # equity 1,100,000 CNY, +10 % on the day's base
    at2 = pd.Timestamp(f"{D2} 10:00", tz=TZ)
    with pytest.raises(DataError):
        v.start_day(D2, corrupt(frame(mids={**MIDS, "600000.SH": 11.0}), "limit text"))
    v.on_price("600000.SH", 10.45)  # -5 % on the day
    assert v.check(order(at=at2)).reason is Reason.MARKET_HOURS  # not started: refused
    v.start_day(D2, frame(mids={**MIDS, "600000.SH": 11.0}), {"600000.SH": 11.0})
    assert v.state.day_base_cny == 1_100_000.0
    v.on_price("600000.SH", 10.45)
    assert v.day_pnl_cny / v.state.day_base_cny == pytest.approx(-0.05)
    d = v.check(order(at=at2))
    assert (d.accepted, d.reason) == (False, Reason.DAILY_LOSS)
    assert "-5.00% of start-of-day equity 1,100,000.00 CNY" in d.message


# ---- failing closed ----------------------------------------------------------------------

class Broken(RuntimeError):
    pass


def break_once(monkeypatch: pytest.MonkeyPatch, owner: type, name: str, after: int = 0) -> None:
    """Make ``owner.name`` raise on its call number ``after + 1``, once."""
    original = getattr(owner, name)
    calls = [0]

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        if calls[0] == after + 1:
            raise Broken(f"{name} broke")
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, broken)


FAIL_MIDWAY: list[tuple[str, type, str, int, Call]] = [
    ("start_day", SymbolState, "set_sellable", 2, lambda v: v.start_day(D2, frame())),
    ("update_securities", SymbolState, "set_board", 1,
     lambda v: v.update_securities(frame().assign(board=["SH main", "SH main", "SZ main",
                                                         "ChiNext", "STAR"]))),
    ("on_fill", EquityState, "mark_symbol", 0, lambda v: v.on_fill("000001.SZ", "buy", 100,
                                                                  12.0)),
    ("on_prices", EquityState, "mark_symbol", 1,
     lambda v: v.on_prices({"600000.SH": 9.0, "300750.SZ": 150.0})),
    ("on_price", EquityState, "mark_symbol", 0, lambda v: v.on_price("600000.SH", 9.0)),
    ("on_settlement", EquityState, "settle_holding", 1,
     lambda v: v.on_settlement({"600000.SH": 20_100, "300750.SZ": 1_200}, {}, 500_000.0)),
]


@pytest.mark.parametrize(("event", "owner", "name", "after", "call"), FAIL_MIDWAY,
                         ids=[f[0] for f in FAIL_MIDWAY])
def test_an_error_while_applying_refuses_every_buy_until_the_next_good_day(
        monkeypatch, event, owner, name, after, call):
    v = fresh()
    break_once(monkeypatch, owner, name, after)
    with pytest.raises(Broken):
        call(v)
    assert v.state.fault is not None and event in v.state.fault
    at = AT1 + pd.Timedelta(days=1) if v.state.day == pd.Timestamp(D2) else AT1
    buys = [order(at=at), order("600000.SH", price=10.0, at=at)]
    sell = order("600000.SH", "sell", 100, 10.0, at=at)
    for d in (v.check(o) for o in buys):
        assert (d.accepted, d.reason) == (False, Reason.INTERNAL_ERROR)
        assert f"buys refused until the next start_day: {event} failed part-way" in d.message
    assert v.check(sell).accepted  # a sell reduces risk: judged as ever
    batch = v.check_batch(table([*buys, sell]))
    assert list(batch["reason"]) == ["INTERNAL_ERROR", "INTERNAL_ERROR", "ACCEPTED"]
    # other events do not lift it; a good start_day does
    v.on_price("600000.SH", 10.0)
    v.on_fill("600000.SH", "sell", 100, 10.0)
    assert v.check(buys[0]).reason is Reason.INTERNAL_ERROR
    v.start_day(DAYS[2], frame())
    assert v.state.fault is None
    assert v.check(order(at=pd.Timestamp(f"{DAYS[2]} 10:00", tz=TZ))).accepted


def test_a_failed_retry_of_the_broken_day_is_refused_and_stays_closed(monkeypatch):
    v = fresh()
    break_once(monkeypatch, SymbolState, "set_sellable", 1)
    with pytest.raises(Broken):
        v.start_day(D2, frame())
    with pytest.raises(ConfigError, match="must come after"):  # no second base for one day
        v.start_day(D2, frame())
    assert v.state.buy_block is Reason.INTERNAL_ERROR


# ---- check_batch gives check's verdicts for missing and far timestamps -------------------

class BrokenZone(dt.tzinfo):
    def utcoffset(self, _: Any) -> dt.timedelta:
        raise RuntimeError("tz database unavailable")


@pytest.mark.parametrize(("stamp", "expected"), [
    (pd.NaT, Reason.NAIVE_TIMESTAMP),
    (pd.Timestamp("2300-01-02 10:00", tz=TZ), Reason.MARKET_HOURS),  # beyond nanoseconds
    (dt.datetime(9999, 12, 31, 23, tzinfo=dt.UTC), Reason.MARKET_HOURS),
    (dt.datetime(1, 1, 1, tzinfo=dt.UTC), Reason.MARKET_HOURS),
    (dt.datetime(2024, 1, 2, 10, tzinfo=BrokenZone()), Reason.INTERNAL_ERROR),
])
def test_check_batch_gives_the_verdict_of_check_for_odd_timestamps(stamp, expected):
    v = fresh()
    orders = [order(at=stamp), order(), order(at=stamp, side="sell", symbol="600000.SH",
                                              price=10.0)]
    want = [verdict(v.check(o)) for o in orders]
    assert want[0][2] == expected.value and want[1][2] == "ACCEPTED"
    columns = {"symbol": [o.symbol for o in orders], "side": [o.side for o in orders],
               "quantity": [o.quantity for o in orders],
               "limit_price": [o.limit_price for o in orders]}
    stamps = [o.timestamp for o in orders]
    forms = [pd.DataFrame({**columns, "timestamp": pd.Series(stamps, dtype=object)}),
             {**columns, "timestamp": stamps}]
    if not isinstance(stamp, dt.datetime) or isinstance(stamp, pd.Timestamp):
        inferred = pd.Series(stamps)  # a tz-aware column where pandas makes one
        forms.append(pd.DataFrame({**columns, "timestamp": inferred}))
        if stamp is pd.NaT:
            assert isinstance(inferred.dtype, pd.DatetimeTZDtype)
    for form in forms:
        assert batch_verdicts(v.check_batch(form)) == want


def test_check_batch_refuses_what_is_not_a_table():
    v = fresh()
    with pytest.raises(DataError, match="orders must be a pandas DataFrame or a mapping"):
        v.check_batch([order()])  # type: ignore[arg-type]
    with pytest.raises(DataError, match="columns of one length"):
        v.check_batch({"symbol": ["600000.SH"], "side": ["buy", "sell"], "quantity": [100],
                       "limit_price": [10.0], "timestamp": [AT1]})
    doubled = pd.concat([table([order()]), table([order()])[["side"]]], axis=1)
    with pytest.raises(DataError, match="'side' more than once"):
        v.check_batch(doubled)


# ---- the snapshot is the whole state -----------------------------------------------------

def test_the_snapshot_holds_every_field():
    v = fresh()
    snap = v.snapshot()
    state = v.state
    slots = {n for cls in type(state).__mro__ for n in getattr(cls, "__slots__", ())}
    assert set(snap) == slots - AccountState.SNAPSHOT_SKIPS
    skips = AccountState.SNAPSHOT_SKIPS
    assert skips == {"_cooloff", "_release_rate", "_arrays"}  # caches,
    # and constants of limits
    assert [s for s, _ in snap["securities"]] == SYMBOLS
    assert set(snap["securities"][0][1]) == set(SymbolState.__slots__)
    # and it can fail: each kind of change shows
    for change in (lambda: v.on_price("600000.SH", 10.01),
                   lambda: v.update_securities(pd.DataFrame({"symbol": ["000001.SZ"],
                                                             "is_st": [True]})),
                   lambda: v.on_settlement({}, {}, v.cash_cny + 0.01)):
        before = v.snapshot()
        change()
        assert difference(v.snapshot(), before) is not None


# ---- the property: bad inputs never let through what the good ones alone reject ---------

LIMITS = [MARGIN, RiskLimits(max_daily_loss_rate=0.02, max_gross_leverage=2.0),
          RiskLimits(max_drawdown_rate=0.05, drawdown_cooloff_sessions=2,
                     max_gross_leverage=2.0),
          RiskLimits(max_position_rate=0.3, max_sector_rate=0.6)]
BAD_KINDS = ["frame", "date", "prices", "update", "fill", "marks", "settlement"]


class Case:
    """One run: ``good`` gets the good events only, ``mixed`` the same with bad ones
    between them; both judge the same orders after every step."""

    def __init__(self, ch: Any) -> None:
        self.ch = ch
        self.limits = pick(ch, LIMITS)
        self.good, self.mixed = fresh(self.limits), fresh(self.limits)
        self.mids = dict(MIDS)
        self.day = 0
        self.seen: Counter[str] = Counter()

    # -- events --------------------------------------------------------------------------
    def price(self, symbol: str, moves: tuple[float, ...]) -> float:
        mid = self.mids[symbol] * (1 + pick(self.ch, moves))
        return min(max(round(mid, 2), 1.0), 500.0)

    def good_event(self) -> Call:
        ch, v = self.ch, self.good
        kind = ch.int(0, 9)
        s = pick(ch, SYMBOLS)
        if kind <= 1 and self.day + 1 < len(DAYS):
            self.day = min(self.day + ch.int(1, 2), len(DAYS) - 1)
            rows = frame(mids=self.mids)
            rows["suspended"] = [chance(ch, 10) for _ in SYMBOLS]
            rows["is_st"] = [chance(ch, 10) for _ in SYMBOLS]
            marks = {x: self.price(x, (-0.02, 0.0, 0.02)) for x in SYMBOLS if chance(ch, 50)}
            self.seen["good start_day"] += 1
            day = DAYS[self.day]
            return lambda w: w.start_day(day, rows, marks)
        if kind <= 4:
            marks = {x: self.price(x, (-0.09, -0.05, -0.02, 0.0, 0.03, 0.08))
                     for x in SYMBOLS if chance(ch, 60)}
            if chance(ch, 10) and marks:
                marks[next(iter(marks))] = math.nan  # unpriced until marked again
            self.mids.update({x: p for x, p in marks.items() if p == p})
            return lambda w: w.on_prices(marks)
        if kind <= 6:
            q, px = 100 * ch.int(1, 30), self.mids[s]
            return lambda w: w.on_fill(s, "buy", q, px, fee_cny=5.0)
        if kind == 7:
            _, sellable = v.position(s)
            if sellable:
                q = sellable if chance(ch, 30) else ch.int(1, sellable)
                px = self.mids[s]
                return lambda w: w.on_fill(s, "sell", q, px, fee_cny=5.0)
        if kind == 8:
            held, _ = v.position(s)
            shares, cash = {s: held + 10 * ch.int(0, 50)}, v.cash_cny + ch.int(0, 10_000)
            marks = {s: self.mids[s]}
            return lambda w: w.on_settlement(shares, marks, cash)
        rows = pd.DataFrame({"symbol": [s], "suspended": [chance(ch, 20)],
                             "sector": [pick(ch, ["Banks", "Power", "Semis", "Tech"])]})
        return lambda w: w.update_securities(rows)

    def bad_event(self) -> tuple[str, Call]:
        ch, v = self.ch, self.mixed
        kind = pick(ch, BAD_KINDS)
        s = pick(ch, SYMBOLS)
        nxt = DAYS[min(self.day + 1, len(DAYS) - 1)]
        if kind == "frame":
            how, row = pick(ch, FRAME_FAULTS), ch.int(0, len(SYMBOLS) - 1)
            rows = corrupt(frame(mids=self.mids), how, row)
            return f"frame {how}", lambda w: w.start_day(nxt, rows)
        if kind == "date":
            date = pick(ch, ["garbage", None, pd.NaT, 5, "3000-01-01", DAYS[self.day],
                             "2023-12-29"])
            return "date", lambda w: w.start_day(date, frame(mids=self.mids))
        if kind == "prices":
            marks = {s: self.mids[s], "999999.SH": 1.0}
            return "prices", lambda w: w.start_day(nxt, frame(mids=self.mids), marks)
        if kind == "update":
            how = pick(ch, FRAME_FAULTS)
            rows = corrupt(frame(mids=self.mids), how, ch.int(0, len(SYMBOLS) - 1))
            return f"update {how}", lambda w: w.update_securities(rows)
        if kind == "fill":
            _, sellable = v.position(s)
            args = pick(ch, [(s, "sell", sellable + 100, self.mids[s], 0.0),
                             (s, "buy", 150.5, self.mids[s], 0.0),
                             (s, "buy", 100, math.nan, 0.0), (s, "buy", 100, 10.0, -1.0),
                             (s, "BUY", 100, 10.0, 0.0), ("999999.SH", "buy", 100, 10.0, 0.0)])
            return "fill", lambda w: w.on_fill(*args[:4], fee_cny=args[4])
        if kind == "marks":
            marks = {s: self.price(s, (-0.5, 0.5)), "999999.SH": 1.0}
            return "marks", lambda w: w.on_prices(marks)
        held, _ = v.position(s)
        args = pick(ch, [({s: -100}, {}, 1.0), ({s: held}, {s: math.nan}, 1.0),
                         ({s: held}, {}, math.inf), ({s: held, "999999.SH": 1}, {}, 1.0)])
        return "settlement", lambda w: w.on_settlement(*args)

    # -- orders --------------------------------------------------------------------------
    def orders(self) -> list[Order]:
        ch = self.ch
        out = []
        for _ in range(ch.int(2, 6)):
            s = pick(ch, [*SYMBOLS, "999999.SH"])
            mid = self.mids.get(s, 10.0)
            day = DAYS[min(self.day + pick(ch, (0, 0, 0, 1)), len(DAYS) - 1)]
            out.append(Order(symbol=s, side=pick(ch, ["buy", "buy", "sell"]),
                             quantity=pick(ch, [100, 200, 1_000, 5_000, 20_000, 150]),
                             limit_price=round(mid * (1 + pick(ch, (-0.05, 0.0, 0.05))), 2),
                             timestamp=pd.Timestamp(f"{day} {pick(ch, ['10:00', '14:59'])}",
                                                    tz=TZ)))
        return out

    def judge(self) -> None:
        orders = self.orders()
        for o in orders:
            dm, dg = self.mixed.check(o), self.good.check(o)
            if dm.accepted:  # the property
                assert dg.accepted, (o, dm, dg)
            assert dm == dg, (o, dm, dg)  # and, being transactional, the same verdict
            self.seen[dg.reason.value] += 1
        pd.testing.assert_frame_equal(self.mixed.check_batch(table(orders)),
                                      self.good.check_batch(table(orders)))

    def run(self, steps: int) -> Counter[str]:
        for _ in range(steps):
            if chance(self.ch, 40):
                name, call = self.bad_event()
                before = self.mixed.snapshot()
                with pytest.raises(WorkbenchError):
                    call(self.mixed)
                assert_same(self.mixed.snapshot(), before)  # state equality after the failure
                self.seen[f"bad {name.split()[0]}"] += 1
            else:
                call = self.good_event()
                call(self.good)
                call(self.mixed)
            assert_same(self.mixed.snapshot(), self.good.snapshot())
            self.judge()
        return self.seen


@settings(max_examples=80, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_bad_inputs_between_good_ones_never_let_through_what_the_good_ones_reject(data):
    Case(DataChoices(data)).run(data.draw(st.integers(1, 25)))


def test_the_property_sees_every_fault_and_every_verdict_on_seeded_runs():
    seen: Counter[str] = Counter()
    for seed in range(12):
        seen.update(Case(RngChoices(seed)).run(40))
    assert all(seen[f"bad {kind}"] > 3 for kind in BAD_KINDS), seen
    assert seen["good start_day"] > 30 and seen["ACCEPTED"] > 100, seen
    for reason in ("MARKET_HOURS", "UNKNOWN_SYMBOL", "SUSPENDED", "T_PLUS_1",
                   "POSITION_SIZE", "DAILY_LOSS"):
        assert seen[reason] > 0, (reason, seen)


# ---- the session path (the backtester's gate) ---------------------------------------------

AT = pd.Timestamp(f"{D1} 10:00", tz=TZ)
AT2 = pd.Timestamp(f"{D2} 10:00", tz=TZ)


def session() -> SessionValidator:
    """Day two started: 1,000 600000.SH bought on day one (sellable), 500 600036.SH today."""
    v = SessionValidator(MARGIN, cash_cny=1_000_000.0,
                         symbols=["600000.SH", "600036.SH", "300750.SZ"],
                         boards=["SH main", "SH main", "ChiNext"],
                         sectors=["Banks", "Banks", "Power"])
    v.start_day(D1, [0, 1], limit_up=[11.0, 33.0], limit_down=[9.0, 27.0])
    v.judge_buys([0], [1_000], [10.0], AT, price=[10.0], fee_cny=[5.0])
    v.start_day(D2, [0, 1], limit_up=[11.0, 33.0], limit_down=[9.0, 27.0])
    v.judge_buys([1], [500], [30.0], AT2, price=[30.0], fee_cny=[5.0])
    return v


D3 = DAYS[2]
UP, DOWN = [11.0, 33.0], [9.0, 27.0]
SESSION_BAD: list[tuple[str, Callable[[SessionValidator], object], type]] = [
    # before: IndexError after the day advanced
    ("start_day position 7", lambda v: v.start_day(D3, [0, 7], limit_up=UP, limit_down=DOWN),
     DataError),
    # before: accepted, and position -1 read as 300750.SZ
    ("start_day position -1", lambda v: v.start_day(D3, [0, -1], limit_up=UP,
                                                    limit_down=DOWN), DataError),
    # before: IndexError after the day advanced and the limits were half set
    ("start_day short flags", lambda v: v.start_day(D3, [0, 1], limit_up=UP, limit_down=DOWN,
                                                    suspended=[False]), DataError),
    ("start_day short limits", lambda v: v.start_day(D3, [0, 1], limit_up=[11.0],
                                                     limit_down=[9.0]), DataError),  # ValueError
    ("start_day text limits", lambda v: v.start_day(D3, [0], limit_up=["11.x"],
                                                    limit_down=[9.0]), DataError),  # ValueError
    ("start_day crossed", lambda v: v.start_day(D3, [0, 1], limit_up=[9.0, 33.0],
                                                limit_down=[11.0, 27.0]), DataError),
    ("start_day garbage date", lambda v: v.start_day("garbage", [0], limit_up=[11.0],
                                                     limit_down=[9.0]), ConfigError),
    ("start_day same day", lambda v: v.start_day(D2, [0], limit_up=[11.0], limit_down=[9.0]),
     ConfigError),
    ("register position 9", lambda v: v.register([2, 9]), DataError),  # IndexError
    ("mark unregistered", lambda v: v.mark([0, 2], [9.5, 100.0]), LookupFailed),
    ("mark short prices", lambda v: v.mark([0, 1], [9.5]), DataError),  # ValueError
    ("mark position 5", lambda v: v.mark([0, 5], [9.5, 1.0]), DataError),  # IndexError
    # before: the first sell booked, then DataError
    ("book_sells second above sellable", lambda v: v.book_sells([0, 0], [600, 600],
                                                                [10.0, 10.0], [0.0, 0.0]),
     DataError),
    ("book_sells bad price", lambda v: v.book_sells([0, 0], [100, 100], [10.0, math.nan],
                                                    [0.0, 0.0]), DataError),
    ("book_sells short fees", lambda v: v.book_sells([0], [100], [10.0], []), DataError),
    ("book_sells unregistered", lambda v: v.book_sells([0, 2], [100, 100], [10.0, 10.0],
                                                       [0.0, 0.0]), LookupFailed),
    # before: the first buy booked, then DataError / IndexError
    ("judge_buys bad fill price", lambda v: v.judge_buys(
        [0, 0], [100, 100], [10.0, 10.0], AT2, price=[10.0, math.nan], fee_cny=[0.0, 0.0]),
     DataError),
    ("judge_buys short fees", lambda v: v.judge_buys(
        [0, 0], [100, 100], [10.0, 10.0], AT2, price=[10.0, 10.0], fee_cny=[0.0]), DataError),
    ("judge_buys naive stamp", lambda v: v.judge_buys(
        [0], [100], [10.0], AT2.tz_localize(None), price=[10.0], fee_cny=[0.0]), ConfigError),
    ("judge_buys NaT stamp", lambda v: v.judge_buys(  # before: ValueError
        [0], [100], [10.0], pd.NaT, price=[10.0], fee_cny=[0.0]), ConfigError),
    ("judge_sells 2-d shares", lambda v: v.judge_sells([0], [[100]], [10.0], AT2), DataError),
    # before: accepted, read as a holding of 100 and 0 (the missing one as 0)
    ("settle short arrays", lambda v: v.settle(np.array([100, 0]), 1.0, np.full(2, 10.0)),
     DataError),
    ("settle fractional", lambda v: v.settle(np.array([100.5, 0.0, 0.0]), 1.0,
                                             np.full(3, 10.0)), DataError),  # read as 100
    ("settle negative", lambda v: v.settle(np.array([-100, 0, 0]), 1.0, np.full(3, 10.0)),
     DataError),
    ("settle unregistered", lambda v: v.settle(np.array([0, 500, 100]), 1.0,
                                               np.full(3, 10.0)), LookupFailed),
    ("settle NaN cash", lambda v: v.settle(np.array([0, 500, 0]), math.nan, np.full(3, 10.0)),
     DataError),
]


@pytest.mark.parametrize(("name", "call", "error"), SESSION_BAD,
                         ids=[s[0] for s in SESSION_BAD])
def test_a_failed_session_event_raises_and_changes_nothing(name, call, error):
    v = session()
    before = v.snapshot()
    with pytest.raises(error):
        call(v)
    assert_same(v.snapshot(), before)


SESSION_MIDWAY: list[tuple[str, type, str, int, Callable[[SessionValidator], object]]] = [
    ("start_day", SymbolState, "set_sellable", 0,
     lambda v: v.start_day(D3, [0, 1], limit_up=UP, limit_down=DOWN)),
    ("judge_buys", EquityState, "apply_fill", 1, lambda v: v.judge_buys(
        [0, 0], [100, 100], [10.0, 10.0], AT2, price=[10.0, 10.0], fee_cny=[0.0, 0.0])),
    ("book_sells", EquityState, "apply_fill", 1, lambda v: v.book_sells(
        [0, 0], [100, 100], [10.0, 10.0], [0.0, 0.0])),
    ("settle", EquityState, "settle_holding", 0,
     lambda v: v.settle(np.array([2_000, 500, 0]), 1e6, np.full(3, 10.0))),
    ("mark", EquityState, "refresh", 0, lambda v: v.mark([0, 1], [9.5, 31.0])),
]


@pytest.mark.parametrize(("event", "owner", "name", "after", "call"), SESSION_MIDWAY,
                         ids=[f[0] for f in SESSION_MIDWAY])
def test_a_session_event_that_breaks_while_applying_fails_closed(monkeypatch, event, owner,
                                                                  name, after, call):
    v = session()
    break_once(monkeypatch, owner, name, after)
    with pytest.raises(Broken):
        call(v)
    assert v.fault is not None and event in v.fault
    assert v.day is not None
    at = pd.Timestamp(f"{v.day.date()} 10:00", tz=TZ)  # D3 when start_day broke
    found = v.judge_buys([0], [100], [10.0], at, price=[10.0], fee_cny=[0.0])
    assert found[0].reason is Reason.INTERNAL_ERROR and event in found[0].message
    assert v.judge_sells([0], [100], [10.0], at)[0].accepted
    v.mark([0, 1], [10.0, 30.0])  # other events do not lift it
    assert v.buy_block is Reason.INTERNAL_ERROR
    v.start_day(DAYS[3], [0, 1], limit_up=UP, limit_down=DOWN)
    assert v.fault is None
    at4 = pd.Timestamp(f"{DAYS[3]} 10:00", tz=TZ)
    assert v.judge_buys([0], [100], [10.0], at4, price=[10.0], fee_cny=[0.0])[0].accepted
