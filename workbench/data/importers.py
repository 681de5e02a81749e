"""Import tushare, akshare and baostock CSV exports into canonical bars and a Market.

Each file's layout is recognised from its header (``source="auto"``); a header in no known
layout is an error that lists the layouts and the columns each needs, never a guess.

Bar layouts (:data:`BAR_LAYOUTS`) and their conversions:

* ``tushare`` — pro ``daily``: ``ts_code, trade_date, open, high, low, close, pre_close,
  change, pct_chg, vol, amount``. ``vol`` lots × 100 → shares, ``amount`` thousands of CNY
  × 1000 → CNY, ``pre_close`` → ``prev_close``.
* ``akshare`` — ``stock_zh_a_hist``: ``日期, 股票代码, 开盘, 收盘, 最高, 最低, 成交量, 成交额,
  振幅, 涨跌幅, 涨跌额, 换手率``. ``成交量`` lots × 100 → shares. Older exports lack
  ``股票代码``; the symbol then comes from the file name (``600519.csv``, ``sh600519.csv``).
* ``baostock`` — ``query_history_k_data_plus``: ``date, code, open, high, low, close,
  preclose, volume, amount, adjustflag, turn, tradestatus, pctChg, peTTM, pbMRQ, psTTM,
  pcfNcfTTM, isST``. ``tradestatus`` 0 → ``suspended``, ``isST`` → ``is_st``, ``peTTM`` /
  ``pbMRQ`` → ``pe_ttm`` / ``pb_mrq``; ``adjustflag`` other than 3 (raw) warns.
* ``canonical`` — the workbench's own bar columns (``REQUIRED_BAR_COLUMNS`` at least).

Adjustment factors come in tushare ``adj_factor`` layout, the security master in tushare
``stock_basic`` layout, a benchmark in baostock index or tushare ``index_daily`` layout.
Bar columns a source lacks are derived by :mod:`workbench.data.derive`. Every fault raises
:class:`~workbench.errors.DataError` naming the file, the line (header = line 1), the column
and the fault; oddities warn (:class:`~workbench.errors.DataWarning`). No bar is dropped.
A folder of exports is read with its sub-folders, and every file found is either read or
listed with the reason it was not (:mod:`workbench.data.importfiles`, ``meta["bar_inputs"]``);
:func:`import_market` writes only to an absent, empty or Market folder.

Two definitional fills, not guesses: a baostock row with ``tradestatus`` 0 (suspended) and
an empty ``volume`` or ``amount`` gets 0 (nothing traded), and an empty ``preclose`` is
derived like a missing one.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.calendar import CALENDAR_END, CALENDAR_START, sessions
from workbench.data import csvread as cr
from workbench.data.corporate import events_from_factors
from workbench.data.csvread import Layout, PathLike
from workbench.data.derive import derive_bar_columns, factors_from_reference, st_periods
from workbench.data.dividends import import_dividends
from workbench.data.importfiles import BarFiles, as_paths, check_out_folder, find_bar_files
from workbench.data.market import Market
from workbench.data.membership import empty_spells, index_name, spells_from_snapshots
from workbench.data.provenance import benchmark_identity, survivorship_notes
from workbench.data.schema import (
    BAR_COLUMNS,
    BENCHMARK_COLUMNS,
    DERIVED_BAR_COLUMNS,
    FUNDAMENTAL_COLUMNS,
    OPTIONAL_BAR_COLUMNS,
    REQUIRED_BAR_COLUMNS,
    SECURITY_COLUMNS,
)
from workbench.data.store import save_market
from workbench.data.validation import (
    require_columns,
    validate_bars,
    validate_benchmark,
    validate_listing,
    where,
)
from workbench.errors import DataError, DataWarning
from workbench.symbols import boards_of, normalize_symbol

__all__ = [
    "ADJ_FACTOR_LAYOUT",
    "BAR_LAYOUTS",
    "BENCHMARK_LAYOUTS",
    "INDEX_WEIGHT_LAYOUT",
    "SECURITY_LAYOUT",
    "Layout",
    "import_adj_factors",
    "import_bars",
    "import_benchmark",
    "import_index_weights",
    "import_market",
    "import_securities",
]

BAR_LAYOUTS: dict[str, Layout] = {
    "tushare": Layout(
        name="tushare", export="tushare pro daily",
        required=("ts_code", "trade_date", "open", "high", "low", "close", "vol", "amount"),
        optional=("pre_close", "change", "pct_chg"),
    ),
    "akshare": Layout(
        name="akshare", export="akshare stock_zh_a_hist",
        required=("日期", "开盘", "收盘", "最高", "最低", "成交量", "成交额"),
        optional=("股票代码", "振幅", "涨跌幅", "涨跌额", "换手率"),
    ),
    "baostock": Layout(
        name="baostock", export="baostock query_history_k_data_plus",
        required=("date", "code", "open", "high", "low", "close", "volume", "amount"),
        optional=("preclose", "adjustflag", "turn", "tradestatus", "pctChg", "peTTM",
                  "pbMRQ", "psTTM", "pcfNcfTTM", "isST"),
    ),
    "canonical": Layout(
        name="canonical", export="workbench canonical bars",
        required=REQUIRED_BAR_COLUMNS, optional=DERIVED_BAR_COLUMNS + OPTIONAL_BAR_COLUMNS,
    ),
}
ADJ_FACTOR_LAYOUT = Layout(name="tushare", export="tushare pro adj_factor",
                           required=("ts_code", "trade_date", "adj_factor"))
SECURITY_LAYOUT = Layout(
    name="tushare", export="tushare pro stock_basic",
    required=("ts_code", "name", "industry", "list_date"),
    optional=("symbol", "area", "market", "delist_date", "list_status"),
)
INDEX_WEIGHT_LAYOUT = Layout(name="tushare", export="tushare pro index_weight",
                             required=("index_code", "con_code", "trade_date"),
                             optional=("weight",))
BENCHMARK_LAYOUTS: dict[str, Layout] = {
    "baostock": Layout(
        name="baostock", export="baostock index daily",
        required=("date", "code", "open", "high", "low", "close", "volume", "amount"),
        optional=("preclose", "pctChg"),
    ),
    "tushare": Layout(
        name="tushare", export="tushare pro index_daily",
        required=("ts_code", "trade_date", "open", "high", "low", "close", "vol", "amount"),
        optional=("pre_close", "change", "pct_chg"),
    ),
}


# -- bar layouts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BarFile:
    path: Path
    layout: str
    frame: pd.DataFrame  # canonical-named columns (date, symbol, ...) and "_line"
    names: dict[str, str]  # canonical column -> the file's column


def _prices(t: cr.Table, names: dict[str, str]) -> dict[str, np.ndarray]:
    return {c: cr.numbers(t, names[c]) for c in ("open", "high", "low", "close")}


def _tushare_bars(t: cr.Table) -> tuple[dict[str, object], dict[str, str]]:
    names = {"date": "trade_date", "symbol": "ts_code", "open": "open", "high": "high",
             "low": "low", "close": "close", "volume": "vol", "amount": "amount",
             "prev_close": "pre_close"}
    out: dict[str, object] = {"date": cr.dates(t, "trade_date", "%Y%m%d"),
                              "symbol": cr.symbols(t, "ts_code"), **_prices(t, names)}
    out["volume"] = cr.shares(t, "vol", cr.numbers(t, "vol"), scale=100)
    out["amount"] = cr.numbers(t, "amount") * 1000.0
    if "pre_close" in t.columns:
        out["prev_close"] = cr.numbers(t, "pre_close", allow_missing=True)
    return out, names


def _akshare_bars(t: cr.Table) -> tuple[dict[str, object], dict[str, str]]:
    names = {"date": "日期", "symbol": "股票代码", "open": "开盘", "high": "最高", "low": "最低",
             "close": "收盘", "volume": "成交量", "amount": "成交额"}
    if "股票代码" in t.columns:
        symbols = cr.symbols(t, "股票代码")
    else:
        stem = t.path.name[:-4] if t.path.name.lower().endswith(".csv") else t.path.stem
        try:
            symbols = np.full(len(t), normalize_symbol(stem), dtype=object)
        except DataError:
            raise DataError(
                f"{t.path}: no 股票代码 column and the file name {t.path.name!r} names no "
                "symbol; add the column or name the file after the stock, e.g. 600519.csv "
                "or sh600519.csv") from None
        names["symbol"] = f"file name {t.path.name}"
    out: dict[str, object] = {"date": cr.dates(t, "日期", "ISO8601"), "symbol": symbols,
                              **_prices(t, names)}
    out["volume"] = cr.shares(t, "成交量", cr.numbers(t, "成交量"), scale=100)
    out["amount"] = cr.numbers(t, "成交额")
    return out, names


def _baostock_bars(t: cr.Table) -> tuple[dict[str, object], dict[str, str]]:
    names = {"date": "date", "symbol": "code", "open": "open", "high": "high", "low": "low",
             "close": "close", "volume": "volume", "amount": "amount",
             "prev_close": "preclose", "suspended": "tradestatus", "is_st": "isST",
             "pe_ttm": "peTTM", "pb_mrq": "pbMRQ"}
    out: dict[str, object] = {"date": cr.dates(t, "date", "ISO8601"),
                              "symbol": cr.symbols(t, "code"), **_prices(t, names)}
    halted = np.zeros(len(t), dtype=bool)
    if "tradestatus" in t.columns:
        traded = cr.flags(t, "tradestatus", "tradestatus (1 traded, 0 suspended)")
        out["suspended"] = ~traded
        halted = (~traded).fillna(False).to_numpy(dtype=bool)
    for col in ("volume", "amount"):
        values = cr.numbers(t, col, allow_missing=True)
        t.fail(np.isnan(values) & ~halted, col, f"missing {col} on a traded day")
        values = np.where(np.isnan(values) & halted, 0.0, values)  # suspended: nothing traded
        out[col] = cr.shares(t, col, values, scale=1) if col == "volume" else values
        if col == "volume":
            t.fail(halted & (values > 0), "tradestatus",
                   "tradestatus 0 (suspended) on a row with volume > 0; a suspended day "
                   "trades nothing, so one of the two is wrong")
    if "isST" in t.columns:
        out["is_st"] = cr.flags(t, "isST", "isST")
    for src, dst in (("preclose", "prev_close"), ("peTTM", "pe_ttm"), ("pbMRQ", "pb_mrq")):
        if src in t.columns:
            out[dst] = cr.numbers(t, src, allow_missing=True)
    if "adjustflag" in t.columns:
        flag = t.column("adjustflag")
        adjusted = ~t.missing("adjustflag") & (flag != "3")
        if adjusted.any():
            warnings.warn(
                f"{where(str(t.path), t.lines, np.flatnonzero(adjusted))}: adjustflag "
                f"{sorted(set(flag[adjusted]))} means adjusted prices (1 backward, 2 forward), "
                "not raw; limits, lots and costs need raw prices. Re-export with "
                "adjustflag='3' and give the factors separately.",
                DataWarning, stacklevel=5)
    return out, names


def _canonical_bars(t: cr.Table) -> tuple[dict[str, object], dict[str, str]]:
    names = {c: c for c in BAR_COLUMNS + OPTIONAL_BAR_COLUMNS}
    out: dict[str, object] = {"date": cr.dates(t, "date", "ISO8601"),
                              "symbol": cr.symbols(t, "symbol"), **_prices(t, names)}
    out["volume"] = cr.shares(t, "volume", cr.numbers(t, "volume"), scale=1)
    out["amount"] = cr.numbers(t, "amount")
    out["adj_factor"] = cr.numbers(t, "adj_factor")
    for col in ("prev_close", "limit_up", "limit_down", *OPTIONAL_BAR_COLUMNS):
        if col in t.columns:
            out[col] = cr.numbers(t, col, allow_missing=True)
    for col in ("suspended", "is_st"):
        if col in t.columns:
            out[col] = cr.flags(t, col, col)
    if ("limit_up" in t.columns) != ("limit_down" in t.columns):
        raise DataError(f"{t.path}: line 1: give both limit_up and limit_down or neither "
                        "(then they are derived)")
    return out, names


_CONVERTERS = {"tushare": _tushare_bars, "akshare": _akshare_bars,
               "baostock": _baostock_bars, "canonical": _canonical_bars}


def _load_bar_file(path: Path, source: str) -> _BarFile:
    table = cr.read_table(path)
    layout = cr.pick_layout(table, source, BAR_LAYOUTS, "bar")
    columns, names = _CONVERTERS[layout.name](table)
    frame = pd.DataFrame({k: (v.array if isinstance(v, pd.Series) else v)
                          for k, v in columns.items()})
    frame["_line"] = table.lines
    return _BarFile(path, layout.name, frame, names)


def _label(path: PathLike | Sequence[PathLike]) -> str:
    """The path, or the paths joined with ' + ', for messages."""
    return " + ".join(str(p) for p in as_paths(path))


# -- bars: assembling files -------------------------------------------------------------------
def _check_duplicates(frame: pd.DataFrame, parts: list[_BarFile]) -> None:
    dup = frame.duplicated(["date", "symbol"], keep=False).to_numpy()
    if not dup.any():
        return
    first = frame.loc[dup].iloc[0]
    same = frame.loc[dup & (frame["date"] == first["date"]).to_numpy()
                     & (frame["symbol"] == first["symbol"]).to_numpy()]
    at = "; ".join(
        f"{parts[f].path}: line {n}, columns ({parts[f].names['date']!r}, "
        f"{parts[f].names['symbol']!r})"
        for f, n in zip(same["_file"], same["_line"], strict=True))
    raise DataError(f"{at}: duplicate (date, symbol) ({pd.Timestamp(first['date']).date()}, "
                    f"{first['symbol']}); each symbol may have one bar per session")


def _attach_adj_factors(
    frame: pd.DataFrame, parts: list[_BarFile], adj_factors: pd.DataFrame | PathLike | None,
    origin: str,
) -> tuple[pd.Series, str | None]:
    """Each bar's adj_factor, and the warning to give once the bars are known to be valid."""
    own = np.array([p.layout == "canonical" for p in parts])[frame["_file"].to_numpy()]
    if adj_factors is None:
        factors = frame["adj_factor"] if "adj_factor" in frame else pd.Series(np.nan, frame.index)
        warning = None if own.all() else (
            f"{origin}: no adjustment factors given, so adj_factor is 1.0 on "
            f"{int((~own).sum()):,} bars and returns across dividends, bonus shares and "
            "splits will be wrong; pass adj_factors= (--adj-factors) with a tushare "
            "adj_factor export")
        return factors.where(own, 1.0).astype(float), warning
    if own.any():
        part = parts[int(frame.loc[own, "_file"].iloc[0])]
        raise DataError(f"{part.path}: carries its own adj_factor column and adj_factors= was "
                        "given too; pass one source of adjustment factors")
    label = str(adj_factors) if not isinstance(adj_factors, pd.DataFrame) else "adj_factors"
    fac = (adj_factors if isinstance(adj_factors, pd.DataFrame)
           else import_adj_factors(adj_factors))
    keys = pd.MultiIndex.from_arrays([fac["symbol"].astype(str).to_numpy(dtype=object),
                                      fac["date"].to_numpy(dtype="datetime64[ns]")])
    pos = keys.get_indexer(pd.MultiIndex.from_arrays(
        [frame["symbol"].to_numpy(dtype=object), frame["date"].to_numpy(dtype="datetime64[ns]")]))
    factors = np.where(pos >= 0, fac["adj_factor"].to_numpy(dtype=float)[pos], np.nan)
    warning = None
    # A symbol the factor file lacks altogether (e.g. a delisted stock exported apart) gets
    # the factors its own reference prices imply, when its export carries them.
    absent = ~frame["symbol"].isin(set(fac["symbol"].astype(str))).to_numpy()
    if absent.any() and "prev_close" in frame:
        sub = frame.loc[absent]
        factors[absent] = factors_from_reference(
            sub["symbol"].to_numpy(dtype=object), sub["date"].to_numpy(dtype="datetime64[ns]"),
            sub["close"].to_numpy(dtype=float), sub["prev_close"].to_numpy(dtype=float))
        derived = sorted(set(frame.loc[absent & np.isfinite(factors), "symbol"].astype(str)))
        warning = None if not derived else (
            f"{origin}: {len(derived)} symbols have no adj_factor in {label} "
            f"({', '.join(derived[:5])}{' ...' if len(derived) > 5 else ''}): their factors "
            "are derived from the exports' own reference price (preclose): 1.0 on the first "
            "bar, times close[t-1] / preclose[t] on each later one")
    if not np.isfinite(factors).all():
        lost = frame.loc[~np.isfinite(factors)]
        f = int(lost["_file"].iloc[0])
        rows = lost.loc[lost["_file"] == f]
        first = rows.iloc[0]
        raise DataError(
            f"{where(str(parts[f].path), rows['_line'].to_numpy(), np.arange(len(rows)))}: no "
            f"adj_factor in {label} for {first['symbol']} on "
            f"{pd.Timestamp(first['date']).date()} ({len(lost):,} bars in all); "
            "export the factors for every symbol and session of the bars (a symbol absent "
            "from the factors altogether may instead carry the exchange's preclose on every "
            "bar, from which its factors are derived)")
    return pd.Series(factors, index=frame.index), warning


