"""Tests of workbench.export: the pyfolio and quantstats shapes, checked against the result.

The shapes are those pyfolio documents in ``create_full_tear_sheet``: daily
non-cumulative returns indexed by tz-aware UTC dates; positions with one value column per
symbol and ``cash``; transactions with signed ``amount``, ``price`` and ``symbol``, one row
per trade. quantstats (a dev dependency) must produce its HTML tear sheet from them.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
from test_backtest import NO_COSTS, Scripted, busy_run, make_market
from test_dividend_book import A, TargetShares, market_with_events
from test_properties import SYMBOLS, RandomWeights, random_market

from workbench.backtest import run
from workbench.calendar import sessions
from workbench.config import BacktestConfig
from workbench.data.corporate import actions_frame
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import DataError
from workbench.export import (
    TRANSACTION_COLUMNS,
    pyfolio_returns,
    pyfolio_transactions,
    quantstats_returns,
    session_labels,
)
from workbench.result import BacktestResult
from workbench.strategies import get
from workbench.trades import SETTLEMENT_REASONS


@pytest.fixture(scope="module")
def momentum() -> BacktestResult:
    """Two years of a momentum run: trades, bonus shares, dividends and a benchmark."""
    m = synthetic_market(SyntheticConfig(n_stocks=20, start="2021-01-04", end="2022-12-30"))
    return run(m, get("momentum"))


@pytest.fixture(scope="module")
def eventful() -> BacktestResult:
    """A random market with every event: a delisting, carried orders, corporate actions,
    dividends receivable (as test_properties checks)."""
    m = random_market(list(SYMBOLS), 40, "2023-08-14", seed=7)
    return run(m, RandomWeights(seed=1), BacktestConfig(capital_cny=5_000_000,
                                                        max_participation_rate=0.01))


def assert_pyfolio_dates(index: pd.Index) -> None:
    """Tz-aware UTC session labels at midnight, as pyfolio's examples ``tz_localize('UTC')``."""
    assert isinstance(index, pd.DatetimeIndex)
    assert str(index.tz) == "UTC"
    assert (index == index.normalize()).all()


def held_shares(result: BacktestResult) -> pd.DataFrame:
    """Shares held at each session's close, sessions × symbols (0 where not held)."""
    wide = result.positions.pivot_table(index="date", columns="symbol", values="shares",
                                        aggfunc="sum", observed=True)
    wide.columns = wide.columns.astype(str)
    return wide.reindex(result.daily.index).fillna(0).astype("int64")


# -- the documented shapes --------------------------------------------------------------------
def test_returns_are_daily_noncumulative_with_utc_dates(momentum):
    returns, _, _ = momentum.to_pyfolio()
    assert isinstance(returns, pd.Series) and returns.dtype == np.float64
    assert_pyfolio_dates(returns.index)
    assert returns.index.is_monotonic_increasing and returns.index.is_unique
    assert returns.notna().all()
    # the same sessions (calendar dates unchanged) and the result's own returns, exactly
    assert (returns.index.tz_localize(None) == momentum.daily.index).all()
    assert returns.to_numpy().tolist() == momentum.returns.to_numpy().tolist()
    # non-cumulative: compounding them gives the final equity over the capital
    growth = float(np.prod(1.0 + returns.to_numpy()))
    assert growth == pytest.approx(momentum.equity.iloc[-1] / momentum.config.capital_cny,
                                   rel=1e-12)


def test_positions_are_values_per_symbol_then_cash_summing_to_equity(eventful):
    returns, positions, _ = eventful.to_pyfolio()
    assert isinstance(positions, pd.DataFrame)
    assert positions.index.equals(returns.index)
    assert positions.columns[-1] == "cash"
    symbols = list(positions.columns[:-1])
    assert symbols == sorted(eventful.positions["symbol"].astype(str).unique())
    assert (positions.dtypes == np.float64).all() and positions.notna().all().all()
    # a row is the portfolio value pyfolio divides by: equity, receivables in cash
    np.testing.assert_allclose(positions.sum(axis=1), eventful.equity, rtol=1e-12)
    assert (eventful.daily["receivable_cny"] > 0).any()
    np.testing.assert_allclose(positions["cash"],
                               eventful.daily["cash_cny"] + eventful.daily["receivable_cny"])
    # each value is shares x close from the long table, 0.0 where not held
    long = eventful.positions
    for row in long.sample(20, random_state=0).itertuples():
        label = session_labels(pd.DatetimeIndex([row.date]))[0]
        assert positions.at[label, str(row.symbol)] == row.value_cny
    assert positions[symbols].to_numpy().min() >= 0.0
    assert (positions[symbols].to_numpy() == 0.0).sum() == positions[symbols].size - len(long)


