"""The trade log: its columns, which rows are exchange trades, and its statistics.

The backtester logs one row per fill with columns :data:`TRADE_COLUMNS`; ``price`` is the
fill price in CNY (slippage already in it), ``shares`` is positive, costs are CNY. Not every
row is a trade: :data:`SETTLEMENT_REASONS` rows (a delisting settled, shares from a bonus
issue or a reinvested dividend) are bookings the exchange made, not orders the strategy
sent. :func:`is_exchange_trade` is the one definition of the difference, used by turnover,
trade counts and reports alike: a *trade* is an exchange fill (``n_trades`` everywhere: in
:func:`trade_statistics`, ``BacktestResult.metrics()``, ``metrics.json``, the report tables
and the research tables), a *settlement* is any other row (``n_settlements``). Round trips
match every row, settlements included: a delisting close-out closes a position, and shares
from a bonus issue are a lot that a later sell closes.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np
import pandas as pd

from workbench.calendar import PERIODS_PER_YEAR
from workbench.checks import periods_per_year_arg
from workbench.errors import DataError
from workbench.series import clean_series, label

__all__ = [
    "COST_COLUMNS",
    "EXCHANGE_REASONS",
    "FILL_REASONS",
    "SETTLEMENT_REASONS",
    "TRADE_COLUMNS",
    "annual_turnover",
    "clean_trades",
    "is_exchange_trade",
    "round_trips",
    "trade_statistics",
    "turnover",
]

#: Reasons of trade-log rows that are orders filled on the exchange: a decision of the
#: strategy (``signal``) or one retried after a suspension (``carried``).
EXCHANGE_REASONS: tuple[str, ...] = ("signal", "carried")
#: Reasons of trade-log rows that are settlements, not trades: a delisted holding settled,
#: shares from a bonus issue or a reinvested dividend. Left out of turnover and trade counts.
SETTLEMENT_REASONS: tuple[str, ...] = ("delisted", "corporate_action")
#: Every reason a trade-log row may carry, in the order of the backtester's codes.
FILL_REASONS: tuple[str, ...] = EXCHANGE_REASONS + SETTLEMENT_REASONS

#: Columns of the backtester's trade log, one row per fill.
TRADE_COLUMNS: tuple[str, ...] = (
    "date",  # session of the fill
    "symbol",  # '600519.SH'
    "side",  # 'buy' or 'sell'
    "shares",  # positive
    "price",  # fill price, CNY, slippage included
    "commission",  # CNY
    "stamp_duty",  # CNY (sells only in practice)
    "transfer_fee",  # CNY
    "slippage",  # CNY, for attribution only: already in ``price``
    "dividend_tax",  # CNY, dividend tax by holding period charged on a sale (0 otherwise)
    "reason",  # free text
)

#: Trade-log columns paid on top of the fill price; summed into a fill's cost.
COST_COLUMNS: tuple[str, ...] = ("commission", "stamp_duty", "transfer_fee")

_REQUIRED_TRADE_COLUMNS: tuple[str, ...] = ("date", "symbol", "side", "shares", "price",
                                            *COST_COLUMNS)


def is_exchange_trade(reason: pd.Series | np.ndarray) -> np.ndarray:
    """Mask of trade-log rows that are exchange trades (not :data:`SETTLEMENT_REASONS`).

    Parameters
    ----------
    reason
        The log's ``reason`` column (strings or categorical).

    Examples
    --------
    >>> is_exchange_trade(pd.Series(["signal", "corporate_action", "carried", "delisted"]))
    array([ True, False,  True, False])
    """
    return ~pd.Series(reason, copy=False).astype(str).isin(SETTLEMENT_REASONS).to_numpy()


def clean_trades(trades: pd.DataFrame) -> pd.DataFrame:
    """Validate a trade log and return a copy sorted by date (log order kept within a date)."""
    if not isinstance(trades, pd.DataFrame):
        raise DataError(f"trades must be a DataFrame with columns {list(TRADE_COLUMNS)}, got "
                        f"{type(trades).__name__}")
    if missing := set(_REQUIRED_TRADE_COLUMNS).difference(trades.columns):
        raise DataError(f"trades: missing columns {sorted(missing)}; expected "
                        f"{list(TRADE_COLUMNS)} (slippage and reason are optional)")
    t = trades.reset_index(drop=True).copy()
    try:
        t["date"] = pd.to_datetime(t["date"])
        for col in ("shares", "price", *COST_COLUMNS):
            t[col] = t[col].astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"trades: cannot read dates and numbers: {exc}") from exc
    for col in ("date", "shares", "price", *COST_COLUMNS):
        if (bad := t[col].isna()).any():
            raise DataError(f"trades row {int(bad.idxmax())}: column {col!r} is missing; every "
                            "fill needs a date, shares, price and its costs (0.0 if none)")
    t["side"] = t["side"].astype(str).str.lower()
    if (bad := ~t["side"].isin(["buy", "sell"])).any():
        row = int(bad.idxmax())
        raise DataError(f"trades row {row}: side {trades['side'].iloc[row]!r} is not allowed; "
                        "use 'buy' or 'sell'")
    reason = t["reason"].astype(str) if "reason" in t.columns else pd.Series("", index=t.index)
    written_off = (reason == "delisted") & (t["price"] == 0)  # a delisting written down to 0
    for col in ("shares", "price"):
        bad = t[col] <= 0
        if col == "price":
            bad &= ~written_off
        if bad.any():
            row = int(bad.idxmax())
            raise DataError(f"trades row {row}: {col} must be positive, got {t[col][row]!r}; "
                            "the side says the direction, shares are always positive (a price "
                            "of 0 is allowed only for a delisting written off)")
    if (bad := (t[list(COST_COLUMNS)] < 0).any(axis=1)).any():
        raise DataError(f"trades row {int(bad.idxmax())}: costs {list(COST_COLUMNS)} must be "
                        ">= 0 CNY")
    return t.sort_values("date", kind="stable")


def round_trips(trades: pd.DataFrame) -> pd.DataFrame:
    """Closed round trips, matching each sell FIFO against earlier buys of the same symbol.

    A round trip is the part of one buy fill closed by one sell fill: a sell spanning two
    buy lots makes two round trips. Its costs are the buy and sell fills' costs
    (:data:`COST_COLUMNS`) pro rata by shares; ``slippage`` is *not* subtracted again
    because it is already in the fill price. Fills on the same date keep their log order.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS` (prices and costs CNY).

    Returns
    -------
    pd.DataFrame
        One row per round trip, in closing order: ``symbol, entry_date, exit_date, shares,
        entry_price, exit_price, costs_cny, pnl_cny`` (net of costs), ``return`` (``pnl_cny``
        over the entry value) and ``holding_days`` (calendar days from entry to exit).

    Raises
    ------
    DataError
        If a column is missing or invalid, or a sell exceeds the shares held (A-shares
        cannot be sold short).

    Examples
    --------
    >>> log = pd.DataFrame({"date": ["2024-01-02", "2024-01-03", "2024-01-05"],
    ...     "symbol": "000001.SZ", "side": ["buy", "buy", "sell"],
    ...     "shares": [100, 100, 150], "price": [10.0, 12.0, 11.0],
    ...     "commission": 0.0, "stamp_duty": 0.0, "transfer_fee": 0.0})
    >>> round_trips(log)[["shares", "entry_price", "pnl_cny", "holding_days"]]
       shares  entry_price  pnl_cny  holding_days
    0   100.0         10.0    100.0             3
    1    50.0         12.0    -50.0             2
    """
    t = clean_trades(trades)
    cost = t[list(COST_COLUMNS)].sum(axis=1).to_numpy()
    lots: dict[str, deque[list[Any]]] = {}
    rows: list[dict[str, Any]] = []
    for (row, fill), fill_cost in zip(t.iterrows(), cost, strict=True):
        symbol, shares, price, date = fill["symbol"], fill["shares"], fill["price"], fill["date"]
        queue = lots.setdefault(symbol, deque())
        if fill["side"] == "buy":
            queue.append([date, shares, price, fill_cost / shares])
            continue
        remaining, sell_cost_per_share = shares, fill_cost / shares
        while remaining > 0:
            if not queue:
                held = shares - remaining
                raise DataError(f"trades row {row}: sell of {shares:g} {symbol} on "
                                f"{label(date)} exceeds the {held:g} shares held; A-shares "
                                "cannot be sold short, check the log for a missing buy")
            lot = queue[0]
            qty = min(lot[1], remaining)
            costs = qty * (lot[3] + sell_cost_per_share)
            pnl = qty * (price - lot[2]) - costs
            rows.append({"symbol": symbol, "entry_date": lot[0], "exit_date": date,
                         "shares": qty, "entry_price": lot[2], "exit_price": price,
                         "costs_cny": costs, "pnl_cny": pnl, "return": pnl / (qty * lot[2]),
                         "holding_days": (date - lot[0]).days})
            lot[1] -= qty
            remaining -= qty
            if lot[1] <= 0:
                queue.popleft()
    columns = ["symbol", "entry_date", "exit_date", "shares", "entry_price", "exit_price",
               "costs_cny", "pnl_cny", "return", "holding_days"]
    return pd.DataFrame(rows, columns=columns)


def trade_statistics(trades: pd.DataFrame, equity: pd.Series | None = None,
                     periods_per_year: float = PERIODS_PER_YEAR) -> dict[str, float]:
    """Headline statistics of a trade log: trades, settlements, round trips, win rate, profit
    factor.

    Trades are the exchange fills (:func:`is_exchange_trade`; every row when the log has no
    ``reason`` column); settlements (:data:`SETTLEMENT_REASONS`) are counted apart. Round
    trips are matched FIFO per symbol by :func:`round_trips` over every row, settlements
    included (a delisting close-out closes a round trip; shares from a bonus issue or a
    reinvested dividend open a lot); only closed round trips enter the win rate, profit
    factor, P&L and holding period.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS`.
    equity : pd.Series, optional
        End-of-day equity in CNY indexed by session; adds ``annual_turnover``.
    periods_per_year : float
        Sessions per year for ``annual_turnover``; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    dict
        ``n_trades`` (exchange fills), ``n_buys`` and ``n_sells`` (of them),
        ``n_settlements`` (settlement rows), ``n_round_trips``, ``n_wins``, ``n_losses``
        (P&L net of costs > 0 and < 0; exactly 0 is neither), ``win_rate`` (wins / closed
        round trips, NaN if none), ``profit_factor`` (gross profit / gross loss of closed
        round trips; NaN if none, inf if there are profits but no loss), ``gross_profit_cny``,
        ``gross_loss_cny`` (a positive amount), ``net_pnl_cny`` (closed round trips),
        ``avg_holding_days`` (calendar days, share-weighted mean over round trips),
        ``costs_cny`` (all fills' :data:`COST_COLUMNS`), ``slippage_cny`` (all fills, 0 if the
        column is absent), ``open_shares`` (bought, not yet sold) and, with ``equity``,
        ``annual_turnover``.

    Examples
    --------
    >>> log = pd.DataFrame({"date": ["2024-01-02", "2024-01-05"], "symbol": "600000.SH",
    ...     "side": ["buy", "sell"], "shares": [1000, 1000], "price": [10.0, 10.5],
    ...     "commission": [5.0, 5.0], "stamp_duty": [0.0, 5.25], "transfer_fee": [0.1, 0.105]})
    >>> s = trade_statistics(log)  # 1000 * 0.5 - (5.1 + 10.355) = 484.545
    >>> s["n_round_trips"], s["win_rate"], round(s["net_pnl_cny"], 3), s["avg_holding_days"]
    (1, 1.0, 484.545, 3.0)
    >>> s["n_trades"], s["n_buys"], s["n_sells"], s["n_settlements"]
    (2, 1, 1, 0)
    """
    t = clean_trades(trades)
    exchange = (is_exchange_trade(t["reason"]) if "reason" in t.columns
                else np.ones(len(t), dtype=bool))
    side = t["side"].to_numpy()
    trips = round_trips(trades)
    pnl = trips["pnl_cny"].to_numpy()
    gross_profit = float(pnl[pnl > 0].sum())
    gross_loss = float(-pnl[pnl < 0].sum())
    n = len(trips)
    if n == 0:
        profit_factor = math.nan
    elif gross_loss > 0:
        profit_factor = gross_profit / gross_loss
    else:
        profit_factor = math.inf if gross_profit > 0 else math.nan
    shares = trips["shares"].to_numpy()
    bought = float(t.loc[t["side"] == "buy", "shares"].sum())
    stats: dict[str, float] = {
        "n_trades": int(exchange.sum()),
        "n_buys": int((exchange & (side == "buy")).sum()),
        "n_sells": int((exchange & (side == "sell")).sum()),
        "n_settlements": int((~exchange).sum()),
        "n_round_trips": n,
        "n_wins": int((pnl > 0).sum()),
        "n_losses": int((pnl < 0).sum()),
        "win_rate": float((pnl > 0).mean()) if n else math.nan,
        "profit_factor": profit_factor,
        "gross_profit_cny": gross_profit,
        "gross_loss_cny": gross_loss,
        "net_pnl_cny": float(pnl.sum()),
        "avg_holding_days": (float(np.average(trips["holding_days"], weights=shares))
                             if n else math.nan),
        "costs_cny": float(t[list(COST_COLUMNS)].to_numpy().sum()),
        "slippage_cny": float(t["slippage"].astype("float64").sum())
        if "slippage" in t else 0.0,
        "open_shares": bought - float(shares.sum()),
    }
    if equity is not None:
        stats["annual_turnover"] = annual_turnover(trades, equity, periods_per_year)
    return stats


def turnover(trades: pd.DataFrame, equity: pd.Series) -> pd.Series:
    """Daily turnover: value traded that day / 2 / end-of-day equity.

    Halving counts a full switch of the portfolio (sell everything, buy something else)
    as a turnover of 1.0 (100 %), and a buy-and-hold entry as 0.5: it is the mean of the
    bought and sold value as a fraction of equity. Traded value is ``shares * price``
    summed over all fills of the day, costs excluded; settlement rows (reasons in
    :data:`SETTLEMENT_REASONS`: delistings, bonus shares) are not trades and are left out.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS`.
    equity : pd.Series
        End-of-day equity in CNY indexed by session date (the backtest's equity curve).

    Returns
    -------
    pd.Series
        Daily turnover (fraction) on the index of ``equity``, 0.0 on days without fills,
        named ``"turnover"``.

    Raises
    ------
    DataError
        If a fill falls on a date not in ``equity``, or equity is not positive.

    Examples
    --------
    >>> equity = pd.Series(100_000.0, index=pd.bdate_range("2024-01-01", periods=3))
    >>> log = pd.DataFrame({"date": ["2024-01-01", "2024-01-03"], "symbol": "600000.SH",
    ...     "side": ["buy", "sell"], "shares": [5000, 5000], "price": [10.0, 10.0],
    ...     "commission": 5.0, "stamp_duty": 0.0, "transfer_fee": 0.0})
    >>> turnover(log, equity).tolist()  # 50 000 / 2 / 100 000
    [0.25, 0.0, 0.25]
    """
    eq = clean_series(equity, "equity", are_returns=False)
    if (eq <= 0).any():
        bad = eq.index[np.flatnonzero(eq.to_numpy() <= 0)[0]]
        raise DataError(f"equity must be positive CNY, got {eq[bad]!r} on {label(bad)}")
    t = clean_trades(trades)
    if "reason" in t.columns:  # forced settlements are not trading decisions
        t = t.loc[is_exchange_trade(t["reason"])]
    traded = (t["shares"] * t["price"]).groupby(t["date"]).sum()
    if missing := traded.index.difference(eq.index).tolist():
        raise DataError(f"trades on {len(missing)} date(s) not in the equity index (the first "
                        f"is {label(missing[0])}); pass the equity curve of the same backtest")
    daily = traded.reindex(eq.index, fill_value=0.0) / 2.0 / eq
    return daily.rename("turnover")


def annual_turnover(trades: pd.DataFrame, equity: pd.Series,
                    periods_per_year: float = PERIODS_PER_YEAR) -> float:
    """Average daily :func:`turnover` times ``periods_per_year``; NaN if ``equity`` is empty.

    Parameters
    ----------
    trades : pd.DataFrame
        Trade log, one row per fill, columns :data:`TRADE_COLUMNS`.
    equity : pd.Series
        End-of-day equity in CNY indexed by session date.
    periods_per_year : float
        Sessions per year; default :data:`PERIODS_PER_YEAR`.

    Returns
    -------
    float
        Annual turnover as a fraction (2.0 is the portfolio replaced twice a year).

    Examples
    --------
    >>> equity = pd.Series(100_000.0, index=pd.bdate_range("2024-01-01", periods=4))
    >>> log = pd.DataFrame({"date": ["2024-01-01"], "symbol": "600000.SH", "side": ["buy"],
    ...     "shares": [8000], "price": [10.0], "commission": 5.0, "stamp_duty": 0.0,
    ...     "transfer_fee": 0.0})
    >>> round(annual_turnover(log, equity, periods_per_year=252), 10)  # (0.4 + 0 + 0 + 0) / 4 * 252
    25.2
    """
    ppy = periods_per_year_arg(periods_per_year)
    daily = turnover(trades, equity)
    if daily.empty:
        return math.nan
    return float(daily.mean() * ppy)