def _session_range(dates: pd.Series) -> pd.DatetimeIndex | None:
    lo, hi = dates.min(), dates.max()
    if lo < CALENDAR_START or hi > CALENDAR_END:
        return None
    return sessions(lo, hi)


def _validate_parts(bars: pd.DataFrame, parts: list[_BarFile],
                    master: pd.DataFrame | None) -> None:
    gaps = _session_range(bars["date"])
    for f, part in enumerate(parts):
        rows = bars.loc[bars["_file"] == f]
        lines = rows["_line"].to_numpy()  # messages name the file's line and column
        validate_bars(rows.drop(columns=["_file", "_line"]), source=str(part.path),
                      lines=lines, gaps=gaps, columns=part.names)
        if master is not None:
            validate_listing(rows, master, source=str(part.path), lines=lines,
                             columns=part.names)


def _import_bars(
    path: PathLike | Sequence[PathLike], source: str,
    adj_factors: pd.DataFrame | PathLike | None,
    securities: pd.DataFrame | PathLike | Sequence[PathLike] | None,
) -> tuple[pd.DataFrame, list[_BarFile], pd.DataFrame | None, BarFiles]:
    """Canonical bars, the files they came from, the security master (bar symbols only)
    and the files found (read and ignored)."""
    files = find_bar_files(path)
    parts = [_load_bar_file(p, source) for p in files.read]
    frame = pd.concat([p.frame.assign(_file=i) for i, p in enumerate(parts)],
                      ignore_index=True)
    _check_duplicates(frame, parts)
    frame["adj_factor"], unadjusted = _attach_adj_factors(frame, parts, adj_factors,
                                                          _label(path))
    master, list_dates = None, None
    if securities is not None:
        master = (securities if isinstance(securities, pd.DataFrame)
                  else _read_securities(securities, set(frame["symbol"])))
        list_dates = pd.Series(master["list_date"].to_numpy(dtype="datetime64[ns]"),
                               index=master["symbol"].astype(str).to_numpy(dtype=object))
    given = np.array([p.layout == "canonical" and "limit_up" in p.frame for p in parts])
    # Absurd but finite inputs (a factor jumping 1e12-fold) must reach validation as values,
    # not stop it with a floating-point warning.
    with np.errstate(all="ignore"):
        bars = derive_bar_columns(frame, list_dates=list_dates,
                                  limits_given=given[frame["_file"].to_numpy()])
        _validate_parts(bars, parts, master)
    if unadjusted:
        warnings.warn(unadjusted, DataWarning, stacklevel=3)
    bars = bars.sort_values(["date", "symbol"], ignore_index=True)
    extra = [c for c in OPTIONAL_BAR_COLUMNS if c in bars.columns]
    bars = bars[list(BAR_COLUMNS) + extra]
    bars["symbol"] = pd.Categorical(bars["symbol"].astype(str))
    return bars, parts, master, files


