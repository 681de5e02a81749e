"""A backtest in the shapes pyfolio and quantstats read, without importing either.

``BacktestResult.to_pyfolio()`` gives ``(returns, positions, transactions)``,
``BacktestResult.to_pyfolio_benchmark()`` the benchmark's returns to go with them, and
``BacktestResult.to_quantstats()`` ``(returns, benchmark)`` for quantstats. This module
holds the conversions, one per table, so that any daily series or log in the workbench's
shapes converts too::

    returns, positions, transactions = result.to_pyfolio()
    pyfolio.create_full_tear_sheet(returns, positions, transactions,
                                   benchmark_rets=result.to_pyfolio_benchmark(),
                                   round_trips=True)
    returns, benchmark = result.to_quantstats()
    quantstats.reports.html(returns, benchmark, output="tearsheet.html")

The shapes are those documented in pyfolio's ``create_full_tear_sheet`` (and produced by
its ``utils.extract_rets_pos_txn_from_zipline``); quantstats' ``reports.html`` reads the
same daily returns Series, without a time zone (:func:`quantstats_returns`).

* **Dates.** Every table is indexed by the session's calendar date at midnight UTC, a
  tz-aware ``DatetimeIndex`` (:func:`session_labels`), the way zipline labels daily bars
  and pyfolio expects them. An A-share session (09:30-15:00 Asia/Shanghai, 01:30-07:00
  UTC) lies within that UTC date, so nothing moves to another day. Converting Shanghai
  midnight to UTC instead would label each session with the day before (16:00 UTC), and
  quantstats, which drops the time zone after converting to UTC, would show the wrong
  dates. Fills carry their session's label too (the trade log records sessions, not
  times of day), so pyfolio's ``add_closing_transactions``, which closes the open holdings
  one second after the last positions' label, sorts after the last session's fills.
* **Returns** (:func:`pyfolio_returns`): daily simple, non-cumulative returns of equity
  as :attr:`~workbench.result.BacktestResult.returns` gives them: after every charge
  (commission, stamp duty, transfer fee; slippage is inside the fill prices), with
  dividends (in ``'cash'`` mode when they go ex, as a receivable, less the dividend tax
  when it is charged; in ``'reinvest'`` mode as the shares bought with them); the first
  return is measured from the starting capital.
* **Positions** (:func:`pyfolio_positions`): one column per symbol ever held, its value in
  CNY at the session's close (shares × close, the ``positions`` table's ``value_cny``), 0.0
  on sessions it is not held, then ``cash``: cash plus the dividends gone ex but not yet
  paid (``receivable_cny``), which pyfolio calls non-working capital. So a row's sum is the
  session's equity, which pyfolio uses as the portfolio value (allocations, turnover).
* **Transactions** (:func:`pyfolio_transactions`): one row per trade-log row, in the
  log's order (sells before buys within a session): ``amount`` signed shares (positive
  bought, negative sold), ``price`` the fill price in CNY (slippage inside, costs not),
  ``symbol``, ``txn_dollars`` (``-amount * price``, zipline's cash-flow sign) and
  ``reason`` (the log's reason). By default settlements are included (a delisting settled,
  new shares from a bonus issue or a reinvested dividend, at the ex-rights price), so that
  each symbol's amounts add up to the shares in ``positions``: pyfolio's round trips
  match sells against the shares bought, and its closing transactions price the open
  holding as its value over the summed amounts (its round-trip profit, like
  :func:`workbench.trades.round_trips`, counts new shares as a lot bought at the ex-rights
  price, though no cash was paid for them). pyfolio's turnover then counts the
  settlements' value as traded; ``settlements=False`` keeps the exchange fills alone
  (:func:`workbench.trades.is_exchange_trade`), whose value is ``daily["traded_cny"]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import DataError
from workbench.trades import is_exchange_trade

__all__ = [
    "TRANSACTION_COLUMNS",
    "pyfolio_positions",
    "pyfolio_returns",
    "pyfolio_transactions",
    "quantstats_returns",
    "session_labels",
]

#: Columns of :func:`pyfolio_transactions`; pyfolio reads ``amount``, ``price``, ``symbol``.
TRANSACTION_COLUMNS: tuple[str, ...] = ("amount", "price", "symbol", "txn_dollars", "reason")
#: The time zone of A-share sessions, for dates given with one.
EXCHANGE_TZ = "Asia/Shanghai"


def session_labels(dates: pd.DatetimeIndex | pd.Series) -> pd.DatetimeIndex:
    """Session dates as pyfolio labels days: the same calendar date at midnight UTC.

    Parameters
    ----------
    dates
        Session dates, naive (the workbench's, read as dates on the exchange) or tz-aware
        (converted to Asia/Shanghai first, so a session keeps its exchange date).

    Returns
    -------
    pandas.DatetimeIndex
        ``datetime64[ns, UTC]``, every value at 00:00, unnamed.

    Examples
    --------
    >>> session_labels(pd.DatetimeIndex(["2024-01-02", "2024-01-03"]))[0]
    Timestamp('2024-01-02 00:00:00+0000', tz='UTC')
    >>> session_labels(pd.DatetimeIndex(["2024-01-02 15:00"]).tz_localize("Asia/Shanghai"))[0]
    Timestamp('2024-01-02 00:00:00+0000', tz='UTC')
    """
    index = pd.DatetimeIndex(dates)
    if index.tz is not None:
        index = index.tz_convert(EXCHANGE_TZ).tz_localize(None)
    days = index.normalize().to_numpy(dtype="datetime64[ns]")  # drops any ``freq``
    return pd.DatetimeIndex(days).tz_localize("UTC")


def pyfolio_returns(returns: pd.Series) -> pd.Series:
    """A daily return series with pyfolio's index: sessions at midnight UTC.

    Parameters
    ----------
    returns
        Daily simple returns (fractions, not cumulative), one per session, index the
        session dates (e.g. ``BacktestResult.returns`` or ``.benchmark_returns``).

    Returns
    -------
    pandas.Series
        The same values as ``float64``, same name, index :func:`session_labels`.

    Raises
    ------
    DataError
        When the index is not dates, not increasing, or repeats a session.

    Examples
    --------
    >>> r = pd.Series([0.01, -0.02], index=pd.DatetimeIndex(["2024-01-02", "2024-01-03"]),
    ...               name="returns")
    >>> pyfolio_returns(r)
    2024-01-02 00:00:00+00:00    0.01
    2024-01-03 00:00:00+00:00   -0.02
    Name: returns, dtype: float64
    """
    if not isinstance(returns.index, pd.DatetimeIndex):
        raise DataError(f"returns must be indexed by session dates, got a "
                        f"{type(returns.index).__name__}; pass BacktestResult.returns or a "
                        "Series indexed by date")
    labels = session_labels(returns.index)
    if not labels.is_monotonic_increasing or labels.has_duplicates:
        raise DataError("returns must have one value per session in increasing date order; "
                        "sort the series and drop repeated dates")
    return pd.Series(returns.to_numpy(dtype="float64"), index=labels, name=returns.name)


def quantstats_returns(returns: pd.Series) -> pd.Series:
    """A daily return series as quantstats reads it: sessions at midnight, no time zone.

    quantstats drops a returns index's time zone after converting it to UTC, but compares
    a tz-aware benchmark with the returns' naive dates and fails (``TypeError: Cannot
    compare dtypes datetime64[ns, UTC] and datetime64[ns]``; quantstats issues #226,
    #245); naive dates on both series avoid that.

    Parameters
    ----------
    returns
        Daily simple returns, index the session dates (as :func:`pyfolio_returns`).

    Returns
    -------
    pandas.Series
        :func:`pyfolio_returns` with the index's time zone dropped (the dates unchanged).

    Examples
    --------
    >>> r = pd.Series([0.01], index=pd.DatetimeIndex(["2024-01-02"]), name="returns")
    >>> quantstats_returns(r).index[0]
    Timestamp('2024-01-02 00:00:00')
    """
    out = pyfolio_returns(returns)
    out.index = out.index.tz_localize(None)
    return out


def pyfolio_positions(positions: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """Holdings in pyfolio's wide shape: a value column per symbol, then ``cash``, in CNY.

    Parameters
    ----------
    positions
        The long holdings table (``date, symbol, value_cny``, see
        ``workbench.result.POSITION_COLUMNS``): value at the session's close, CNY.
    daily
        The daily table (index ``date``; ``cash_cny`` and ``receivable_cny``, CNY): every
        session of the run gets a row.

    Returns
    -------
    pandas.DataFrame
        Index :func:`session_labels` of ``daily.index``; columns the symbols held at some
        session, sorted (0.0 where not held), then ``cash`` (cash plus dividends
        receivable); ``float64``. Rows sum to equity.

    Examples
    --------
    >>> days = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])
    >>> held = pd.DataFrame({"date": days[1:], "symbol": ["600000.SH"],
    ...                      "value_cny": [5_000.0]})
    >>> d = pd.DataFrame({"cash_cny": [10_000.0, 4_900.0], "receivable_cny": [0.0, 50.0]},
    ...                  index=days)
    >>> pyfolio_positions(held, d).to_numpy().tolist()
    [[0.0, 10000.0], [5000.0, 4950.0]]
    """
    wide = positions.pivot_table(index="date", columns="symbol", values="value_cny",
                                 aggfunc="sum", observed=True)
    wide.columns = pd.Index([str(c) for c in wide.columns], dtype=object)
    wide = wide.reindex(index=daily.index, columns=sorted(wide.columns)).fillna(0.0)
    receivable = daily["receivable_cny"] if "receivable_cny" in daily.columns else 0.0
    wide["cash"] = daily["cash_cny"] + receivable
    wide = wide.astype("float64")
    wide.index = session_labels(daily.index)
    wide.columns.name = None
    return wide


def pyfolio_transactions(trades: pd.DataFrame, *, settlements: bool = True) -> pd.DataFrame:
    """The trade log in pyfolio's transactions shape: signed amounts indexed by session.

    Parameters
    ----------
    trades
        The trade log (``workbench.trades.TRADE_COLUMNS``: ``date``, ``symbol``, ``side``,
        positive ``shares``, fill ``price`` in CNY, ``reason``).
    settlements
        True (default): every row, so the amounts add up to the holdings (see the module
        docstring). False: exchange fills only, no delisting settlements or new shares
        from corporate actions.

    Returns
    -------
    pandas.DataFrame
        Index :func:`session_labels` of the fills' sessions (repeated for fills on one
        session), rows in the log's order; columns :data:`TRANSACTION_COLUMNS`:
        ``amount`` ``int64`` shares (bought > 0, sold < 0), ``price`` ``float64`` CNY,
        ``symbol`` and ``reason`` strings, ``txn_dollars`` ``float64`` CNY
        (``-amount * price``).

    Examples
    --------
    >>> log = pd.DataFrame({"date": pd.to_datetime(["2024-01-03", "2024-01-04"]),
    ...                     "symbol": ["600000.SH"] * 2, "side": ["buy", "sell"],
    ...                     "shares": [500, 200], "price": [10.0, 11.0],
    ...                     "reason": ["signal", "signal"]})
    >>> pyfolio_transactions(log)[["amount", "price", "txn_dollars"]].to_numpy().tolist()
    [[500.0, 10.0, -5000.0], [-200.0, 11.0, 2200.0]]
    """
    log = trades
    if not settlements and "reason" in log.columns:
        log = log[is_exchange_trade(log["reason"])]
    side = log["side"].astype(str).to_numpy()
    if (bad := ~np.isin(side, ("buy", "sell"))).any():
        raise DataError(f"trade log: side {side[bad][0]!r} is not allowed; a fill is a "
                        "'buy' or a 'sell'")
    amount = np.where(side == "buy", 1, -1) * log["shares"].to_numpy(dtype=np.int64)
    price = log["price"].to_numpy(dtype="float64")
    reason = (log["reason"].astype(str).to_numpy(dtype=object) if "reason" in log.columns
              else np.full(len(log), "", dtype=object))
    return pd.DataFrame({
        "amount": amount,
        "price": price,
        "symbol": log["symbol"].astype(str).to_numpy(dtype=object),
        "txn_dollars": -amount * price,
        "reason": reason,
    }, index=session_labels(log["date"]), columns=list(TRANSACTION_COLUMNS))
