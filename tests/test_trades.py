"""Tests of workbench.trades: the trade log's round trips, statistics and turnover.

Worked examples with the arithmetic in comments (A-share fees a pencil can redo).
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import pandas as pd
import pytest

from workbench import trades as m
from workbench.errors import DataError


def trade_log(rows: list[tuple]) -> pd.DataFrame:
    columns = ["date", "symbol", "side", "shares", "price", "commission", "stamp_duty",
               "transfer_fee", "slippage", "reason"]
    return pd.DataFrame(rows, columns=columns)


# Two round trips, one win one loss, with A-share fees (commission 3 bps, min 5 CNY;
# stamp duty 5 bps on sells; transfer fee 0.1 bp both sides):
#   600519.SH buy  100 @ 1700 = 170 000: commission 51.00, transfer 1.70          -> 52.70
#   000001.SZ buy 1000 @ 10.0 =  10 000: commission  5.00 (min), transfer 0.10    ->  5.10
#   600519.SH sell 100 @ 1800 = 180 000: commission 54.00, stamp 90.00, transfer 1.80 -> 145.80
#   000001.SZ sell 1000 @ 9.5 =   9 500: commission  5.00, stamp 4.75, transfer 0.095 -> 9.845
# P&L 600519: 180 000 - 170 000 - 52.70 - 145.80 = 9 801.50   (win, held 2 -> 10 Jan: 8 days)
# P&L 000001:   9 500 -  10 000 -  5.10 -   9.845 =  -514.945  (loss, held 3 -> 12 Jan: 9 days)
HAND_LOG = trade_log([
    ("2024-01-02", "600519.SH", "buy", 100, 1700.0, 51.0, 0.0, 1.70, 8.5, "entry"),
    ("2024-01-03", "000001.SZ", "buy", 1000, 10.0, 5.0, 0.0, 0.10, 5.0, "entry"),
    ("2024-01-10", "600519.SH", "sell", 100, 1800.0, 54.0, 90.0, 1.80, 9.0, "exit"),
    ("2024-01-12", "000001.SZ", "sell", 1000, 9.5, 5.0, 4.75, 0.095, 4.75, "stop"),
])


def test_round_trips_by_hand():
    trips = m.round_trips(HAND_LOG)
    assert trips["symbol"].tolist() == ["600519.SH", "000001.SZ"]
    assert trips["pnl_cny"].tolist() == pytest.approx([9801.50, -514.945])
    assert trips["costs_cny"].tolist() == pytest.approx([198.50, 14.945])
    assert trips["holding_days"].tolist() == [8, 9]
    # return on entry value: 9801.5 / 170 000, -514.945 / 10 000
    assert trips["return"].tolist() == pytest.approx([9801.5 / 170_000, -0.0514945])


def test_trade_statistics_by_hand():
    s = m.trade_statistics(HAND_LOG)
    assert (s["n_trades"], s["n_buys"], s["n_sells"], s["n_settlements"]) == (4, 2, 2, 0)
    assert (s["n_round_trips"], s["n_wins"], s["n_losses"]) == (2, 1, 1)
    assert s["win_rate"] == 0.5
    # profit factor = 9801.50 / 514.945 = 19.0341...
    assert s["profit_factor"] == pytest.approx(9801.50 / 514.945)
    assert s["gross_profit_cny"] == pytest.approx(9801.50)
    assert s["gross_loss_cny"] == pytest.approx(514.945)
    assert s["net_pnl_cny"] == pytest.approx(9801.50 - 514.945)
    # share-weighted: (100 * 8 + 1000 * 9) / 1100 = 9800 / 1100
    assert s["avg_holding_days"] == pytest.approx(9800 / 1100)
    assert s["costs_cny"] == pytest.approx(198.50 + 14.945)
    assert s["slippage_cny"] == pytest.approx(8.5 + 5.0 + 9.0 + 4.75)
    assert s["open_shares"] == 0


def test_settlements_are_counted_apart_but_close_round_trips():
    # buy 1000 @ 10 on the exchange; a 10-for-10 bonus issue books 1000 more shares at the
    # ex-rights price 5 (no fees); sell 1000 @ 6 on the exchange; the last 1000 are settled
    # when the stock delists, at its last close 4
    log = trade_log([
        ("2024-01-02", "600000.SH", "buy", 1000, 10.0, 5.0, 0.0, 0.1, 0.0, "signal"),
        ("2024-02-01", "600000.SH", "buy", 1000, 5.0, 0.0, 0.0, 0.0, 0.0, "corporate_action"),
        ("2024-03-01", "600000.SH", "sell", 1000, 6.0, 5.0, 3.0, 0.06, 0.0, "carried"),
        ("2024-04-01", "600000.SH", "sell", 1000, 4.0, 0.0, 0.0, 0.0, 0.0, "delisted"),
    ])
    s = m.trade_statistics(log)
    assert (s["n_trades"], s["n_buys"], s["n_sells"], s["n_settlements"]) == (2, 1, 1, 2)
    # FIFO over every row: the exchange sell closes the first lot, the delisting the bonus lot
    trips = m.round_trips(log)
    assert trips["entry_price"].tolist() == [10.0, 5.0]
    assert trips["exit_price"].tolist() == [6.0, 4.0]
    assert s["n_round_trips"] == 2 and s["open_shares"] == 0


def test_fifo_matching_splits_a_sell_across_lots_and_prorates_costs():
    # buy 200 @ 10 (cost 2.00 -> 0.01/share), buy 100 @ 12 (cost 1.00 -> 0.01/share)
    # sell 150 @ 11 (cost 3.00 -> 0.02/share): 150 from lot 1
    #     P&L 150 * (11 - 10) - 150 * (0.01 + 0.02) = 150 - 4.5 = 145.5
    # sell 150 @ 11 (cost 1.50 -> 0.01/share): 50 from lot 1, then 100 from lot 2
    #     lot 1: 50 * 1 - 50 * 0.02 = 49.0;  lot 2: 100 * (11 - 12) - 100 * 0.02 = -102.0
    log = trade_log([
        ("2024-01-02", "600000.SH", "buy", 200, 10.0, 2.0, 0.0, 0.0, 0.0, ""),
        ("2024-01-03", "600000.SH", "buy", 100, 12.0, 1.0, 0.0, 0.0, 0.0, ""),
        ("2024-01-04", "600000.SH", "sell", 150, 11.0, 3.0, 0.0, 0.0, 0.0, ""),
        ("2024-01-05", "600000.SH", "sell", 150, 11.0, 1.5, 0.0, 0.0, 0.0, ""),
    ])
    trips = m.round_trips(log)
    assert trips["shares"].tolist() == [150, 50, 100]
    assert trips["entry_price"].tolist() == [10.0, 10.0, 12.0]
    assert trips["pnl_cny"].tolist() == pytest.approx([145.5, 49.0, -102.0])
    assert trips["holding_days"].tolist() == [2, 3, 2]
    s = m.trade_statistics(log)
    assert s["profit_factor"] == pytest.approx((145.5 + 49.0) / 102.0)
    assert s["win_rate"] == pytest.approx(2 / 3)


def test_gain_eaten_by_costs_is_a_loss_and_open_lots_are_not_counted():
    # +0.01 CNY on 100 shares = 1.00 gross, minus 5 + 5 commission: -9.00 net
    log = trade_log([
        ("2024-01-02", "600000.SH", "buy", 100, 10.00, 5.0, 0.0, 0.0, 0.0, ""),
        ("2024-01-03", "600000.SH", "sell", 100, 10.01, 5.0, 0.0, 0.0, 0.0, ""),
        ("2024-01-03", "000001.SZ", "buy", 300, 10.00, 5.0, 0.0, 0.0, 0.0, ""),
    ])
    s = m.trade_statistics(log)
    assert s["n_round_trips"] == 1
    assert s["net_pnl_cny"] == pytest.approx(-9.0)
    assert (s["win_rate"], s["n_losses"]) == (0.0, 1)
    assert s["profit_factor"] == 0.0
    assert s["open_shares"] == 300


def test_trade_statistics_degenerate_logs():
    empty = m.trade_statistics(trade_log([]))
    assert (empty["n_trades"], empty["n_settlements"], empty["n_round_trips"]) == (0, 0, 0)
    assert np.isnan(empty["win_rate"]) and np.isnan(empty["profit_factor"])
    only_wins = m.trade_statistics(HAND_LOG.iloc[[0, 2]])
    assert only_wins["profit_factor"] == math.inf


def test_bad_trade_logs_raise():
    with pytest.raises(DataError, match="exceeds the 0 shares held"):
        m.round_trips(HAND_LOG.iloc[[2]])
    bad_side = HAND_LOG.assign(side=["buy", "buy", "short", "sell"])
    with pytest.raises(DataError, match="row 2: side 'short'"):
        m.trade_statistics(bad_side)
    with pytest.raises(DataError, match=r"missing columns \['commission'\]"):
        m.round_trips(HAND_LOG.drop(columns="commission"))
    with pytest.raises(DataError, match="shares must be positive"):
        m.round_trips(HAND_LOG.assign(shares=[100, -1000, 100, 1000]))


def test_turnover_by_hand():
    # equity 1 000 000 CNY each day; traded value 170 000 on 2 Jan, 10 000 on 3 Jan,
    # 180 000 on 10 Jan, 9 500 on 12 Jan. Daily turnover = value / 2 / equity:
    #   0.085, 0.005, 0.09, 0.00475, and 0 on the other sessions
    equity = pd.Series(1_000_000.0, index=pd.bdate_range("2024-01-02", "2024-01-12"))
    daily = m.turnover(HAND_LOG, equity)
    assert daily.index.equals(equity.index)
    assert daily.loc["2024-01-02"] == pytest.approx(0.085)
    assert daily.loc["2024-01-03"] == pytest.approx(0.005)
    assert daily.loc["2024-01-10"] == pytest.approx(0.09)
    assert daily.loc["2024-01-12"] == pytest.approx(0.00475)
    assert daily.sum() == pytest.approx(0.18475)
    # 9 sessions: mean 0.18475 / 9 per session, * 252 a year
    assert m.annual_turnover(HAND_LOG, equity) == pytest.approx(0.18475 / 9 * 252)
    assert m.trade_statistics(HAND_LOG, equity)["annual_turnover"] == pytest.approx(
        0.18475 / 9 * 252)


def test_turnover_rejects_unknown_dates_and_bad_equity():
    equity = pd.Series(1_000_000.0, index=pd.bdate_range("2024-01-02", "2024-01-05"))
    with pytest.raises(DataError, match=r"not in the equity index.*2024-01-10"):
        m.turnover(HAND_LOG, equity)
    with pytest.raises(DataError, match="equity must be positive"):
        m.turnover(HAND_LOG.iloc[:0], equity * 0)


# --------------------------------------------------------------------------- summary


def test_settlements_are_not_turnover_and_a_write_off_is_a_valid_fill():
    equity = pd.Series(100_000.0, index=pd.bdate_range("2024-01-01", periods=3))
    log = pd.DataFrame({
        "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
        "symbol": "600000.SH", "side": ["buy", "buy", "sell"], "shares": [5000, 500, 5500],
        "price": [10.0, 10.0, 0.0], "commission": [5.0, 0.0, 0.0], "stamp_duty": 0.0,
        "transfer_fee": 0.0, "reason": ["signal", "corporate_action", "delisted"]})
    # only the signal buy counts: 50 000 / 2 / 100 000
    assert m.turnover(log, equity).tolist() == [0.25, 0.0, 0.0]
    trips = m.round_trips(log)
    assert trips["exit_price"].eq(0.0).all()
    bad = log.assign(reason="signal")
    with pytest.raises(DataError, match="price must be positive"):
        m.turnover(bad, equity)


def test_exchange_trades_and_settlements_partition_the_reasons():
    assert set(m.EXCHANGE_REASONS) | set(m.SETTLEMENT_REASONS) == set(m.FILL_REASONS)
    assert not set(m.EXCHANGE_REASONS) & set(m.SETTLEMENT_REASONS)
    reasons = pd.Series(pd.Categorical(["signal", "delisted", "carried", "corporate_action"]))
    assert m.is_exchange_trade(reasons).tolist() == [True, False, True, False]
    assert m.is_exchange_trade(np.array([], dtype=object)).tolist() == []


def test_docstring_examples_pass():
    result = doctest.testmod(m, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5
    assert result.failed == 0