def import_bars(
    path: PathLike | Sequence[PathLike],
    source: str = "auto",
    *,
    adj_factors: pd.DataFrame | PathLike | None = None,
    securities: pd.DataFrame | PathLike | Sequence[PathLike] | None = None,
) -> pd.DataFrame:
    """Read daily bar exports (one CSV, or a folder of them) into canonical bars.

    Parameters
    ----------
    path
        A CSV file, or a folder whose ``*.csv`` files, in it and in its sub-folders, are
        each one export (any mix of layouts when ``source="auto"``), or a list of such files
        and folders (e.g. the listed stocks' folder and the delisted stocks' folder). Other
        files under a folder are not read (see
        :func:`workbench.data.importfiles.find_bar_files`); a ``DataWarning`` names each
        ``.csv`` file or folder not read (hidden, empty, a link) and the reason.
    source
        ``"auto"`` (recognise each file's layout from its header), ``"tushare"``,
        ``"akshare"``, ``"baostock"`` or ``"canonical"``.
    adj_factors
        Backward adjustment factors: a tushare ``adj_factor`` CSV or the frame
        :func:`import_adj_factors` returns. Without them ``adj_factor`` is 1.0 (with a
        ``DataWarning``) unless the files are canonical and carry it. A symbol the factors
        lack altogether gets the factors its export's reference price (``preclose``,
        ``pre_close``) implies, with a ``DataWarning``, when every later bar carries one.
    securities
        A tushare ``stock_basic`` CSV (or several, e.g. the ``list_status='L'`` and
        ``'D'`` exports; a symbol may appear in one only) or :func:`import_securities`
        frame; its ``list_date`` leaves a new listing's first sessions without a price
        limit.

    Returns
    -------
    pandas.DataFrame
        ``schema.BAR_COLUMNS`` (plus ``pe_ttm``, ``pb_mrq`` when a file has them), raw CNY
        prices, volume in shares, amount in CNY, sorted by ``(date, symbol)``, ``symbol``
        categorical. Derived columns follow :mod:`workbench.data.derive`.

    Raises
    ------
    DataError
        A file in no known layout, or any malformed cell or row, naming file, line, column.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "daily.csv").write_text(
    ...     "ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount\\n"
    ...     "600000.SH,20240716,8.55,8.65,8.5,8.6,8.55,0.05,0.5848,250012,215010.32\\n")
    >>> with warnings.catch_warnings(action="ignore", category=DataWarning):
    ...     bars = import_bars(folder / "daily.csv")
    >>> bars[["symbol", "volume", "amount", "prev_close", "limit_up", "limit_down"]]
          symbol    volume       amount  prev_close  limit_up  limit_down
    0  600000.SH  25001200  215010320.0        8.55      9.41         7.7
    """
    bars, _, _, files = _import_bars(path, source, adj_factors, securities)
    if lines := files.maybe_bars():
        warnings.warn(f"{_label(path)}: {len(lines)} entries that may hold bars not read: "
                      f"{'; '.join(lines[:5])}{' ...' if len(lines) > 5 else ''}",
                      DataWarning, stacklevel=2)
    return bars


