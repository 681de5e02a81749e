"""Reading what the validator's events take: dates, frame cells, prices, share counts.

Every event of :class:`~workbench.risk.state.AccountState` (and
:class:`~workbench.risk.session.SessionValidator`) first reads its whole input with the
functions here, which change nothing and raise a :class:`~workbench.errors.WorkbenchError`
naming the bad value, then applies it; so a bad input leaves the state as it was. The
cells of a securities frame are read as strictly as the validator judges orders: text in
a price column, a flag that is not True or False or a date that is not one is an error,
not a guess.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from workbench.calendar import MARKET_TZ
from workbench.errors import ConfigError, DataError, LookupFailed, did_you_mean
from workbench.risk.orders import parse_fen
from workbench.symbols import Board, board_of

__all__ = ["UNKNOWN_SECTOR", "SecurityRows", "cell", "day_number", "delist_day_cell",
           "flag_cell", "holding_shares", "limit_cell", "limit_fens", "market_day",
           "number_or_nan", "parse_marks", "parse_securities", "sector_cell", "unknown_symbol"]

#: Sector bucket of securities registered without one (one shared bucket: conservative).
UNKNOWN_SECTOR = "(unknown)"

_NS_PER_DAY = 86_400_000_000_000


def market_day(date: Any, what: str = "date") -> pd.Timestamp:
    """The China-time day of ``date``, as a naive midnight.

    Parameters
    ----------
    date
        ``'YYYY-MM-DD'`` text, a :class:`datetime.date` or :class:`datetime.datetime`, a
        :class:`pandas.Timestamp` or a :class:`numpy.datetime64`; a tz-aware one is read
        in China time, and a time of day is dropped.
    what
        How the messages name ``date``.

    Raises
    ------
    ConfigError
        When ``date`` is missing (None, NaT), of another type (a number is not read as a
        date), text pandas cannot read as a date, or outside the days pandas holds in
        nanoseconds (1677-09-21 to 2262-04-11).

    Examples
    --------
    >>> market_day("2024-01-02 17:00+00:00")
    Timestamp('2024-01-03 00:00:00')
    >>> market_day(None, "start_day date")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: start_day date None is missing; give a day such as \