def test_transactions_are_signed_amounts_with_prices_and_symbols(eventful):
    returns, _, txn = eventful.to_pyfolio()
    trades = eventful.trades
    assert list(txn.columns) == list(TRANSACTION_COLUMNS)
    assert txn["amount"].dtype == np.int64 and txn["price"].dtype == np.float64
    assert txn["txn_dollars"].dtype == np.float64
    assert_pyfolio_dates(txn.index)
    assert txn.index.isin(returns.index).all()
    # one row per trade-log row, in its order: the sign is the side, the size the shares
    assert len(txn) == len(trades)
    sign = np.where(trades["side"] == "buy", 1, -1)
    assert (txn["amount"].to_numpy() == sign * trades["shares"].to_numpy()).all()
    assert (txn["amount"] != 0).all()
    assert txn["price"].to_numpy().tolist() == trades["price"].to_numpy().tolist()
    assert txn["symbol"].tolist() == trades["symbol"].astype(str).tolist()
    assert txn["reason"].tolist() == trades["reason"].astype(str).tolist()
    assert (txn.index.tz_localize(None) == pd.DatetimeIndex(trades["date"])).all()
    np.testing.assert_allclose(txn["txn_dollars"], -txn["amount"] * txn["price"])
    # every kind of row the log holds is there
    assert {"signal", "carried", "delisted", "corporate_action"} <= set(txn["reason"])


# -- the values, by hand ------------------------------------------------------------------------
def test_a_worked_example_by_hand():
    # busy_run: 250,000 CNY; on 01-03 buys 7,500 600000.SH at 10.2051 (open 10.20 plus 5 bps
    # slippage), 2,500 688001.SH at 30.015, 15,000 830001.BJ at 5.50275; on 01-05 sells
    # 5,582 830001.BJ and buys 4,200 600000.SH; 830001.BJ is delisted and its last 9,418
    # shares settled at its last close 5.20 on 01-08, when 1,653 688001.SH (carried over
    # its suspension) are sold.
    r = busy_run()
    _, positions, txn = r.to_pyfolio()
    assert txn["amount"].tolist() == [7500, 2500, 15000, -5582, 4200, -9418, -1653]
    assert txn["symbol"].tolist() == ["600000.SH", "688001.SH", "830001.BJ", "830001.BJ",
                                      "600000.SH", "830001.BJ", "688001.SH"]
    assert txn["reason"].tolist()[-2:] == ["delisted", "carried"]
    assert txn["price"].iloc[0] == pytest.approx(10.20 * 1.0005, abs=1e-12)
    assert txn["price"].iloc[5] == 5.20
    assert txn["txn_dollars"].iloc[5] == pytest.approx(9_418 * 5.20)
    assert txn.index[5] == pd.Timestamp("2024-01-08", tz="UTC")
    # 01-03 close: 7,500 x 10.20 = 76,500; 2,500 x 30.00 = 75,000; 15,000 x 5.50 = 82,500
    day = pd.Timestamp("2024-01-03", tz="UTC")
    assert positions.loc[day, ["600000.SH", "688001.SH", "830001.BJ"]].tolist() == [
        76_500.0, 75_000.0, 82_500.0]
    assert positions.loc[day, "cash"] == r.cash.iloc[1]
    # after the settlement nothing of 830001.BJ is left
    assert positions.loc[pd.Timestamp("2024-01-08", tz="UTC"), "830001.BJ"] == 0.0