# -- other tables -----------------------------------------------------------------------------
def _duplicate_keys(t: cr.Table, keys: list[np.ndarray], columns: list[str]) -> None:
    dup = pd.DataFrame(dict(enumerate(keys))).duplicated(keep=False).to_numpy()
    t.fail(dup, ", ".join(columns), "duplicate key; each may appear once")


def import_adj_factors(path: PathLike) -> pd.DataFrame:
    """Read a tushare ``adj_factor`` export (``ts_code, trade_date, adj_factor``).

    Returns
    -------
    pandas.DataFrame
        ``symbol, date, adj_factor`` (backward factor, positive), sorted by symbol and date.

    Raises
    ------
    DataError
        Missing columns, unparseable cells, non-positive factors or a duplicate
        ``(ts_code, trade_date)``, naming file, line and column.
    """
    t = cr.read_table(path)
    cr.pick_layout(t, "tushare", {"tushare": ADJ_FACTOR_LAYOUT}, "adjustment factor")
    symbol, date = cr.symbols(t, "ts_code"), cr.dates(t, "trade_date", "%Y%m%d")
    factor = cr.numbers(t, "adj_factor")
    t.fail(factor <= 0, "adj_factor", "adjustment factor must be positive")
    _duplicate_keys(t, [symbol, date], ["ts_code", "trade_date"])
    out = pd.DataFrame({"symbol": pd.Series(symbol, dtype="str"),
                        "date": pd.Series(date, dtype="datetime64[ns]"), "adj_factor": factor})
    return out.sort_values(["symbol", "date"], ignore_index=True)


