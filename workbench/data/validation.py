"""Checks that bars and market tables are well-formed; every fault names where it is.

Errors (raise :class:`~workbench.errors.DataError`): missing required columns,
unparseable dates, duplicate ``(date, symbol)``, non-positive prices,
``high < max(open, close)``, ``low > min(open, close)``, negative volume, an unknown board
prefix; in a Market also bars on or after their stock's ``delist_date`` and malformed
index-membership spells and corporate-action events. Warnings
(:class:`~workbench.errors.DataWarning`): gaps in a symbol's sessions and close-to-close
moves beyond the board's limit (usually an unadjusted split). Nothing is dropped or filled.
"""

from __future__ import annotations

import warnings

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
    "require_columns",
    "validate",
    "validate_bars",
    "validate_corporate_actions",
    "validate_index_members",
    "validate_market",
    "where",
]

#: How many offending rows a message lists before it says "and N more".
SHOWN = 5


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
) -> None:
    """Validate canonical bars; raise DataError on the first fault, warn on oddities.

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

    Raises
    ------
    DataError
        Naming the source, the line(s), the column and the fault.
    """
    require_columns(bars, REQUIRED_BAR_COLUMNS, source=source)
    n = len(bars)
    dates = bars["date"]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        parsed = pd.to_datetime(dates, errors="coerce", format="mixed")
        _fail(source, lines, parsed.isna().to_numpy(), "date",
              f"unparseable date {dates[parsed.isna()].iloc[0]!r}" if parsed.isna().any()
              else "")
        dates = parsed
    else:
        _fail(source, lines, dates.isna().to_numpy(), "date", "missing date")
    codes, names = symbol_codes(bars["symbol"])
    for k, name in enumerate(names):
        try:
            normalize_symbol(name)
        except DataError as exc:
            _fail(source, lines, codes == k, "symbol", str(exc))
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
        _fail(source, lines, ~np.isfinite(values), col, "missing or non-numeric price")
        _fail(source, lines, values <= 0, col,
              f"non-positive price {values[values <= 0][:1].tolist()}")
        prices[col] = values
    o, h, lo, c = prices["open"], prices["high"], prices["low"], prices["close"]
    eps = 1e-9
    _fail(source, lines, h < np.maximum(o, c) - eps, "high", "high below max(open, close)")
    _fail(source, lines, lo > np.minimum(o, c) + eps, "low", "low above min(open, close)")
    vol = _numbers(bars["volume"])
    _fail(source, lines, np.isnan(vol), "volume", "missing or non-numeric volume")
    _fail(source, lines, vol < 0, "volume", "negative volume")
    amt = _numbers(bars["amount"])
    _fail(source, lines, amt < 0, "amount", "negative amount")
    adj = _numbers(bars["adj_factor"])
    _fail(source, lines, ~(adj > 0), "adj_factor", "adjustment factor must be positive")
    if n:
        _warn_limit_moves(bars, c, adj, codes, names, day, order, source)
        if gaps is not None:
            _warn_gaps(names[codes], dates, gaps, source)


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
    # delist_date is the first day no longer listed: the engine settles holdings there, so a
    # bar on or after it would be traded after the settlement.
    gone = pd.Series(market.securities["delist_date"].to_numpy(dtype="datetime64[ns]"),
                     index=sec.to_numpy()).reindex(names).to_numpy(dtype="datetime64[ns]")
    if (~np.isnat(gone)).any():
        after = market.bars["date"].to_numpy(dtype="datetime64[ns]") >= gone[codes]
        if after.any():
            first = np.flatnonzero(after)[0]
            raise DataError(
                f"{where(f'{source}/bars.parquet', None, np.flatnonzero(after))}, column "
                "'date': "
                f"{int(after.sum())} bars on or after their symbol's delist_date (first "
                f"{names[codes[first]]} on {pd.Timestamp(market.bars['date'].iloc[first]).date()}"
                "); delist_date is the first day no longer listed, after the last bar")
    f = market.fundamentals
    early = (f["announce_date"] < f["period_end"]).to_numpy()
    _fail(f"{source}/fundamentals.parquet", None, early, "announce_date",
          "announced before the end of its report period")
    validate_index_members(market.index_members, source=f"{source}/index_members.parquet")
    validate_corporate_actions(market.corporate_actions,
                               source=f"{source}/corporate_actions.parquet")


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