def test_cash_carries_the_dividend_gone_ex_until_it_is_paid():
    # test_dividend_book's worked example: 3,000 shares go ex 0.50 CNY on 2025-01-20 (a
    # receivable of 1,500.00, in equity), paid on 2025-01-21. Without the receivable in
    # `cash` the row would sum to 98,500.00, not the equity of 100,000.00.
    days = sessions("2024-01-02", "2025-01-24")
    e1 = list(days).index(pd.Timestamp("2025-01-20"))
    closes = [10.0] * e1 + [9.5] * (len(days) - e1)
    events = actions_frame(
        symbol=np.array([A], dtype=object),
        ex_date=np.array(["2025-01-20"], dtype="datetime64[ns]"),
        pay_date=np.array(["2025-01-21"], dtype="datetime64[ns]"),
        cash_pre_tax_cny=np.array([0.50]), bonus_ratio=np.array([0.0]),
        transfer_ratio=np.array([0.0]), source="vendor")
    m = market_with_events("2024-01-02", closes, {e1: 9.5}, events)
    r = run(m, TargetShares(plan={"2025-01-13": 3000}),
            BacktestConfig(capital_cny=100_000, costs=NO_COSTS))
    _, positions, _ = r.to_pyfolio()
    at = session_labels(days[[e1 - 1, e1, e1 + 1]])
    assert positions.loc[at, A].tolist() == [30_000.0, 28_500.0, 28_500.0]
    assert positions.loc[at, "cash"].tolist() == [70_000.0, 71_500.0, 71_500.0]
    assert positions.loc[at].sum(axis=1).tolist() == [100_000.0] * 3
    # the returns carry the dividend: none lost on the ex-date
    assert r.to_pyfolio()[0].loc[at].tolist() == [0.0, 0.0, 0.0]


def test_amounts_add_up_to_the_holdings_with_settlements(eventful):
    # pyfolio rebuilds holdings from the transactions (round trips; closing transactions
    # priced at the last value over the summed amounts): with settlements they agree.
    returns, positions, txn = eventful.to_pyfolio()
    held = held_shares(eventful)
    cumulative = (txn.pivot_table(index=txn.index, columns="symbol", values="amount",
                                  aggfunc="sum")
                  .reindex(returns.index).fillna(0).cumsum().astype("int64"))
    cumulative.index = held.index
    pd.testing.assert_frame_equal(cumulative.reindex(columns=held.columns, fill_value=0), held,
                                  check_names=False)
    # pyfolio's closing price of an open holding: its last value over the amounts = close
    last = eventful.positions[eventful.positions["date"] == eventful.daily.index[-1]]
    for row in last.itertuples():
        summed = txn.loc[txn["symbol"] == str(row.symbol), "amount"].sum()
        assert positions[str(row.symbol)].iloc[-1] / summed == pytest.approx(row.close)


def test_without_settlements_only_exchange_fills_remain():
    # 01-04 is an ex-date: 5,000 shares held get 1,000 bonus shares (cash mode, 2 for 10)
    m = make_market({A: {"close": [10, 10, 8, 8], "prev_close": [10, 10, 8, 8],
                         "open": [10, 10, 8, 8]}})
    r = run(m, Scripted(plan={"2024-01-02": {A: 0.5}}),
            BacktestConfig(capital_cny=100_000, costs=NO_COSTS, corporate_actions="cash"))
    _, positions, txn = r.to_pyfolio()
    assert txn["amount"].tolist() == [5000, 1000]
    assert txn["reason"].tolist() == ["signal", "corporate_action"]
    assert txn["amount"].sum() == r.positions["shares"].iloc[-1] == 6000
    assert positions[A].iloc[-1] == 6000 * 8.0
    fills = pyfolio_transactions(r.trades, settlements=False)
    assert fills["amount"].tolist() == [5000]  # no longer adds up to the 6,000 held
    _, _, no_settlements = r.to_pyfolio(settlements=False)
    pd.testing.assert_frame_equal(no_settlements, fills)


def test_exchange_fills_trade_the_daily_traded_value(eventful):
    _, _, fills = eventful.to_pyfolio(settlements=False)
    assert not fills["reason"].isin(SETTLEMENT_REASONS).any()
    traded = (fills["amount"].abs() * fills["price"]).groupby(level=0).sum()
    daily = eventful.daily["traded_cny"]
    daily = daily[daily > 0]
    np.testing.assert_allclose(traded.to_numpy(), daily.to_numpy(), rtol=1e-12)
    assert (traded.index.tz_localize(None) == daily.index).all()