def import_securities(path: PathLike, *, symbols: Collection[str] | None = None) -> pd.DataFrame:
    """Read a tushare ``stock_basic`` export into the security master (``SECURITY_COLUMNS``).

    Exchange and board come from the code (``workbench.symbols``), ``sector`` from
    ``industry``, ``list_date`` and ``delist_date`` (NaT when absent or empty) from the file.
    ``delist_date`` is the first day the stock is no longer listed: the engine settles a
    holding on the first session on or after it. tushare exports each ``list_status``
    separately (``L`` listed, ``D`` delisted, ``P`` listing suspended); where the column is
    given, ``D`` needs a ``delist_date`` and ``L`` may not have one. ``stock_basic`` is a
    snapshot of one day: its names are that day's (with prefixes such as ``XD`` or ``*ST``)
    and are not used for ST history.

    Parameters
    ----------
    path
        The CSV file.
    symbols
        Keep only these canonical symbols (rows for other codes, including codes the
        workbench does not know, are not parsed); default every row, strictly.

    Raises
    ------
    DataError
        Missing columns, a bad code or date, a symbol listed twice, a ``list_status`` other
        than L, D or P or at odds with ``delist_date``, or a ``delist_date`` not after
        ``list_date``, naming file, line and column.
    """
    t = cr.read_table(path)
    cr.pick_layout(t, "tushare", {"tushare": SECURITY_LAYOUT}, "security master")
    if symbols is not None:
        canonical = pd.Series(t.column("ts_code"), dtype=object).map(
            cr.symbol_map(t.column("ts_code")))
        t = t.take(canonical.isin(set(symbols)).to_numpy())
    symbol = cr.symbols(t, "ts_code")
    _duplicate_keys(t, [symbol], ["ts_code"])
    delist = (cr.dates(t, "delist_date", "%Y%m%d", allow_missing=True)
              if "delist_date" in t.columns else np.full(len(t), np.datetime64("NaT"), "M8[ns]"))
    listed = cr.dates(t, "list_date", "%Y%m%d")
    t.fail(~np.isnat(delist) & (delist <= listed), "delist_date",
           "delist_date must be after list_date (it is the first day no longer listed)")
    if "list_status" in t.columns:
        status = t.column("list_status")
        t.fail(~t.missing("list_status") & ~np.isin(status, ["L", "D", "P"]), "list_status",
               f"list_status must be L (listed), D (delisted) or P (listing suspended), got "
               f"{sorted(set(status) - {'L', 'D', 'P'})[:3]}")
        t.fail((status == "D") & np.isnat(delist), "delist_date",
               "list_status D (delisted) without a delist_date; give the first day the stock "
               "was no longer listed")
        t.fail((status == "L") & ~np.isnat(delist), "delist_date",
               "list_status L (listed) with a delist_date; one of the two is wrong")
    out = pd.DataFrame({
        "symbol": symbol,
        # numpy's stubs reject None, a valid (object) scalar for np.where:
        "name": np.where(t.missing("name"), None, t.column("name")),  # type: ignore[call-overload]
        "exchange": [s[-2:] for s in symbol],
        "board": [str(b) for b in boards_of(symbol)],
        "sector": np.where(t.missing("industry"), None,  # type: ignore[call-overload]
                           t.column("industry")),
        "list_date": listed,
        "delist_date": delist,
    }, columns=list(SECURITY_COLUMNS))
    return _security_dtypes(out).sort_values("symbol", ignore_index=True)


def _read_securities(paths: PathLike | Sequence[PathLike],
                     symbols: Collection[str]) -> pd.DataFrame:
    """The security master from one ``stock_basic`` export or several (a symbol in one)."""
    files = as_paths(paths)
    frames = [import_securities(f, symbols=symbols).assign(_file=i)
              for i, f in enumerate(files)]
    master = pd.concat(frames, ignore_index=True)
    twice = master["symbol"].duplicated(keep=False)
    if twice.any():
        sym = master.loc[twice, "symbol"].iloc[0]
        where_ = [str(files[i]) for i in master.loc[master["symbol"] == sym, "_file"]]
        raise DataError(f"{' and '.join(where_)}: column 'ts_code': {sym} is in more than one "
                        "security master; give each stock once (e.g. the listed and the "
                        "delisted stocks' stock_basic exports, which do not overlap)")
    return master.drop(columns="_file").sort_values("symbol", ignore_index=True)


def _security_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype({"symbol": "str", "name": "str", "exchange": "str", "board": "str",
                         "sector": "str", "list_date": "datetime64[ns]",
                         "delist_date": "datetime64[ns]"})