'2024-01-02'
    """
    fix = "give a day such as '2024-01-02'"
    if type(date) is pd.Timestamp:
        day = date
    elif date is None or date is pd.NaT:
        raise ConfigError(f"{what} {date!r} is missing; {fix}")
    elif isinstance(date, (str, dt.date, np.datetime64)):
        try:
            day = pd.Timestamp(date)
        except (ValueError, TypeError, OverflowError) as exc:
            raise ConfigError(f"{what} {date!r} is not a date ({exc}); {fix}") from None
        if day is pd.NaT:
            raise ConfigError(f"{what} {date!r} is missing (NaT); {fix}")
    else:
        raise ConfigError(f"{what} {date!r} is of type {type(date).__name__}, not a date; "
                          f"{fix}, a datetime.date or a pandas.Timestamp")
    try:
        if day.tzinfo is not None:
            day = day.tz_convert(MARKET_TZ).tz_localize(None)
        if day.value % _NS_PER_DAY:
            day = day.normalize()
    except (OverflowError, ValueError):
        raise ConfigError(f"{what} {date!r} is outside the days pandas holds in nanoseconds "
                          f"({pd.Timestamp.min.date()} to {pd.Timestamp.max.date()})") from None
    return day


def day_number(value: Any) -> int | None:
    """``value`` (anything ``pd.Timestamp`` reads) as days since 1970-01-01; None for none
    (None, NaN, NaT, pd.NA)."""
    if value is None or value is pd.NaT or value is pd.NA or (
        isinstance(value, float) and math.isnan(value)
    ):
        return None
    ts = pd.Timestamp(value)
    if ts is pd.NaT:
        return None
    # days, not Timestamp.value // 86_400 (which is in ns whatever the unit)
    return int(ts.to_datetime64().astype("datetime64[D]").astype(np.int64))


def limit_fens(symbol: str, up: Any, down: Any) -> tuple[float, float]:
    """Today's limit prices of ``symbol`` in fen: ``(up, down)``; both missing (NaN, None)
    means no limit today (IPO days, as in the bar schema), returned as ``(inf, -inf)``.

    Raises
    ------
    DataError
        When a price is not a number (text such as ``'11.x'``), or the prices are off the
        0.01 tick, one-sided or crossed.
    """
    if type(up) is not float or type(down) is not float:
        up, down = limit_cell(symbol, "limit_up", up), limit_cell(symbol, "limit_down", down)
    if math.isnan(up) and math.isnan(down):
        return math.inf, -math.inf
    fen_up, fen_down = parse_fen(up), parse_fen(down)
    if fen_up is None or fen_down is None or fen_down > fen_up:
        raise DataError(f"{symbol}: limit_down {down!r} and limit_up {up!r} must be positive "
                        "CNY prices on the 0.01 tick with down <= up (both NaN: no limit)")
    return float(fen_up), float(fen_down)


def cell(x: Any) -> Any:
    """A frame cell, a 0-d array (what numpy functions return for one value) unwrapped."""
    return x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x


def limit_cell(symbol: str, column: str, x: Any) -> float:
    """A limit price cell as a float: NaN for a missing one, DataError for a non-number."""
    x = cell(x)
    if x is None or x is pd.NA:
        return math.nan
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise DataError(f"{symbol}: {column} {x!r} is not a number; give today's limit prices "
                        "as CNY numbers (NaN: no limit), e.g. after pd.to_numeric(column)")
    return float(x)


def flag_cell(x: Any) -> bool | None:
    """A flag cell as a bool (True, False, 1, 0), or None when it is anything else."""
    x = cell(x)
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, float, np.integer, np.floating)) and (x == 0 or x == 1):
        return bool(x)
    return None


def sector_cell(x: Any) -> str | None:
    """A sector cell as a bucket (missing: UNKNOWN_SECTOR), or None when not a scalar."""
    x = cell(x)
    if not pd.api.types.is_scalar(x):
        return None
    return UNKNOWN_SECTOR if pd.isna(x) else str(x)


def delist_day_cell(symbol: str, x: Any) -> int | None:
    """A delist_date cell as days since 1970-01-01 (None: listed), or DataError."""
    fix = "give a date such as '2023-06-01', or NaT while listed"
    x = cell(x)
    if isinstance(x, (bool, int, np.integer, np.bool_)) or (
        isinstance(x, (float, np.floating)) and not math.isnan(x)
    ):
        raise DataError(f"{symbol}: delist_date {x!r} is a number, not a date; {fix}")
    try:
        return day_number(x)
    except (ValueError, TypeError, OverflowError) as exc:
        raise DataError(f"{symbol}: delist_date {x!r} is not a date ({exc}); {fix}") from None


def number_or_nan(x: Any) -> float:
    """``float(x)`` for real numbers, NaN for anything else (so that checks reject it)."""
    if type(x) is float:
        return x
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.integer, np.floating)):
        return math.nan
    return float(x)


def holding_shares(q: Any) -> int | None:
    """A whole share count >= 0 (a settled holding may be zero), or None."""
    if isinstance(q, (bool, np.bool_)):
        return None
    if isinstance(q, (int, np.integer)) or (
        isinstance(q, (float, np.floating)) and math.isfinite(q) and float(q).is_integer()
    ):
        return int(q) if int(q) >= 0 else None
    return None


class SecurityRows(NamedTuple):
    """A securities frame, checked and parsed (:func:`parse_securities`): one list per
    column, one item per row; None when the column is absent."""

    symbols: list[str]
    boards: list[Board | None]  # None: keep the board (a known symbol without one)
    sectors: list[str] | None
    st: list[bool] | None
    suspended: list[bool] | None
    delisted: list[bool] | None
    delist_days: list[int | None] | None  # days since 1970-01-01; None: listed
    limits: list[tuple[float, float]] | None  # (up, down) in fen, as limit_fens


def unknown_symbol(symbol: Any, registered: Collection[str]) -> LookupFailed:
    """The error for ``symbol`` not being among ``registered``, with the closest names."""
    return LookupFailed(f"symbol {symbol!r} is not registered; add it with "
                        f"update_securities. {did_you_mean(str(symbol), registered)}")


def parse_securities(securities: Any, registered: Collection[str]) -> SecurityRows:
    """Check and parse a securities frame for symbols ``registered`` so far.

    See :meth:`~workbench.risk.PreTradeValidator.update_securities` for its columns.
    A new symbol without a ``board`` gets the board of its code.

    Raises
    ------
    DataError
        When anything in the frame is wrong; the message names the symbol, the column
        and the value.
    """
    if not isinstance(securities, pd.DataFrame):
        raise DataError(f"securities must be a pandas DataFrame with a 'symbol' column, "
                        f"got {type(securities).__name__}")
    if "symbol" not in securities.columns:
        raise DataError(f"securities frame needs a 'symbol' column; got "
                        f"{list(securities.columns)}")
    if securities.columns.duplicated().any():
        dup = securities.columns[securities.columns.duplicated()][0]
        raise DataError(f"securities frame has the column {dup!r} more than once")
    cols = {c: securities[c].tolist() for c in securities.columns}
    symbols = cols["symbol"]
    if bad := [s for s in symbols if not isinstance(s, str)][:1]:
        raise DataError(f"securities frame: symbol {bad[0]!r} is not text like '600000.SH'")
    if len(set(symbols)) != len(symbols):
        dup = pd.Index(symbols)[pd.Index(symbols).duplicated()][0]
        raise DataError(f"securities frame lists {dup} more than once; one row per symbol")
    flags: dict[str, list[bool]] = {}
    for flag in ("is_st", "suspended", "delisted"):
        if flag in cols:
            values = [flag_cell(x) for x in cols[flag]]
            if None in values:
                j = values.index(None)
                raise DataError(f"securities column {flag!r} holds {cols[flag][j]!r} for "
                                f"{symbols[j]}; give True or False")
            flags[flag] = [bool(x) for x in values]
    if ("limit_up" in cols) != ("limit_down" in cols):
        raise DataError("securities frame needs both 'limit_up' and 'limit_down' or neither")
    boards: list[Board | None] = []
    for i, symbol in enumerate(symbols):
        board = None
        if "board" in cols:
            try:
                board = Board(cols["board"][i])
            except (ValueError, TypeError):
                raise DataError(f"{symbol}: board {cols['board'][i]!r} is not one of "
                                f"{[b.value for b in Board]}") from None
        elif symbol not in registered:
            board = board_of(symbol)
        boards.append(board)
    sectors = None
    if "sector" in cols:
        read = [sector_cell(x) for x in cols["sector"]]
        sectors = [x for x in read if x is not None]
        if len(sectors) < len(read):
            j = read.index(None)
            raise DataError(f"{symbols[j]}: sector {cols['sector'][j]!r} is not a name; "
                            "give text (NaN: unknown)")
    return SecurityRows(
        symbols=symbols, boards=boards, sectors=sectors,
        st=flags.get("is_st"), suspended=flags.get("suspended"),
        delisted=flags.get("delisted"),
        delist_days=None if "delist_date" not in cols else [
            delist_day_cell(s, x) for s, x in zip(symbols, cols["delist_date"], strict=True)],
        limits=None if "limit_up" not in cols else [
            limit_fens(s, u, d) for s, u, d in
            zip(symbols, cols["limit_up"], cols["limit_down"], strict=True)])


def parse_marks(prices: Any, what: str, registered: Collection[str],
                new: Collection[str] = ()) -> list[tuple[str, Any]]:
    """Check that ``prices`` (named ``what`` in messages) maps symbols ``registered``
    (or ``new``) to prices, and return its ``(symbol, price)`` items.

    Raises
    ------
    DataError
        When ``prices`` is not a mapping (a dict or a pandas Series).
    LookupFailed
        When it names a symbol neither registered nor new.
    """
    if prices is None:
        return []
    if not isinstance(prices, (Mapping, pd.Series)):
        raise DataError(f"{what} must map symbols to CNY prices (a dict or a pandas "
                        f"Series), got {type(prices).__name__}")
    items = list(prices.items())
    extra = set(new)
    for symbol, _ in items:
        if not (isinstance(symbol, str) and (symbol in registered or symbol in extra)):
            raise unknown_symbol(symbol, registered)
    return items