# -- dates, benchmark, quantstats --------------------------------------------------------------
def test_sessions_keep_their_exchange_date_in_utc():
    shanghai = pd.DatetimeIndex(["2024-01-02 00:00", "2024-01-02 15:00", "2024-01-02 23:30"]
                                ).tz_localize("Asia/Shanghai")
    assert session_labels(shanghai).tolist() == [pd.Timestamp("2024-01-02", tz="UTC")] * 3
    # the pitfall avoided: Shanghai midnight converted to UTC is the evening before
    assert shanghai[0].tz_convert("UTC").date() == pd.Timestamp("2024-01-01").date()
    naive = pd.DatetimeIndex(["2024-01-02", "2024-01-03"], freq="D")
    labels = session_labels(naive)
    assert labels.freq is None and labels.tz is not None
    assert labels.tz_localize(None).equals(pd.DatetimeIndex(["2024-01-02", "2024-01-03"]))


def test_returns_need_one_date_per_session():
    with pytest.raises(DataError, match="indexed by session dates"):
        pyfolio_returns(pd.Series([0.01, 0.02]))
    twice = pd.Series([0.01, 0.02], index=pd.DatetimeIndex(["2024-01-02", "2024-01-02"]))
    with pytest.raises(DataError, match="one value per session"):
        pyfolio_returns(twice)


def test_benchmark_returns_share_the_returns_index(tiny):
    # tiny's benchmark closes 3,500, 3,505, 3,499, 3,510, 3,520 index points
    r = run(tiny, get("buy_and_hold"))
    returns, _, _ = r.to_pyfolio()
    bench = r.to_pyfolio_benchmark()
    assert bench is not None and bench.index.equals(returns.index)
    np.testing.assert_allclose(bench.to_numpy(), [0.0, 5 / 3500, -6 / 3505, 11 / 3499,
                                                  10 / 3510], rtol=1e-12)
    qs_returns, qs_bench = r.to_quantstats()
    assert qs_returns.index.tz is None and qs_bench is not None and qs_bench.index.tz is None
    assert qs_returns.index.equals(r.daily.index.rename(None))
    assert qs_returns.to_numpy().tolist() == returns.to_numpy().tolist()
    assert qs_bench.to_numpy().tolist() == bench.to_numpy().tolist()
    assert quantstats_returns(r.returns).equals(qs_returns)


def test_no_benchmark_gives_none(tiny):
    r = run(dataclasses.replace(tiny, benchmark=tiny.benchmark.iloc[:0]), get("buy_and_hold"))
    assert r.benchmark_returns is None
    assert r.to_pyfolio_benchmark() is None
    assert r.to_quantstats()[1] is None


def test_quantstats_writes_its_tearsheet_from_the_export(momentum, tmp_path, monkeypatch):
    qs = pytest.importorskip("quantstats")
    monkeypatch.chdir(tmp_path)  # anything quantstats writes beside the report stays here
    returns, benchmark = momentum.to_quantstats()
    pyfolio_returns_, _, _ = momentum.to_pyfolio()
    out = tmp_path / "tearsheet.html"
    with warnings.catch_warnings():
        # quantstats, seaborn and matplotlib warn about their own deprecations and about
        # metrics undefined on short samples; only this call is excused
        warnings.simplefilter("ignore")
        qs.reports.html(returns, benchmark, output=str(out), title="momentum",
                        benchmark_title="benchmark")
        # quantstats reads the tz-aware pyfolio returns as returns too (not as prices)
        total = qs.stats.comp(pyfolio_returns_)
    html = out.read_text(encoding="utf-8")
    assert "momentum" in html and "benchmark" in html.lower()
    # its period: from the first session on which strategy and benchmark have both moved
    # (quantstats' match_dates) to the last session, on the exchange's dates
    first = max(returns.ne(0).idxmax(), benchmark.ne(0).idxmax())
    assert first > returns.index[0]  # momentum waits for its lookback
    assert f"{first:%e %b, %Y} - {returns.index[-1]:%e %b, %Y}" in html
    assert total == pytest.approx(momentum.equity.iloc[-1] / momentum.config.capital_cny - 1,
                                  rel=1e-9)