def import_benchmark(path: PathLike, source: str = "auto") -> pd.DataFrame:
    """Read a benchmark index export (baostock index daily or tushare ``index_daily``).

    Returns
    -------
    pandas.DataFrame
        ``BENCHMARK_COLUMNS`` in index points, volume in shares and amount in CNY (tushare's
        lots and thousands converted), float64, NaN where the file is empty (e.g. baostock
        has no amount before 2018; a close-only series such as CSI's total-return H00300
        has no open, high or low), sorted by date.

    Raises
    ------
    DataError
        Unknown layout, bad cells, more than one index in the file, duplicate dates or
        inconsistent prices, naming file, line and column.
    """
    t = cr.read_table(path)
    layout = cr.pick_layout(t, source, BENCHMARK_LAYOUTS, "benchmark")
    tushare = layout.name == "tushare"
    code, day = ("ts_code", "trade_date") if tushare else ("code", "date")
    t.fail(t.missing(code), code, "missing index code")
    codes = pd.unique(pd.Series(t.column(code), dtype=object))
    t.fail(t.column(code) != codes[0], code,
           f"a benchmark file holds one index; found {sorted(codes)[:5]}")
    date = cr.dates(t, day, "%Y%m%d" if tushare else "ISO8601")
    index_code = str(codes[0])
    _duplicate_keys(t, [date], [day])
    # Some series publish closes only (e.g. CSI's total-return indices): open, high and low
    # may be empty (NaN); the close may not.
    prices = {c: cr.numbers(t, c, allow_missing=c != "close")
              for c in ("open", "high", "low", "close")}
    for c, v in prices.items():
        t.fail(v <= 0, c, "non-positive index level")
    t.fail(prices["high"] < np.maximum(prices["open"], prices["close"]) - 1e-9, "high",
           "high below max(open, close)")
    t.fail(prices["low"] > np.minimum(prices["open"], prices["close"]) + 1e-9, "low",
           "low above min(open, close)")
    vol_col = "vol" if tushare else "volume"
    volume = cr.numbers(t, vol_col, allow_missing=True) * (100.0 if tushare else 1.0)
    amount = cr.numbers(t, "amount", allow_missing=True) * (1000.0 if tushare else 1.0)
    t.fail(volume < 0, vol_col, "negative volume")
    t.fail(amount < 0, "amount", "negative amount")
    out = pd.DataFrame({"date": pd.Series(date, dtype="datetime64[ns]"), **prices,
                        "volume": volume, "amount": amount}, columns=list(BENCHMARK_COLUMNS))
    validate_benchmark(out, source=str(t.path), lines=t.lines)
    out = out.sort_values("date", ignore_index=True)
    out.attrs["index_code"] = index_code  # names the benchmark (data.provenance)
    return out


