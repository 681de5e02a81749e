"""Invariants of the backtester on random small markets and random target weights.

Each example draws 2-6 stocks from every board over 10-40 sessions (around the stamp duty
and transfer fee changes), with sealed limit days, limit opens, suspensions, a late IPO,
a delisting and ex-dates (cash dividends and bonus shares, as events with pay dates, some
taxed under the 2013 rule), a random config, and a strategy that returns random weights (or no
change). The checks read only the result and the market, never the engine's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench import rules
from workbench.backtest import run
from workbench.calendar import sessions
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data.corporate import actions_frame
from workbench.data.market import Market
from workbench.data.schema import FUNDAMENTAL_COLUMNS, ST_COLUMNS
from workbench.result import BacktestResult
from workbench.rules import round_fen
from workbench.strategies.base import Strategy
from workbench.symbols import board_of
from workbench.view import MarketView

SYMBOLS = ("600000.SH", "000001.SZ", "300001.SZ", "688001.SH", "830001.BJ", "601000.SH")
STARTS = ("2023-08-14", "2022-04-18", "2024-03-01", "2014-03-03")


def random_market(symbols: list[str], n_days: int, start: str, seed: int) -> Market:
    """Bars that respect the limits, with event days; one late IPO and one delisting."""
    rng = np.random.default_rng(seed)
    days = sessions(start, pd.Timestamp(start) + pd.Timedelta(days=90))[:n_days]
    ipo = symbols[1] if len(symbols) > 2 else None
    gone = symbols[0]
    frames, list_dates, delist_dates, events = [], {}, {}, []
    for sym in symbols:
        board = board_of(sym)
        first = int(rng.integers(1, n_days // 2)) if sym == ipo else 0
        last = int(rng.integers(n_days // 2, n_days - 1)) if sym == gone else n_days - 1
        list_dates[sym] = days[first] if sym == ipo else pd.Timestamp("2015-01-05")
        delist_dates[sym] = days[last + 1] if sym == gone else pd.NaT
        unlimited = rules.ipo_unlimited_days(board, days[first]) if sym == ipo else 0
        prev = round(float(rng.uniform(3, 50)), 2)
        rows = []
        for i in range(first, last + 1):
            pct = rules.limit_percent(board, days[i])
            up, down = (float(x) for x in rules.limit_prices(prev, pct))
            if i - first < unlimited:
                up = down = np.nan
            kind = rng.choice(["normal", "sealed_up", "sealed_down", "suspended", "open_up",
                               "open_down"], p=[0.62, 0.08, 0.08, 0.1, 0.06, 0.06])
            lo, hi = (down, up) if np.isfinite(up) else (prev * 0.6, prev * 1.6)

            def draw(prev: float = prev, lo: float = lo, hi: float = hi) -> float:
                return float(np.clip(round(prev * (1 + rng.normal(0, 0.03)), 2), lo, hi))

            if kind == "sealed_up" and np.isfinite(up):
                o = c = up
            elif kind == "sealed_down" and np.isfinite(down):
                o = c = down
            elif kind == "open_up" and np.isfinite(up):
                o, c = up, draw()
            elif kind == "open_down" and np.isfinite(down):
                o, c = down, draw()
            else:
                o, c = draw(), draw()
            suspended = kind == "suspended" and i > first
            if i > first and not suspended and rng.random() < 0.08:  # an ex-date
                cash = round(float(rng.uniform(0.0, 0.05)) * prev, 3)
                bonus = float(rng.choice([0.0, 0.0, 0.3, 1.0]))
                ref = round((prev - cash) / (1 + bonus), 2)
                if ref > 0:
                    pay = days[min(i + int(rng.integers(0, 3)), len(days) - 1)]
                    events.append((sym, days[i], pay, cash, bonus))
                    prev = ref
                    up, down = (float(x) for x in rules.limit_prices(prev, pct))
                    if i - first < unlimited:
                        up = down = np.nan
                    lo, hi = (down, up) if np.isfinite(up) else (prev * 0.6, prev * 1.6)
                    o, c = draw(prev, lo, hi), draw(prev, lo, hi)
            if suspended:
                o = c = prev
            volume = 0 if suspended else int(rng.integers(1, 3000)) * 100
            rows.append((days[i], sym, o, max(o, c), min(o, c), c, volume,
                         volume * (o + c) / 2, 1.0, prev, up, down, suspended, False))
            prev = c
        frames.append(pd.DataFrame(rows, columns=[
            "date", "symbol", "open", "high", "low", "close", "volume", "amount",
            "adj_factor", "prev_close", "limit_up", "limit_down", "suspended", "is_st"]))
    bars = pd.concat(frames).sort_values(["date", "symbol"]).reset_index(drop=True)
    bars["symbol"] = bars["symbol"].astype("category")
    securities = pd.DataFrame({
        "symbol": symbols, "name": symbols, "exchange": [s[-2:] for s in symbols],
        "board": [str(board_of(s)) for s in symbols],
        "sector": [("Banks", "Tech", "Energy")[i % 3] for i in range(len(symbols))],
        "list_date": pd.to_datetime([list_dates[s] for s in symbols]),
        "delist_date": pd.to_datetime([delist_dates[s] for s in symbols]),
    })
    return Market(
        bars=bars, securities=securities,
        fundamentals=pd.DataFrame({c: pd.Series(dtype=float) for c in FUNDAMENTAL_COLUMNS}),
        st_periods=pd.DataFrame({c: pd.Series(dtype=object) for c in ST_COLUMNS}),
        benchmark=pd.DataFrame({"date": days, "close": 1000.0}), meta={"name": "random"},
        corporate_actions=actions_frame(
            symbol=np.array([e[0] for e in events], dtype=object),
            ex_date=np.array([e[1] for e in events], dtype="datetime64[ns]"),
            pay_date=np.array([e[2] for e in events], dtype="datetime64[ns]"),
            cash_pre_tax_cny=np.array([e[3] for e in events], dtype=float),
            bonus_ratio=np.array([e[4] for e in events], dtype=float), source="vendor"))


@dataclass(frozen=True, kw_only=True)
class RandomWeights(Strategy):
    """Random weights over the listed stocks (sum in [0, 1]); no change 30 % of the time."""

    name: ClassVar[str] = "random_weights"
    seed: int = 0

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        rng = np.random.default_rng([self.seed, view.row])
        if rng.random() < 0.3:
            return None
        n = len(view.symbols)
        w = rng.random(n) * (rng.random(n) < 0.7) * view.listed
        total = w.sum()
        return w / total * rng.uniform(0, 1) if total > 0 else w


def _has_rule(symbol: str, day: str) -> bool:
    try:
        rules.limit_percent(board_of(symbol), day)
    except ValueError:
        return False
    return True


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[Market, RandomWeights, BacktestConfig]:
    start = draw(st.sampled_from(STARTS))
    boards_then = [s for s in SYMBOLS if _has_rule(s, start)]  # no STAR or BSE in 2014
    symbols = draw(st.permutations(boards_then))[: draw(st.integers(2, 6))]
    n_days = draw(st.integers(10, 40))
    market = random_market(list(symbols), n_days, start, draw(st.integers(0, 2**32 - 1)))
    config = BacktestConfig(
        capital_cny=draw(st.sampled_from([20_000.0, 300_000.0, 5_000_000.0])),
        fill_at=draw(st.sampled_from(["open", "close", "vwap"])),
        costs=Costs().scale(draw(st.sampled_from([0.0, 1.0, 3.0]))),
        max_participation_rate=draw(st.sampled_from([None, 0.1, 0.01])),
        suspended_orders=draw(st.sampled_from(["carry", "drop"])),
        limit_orders=draw(st.sampled_from(["carry", "drop"])),
        delisting=draw(st.sampled_from(["last_price", "write_off"])),
        corporate_actions=draw(st.sampled_from(["cash", "reinvest"])),
        lot_rounding=draw(st.sampled_from(["floor", "fill"])),
    )
    return market, RandomWeights(seed=draw(st.integers(0, 2**32 - 1))), config


def _panels(market: Market, result: BacktestResult) -> dict[str, pd.DataFrame]:
    dates = result.daily.index
    out = {c: market.panel(c).reindex(dates) for c in (
        "open", "close", "limit_up", "limit_down", "suspended", "volume", "amount")}
    out["mark"] = market.panel("close").ffill().reindex(dates)
    held = result.positions.pivot_table(index="date", columns="symbol", values="shares",
                                        aggfunc="sum", fill_value=0)
    out["held"] = held.reindex(index=dates, columns=market.symbols, fill_value=0)
    return out


def _lookup(panel: pd.DataFrame, trades: pd.DataFrame) -> np.ndarray:
    rows = panel.index.get_indexer(trades["date"])
    cols = panel.columns.get_indexer(trades["symbol"])
    return panel.to_numpy()[rows, cols]


def check_invariants(market: Market, result: BacktestResult, config: BacktestConfig) -> None:
    p = _panels(market, result)
    trades = result.trades
    daily = result.daily
    # cash is never negative
    assert (daily["cash_cny"] >= 0).all(), daily["cash_cny"].min()
    # equity = cash + sum(shares * close) + dividends receivable every session (last close
    # across gaps)
    marked = (p["held"] * p["mark"].fillna(0.0)).sum(axis=1)
    np.testing.assert_allclose(daily["equity_cny"],
                               daily["cash_cny"] + marked + daily["receivable_cny"],
                               rtol=1e-12, atol=1e-6)
    # shares move only by fills; cash only by fills and their charges
    sign = np.where(trades["side"] == "buy", 1, -1)
    flow = pd.DataFrame({"date": trades["date"], "symbol": trades["symbol"],
                         "shares": sign * trades["shares"]})
    moved = flow.pivot_table(index="date", columns="symbol", values="shares", aggfunc="sum",
                             fill_value=0).reindex(index=daily.index, columns=market.symbols,
                                                   fill_value=0)
    before = p["held"].shift(1, fill_value=0)
    assert (p["held"] == before + moved).all().all()
    fees = trades[["commission", "stamp_duty", "transfer_fee", "dividend_tax"]].sum(axis=1)
    flows = -sign * trades["shares"] * trades["price"] - fees
    if config.corporate_actions == "cash":  # new shares cost nothing; dividends come as cash
        flows = flows[trades["reason"] != "corporate_action"]
        paid_in = daily["dividends_cny"]
        assert (daily["corporate_action_cny"] == 0).all() or not result.dividends.empty
        assert (trades["dividend_tax"] >= 0).all()
        assert (trades.loc[trades["side"] == "buy", "dividend_tax"] == 0).all()
    else:  # the payout, reinvested in the new shares' buy rows
        paid_in = daily["corporate_action_cny"]
        assert (trades["dividend_tax"] == 0).all() and result.dividends.empty
    cash_move = flows.groupby(trades.loc[flows.index, "date"]).sum()
    cash_move = cash_move.reindex(daily.index, fill_value=0) + paid_in
    expected_cash = config.capital_cny + cash_move.cumsum()
    np.testing.assert_allclose(daily["cash_cny"], expected_cash, rtol=0, atol=1e-6)

    if trades.empty:
        return
    # the holding as the session opens: the last close's, plus shares from an ex-date
    corp = flow[trades["reason"].to_numpy() == "corporate_action"]
    issued = corp.pivot_table(index="date", columns="symbol", values="shares", aggfunc="sum",
                              fill_value=0).reindex(index=daily.index, columns=market.symbols,
                                                    fill_value=0)
    held_before = _lookup(before + issued, trades)
    lots = {s: rules.lot_rule(board_of(s)) for s in market.symbols}
    lot_min = trades["symbol"].map(lambda s: lots[s].min_shares).to_numpy()
    lot_step = trades["symbol"].map(lambda s: lots[s].step_shares).to_numpy()
    shares = trades["shares"].to_numpy()
    buy = (trades["side"] == "buy").to_numpy()
    settled = trades["reason"].isin(["delisted", "corporate_action"]).to_numpy()
    whole_lots = (shares >= lot_min) & ((shares - lot_min) % lot_step == 0)
    assert (shares > 0).all()
    # every buy a valid lot for its board; every sell whole lots or the whole holding (new
    # shares from a bonus issue are settlements, any number)
    assert whole_lots[buy & ~settled].all()
    assert (whole_lots | (shares == held_before))[~buy & ~settled].all()
    # T+1: no sale of shares bought the same session (a sell is at most the prior holding),
    # and never a buy and a sell of one stock in one session
    assert (shares[~buy] <= held_before[~buy]).all()
    assert not trades[~settled].duplicated(["date", "symbol"]).any()

    traded = ~settled
    value = shares * trades["price"].to_numpy()
    c = config.costs
    day_rates = np.array([c.stamp_duty_rate(d) for d in trades["date"]])
    transfer_rates = np.array([c.transfer_fee_rate(d) for d in trades["date"]])
    commission = trades["commission"].to_numpy()
    # every fee equals its formula, so is at least its minimum
    assert (commission[traded] >= c.min_commission_cny).all()
    np.testing.assert_array_equal(
        commission[traded],
        round_fen(np.maximum(value * c.commission_rate, c.min_commission_cny))[traded])
    np.testing.assert_array_equal(trades["stamp_duty"].to_numpy()[traded],
                                  np.where(buy, 0.0, round_fen(value * day_rates))[traded])
    np.testing.assert_array_equal(trades["transfer_fee"].to_numpy()[traded],
                                  round_fen(value * transfer_rates)[traded])
    assert (trades.loc[settled, ["commission", "stamp_duty", "transfer_fee"]] == 0).all().all()

    # fills only on sessions with a bar, not suspended, within the volume cap
    if config.fill_at == "vwap":
        ref = _lookup(p["amount"], trades) / _lookup(p["volume"], trades)
    else:
        ref = _lookup(p[config.fill_at], trades)
    assert np.isfinite(ref[traded]).all()
    assert not _lookup(p["suspended"], trades)[traded].astype(bool).any()
    if config.max_participation_rate is not None:
        cap = np.floor(_lookup(p["volume"], trades) * config.max_participation_rate + 1e-9)
        assert (shares[traded] <= cap[traded]).all()
    # no fill at a sealed limit: no buy at limit-up, no sell at limit-down; and no fill
    # price outside the day's band
    up, down = _lookup(p["limit_up"], trades), _lookup(p["limit_down"], trades)
    price = trades["price"].to_numpy()
    with np.errstate(invalid="ignore"):
        assert not (traded & buy & (ref >= up)).any()
        assert not (traded & ~buy & (ref <= down)).any()
        assert not (traded & (price > up + 1e-9)).any()
        assert not (traded & (price < down - 1e-9)).any()
    # a fill retried ('carried') follows a session on which that order was blocked by a
    # cause the config carries: a suspension, or a sealed limit against its side
    carries = [reason for reason, on in (("suspended", config.suspended_orders == "carry"),
                                         ("limit_up", config.limit_orders == "carry"),
                                         ("limit_down", config.limit_orders == "carry")) if on]
    waited = result.unfilled.loc[result.unfilled["reason"].isin(carries),
                                 ["symbol", "side", "date"]].astype({"symbol": str, "side": str})
    retried = trades.loc[trades["reason"] == "carried", ["symbol", "side", "date"]].astype(
        {"symbol": str, "side": str})
    pairs = retried.merge(waited, on=["symbol", "side"], how="left", suffixes=("", "_blocked"))
    pairs["before"] = pairs["date_blocked"] < pairs["date"]  # NaT (never blocked): False
    assert pairs.groupby(["symbol", "side", "date"])["before"].any().all()
    # nothing is held once a stock has delisted
    sec = market.securities.set_index("symbol")
    for sym, delist in sec["delist_date"].dropna().items():
        after = p["held"].index >= delist
        assert (p["held"].loc[after, sym] == 0).all()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_invariants_hold_on_random_markets(scenario):
    market, strategy, config = scenario
    result = run(market, strategy, config)
    check_invariants(market, result, config)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_runs_are_deterministic(scenario):
    market, strategy, config = scenario
    a, b = run(market, strategy, config), run(market, strategy, config)
    for table in ("daily", "trades", "orders", "unfilled", "positions", "sector_exposure"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table), check_exact=True)
    assert a.daily.to_numpy().tobytes() == b.daily.to_numpy().tobytes()


def test_a_random_market_has_every_event():
    # the generator really produces what the invariants are about
    m = random_market(list(SYMBOLS), 40, "2023-08-14", seed=7)
    b = m.bars
    assert b["suspended"].any()
    assert (b["open"] == b["limit_up"]).any() and (b["open"] == b["limit_down"]).any()
    assert b["limit_up"].isna().any()  # the IPO's unlimited days
    assert m.securities["delist_date"].notna().sum() == 1
    r = run(m, RandomWeights(seed=1), BacktestConfig(capital_cny=5_000_000,
                                                     max_participation_rate=0.01))
    assert {"limit_up", "volume_cap"} <= set(r.unfilled["reason"])
    assert "carried" in set(r.trades["reason"])  # blocked orders retried and filled
    # ex-dates: dividends entitled, some paid later (receivable), tax charged on sales
    assert len(m.corporate_actions) > 0 and not r.dividends.empty
    assert (r.daily["receivable_cny"] > 0).any() and r.trades["dividend_tax"].sum() > 0
    assert "corporate_action" in set(r.trades["reason"])
    check_invariants(m, r, r.config)
