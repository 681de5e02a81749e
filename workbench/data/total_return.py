"""A total-return index derived from one security's daily closes and its payouts.

A price index (or an ETF's price) leaves dividends out, so a strategy that collects them looks
better against it than it is. The total-return view reinvests every payout on its ex-date:

.. math::

    TR_t = TR_{t-1} \\cdot \\frac{close_t \\, (1 + s_t + r_t) + D_t}{close_{t-1} + r_t \\, p_t}

with ``close`` the raw (unadjusted) close in CNY, ``D_t`` the cash paid per share going ex on
session ``t`` (CNY, **before tax**: gross, as CSI's 全收益 total-return indices such as H00300
count it; CSI's 净收益 net-return indices deduct the tax instead), ``s_t`` the bonus (送) plus
transfer (转增) shares per share held, and ``r_t`` rights shares (配股) per share taken up at
``p_t`` CNY each (the subscription money is added to the capital invested).
On a day without an event this is ``close_t / close_{t-1}``; with cash only it is
``(close_t + D_t) / close_{t-1}``: the standard daily total-return convention, the cash
reinvested at the ex-date's close. ``TR_0`` is the base (default the first close, so the index
starts at the security's price). :func:`total_return_index` computes it from a close series
and ``corporate_actions`` events; :func:`import_total_return` reads the exports (an ETF's
or any security's bars and its dividend exports) and returns a benchmark table a Market can
hold (:func:`workbench.data.importers.import_market`, ``--benchmark-etf`` on the command line).

Exports read here (each file's layout recognised from its header):

* bars of one security (:data:`SECURITY_BAR_LAYOUTS`): tushare ``daily`` / ``fund_daily``,
  akshare ``stock_zh_a_hist`` / ``fund_etf_hist_em`` (the code from the file name when there
  is no ``股票代码`` column), baostock ``query_history_k_data_plus``, or canonical bars; only
  the date, code and raw close are used.
* dividends: a fund's tushare ``fund_div`` export (:data:`FUND_DIVIDEND_LAYOUT`, ``div_cash``
  per unit, which individual holders receive untaxed, so gross and net are the same), or a
  stock's tushare ``dividend`` / baostock ``query_dividend_data`` export
  (:func:`workbench.data.dividends.import_dividends`, pre-tax cash). Events of other
  securities in the files are ignored.

Exchange-traded funds' codes (``510300.SH``, ``sz.159919``) are accepted here although a
Market's securities are A shares only. Fund share splits (份额折算) are in no dividend export:
a close that moves by more than :data:`UNEXPLAINED_MOVE` on a day without an event warns.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.data import csvread as cr
from workbench.data.corporate import actions_frame
from workbench.data.csvread import Layout, PathLike
from workbench.data.dividends import DIVIDEND_LAYOUTS, import_dividends
from workbench.data.schema import BENCHMARK_COLUMNS, CORPORATE_ACTION_COLUMNS
from workbench.data.validation import where
from workbench.errors import ConfigError, DataError, DataWarning
from workbench.symbols import normalize_symbol

__all__ = [
    "FUND_DIVIDEND_LAYOUT",
    "SECURITY_BAR_LAYOUTS",
    "UNEXPLAINED_MOVE",
    "import_total_return",
    "security_code",
    "total_return_index",
]

#: The columns used from one security's bar export, per layout (other columns are ignored).
SECURITY_BAR_LAYOUTS: dict[str, Layout] = {
    "tushare": Layout(name="tushare", export="tushare pro daily / fund_daily",
                      required=("ts_code", "trade_date", "close")),
    "akshare": Layout(name="akshare", export="akshare stock_zh_a_hist / fund_etf_hist_em",
                      required=("日期", "收盘"), optional=("股票代码",)),
    "baostock": Layout(name="baostock", export="baostock query_history_k_data_plus",
                       required=("date", "code", "close")),
    "canonical": Layout(name="canonical", export="workbench canonical bars",
                        required=("date", "symbol", "close")),
}
#: tushare ``fund_div`` (公募基金分红): cash per fund unit, by exchange ex-date (除息日).
FUND_DIVIDEND_LAYOUT = Layout(
    name="tushare_fund", export="tushare pro fund_div",
    required=("ts_code", "div_proc", "ex_date", "div_cash"),
    optional=("ann_date", "imp_anndate", "base_date", "record_date", "pay_date",
              "earpay_date", "net_ex_date", "base_unit", "ear_distr", "ear_amount",
              "account_date", "base_year"))
#: A day's close-to-close move (as a fraction, either way) beyond which a day without any
#: event warns: no A-share listed security's daily limit comes near 30 %, so such a move is
#: most likely a share split or consolidation the dividend exports do not carry.
UNEXPLAINED_MOVE = 0.30

_IMPLEMENTED = "实施"
_EXCHANGE_CODE = re.compile(
    r"^\s*(?:(?P<pre>sh|sz)\.?(?P<c1>\d{6})|(?P<c2>\d{6})(?:\.(?P<suf>sh|sz))?)\s*$", re.I)


def security_code(raw: object) -> str:
    """Canonical ``CODE.EX`` of an exchange-traded security: an A share or a listed fund.

    A-share codes follow :func:`workbench.symbols.normalize_symbol`; other six-digit codes
    need their exchange (``sh.510300``, ``510300.SH``), except bare fund codes starting with
    5 (Shanghai) or 1 (Shenzhen).

    Raises
    ------
    DataError
        For anything else, e.g. an off-exchange fund (``.OF``), which has no exchange price.

    Examples
    --------
    >>> [security_code(c) for c in ("sh.510300", "159919.SZ", "510500", "sh600519")]
    ['510300.SH', '159919.SZ', '510500.SH', '600519.SH']
    """
    try:
        return normalize_symbol(raw)
    except DataError:
        pass
    m = _EXCHANGE_CODE.match(str(raw))
    code = (m["c1"] or m["c2"]) if m else ""
    exchange = ((m["pre"] or m["suf"] or "").upper() if m else "") or (
        {"5": "SH", "1": "SZ"}.get(code[:1], ""))
    if not code or not exchange:
        raise DataError(f"security code {raw!r} names no exchange-traded security; write it "
                        "like '510300.SH', 'sz.159919' or '600519.SH' (off-exchange funds, "
                        ".OF, have no exchange price)")
    return f"{code}.{exchange}"


def total_return_index(close: pd.Series, actions: pd.DataFrame, *,
                       base: float | None = None) -> pd.Series:
    """The total-return index of one security (formula and conventions: module docstring).

    Parameters
    ----------
    close
        Raw (unadjusted) daily closes in CNY, indexed by session date (ascending, unique).
    actions
        That security's ``corporate_actions`` events (``schema.CORPORATE_ACTION_COLUMNS``,
        e.g. from :func:`~workbench.data.dividends.import_dividends`), cash before tax. An
        event whose ex-date is no session of ``close`` applies on the next session; one on
        or before the first session (already in the first close) or after the last is left
        out.
    base
        ``TR`` on the first session, in index points; default the first close.

    Returns
    -------
    pandas.Series
        The index on every session of ``close`` (name ``'total_return'``); ``attrs`` holds
        ``events`` (applied) and ``outside`` (left out).

    Raises
    ------
    DataError
        A non-positive or missing close, dates out of order or repeated, events of more than
        one security, or a rights issue without a positive price.
    ConfigError
        A base that is not a positive number.

    Examples
    --------
    Cash 0.5 CNY going ex on the second day, then 10-for-10 bonus shares on the third:

    >>> close = pd.Series([10.0, 9.8, 5.0],
    ...                   index=pd.to_datetime(["2024-07-01", "2024-07-02", "2024-07-03"]))
    >>> ev = actions_frame(symbol=np.array(["600000.SH"] * 2),
    ...                    ex_date=np.array(["2024-07-02", "2024-07-03"], dtype="M8[ns]"),
    ...                    source="vendor", cash_pre_tax_cny=np.array([0.5, 0.0]),
    ...                    bonus_ratio=np.array([0.0, 1.0]))
    >>> total_return_index(close, ev, base=100.0).round(4).tolist()
    [100.0, 103.0, 105.102]
    """
    days = pd.DatetimeIndex(close.index)
    c = close.to_numpy(dtype=float)
    if not len(c):
        raise DataError("no closes given; a total-return index needs at least one session")
    if not (days.is_monotonic_increasing and days.is_unique):
        raise DataError("closes must be indexed by unique session dates in ascending order")
    if (bad := ~(np.isfinite(c) & (c > 0))).any():
        raise DataError(f"close on {days[bad][0].date()} is {float(c[bad][0])!r}; every "
                        "close must be a positive price")
    start = c[0] if base is None else base
    if not (isinstance(start, (int, float)) and np.isfinite(start) and start > 0):
        raise ConfigError(f"base must be a positive number of index points, got {base!r}")
    if missing := [k for k in CORPORATE_ACTION_COLUMNS if k not in actions.columns]:
        raise DataError(f"events lack columns {missing}; build them with "
                        "workbench.data.corporate.actions_frame")
    if len(names := sorted(set(actions["symbol"].astype(str)))) > 1:
        raise DataError(f"events of {len(names)} securities ({', '.join(names[:3])}); give "
                        "those of the one security the closes are of")
    rights = actions["rights_ratio"].to_numpy(dtype=float)
    price = np.nan_to_num(actions["rights_price_cny"].to_numpy(dtype=float), nan=0.0)
    if ((rights > 0) & (price <= 0)).any():
        raise DataError("a rights issue (rights_ratio > 0) needs a positive rights_price_cny")
    at = np.searchsorted(days.to_numpy(dtype="datetime64[ns]"),
                         actions["ex_date"].to_numpy(dtype="datetime64[ns]"), side="left")
    inside = (at >= 1) & (at < len(c))
    per_day = {k: np.zeros(len(c)) for k in ("cash", "shares", "rights", "paid")}
    for key, values in (
            ("cash", actions["cash_pre_tax_cny"].to_numpy(dtype=float)),
            ("shares", (actions["bonus_ratio"] + actions["transfer_ratio"]).to_numpy(float)),
            ("rights", rights), ("paid", rights * price)):
        np.add.at(per_day[key], at[inside], values[inside])
    growth = np.ones(len(c))
    growth[1:] = ((c[1:] * (1.0 + per_day["shares"][1:] + per_day["rights"][1:])
                   + per_day["cash"][1:]) / (c[:-1] + per_day["paid"][1:]))
    out = pd.Series(float(start) * np.cumprod(growth), index=days, name="total_return")
    out.attrs.update(events=int(inside.sum()), outside=int((~inside).sum()))
    return out


def _read_closes(path: PathLike, source: str) -> tuple[str, pd.Series, np.ndarray, str]:
    """The security's code, its closes by date, each row's file line, and the layout."""
    t = cr.read_table(path)
    layout = cr.pick_layout(t, source, SECURITY_BAR_LAYOUTS, "security bar")
    day, fmt, code_col, close_col = {
        "tushare": ("trade_date", "%Y%m%d", "ts_code", "close"),
        "akshare": ("日期", "ISO8601", "股票代码", "收盘"),
        "baostock": ("date", "ISO8601", "code", "close"),
        "canonical": ("date", "ISO8601", "symbol", "close")}[layout.name]
    if code_col in t.columns:
        t.fail(t.missing(code_col), code_col, "missing security code")
        raw = t.column(code_col)
        t.fail(raw != raw[0], code_col, f"a benchmark's bar file holds one security; found "
                                        f"{sorted(set(raw))[:3]}")
        try:
            code = security_code(raw[0])
        except DataError as exc:
            t.fail(np.ones(len(t), dtype=bool), code_col, str(exc))
    else:  # akshare exports without 股票代码 are named after the security
        stem = t.path.name.rsplit(".csv", 1)[0]
        try:
            code = security_code(stem)
        except DataError as exc:
            raise DataError(f"{t.path}: no {code_col} column and the file name does not name "
                            f"the security ({exc}); add the column or name the file after "
                            "the code, e.g. 510300.SH.csv") from None
    dates = cr.dates(t, day, fmt)
    prices = cr.numbers(t, close_col)
    t.fail(prices <= 0, close_col, "non-positive close")
    t.fail(pd.Series(dates).duplicated(keep=False).to_numpy(), day,
           "duplicate date; a security has one bar per session")
    order = np.argsort(dates, kind="stable")
    closes = pd.Series(prices[order], index=pd.DatetimeIndex(dates[order]), name=close_col)
    return code, closes, t.lines[order], layout.name


def _fund_events(t: cr.Table, code: str) -> pd.DataFrame:
    """The implemented ``fund_div`` rows of ``code`` as events (other rows ignored)."""
    mapping: dict[str, str | None] = {}
    for raw in pd.unique(pd.Series(t.column("ts_code"), dtype=object)):
        try:
            mapping[raw] = security_code(raw)
        except DataError:
            mapping[raw] = None  # another (e.g. off-exchange) fund
    mine = (pd.Series(t.column("ts_code"), dtype=object).map(mapping) == code).to_numpy()
    t = t.take(mine & (t.column("div_proc") == _IMPLEMENTED))
    cash = cr.numbers(t, "div_cash")
    t.fail(cash < 0, "div_cash", "negative cash per unit")
    dated = {c: (cr.dates(t, c, "%Y%m%d", allow_missing=True) if c in t.columns
                 else np.full(len(t), np.datetime64("NaT"), "M8[ns]"))
             for c in ("record_date", "pay_date", "imp_anndate", "ann_date")}
    announce = np.where(np.isnat(dated["imp_anndate"]), dated["ann_date"], dated["imp_anndate"])
    return actions_frame(symbol=np.full(len(t), code, dtype=object),
                         ex_date=cr.dates(t, "ex_date", "%Y%m%d"), source="vendor",
                         record_date=dated["record_date"], pay_date=dated["pay_date"],
                         announce_date=announce, cash_pre_tax_cny=cash)


def _events_of(code: str, dividends: PathLike | Sequence[PathLike]) -> pd.DataFrame:
    files = [dividends] if isinstance(dividends, (str, os.PathLike)) else list(dividends)
    layouts = {**DIVIDEND_LAYOUTS, FUND_DIVIDEND_LAYOUT.name: FUND_DIVIDEND_LAYOUT}
    frames = []
    for file in files:
        t = cr.read_table(file)
        layout = cr.pick_layout(t, "auto", layouts, "dividend")
        events = (_fund_events(t, code) if layout is FUND_DIVIDEND_LAYOUT
                  else import_dividends(file, source=layout.name))
        frames.append(events.loc[events["symbol"] == code])
    events = pd.concat(frames, ignore_index=True)
    if events.empty:
        warnings.warn(f"{' + '.join(str(f) for f in files)}: no implemented dividend of {code}; "
                      "its total return equals its price return. Export the dividends of "
                      f"{code} (tushare fund_div for a fund, dividend for a stock)",
                      DataWarning, stacklevel=3)
    return events.sort_values("ex_date", kind="stable", ignore_index=True)


def import_total_return(
    bars: PathLike, dividends: PathLike | Sequence[PathLike], *,
    base: float | None = None, source: str = "auto",
) -> pd.DataFrame:
    """Read a security's bars and dividends and return its total-return index as a benchmark.

    Parameters
    ----------
    bars
        One CSV of one security's daily bars (:data:`SECURITY_BAR_LAYOUTS`), raw prices,
        e.g. the CSI 300 ETF 510300.SH.
    dividends
        Its dividend export(s): tushare ``fund_div`` for a fund, tushare ``dividend`` or
        baostock ``query_dividend_data`` for a stock (module docstring); rows of other
        securities are ignored.
    base
        Index level on the first bar; default the first close.
    source
        Layout of ``bars``: ``'auto'`` (from its header) or a key of
        :data:`SECURITY_BAR_LAYOUTS`.

    Returns
    -------
    pandas.DataFrame
        ``schema.BENCHMARK_COLUMNS`` with ``close`` the total-return index and open, high,
        low, volume and amount NaN (a close-only series, like CSI's H00300), sorted by date.
        ``attrs["benchmark"]`` names it for the Market's metadata (``name``, ``kind`` =
        ``'total return'``, ``code``, ``derived_from``), ``attrs["inputs"]`` holds the files,
        ``attrs["events"]`` the number of events applied.

    Raises
    ------
    DataError
        A header in no known layout, a bad cell, a non-positive close, a duplicate date, more
        than one security in the bar file, or an unreadable dividend row, naming file, line
        and column.

    Warns
    -----
    DataWarning
        No dividend of the security in the exports, or a close-to-close move beyond
        :data:`UNEXPLAINED_MOVE` on a day without an event (a split the exports miss?).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "510300.csv").write_text("ts_code,trade_date,close\\n510300.SH,20240614,3.6\\n"
    ...                                   "510300.SH,20240617,3.5\\n510300.SH,20240618,3.52\\n")
    >>> _ = (d / "fund_div.csv").write_text("ts_code,div_proc,ex_date,div_cash\\n"
    ...                                     "510300.SH,实施,20240617,0.1\\n")
    >>> bench = import_total_return(d / "510300.csv", d / "fund_div.csv", base=1000.0)
    >>> bench["close"].round(4).tolist()
    [1000.0, 1000.0, 1005.7143]
    >>> bench.attrs["benchmark"]["derived_from"]
    '510300.SH bars and dividends'
    """
    code, closes, lines, layout = _read_closes(bars, source)
    events = _events_of(code, dividends)
    level = total_return_index(closes, events, base=base)
    move = closes.to_numpy() / np.roll(closes.to_numpy(), 1) - 1.0
    ex = np.zeros(len(closes), dtype=bool)
    at = np.searchsorted(closes.index.to_numpy(), events["ex_date"].to_numpy("M8[ns]"))
    ex[at[at < len(ex)]] = True
    odd = np.flatnonzero((np.abs(move) > UNEXPLAINED_MOVE) & ~ex)
    odd = odd[odd > 0]
    if len(odd):
        warnings.warn(f"{where(str(bars), lines, odd)}: the close moves "
                      f"{move[odd[0]]:+.0%} on {closes.index[odd[0]].date()} with no dividend "
                      "event; a share split or consolidation (份额折算) the exports miss "
                      "would make the total return wrong from that day", DataWarning,
                      stacklevel=2)
    out = pd.DataFrame({c: np.full(len(level), np.nan) for c in BENCHMARK_COLUMNS})
    out["date"] = level.index.to_numpy(dtype="datetime64[ns]")
    out["close"] = level.to_numpy()
    files = [dividends] if isinstance(dividends, (str, os.PathLike)) else list(dividends)
    out.attrs.update(
        index_code=code, events=level.attrs["events"], layout=layout,
        benchmark={"name": code, "kind": "total return", "code": code,
                   "derived_from": f"{code} bars and dividends"},
        inputs={"bars": str(bars), "dividends": [str(f) for f in files]})
    return out