def import_index_weights(
    path: PathLike | Sequence[PathLike], *, names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Read tushare ``index_weight`` exports into index-membership spells.

    Each file holds snapshots: the constituents (``con_code``) of an index (``index_code``)
    on dates (``trade_date``, YYYYMMDD), with their ``weight`` in percent (optional, not
    kept). The snapshots become spells by the convention of
    :mod:`workbench.data.membership`: a stock is a member from a snapshot that lists it
    until the first later snapshot that does not (``end``, exclusive); a member of the
    index's last snapshot stays one (``end`` NaT); before the first snapshot nothing is
    known. An index is named by :func:`~workbench.data.membership.index_name`
    (``399300.SZ`` and ``000300.SH`` → ``'csi300'``; an unknown code stays the code) unless
    ``names`` maps its code.

    Parameters
    ----------
    path
        A CSV file, or a list of them (their snapshots are pooled per index).
    names
        Universe name per ``index_code`` as the file spells it, overriding the default.

    Returns
    -------
    pandas.DataFrame
        ``schema.INDEX_MEMBER_COLUMNS``; ``attrs["snapshots"]`` holds, per index, its code(s),
        the number of snapshots and the first and last snapshot date (ISO).

    Raises
    ------
    DataError
        Missing columns, a missing or bad code or date, a negative or non-numeric weight, or
        the same (index_code, con_code, trade_date) twice, naming file, line and column.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "index_weight.csv"
    >>> _ = f.write_text("index_code,con_code,trade_date,weight\\n"
    ...                  "399300.SZ,600000.SH,20240102,0.5\\n399300.SZ,000001.SZ,20240102,0.6\\n"
    ...                  "399300.SZ,600000.SH,20240201,0.5\\n")
    >>> import_index_weights(f)
        index     symbol      start        end
    0  csi300  000001.SZ 2024-01-02 2024-02-01
    1  csi300  600000.SH 2024-01-02        NaT
    """
    frames = []
    for file in as_paths(path):
        t = cr.read_table(file)
        cr.pick_layout(t, "tushare", {"tushare": INDEX_WEIGHT_LAYOUT}, "index weight")
        t.fail(t.missing("index_code"), "index_code", "missing index code")
        code = t.column("index_code")
        symbol = cr.symbols(t, "con_code")
        date = cr.dates(t, "trade_date", "%Y%m%d")
        if "weight" in t.columns:
            weight = cr.numbers(t, "weight", allow_missing=True)
            t.fail(weight < 0, "weight", "negative weight; weights are percent of the index")
        _duplicate_keys(t, [code, symbol, date], ["index_code", "con_code", "trade_date"])
        frames.append(pd.DataFrame({"code": code, "symbol": symbol, "date": date}))
    rows = pd.concat(frames, ignore_index=True)
    given = dict(names or {})
    rows["index"] = rows["code"].map(lambda c: given.get(c, index_name(c)))
    snapshots = {
        str(name): {"codes": sorted(set(g["code"])), "snapshots": int(g["date"].nunique()),
                    "first": str(g["date"].min().date()), "last": str(g["date"].max().date())}
        for name, g in rows.groupby("index", sort=True)}
    rows = rows.drop_duplicates(["index", "symbol", "date"])  # one index under two codes
    spells = spells_from_snapshots(rows["index"].to_numpy(dtype=object),
                                   rows["symbol"].to_numpy(dtype=object),
                                   rows["date"].to_numpy(dtype="datetime64[ns]"))
    spells = spells.sort_values(["index", "symbol", "start"], ignore_index=True)
    spells.attrs["snapshots"] = snapshots
    return spells


# -- a whole Market ---------------------------------------------------------------------------
def _empty_fundamentals() -> pd.DataFrame:
    dtypes = {c: "float64" for c in FUNDAMENTAL_COLUMNS}
    dtypes.update(symbol="str", period_end="datetime64[ns]", announce_date="datetime64[ns]")
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def _securities_for(bars: pd.DataFrame, master: pd.DataFrame | None,
                    label: str | None) -> pd.DataFrame:
    """One security row per bar symbol; symbols the master lacks get a warned stub row."""
    first = bars.groupby("symbol", observed=True)["date"].min()
    wanted = pd.Index(first.index.astype(str), name="symbol")
    have = (master.loc[master["symbol"].isin(wanted)] if master is not None
            else pd.DataFrame(columns=list(SECURITY_COLUMNS)))
    lacking = wanted.difference(have["symbol"].astype(str))
    if len(lacking):
        stub = pd.DataFrame({
            "symbol": lacking, "name": None, "exchange": [s[-2:] for s in lacking],
            "board": [str(b) for b in boards_of(lacking)], "sector": None,
            "list_date": first.reindex(lacking).to_numpy(dtype="datetime64[ns]"),
            "delist_date": pd.NaT,
        }, columns=list(SECURITY_COLUMNS))
        listed = f"{', '.join(lacking[:5])}{' ...' if len(lacking) > 5 else ''}"
        what = (f"{len(lacking)} bar symbols missing from {label} ({listed})" if master is not None
                else f"no security master given for the {len(lacking)} bar symbols ({listed})")
        warnings.warn(
            f"{what}: their securities rows have no name or sector (missing values) and "
            "list_date = their first bar (the real listing may be earlier); pass a tushare "
            "stock_basic export as securities= (--securities)",
            DataWarning, stacklevel=3)
        have = stub if master is None else pd.concat([have, stub], ignore_index=True)
    return _security_dtypes(have).sort_values("symbol", ignore_index=True)


def _benchmark_for(bars: pd.DataFrame, bench: pd.DataFrame, label: str) -> pd.DataFrame:
    """The benchmark on the bars' sessions; sessions it lacks, and days it has that are no
    session of the bars (dropped), are warned about."""
    lo, hi = bars["date"].min(), bars["date"].max()
    inside = bench.loc[(bench["date"] >= lo) & (bench["date"] <= hi)].reset_index(drop=True)
    days = pd.DatetimeIndex(bars["date"].unique())
    lacking = days.difference(pd.DatetimeIndex(inside["date"]))
    if len(lacking):
        warnings.warn(f"{label}: benchmark lacks {len(lacking)} sessions of the bars (first "
                      f"{lacking[0].date()})", DataWarning, stacklevel=3)
    extra = ~inside["date"].isin(days).to_numpy()
    if extra.any():
        shown = ", ".join(str(d.date()) for d in inside.loc[extra, "date"].head(5))
        warnings.warn(f"{label}: {int(extra.sum())} benchmark rows fall on days that are no "
                      f"session of the bars ({shown}); dropped", DataWarning, stacklevel=3)
        inside = inside.loc[~extra].reset_index(drop=True)
    return inside


def _read_benchmark(benchmark: PathLike | pd.DataFrame | None
                    ) -> tuple[pd.DataFrame | None, dict[str, str], object, str]:
    """The benchmark table, its identity and inputs for ``meta.json``, and its label."""
    if benchmark is None:
        return None, benchmark_identity(None), None, ""
    if not isinstance(benchmark, pd.DataFrame):
        index = import_benchmark(benchmark)
        return (index, benchmark_identity(index.attrs["index_code"]), _str(benchmark),
                str(benchmark))
    require_columns(benchmark, BENCHMARK_COLUMNS, source="benchmark table",
                    hint="Build it with import_benchmark or import_total_return.")
    code = benchmark.attrs.get("index_code")
    meta = dict(benchmark.attrs.get("benchmark") or (
        benchmark_identity(code) if code else
        {"code": "", "name": "unnamed index", "kind": "price"}))
    inputs = benchmark.attrs.get("inputs")
    label = str(inputs["bars"]) if isinstance(inputs, dict) else "benchmark table"
    return benchmark, meta, inputs or label, label


def import_market(
    *,
    bars: PathLike | Sequence[PathLike],
    adj_factors: PathLike | None = None,
    securities: PathLike | Sequence[PathLike] | None = None,
    benchmark: PathLike | pd.DataFrame | None = None,
    index_weights: PathLike | Sequence[PathLike] | None = None,
    dividends: PathLike | Sequence[PathLike] | None = None,
    out: PathLike,
    name: str | None = None,
) -> Market:
    """Import exports into a :class:`~workbench.data.Market`, write it to ``out`` and return it.

    Parameters
    ----------
    bars
        Folder (or file) of daily bar exports, or a list of them, see :func:`import_bars`.
        Delisted stocks' bars (e.g. in a folder of their own) go in the same list.
    adj_factors
        tushare ``adj_factor`` CSV; without it adj_factor is 1.0 and a warning says so. A
        symbol it lacks altogether gets the factors its own ``preclose`` implies (warned).
    securities
        tushare ``stock_basic`` CSV, or several (the listed and the delisted stocks' exports,
        whose ``delist_date`` drives the engine's delisting settlement). Only symbols in the
        bars are kept; a bar symbol they lack (or every symbol, when not given) gets a row
        with a missing name and sector and ``list_date`` = its first bar, with a
        ``DataWarning``; no bar is dropped.
    benchmark
        Index CSV (:func:`import_benchmark`), or a benchmark table such as
        :func:`workbench.data.total_return.import_total_return` returns (an ETF's total
        return, named by its ``attrs["benchmark"]``), cut to the bars' sessions; a session
        of the bars it lacks, or a row on a day that is no session of the bars (dropped), is
        a ``DataWarning``. Without it the benchmark table is empty.
    index_weights
        tushare ``index_weight`` CSV (or several): index membership snapshots, stored as
        the ``index_members`` spells (:func:`import_index_weights`), so that
        ``market.universe(day, index="csi300")`` and ``BacktestConfig(universe="csi300")``
        work. Without it the table is empty.
    dividends
        tushare ``dividend`` or baostock ``query_dividend_data`` CSV (or several): the
        ``corporate_actions`` events (:func:`workbench.data.dividends.import_dividends`,
        ``source='vendor'``). Without it the events are derived from the jumps of the bars'
        ``adj_factor`` (:func:`workbench.data.corporate.events_from_factors`,
        ``source='derived'``: cash and shares inferred by a stated rule, no dates but the
        ex-date); none when adj_factor never changes.
    out
        Market folder to write: absent (created), empty, or a Market folder, replaced
        atomically (see :func:`save_market`); anything else is refused before any work
        (:func:`workbench.data.importfiles.check_out_folder`), so no user data is deleted.
    name
        Dataset name in ``meta.json``; default the folder name of ``out``.

    Returns
    -------
    Market
        The imported market. ``meta["bar_inputs"]`` lists every bar file read (its layout
        and rows, every row a bar) and every file under the bar folders not read, with the
        reason (hidden, not .csv, empty, ...). ``fundamentals`` is empty (exports carry
        daily valuation ratios, ``pe_ttm`` and ``pb_mrq`` on the bars, not point-in-time
        statements).

    Raises
    ------
    ConfigError
        ``out`` is a file, the current directory, an input or a folder holding one, or a
        folder of anything but a Market; nothing is read or deleted.
    DataError
        Any malformed input, naming file, line and column.
    """
    inputs = {"bars": bars, "adj_factors": adj_factors, "securities": securities,
              "benchmark": None if isinstance(benchmark, pd.DataFrame) else benchmark,
              "index_weights": index_weights, "dividends": dividends}
    check_out_folder(out, inputs)  # before the work: never delete user data
    factors = import_adj_factors(adj_factors) if adj_factors is not None else None
    frame, parts, master, files = _import_bars(bars, "auto", factors, securities)
    sec = _securities_for(frame, master, _label(securities) if securities is not None else None)
    index, bench_meta, bench_input, bench_label = _read_benchmark(benchmark)
    bench = (_benchmark_for(frame, index, bench_label) if index is not None
             else pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "date" else float)
                                for c in BENCHMARK_COLUMNS}))
    bench_rows = None
    if index is not None:  # every row of the benchmark accounted for
        lo, hi = frame["date"].min(), frame["date"].max()
        outside = int(((index["date"] < lo) | (index["date"] > hi)).sum())
        bench_rows = {"read": len(index), "kept": len(bench),
                      "dropped_outside_the_bars_dates": outside,
                      "dropped_on_days_no_bar_session": len(index) - len(bench) - outside}
    members = (import_index_weights(index_weights) if index_weights is not None
               else empty_spells())
    actions = (import_dividends(dividends) if dividends is not None
               else events_from_factors(frame))
    layouts = pd.Series([p.layout for p in parts]).value_counts().sort_index().to_dict()
    notes = [
        "prices raw (CNY); close * adj_factor is the adjusted close",
        "prev_close from the source where given, else derived from the previous close "
        "and adj_factor (ex-rights), rounded to the fen",
        "benchmark cut to the bars' date range",
        "fundamentals empty: exports carry daily pe_ttm / pb_mrq on the bars instead",
    ]
    if "derived_from" in bench_meta:
        notes.append(f"benchmark: total return derived from {bench_meta['derived_from']}, "
                     "pre-tax cash reinvested at the ex-date close "
                     "(workbench.data.total_return)")
    meta: dict[str, object] = {
        "name": name or Path(out).name,
        "source": "import",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "inputs": {"bars": _str(bars), "adj_factors": _str(adj_factors),
                   "securities": _str(securities), "benchmark": bench_input,
                   "index_weights": _str(index_weights), "dividends": _str(dividends)},
        "bar_files": {k: int(v) for k, v in layouts.items()},
        "bar_inputs": {  # every file found: read (with its rows, each kept) or not, and why
            "read": [{"file": str(p.path), "layout": p.layout, "rows": len(p.frame)}
                     for p in parts],
            "ignored": [{"file": str(f), "reason": why} for f, why in files.ignored]},
        "benchmark": bench_meta,
        **({"benchmark_rows": bench_rows} if bench_rows is not None else {}),
        "sector_map": "snapshot" if securities is not None else "none",
        "notes": notes,
    }
    if index_weights is not None:
        meta["index_members"] = members.attrs.pop("snapshots", {})
        notes.append("index membership from snapshots: a member from a snapshot listing it "
                     "until the first snapshot without it; nothing known before the first "
                     "snapshot")
    meta["corporate_actions"] = {"source": "vendor" if dividends is not None else "derived",
                                 "events": len(actions)}
    notes.append(f"corporate actions: {len(actions)} events from the dividend export(s)"
                 if dividends is not None else
                 f"corporate actions: {len(actions)} events derived from adj_factor jumps "
                 "(cash vs shares inferred: workbench.data.corporate.events_from_factors)")
    market = Market(bars=frame, securities=sec, fundamentals=_empty_fundamentals(),
                    st_periods=st_periods(frame), benchmark=bench, meta=meta,
                    index_members=members, corporate_actions=actions)
    for note in survivorship_notes(market):
        warnings.warn(f"{_label(bars)}: {note}", DataWarning, stacklevel=2)
    check_out_folder(out, inputs)  # again: the folder may have changed while importing
    save_market(market, out)
    return market


def _str(path: PathLike | Sequence[PathLike] | None) -> str | list[str] | None:
    """A path as text for ``meta.json`` (several as a list; a list of one as that one)."""
    if path is None:
        return None
    paths = [str(p) for p in as_paths(path)]
    return paths[0] if len(paths) == 1 else paths
