"""Checks that bars and market tables are well-formed and mean something; every fault names
where it is: file and line (the importers) or table and row (a stored Market), and column.

Form. Errors (raise :class:`~workbench.errors.DataError`): missing required columns,
unparseable dates, duplicate ``(date, symbol)``, non-positive prices,
``high < max(open, close)``, ``low > min(open, close)``, negative volume, an unknown board
prefix; in a Market malformed index-membership spells and corporate-action events.
Warnings (:class:`~workbench.errors.DataWarning`): gaps in a symbol's sessions and
close-to-close moves beyond the board's limit (usually an unadjusted split).

Meaning. A well-formed row can still contradict itself or another table. A contradiction
that would corrupt a backtest (a fill at a price nobody traded, a limit decision from a
crossed band, a bar of a stock not listed) is an error; an oddity that correct data can
show, or that leaves the engine's arithmetic sound, is a warning. Nothing is dropped or
filled.

Errors:

``prev_close <= 0`` (:func:`validate_bars`)
    The limits are computed from the reference price, so they come out crossed or
    negative and every limit decision is wrong. A reference price is never zero; leave it
    empty where unknown and it is derived.
``limit_up < limit_down``
    A crossed band holds no price: the engine would block, or allow, every order.
``suspended`` with ``volume > 0``
    The engine refuses to trade a day that traded, while its volume cap and VWAP use the
    day's volume. At import, a baostock ``tradestatus`` of 0 on a row with volume is the
    same contradiction, named by the export's own column.
``amount / volume`` outside ``[low, high]``
    Every trade lies within the day's range, so their average price must too; outside it,
    a VWAP fill is at a price nobody traded. This is how unit mix-ups show (volume in lots
    of 100, amount in thousands: factors of 100 and 1000, which also scale the volume cap).
    Slack, for vendors' rounding: 1 % of the price plus a fen, plus half a lot (50 shares)
    of volume rounding relative to the volume.
bars before their ``list_date``, or on or after their ``delist_date`` (:func:`validate_listing`)
    The stock did not trade then. The engine's listed mask, a new listing's unlimited first
    sessions and "listed for N days" filters start at ``list_date``; holdings are settled
    on ``delist_date``, so a later bar would trade after the settlement.
a jump in the benchmark (:func:`validate_benchmark`)
    A close more than :data:`BENCHMARK_MAX_RATIO` times the previous session's, or less
    than its inverse: a unit or splice fault (points against thousands of points, two
    bases spliced) that corrupts every benchmark-relative figure. The largest real one-day
    move of a mainland index, the SSE Composite's +105 % on 1992-05-21 when its limits were
    lifted, is a ratio of 2.05; 10 leaves ample room and still catches a factor of 100.

Warnings:

``close`` outside ``[limit_down, limit_up]`` (half a fen of slack)
    The band is usually derived by the workbench (reference price and dated rule table),
    so a close outside it most often means the band is wrong, not the close: a day
    without a limit the rule table does not know (a re-listing, the first day of a
    delisting consolidation), or an ex-rights day imported without adjustment factors.
    The engine may take that one day as sealed at the limit; give canonical bars with the
    day's limits (empty for none) to correct it.
``volume == 0`` with moving prices
    Without a trade there is no new price: on a row that is not suspended, open, high,
    low and close should equal ``prev_close``; on any row, high should equal low.
    Correct exports can break this: a volume given in lots rounds a day of a few odd-lot
    shares to 0. The engine fills nothing against a zero volume either way.
prices off the 0.01 CNY tick (open, high, low, close, ``prev_close``, the limits)
    Raw A-share prices are whole fen (the tolerance, 1e-4 fen plus 1e-6 of the price,
    absorbs float storage), so off-tick prices are usually adjusted or rescaled ones. The
    engine's arithmetic still works on them, and the baostock importer already warns
    about adjusted exports by their ``adjustflag``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from workbench.data.derive import limit_percents
from workbench.data.market import Market
from workbench.data.schema import (
    CORPORATE_ACTION_COLUMNS,
    CORPORATE_ACTION_SOURCES,
    FUNDAMENTAL_COLUMNS,
    INDEX_MEMBER_COLUMNS,
    REQUIRED_BAR_COLUMNS,
    SECURITY_COLUMNS,
    ST_COLUMNS,
)
from workbench.errors import DataError, DataWarning
from workbench.symbols import normalize_symbol, symbol_codes

__all__ = [
    "BENCHMARK_MAX_RATIO",
    "TICK_CNY",
    "require_columns",
    "validate",
    "validate_bars",
    "validate_benchmark",
    "validate_corporate_actions",
    "validate_index_members",
    "validate_listing",
    "validate_market",
    "where",
]

#: How many offending rows a message lists before it says "and N more".
SHOWN = 5
#: Price tick of A-share stocks, CNY: raw prices are whole fen.
TICK_CNY = 0.01
#: A benchmark close above this multiple of the previous session's (or below its inverse) is a
#: unit or splice fault; the largest real one-day index move is a ratio of 2.05.
BENCHMARK_MAX_RATIO = 10.0
#: Slack of the ``amount / volume`` within ``[low, high]`` check: a fraction of the price, a
#: fen of amount rounding, and half a lot (shares) of volume rounding.
VWAP_SLACK_RATE = 0.01
VWAP_SLACK_SHARES = 50.0


def where(source: str, lines: np.ndarray | None, positions: np.ndarray) -> str:
    """Describe rows for a message: file line numbers when known, else row positions."""
    idx = np.asarray(positions)[:SHOWN]
    if lines is not None:
        shown = ", ".join(str(int(lines[i])) for i in idx)
        label = "line" if len(idx) == 1 else "lines"
    else:
        shown = ", ".join(str(int(i)) for i in idx)
        label = "row" if len(idx) == 1 else "rows"
    more = f" and {len(positions) - SHOWN} more" if len(positions) > SHOWN else ""
    return f"{source}: {label} {shown}{more}"


def require_columns(frame: pd.DataFrame, required: tuple[str, ...], *, source: str,
                    hint: str = "") -> None:
    """Raise DataError naming the missing columns, the expected set and a hint."""
    if missing := [c for c in required if c not in frame.columns]:
        raise DataError(
            f"{source}: missing columns {missing}; expected {list(required)}, found "
            f"{list(frame.columns)}.{' ' + hint if hint else ''}"
        )


def _fail(source: str, lines: np.ndarray | None, bad: np.ndarray, column: str,
          fault: str) -> None:
    pos = np.flatnonzero(bad)
    if len(pos):
        raise DataError(f"{where(source, lines, pos)}, column {column!r}: {fault}")


def _warn(source: str, lines: np.ndarray | None, bad: np.ndarray, column: str,
          fault: str) -> None:
    """DataWarning naming the rows where ``bad`` is True (no-op when none is)."""
    pos = np.flatnonzero(bad)
    if len(pos):
        # stacklevel 4: _warn, the check, validate_bars, its caller
        warnings.warn(f"{where(source, lines, pos)}, column {column!r}: {len(pos)} rows: "
                      f"{fault}", DataWarning, stacklevel=4)


def _numbers(column: pd.Series) -> np.ndarray:
    """Float values of a column; anything non-numeric becomes NaN (reported by the caller)."""
    if column.dtype.kind in "fiu":
        return column.to_numpy(dtype=float)
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)


def validate_bars(
    bars: pd.DataFrame,
    *,
    source: str = "bars",
    lines: np.ndarray | None = None,
    gaps: pd.DatetimeIndex | None = None,
    columns: Mapping[str, str] | None = None,
) -> None:
    """Validate canonical bars; raise DataError on the first fault, warn on oddities.

    Checks form and meaning (see the module docstring); ``prev_close``, ``limit_up``,
    ``limit_down`` and ``suspended`` are checked where present.

    Parameters
    ----------
    bars
        Canonical bars (``workbench.data.schema.REQUIRED_BAR_COLUMNS`` at least).
    source
        File or dataset name used in messages.
    lines
        File line number of each row (header is line 1), for messages; default row
        positions.
    gaps
        The sessions the data should cover; when given, a symbol missing sessions between
        its first and last bar is reported as a ``DataWarning``.
    columns
        The source's name of each canonical column, for messages (an importer's file
        columns, e.g. ``{"prev_close": "preclose"}``); default the canonical names.

    Raises
    ------
    DataError
        Naming the source, the line(s), the column and the fault.

    Examples
    --------
    >>> bars = pd.DataFrame({"date": pd.to_datetime(["2024-01-02"]), "symbol": ["600000.SH"],
    ...     "open": [10.0], "high": [10.2], "low": [9.9], "close": [10.1], "volume": [1000],
    ...     "amount": [10.1], "adj_factor": [1.0]})  # amount in thousands of CNY
    >>> validate_bars(bars, source="daily.csv", lines=np.array([2]))
    Traceback (most recent call last):
    ...
    workbench.errors.DataError: daily.csv: line 2, column 'amount, volume': amount / volume ...
    """
    renamed = dict(columns or {})

    def label(column: str) -> str:
        return renamed.get(column, column)

    require_columns(bars, REQUIRED_BAR_COLUMNS, source=source)
    n = len(bars)
    dates = bars["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        parsed = pd.to_datetime(dates, errors="coerce", format="mixed")
        _fail(source, lines, parsed.isna().to_numpy(), label("date"),
              f"unparseable date {dates[parsed.isna()].iloc[0]!r}" if parsed.isna().any()
              else "")
        dates = parsed
    else:
        _fail(source, lines, dates.isna().to_numpy(), label("date"), "missing date")
    codes, names = symbol_codes(bars["symbol"])
    for k, name in enumerate(names):
        try:
            normalize_symbol(name)
        except DataError as exc:
            _fail(source, lines, codes == k, label("symbol"), str(exc))
    day = dates.to_numpy(dtype="datetime64[ns]").view(np.int64) // 86_400_000_000_000
    offset = day - day.min() if n else day
    key = codes * (int(offset.max()) + 1 if n else 1) + offset
    order = np.argsort(key, kind="stable")  # by (symbol, date)
    same_key = key[order][1:] == key[order][:-1]
    if same_key.any():
        clash = key == key[order][1:][same_key][0]
        first = np.flatnonzero(clash)
        raise DataError(
            f"{where(source, lines, first)}: duplicate (date, symbol) "
            f"({pd.Timestamp(dates.iloc[first[0]]).date()}, {names[codes[first[0]]]}); "
            "each symbol may have one bar per session"
        )
    prices = {}
    for col in ("open", "high", "low", "close"):
        values = _numbers(bars[col])
        _fail(source, lines, ~np.isfinite(values), label(col), "missing or non-numeric price")
        _fail(source, lines, values <= 0, label(col),
              f"non-positive price {values[values <= 0][:1].tolist()}")
        prices[col] = values
    o, h, lo, c = prices["open"], prices["high"], prices["low"], prices["close"]
    eps = 1e-9
    _fail(source, lines, h < np.maximum(o, c) - eps, label("high"), "high below max(open, close)")
    _fail(source, lines, lo > np.minimum(o, c) + eps, label("low"), "low above min(open, close)")
    vol = _numbers(bars["volume"])
    _fail(source, lines, np.isnan(vol), label("volume"), "missing or non-numeric volume")
    _fail(source, lines, vol < 0, label("volume"), "negative volume")
    amt = _numbers(bars["amount"])
    _fail(source, lines, amt < 0, label("amount"), "negative amount")
    adj = _numbers(bars["adj_factor"])
    _fail(source, lines, ~(adj > 0), label("adj_factor"), "adjustment factor must be positive")
    _check_meaning(bars, prices, vol, amt, source, lines, label)
    if n:
        _warn_limit_moves(bars, c, adj, codes, names, day, order, source)
        if gaps is not None:
            _warn_gaps(names[codes], dates, gaps, source)


def _flags(column: pd.Series, source: str, lines: np.ndarray | None, label: str
           ) -> np.ndarray:
    """True/False of a flag column (missing counts as False); DataError for anything else."""
    if column.dtype == bool:
        return column.to_numpy()
    _fail(source, lines, ~(column.isna() | column.isin([True, False])).to_numpy(), label,
          "must be True or False (or 1 or 0)")
    return column.isin([True]).to_numpy(dtype=bool)  # True or 1; missing is not suspended


def _off_tick(values: np.ndarray) -> np.ndarray:
    """True where a price is not a whole number of ticks (float storage tolerated)."""
    fen = values / TICK_CNY
    with np.errstate(invalid="ignore"):
        return np.isfinite(fen) & (np.abs(fen - np.rint(fen)) > 1e-4 + 1e-6 * np.abs(fen))


def _check_meaning(bars: pd.DataFrame, prices: dict[str, np.ndarray], vol: np.ndarray,
                   amt: np.ndarray, source: str, lines: np.ndarray | None,
                   name: Callable[[str], str]) -> None:
    """The checks of meaning of one bar table (module docstring): errors, then warnings."""
    o, h, lo, c = prices["open"], prices["high"], prices["low"], prices["close"]
    nan = np.full(len(bars), np.nan)
    prev = _numbers(bars["prev_close"]) if "prev_close" in bars.columns else nan
    bad = prev <= 0
    _fail(source, lines, bad, name("prev_close"),
          f"non-positive reference price {prev[bad][:1].tolist()}, which gives crossed "
          "price limits; give the exchange's previous close (ex-rights), or leave it empty "
          "and it is derived")
    limited = "limit_up" in bars.columns and "limit_down" in bars.columns
    up = _numbers(bars["limit_up"]) if limited else nan
    down = _numbers(bars["limit_down"]) if limited else nan
    bad = up < down
    _fail(source, lines, bad, name("limit_up"),
          f"limit_up below limit_down (first {up[bad][:1].tolist()} < "
          f"{down[bad][:1].tolist()}): crossed limits; give both limits of the day, or both "
          "empty for a day without limits")
    traded = vol > 0
    if "suspended" in bars.columns:
        suspended = _flags(bars["suspended"], source, lines, name("suspended"))
        _fail(source, lines, suspended & traded, name("suspended"),
              "suspended=True on a row with volume > 0; a suspended day trades nothing "
              "(volume 0), so one of the two is wrong")
    else:
        suspended = np.zeros(len(bars), dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        vwap = amt / vol
        slack = VWAP_SLACK_RATE + VWAP_SLACK_SHARES / vol
        bad = traded & np.isfinite(amt) & ((vwap < lo * (1 - slack) - TICK_CNY)
                                           | (vwap > h * (1 + slack) + TICK_CNY))
    if bad.any():
        i = np.flatnonzero(bad)[0]
        _fail(source, lines, bad, f"{name('amount')}, {name('volume')}",
              f"amount / volume = {vwap[i]:.6g} CNY a share, outside the day's range "
              f"[low, high] = [{lo[i]:g}, {h[i]:g}]; a unit mix-up? volume must be in shares "
              "(not lots of 100) and amount in CNY (not thousands)")
    # Warnings: the error checks have passed.
    with np.errstate(invalid="ignore"):
        outside = (c > up + TICK_CNY / 2) | (c < down - TICK_CNY / 2)
    if outside.any():
        i = np.flatnonzero(outside)[0]
        _warn(source, lines, outside, name("close"),
              f"close outside its own limit band [limit_down, limit_up] (first {c[i]:g} "
              f"outside [{down[i]:g}, {up[i]:g}]); a day without a price limit the rule table "
              "does not know, an ex-rights day without adjustment factors, or a wrong "
              "reference price or ST flag. The engine may take such a day as sealed at the "
              "limit; give the day's limits (empty for none) in canonical bars to correct it")
    known = np.isfinite(prev)
    moved = np.zeros(len(bars), dtype=bool)
    for p in (o, h, lo, c):
        moved |= known & ~suspended & (np.abs(p - prev) > TICK_CNY / 2)
    moving = (vol == 0) & (moved | (h - lo > TICK_CNY / 2))
    _warn(source, lines, moving, name("volume"),
          "volume 0 but the prices move (open, high, low or close differ from prev_close, or "
          "high from low); without a trade there is no new price: is the volume missing, or "
          "rounded to 0 lots?")
    for col, values in (*prices.items(), ("prev_close", prev), ("limit_up", up),
                        ("limit_down", down)):
        off = _off_tick(values)
        if off.any():
            _warn(source, lines, off, name(col),
                  f"prices off the {TICK_CNY} CNY tick (first {float(values[off][0])!r}); raw "
                  "A-share prices are whole fen: are these adjusted or rescaled prices?")


def _warn_limit_moves(bars: pd.DataFrame, close: np.ndarray, adj: np.ndarray,
                      codes: np.ndarray, names: pd.Index, day: np.ndarray, order: np.ndarray,
                      source: str) -> None:
    """Warn about adjusted close-to-close moves beyond the day's price limit.

    The limit is the rule table's (board, date, ST) percentage; the slack allows for the
    exchange rounding both the ex-rights reference price and the limit price to the fen.
    Days without a limit (``limit_up`` NaN: a new listing's first sessions) are skipped.
    ``order`` sorts the rows by (symbol, date).
    """
    c = codes[order]
    d = (day[order] * 86_400_000_000_000).astype("datetime64[ns]")
    adj_o = adj[order]
    adj_close = close[order] * adj_o
    same = c[1:] == c[:-1]
    ret = adj_close[1:] / adj_close[:-1] - 1.0
    st = bars["is_st"].to_numpy(dtype=bool)[order] if "is_st" in bars.columns else (
        np.zeros(len(c), dtype=bool))
    later = pd.Categorical.from_codes(c[1:], categories=names)
    limit = limit_percents(later, d[1:], st[1:]) / 100.0
    reference = adj_close[:-1] / adj_o[1:]  # the ex-rights reference price, CNY
    slack = 0.0125 / np.maximum(reference, 0.01)
    if "limit_up" in bars.columns:
        unlimited = bars["limit_up"].isna().to_numpy()[order][1:]
    else:
        unlimited = np.zeros(len(ret), dtype=bool)
    with np.errstate(invalid="ignore"):
        big = same & ~unlimited & (np.abs(ret) > limit + slack + 1e-9)
    if big.any():
        k = np.flatnonzero(big)
        examples = ", ".join(
            f"{names[c[i + 1]]} {pd.Timestamp(d[i + 1]).date()} {ret[i]:+.1%}" for i in k[:SHOWN]
        )
        warnings.warn(
            f"{source}: {len(k)} adjusted daily moves beyond the board's price limit "
            f"({examples}); check for unadjusted splits or a missing adj_factor",
            DataWarning,
            stacklevel=3,
        )


def _warn_gaps(sym: pd.Series, dates: pd.Series, sessions: pd.DatetimeIndex,
               source: str) -> None:
    frame = pd.DataFrame({"symbol": sym.to_numpy(), "date": dates.to_numpy()})
    pos = sessions.get_indexer(pd.DatetimeIndex(frame["date"]))
    if (pos < 0).any():
        bad = frame.loc[pos < 0, "date"].iloc[0]
        warnings.warn(f"{source}: {int((pos < 0).sum())} bars fall on non-sessions "
                      f"(first {pd.Timestamp(bad).date()})", DataWarning, stacklevel=3)
    frame = frame.loc[pos >= 0].assign(pos=pos[pos >= 0])
    g = frame.groupby("symbol")["pos"].agg(["min", "max", "count"])
    missing = g["max"] - g["min"] + 1 - g["count"]
    if (missing > 0).any():
        worst = missing[missing > 0].sort_values(ascending=False)
        listed = ", ".join(f"{s} ({m})" for s, m in worst.head(SHOWN).items())
        warnings.warn(
            f"{source}: {len(worst)} symbols miss sessions between their first and last bar: "
            f"{listed}; suspended days should be rows with suspended=True",
            DataWarning,
            stacklevel=3,
        )


def validate_market(market: Market, *, source: str = "market") -> None:
    """Validate every table of a Market and their consistency with each other."""
    validate_bars(market.bars, source=f"{source}/bars.parquet")
    require_columns(market.securities, SECURITY_COLUMNS, source=f"{source}/securities.parquet")
    require_columns(market.fundamentals, FUNDAMENTAL_COLUMNS,
                    source=f"{source}/fundamentals.parquet")
    require_columns(market.st_periods, ST_COLUMNS, source=f"{source}/st_periods.parquet")
    require_columns(market.benchmark, ("date", "close"), source=f"{source}/benchmark.parquet")
    sec = market.securities["symbol"].astype(str)
    if sec.duplicated().any():
        raise DataError(f"{source}/securities.parquet: duplicate symbols "
                        f"{sorted(sec[sec.duplicated()].unique())[:SHOWN]}")
    codes, names = symbol_codes(market.bars["symbol"])
    used = names[np.bincount(codes[codes >= 0], minlength=len(names)) > 0]
    unknown = set(used) - set(sec)
    if unknown:
        raise DataError(f"{source}/bars.parquet: symbols missing from the security master: "
                        f"{sorted(unknown)[:SHOWN]}")
    validate_listing(market.bars, market.securities, source=f"{source}/bars.parquet")
    validate_benchmark(market.benchmark, source=f"{source}/benchmark.parquet")
    f = market.fundamentals
    early = (f["announce_date"] < f["period_end"]).to_numpy()
    _fail(f"{source}/fundamentals.parquet", None, early, "announce_date",
          "announced before the end of its report period")
    validate_index_members(market.index_members, source=f"{source}/index_members.parquet")
    validate_corporate_actions(market.corporate_actions,
                               source=f"{source}/corporate_actions.parquet")


def validate_listing(bars: pd.DataFrame, securities: pd.DataFrame, *, source: str = "bars",
                     lines: np.ndarray | None = None,
                     columns: Mapping[str, str] | None = None) -> None:
    """Raise DataError for bars outside their stock's listing in the security master.

    A bar before its symbol's ``list_date`` (the first session), or on or after its
    ``delist_date`` (the first day no longer listed), contradicts the master. Symbols the
    master lacks, and missing dates, are not checked here.

    Parameters
    ----------
    bars
        ``date`` and ``symbol`` at least.
    securities
        The security master (``symbol``, ``list_date``, ``delist_date``).
    source, lines, columns
        As for :func:`validate_bars`: where the bars come from, for messages.

    Raises
    ------
    DataError
        Naming the source, the line(s) or row(s), the date column and the first offender.

    Examples
    --------
    >>> bars = pd.DataFrame({"date": pd.to_datetime(["2024-01-02", "2024-01-03"]),
    ...                      "symbol": ["600000.SH", "600000.SH"]})
    >>> master = pd.DataFrame({"symbol": ["600000.SH"], "list_date": [pd.Timestamp("2024-01-03")],
    ...                        "delist_date": [pd.NaT]})
    >>> validate_listing(bars, master, source="sh.600000.csv", lines=np.array([2, 3]))
    Traceback (most recent call last):
    ...
    workbench.errors.DataError: sh.600000.csv: line 2, column 'date': 1 bars before their ...
    """
    if bars.empty or securities.empty:
        return
    codes, names = symbol_codes(bars["symbol"])
    sec = securities.drop_duplicates("symbol").set_index(
        securities.drop_duplicates("symbol")["symbol"].astype(str))
    dates = bars["date"].to_numpy(dtype="datetime64[ns]")
    column = (columns or {}).get("date", "date")
    for field, test, fault, fix in (
        ("list_date", np.less, "before their symbol's list_date",
         "list_date is the first session: check it, or the bars' symbol"),
        ("delist_date", np.greater_equal, "on or after their symbol's delist_date",
         "delist_date is the first day no longer listed, after the last bar"),
    ):
        edge = sec[field].reindex(names).to_numpy(dtype="datetime64[ns]")[codes]
        bad = ~np.isnat(edge) & test(dates, edge)
        if bad.any():
            i = np.flatnonzero(bad)[0]
            _fail(source, lines, bad, column,
                  f"{int(bad.sum())} bars {fault} (first {names[codes[i]]} on "
                  f"{pd.Timestamp(dates[i]).date()}, {field} {pd.Timestamp(edge[i]).date()}); "
                  f"{fix}")


def validate_benchmark(benchmark: pd.DataFrame, *, source: str = "benchmark",
                       lines: np.ndarray | None = None) -> None:
    """Raise DataError where the benchmark close jumps by more than a factor of 10.

    Consecutive closes by date (rows without a close skipped) whose ratio exceeds
    :data:`BENCHMARK_MAX_RATIO` or falls below its inverse are a unit or splice fault; the
    later row is named. Any row order.

    Parameters
    ----------
    benchmark
        ``date`` and ``close`` (index points) at least.
    source, lines
        As for :func:`validate_bars`.

    Raises
    ------
    DataError
        Naming the source, the line or row, the ``close`` column and the two closes.

    Examples
    --------
    >>> bench = pd.DataFrame({"date": pd.to_datetime(["2024-01-02", "2024-01-03"]),
    ...                       "close": [3500.0, 3.51]})  # thousands of points
    >>> validate_benchmark(bench, source="index.csv", lines=np.array([2, 3]))
    Traceback (most recent call last):
    ...
    workbench.errors.DataError: index.csv: line 3, column 'close': close 3.51 is 0.001 times ...
    """
    if benchmark.empty:
        return
    close = _numbers(benchmark["close"])
    dates = benchmark["date"].to_numpy(dtype="datetime64[ns]")
    order = np.argsort(dates, kind="stable")
    order = order[np.isfinite(close[order]) & ~np.isnat(dates[order])]
    if len(order) < 2:
        return
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = close[order[1:]] / close[order[:-1]]
    jump = (ratio > BENCHMARK_MAX_RATIO) | (ratio < 1.0 / BENCHMARK_MAX_RATIO)
    if jump.any():
        k = np.flatnonzero(jump)[0]
        bad = np.zeros(len(benchmark), dtype=bool)
        bad[order[1:][jump]] = True
        _fail(source, lines, bad, "close",
              f"close {close[order[k + 1]]:g} is {ratio[k]:.3g} times the previous session's "
              f"({close[order[k]]:g} on {pd.Timestamp(dates[order[k]]).date()}); no index "
              f"moves {BENCHMARK_MAX_RATIO:g}-fold in a session: a unit change (points, "
              "thousands of points) or two series spliced? Give one series in one unit")


def validate_corporate_actions(actions: pd.DataFrame, *, source: str = "corporate_actions"
                               ) -> None:
    """Validate corporate-action events (``schema.CORPORATE_ACTION_COLUMNS``).

    Raises DataError naming the row and column for: a symbol not in canonical ``CODE.EX``
    spelling, a missing or unparseable ``ex_date``, an unparseable other date, a record date
    on or after the ex-date, an announcement after the ex-date, a pay date before the
    record date, a negative or non-finite cash amount or ratio, a rights ratio without a
    positive rights price, an event that carries nothing, and an unknown ``source``.
    """
    require_columns(actions, CORPORATE_ACTION_COLUMNS, source=source,
                    hint="Build the table with workbench.data.corporate.actions_frame.")
    if actions.empty:
        return
    sym = actions["symbol"].astype(str)
    _check_spelling(sym, source)
    dates = {}
    for col in ("ex_date", "record_date", "pay_date", "announce_date"):
        raw = actions[col]
        parsed = pd.to_datetime(raw, errors="coerce")
        _fail(source, None, (parsed.isna() & raw.notna()).to_numpy(), col, "unparseable date")
        dates[col] = parsed.to_numpy(dtype="datetime64[ns]")
    ex = dates["ex_date"]
    _fail(source, None, np.isnat(ex), "ex_date", "missing ex-date")
    rec, pay, ann = dates["record_date"], dates["pay_date"], dates["announce_date"]
    _fail(source, None, ~np.isnat(rec) & (rec >= ex), "record_date",
          "record date on or after the ex-date (holders of record are fixed before it)")
    _fail(source, None, ~np.isnat(ann) & (ann > ex), "announce_date",
          "announced after the ex-date")
    _fail(source, None, ~np.isnat(pay) & ~np.isnat(rec) & (pay < rec), "pay_date",
          "pay date before the record date")
    amounts = {}
    for col in ("cash_pre_tax_cny", "bonus_ratio", "transfer_ratio", "rights_ratio"):
        values = _numbers(actions[col])
        _fail(source, None, ~np.isfinite(values) | (values < 0), col,
              "must be a finite number >= 0 (0 where the event has none of that kind)")
        amounts[col] = values
    price = _numbers(actions["rights_price_cny"])
    _fail(source, None, (amounts["rights_ratio"] > 0) & ~(price > 0), "rights_price_cny",
          "a rights issue needs its subscription price (CNY, > 0)")
    carried = np.sum(np.vstack(list(amounts.values())), axis=0)
    _fail(source, None, carried == 0, "cash_pre_tax_cny",
          "event carries no cash, bonus, transfer or rights shares")
    _fail(source, None, ~actions["source"].astype(str).isin(CORPORATE_ACTION_SOURCES).to_numpy(),
          "source", f"must be one of {list(CORPORATE_ACTION_SOURCES)}")


def _check_spelling(sym: pd.Series, source: str) -> None:
    """DataError unless every symbol is in canonical ``CODE.EX`` spelling (checked once each)."""
    canonical = {}
    for u in sym.unique():
        try:
            canonical[u] = normalize_symbol(u) == u
        except DataError:
            canonical[u] = False
    _fail(source, None, ~sym.map(canonical).to_numpy(dtype=bool), "symbol",
          "not a canonical symbol such as '600519.SH'")


def validate_index_members(spells: pd.DataFrame, *, source: str = "index_members") -> None:
    """Validate index-membership spells (``schema.INDEX_MEMBER_COLUMNS``, ``end`` exclusive).

    Raises DataError naming the row and column for: a missing index name, a symbol not in
    canonical ``CODE.EX`` spelling, a missing or unparseable ``start``, an ``end`` not after
    its ``start``, and two spells of one stock in one index that overlap. Symbols need not be
    in the security master (an index holds stocks the data may lack).
    """
    require_columns(spells, INDEX_MEMBER_COLUMNS, source=source,
                    hint="Build the table with workbench.data.importers.import_index_weights.")
    if spells.empty:
        return
    index = spells["index"].astype(object)
    _fail(source, None, (index.isna() | (index.astype(str).str.strip() == "")).to_numpy(),
          "index", "missing index name")
    sym = spells["symbol"].astype(str)
    _check_spelling(sym, source)
    dates = {}
    for col in ("start", "end"):
        raw = spells[col]
        parsed = pd.to_datetime(raw, errors="coerce")
        _fail(source, None, (parsed.isna() & raw.notna()).to_numpy(), col, "unparseable date")
        dates[col] = parsed.to_numpy(dtype="datetime64[ns]")
    start, end = dates["start"], dates["end"]
    _fail(source, None, np.isnat(start), "start", "missing start date")
    _fail(source, None, ~np.isnat(end) & (end <= start), "end",
          "end must be after start (end is exclusive: the first day not a member)")
    order = np.lexsort((start, sym.to_numpy(dtype=object), index.astype(str).to_numpy()))
    same = ((index.astype(str).to_numpy()[order][1:] == index.astype(str).to_numpy()[order][:-1])
            & (sym.to_numpy()[order][1:] == sym.to_numpy()[order][:-1]))
    prev_end = end[order][:-1]
    overlap = same & (np.isnat(prev_end) | (prev_end > start[order][1:]))
    bad = np.zeros(len(spells), dtype=bool)
    bad[order[1:][overlap]] = True
    _fail(source, None, bad, "start",
          "spell overlaps the previous spell of the same stock in the same index")


def validate(data: pd.DataFrame | Market, *, source: str = "data") -> None:
    """Validate canonical bars or a whole :class:`Market` (see module docstring)."""
    if isinstance(data, Market):
        validate_market(data, source=source)
    else:
        validate_bars(data, source=source)

