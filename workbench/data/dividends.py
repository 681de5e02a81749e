"""Read dividend exports (tushare ``dividend``, baostock ``query_dividend_data``) into events.

Each file's layout is recognised from its header (``source="auto"``); the rows become
``corporate_actions`` events (``workbench.data.schema.CORPORATE_ACTION_COLUMNS``,
``source='vendor'``). Every fault raises :class:`~workbench.errors.DataError` naming the
file, the line (header = line 1) and the column.

* ``tushare`` — pro ``dividend``: ``ts_code, end_date, ann_date, div_proc, stk_div,
  stk_bo_rate, stk_co_rate, cash_div, cash_div_tax, record_date, ex_date, pay_date,
  div_listdate, imp_ann_date`` (dates YYYYMMDD). Only implemented rows (``div_proc`` =
  实施) are kept; plans (预案, 股东大会通过, ...) are dropped and counted. Cash:
  ``cash_div_tax`` is pre-tax and used where given; ``cash_div`` is *after* the tax withheld
  at payment, so where only it is given the pre-tax amount is ``cash_div / (1 - w)`` with
  ``w`` the rate withheld on the ex-date (:data:`WITHHELD_AT_PAYMENT`: 0 from 2015-09-08, 5 %
  from 2013-01-01, 10 % from 2005-06-13, 20 % before; e.g. 600036.SH 2015-07-03: 0.6365 /
  0.95 = 0.67), rounded to 0.0001 CNY. Shares: ``stk_bo_rate`` (送) and ``stk_co_rate`` (转)
  where either is given; where both are empty, ``stk_div`` (送 + 转 together) goes into
  ``bonus_ratio`` and ``transfer_ratio`` is 0 — the two cannot be told apart, and both
  credit shares on the ex-date alike. ``announce_date`` is ``imp_ann_date`` (the
  implementation announcement, when amounts and dates are final), else ``ann_date`` (the
  plan announcement).
* ``baostock`` — ``query_dividend_data``: ``code, dividPreNoticeDate, dividAgmPumDate,
  dividPlanAnnounceDate, dividPlanDate, dividRegistDate, dividOperateDate, dividPayDate,
  dividStockMarketDate, dividCashPsBeforeTax, dividCashPsAfterTax, dividStocksPs,
  dividCashStock, dividReserveToStockPs`` (dates YYYY-MM-DD). Rows without
  ``dividOperateDate`` (the ex-date) are plans not yet implemented: dropped and counted.
  ``dividCashPsBeforeTax`` → ``cash_pre_tax_cny``, ``dividStocksPs`` → ``bonus_ratio``,
  ``dividReserveToStockPs`` → ``transfer_ratio``, ``dividRegistDate`` → ``record_date``,
  ``dividPayDate`` → ``pay_date``, ``dividPlanDate`` (implementation announcement), else
  ``dividPlanAnnounceDate``, → ``announce_date``. The names and meanings are those of
  baostock's documentation (www.baostock.com, 除权除息信息), whose sample rows show why
  ``dividCashPsAfterTax`` is not read: it may be text with two rates by holding period
  (``0.6813或0.71915``).

Neither layout carries rights issues (配股): ``rights_ratio`` is 0. An implemented row that
carries no cash and no shares is dropped and counted (``attrs["empty"]``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.data import csvread as cr
from workbench.data.corporate import actions_frame
from workbench.data.csvread import Layout, PathLike
from workbench.rules import DIVIDEND_TAX

__all__ = ["DIVIDEND_LAYOUTS", "WITHHELD_AT_PAYMENT", "import_dividends", "pre_tax_cash"]

DIVIDEND_LAYOUTS: dict[str, Layout] = {
    "tushare": Layout(
        name="tushare", export="tushare pro dividend",
        required=("ts_code", "div_proc", "stk_div", "cash_div", "ex_date"),
        optional=("end_date", "ann_date", "stk_bo_rate", "stk_co_rate", "cash_div_tax",
                  "record_date", "pay_date", "div_listdate", "imp_ann_date")),
    "baostock": Layout(
        name="baostock", export="baostock query_dividend_data",
        required=("code", "dividOperateDate", "dividCashPsBeforeTax", "dividStocksPs",
                  "dividReserveToStockPs"),
        optional=("dividPreNoticeDate", "dividAgmPumDate", "dividPlanAnnounceDate",
                  "dividPlanDate", "dividRegistDate", "dividPayDate", "dividStockMarketDate",
                  "dividCashPsAfterTax", "dividCashStock")),
}

#: Individual dividend tax withheld when the cash is paid, by the first ex-date it applies
#: to (fraction of the pre-tax amount), from :data:`workbench.rules.DIVIDEND_TAX`: 20 % until
#: 2005-06-12, 10 %, 5 % from 2013-01-01, 0 from 2015-09-08. Vendors' after-tax cash
#: (tushare ``cash_div``) is the pre-tax amount less this.
WITHHELD_AT_PAYMENT: tuple[tuple[str, float], ...] = tuple(
    (str(rule.start.date()), rule.withheld_rate) for rule in DIVIDEND_TAX)

_IMPLEMENTED = "实施"


def pre_tax_cash(after_tax: np.ndarray, ex_date: np.ndarray) -> np.ndarray:
    """Pre-tax cash per share from after-tax cash and the ex-date (see module docstring).

    Examples
    --------
    >>> pre_tax_cash(np.array([0.6365, 0.5]),
    ...              np.array(["2015-07-03", "2016-07-01"], dtype="datetime64[ns]"))
    array([0.67, 0.5 ])
    """
    starts = np.array([d for d, _ in WITHHELD_AT_PAYMENT], dtype="datetime64[ns]")
    rates = np.array([r for _, r in WITHHELD_AT_PAYMENT])
    rate = rates[np.maximum(np.searchsorted(starts, ex_date, side="right") - 1, 0)]
    return np.round(np.asarray(after_tax, dtype=float) / (1.0 - rate), 4)


def _paths(path: PathLike | Sequence[PathLike]) -> list[PathLike]:
    return [path] if isinstance(path, (str, os.PathLike)) else list(path)


def _non_negative(t: cr.Table, column: str, *, allow_missing: bool = True) -> np.ndarray:
    values = cr.numbers(t, column, allow_missing=allow_missing)
    t.fail(values < 0, column, "negative value; amounts and ratios are per share, >= 0")
    return values


def _optional_dates(t: cr.Table, column: str, fmt: str) -> np.ndarray:
    if column not in t.columns:
        return np.full(len(t), np.datetime64("NaT"), dtype="datetime64[ns]")
    return cr.dates(t, column, fmt, allow_missing=True)


def _no_events() -> pd.DataFrame:
    return actions_frame(symbol=np.array([], dtype=object),
                         ex_date=np.array([], dtype="datetime64[ns]"), source="vendor")


def _tushare(t: cr.Table) -> tuple[pd.DataFrame, int]:
    done = t.column("div_proc") == _IMPLEMENTED
    dropped = int((~done).sum())
    t = t.take(done)
    if not len(t):
        return _no_events(), dropped
    symbol = cr.symbols(t, "ts_code")
    ex = cr.dates(t, "ex_date", "%Y%m%d")
    after = _non_negative(t, "cash_div")
    stk = _non_negative(t, "stk_div")
    if "cash_div_tax" in t.columns:
        given = _non_negative(t, "cash_div_tax")
    else:
        given = np.full(len(t), np.nan)
    cash = np.where(np.isnan(given), pre_tax_cash(np.nan_to_num(after), ex), given)
    bo = _non_negative(t, "stk_bo_rate") if "stk_bo_rate" in t.columns else np.full(len(t), np.nan)
    co = _non_negative(t, "stk_co_rate") if "stk_co_rate" in t.columns else np.full(len(t), np.nan)
    split = ~np.isnan(bo) | ~np.isnan(co)
    bonus = np.where(split, np.nan_to_num(bo), np.nan_to_num(stk))
    transfer = np.where(split, np.nan_to_num(co), 0.0)
    t.fail(split & ~np.isnan(stk) & (np.abs(bonus + transfer - np.nan_to_num(stk)) > 1e-6),
           "stk_div", "stk_div differs from stk_bo_rate + stk_co_rate")
    ann = _optional_dates(t, "imp_ann_date", "%Y%m%d")
    plan = _optional_dates(t, "ann_date", "%Y%m%d")
    frame = _checked(t, symbol=symbol, ex=ex, cash=cash, bonus=bonus, transfer=transfer,
                     record=_optional_dates(t, "record_date", "%Y%m%d"),
                     pay=_optional_dates(t, "pay_date", "%Y%m%d"),
                     announce=np.where(np.isnat(ann), plan, ann),
                     columns=("ex_date", "record_date", "imp_ann_date"))
    return frame, dropped


def _baostock(t: cr.Table) -> tuple[pd.DataFrame, int]:
    done = ~t.missing("dividOperateDate")
    dropped = int((~done).sum())
    t = t.take(done)
    if not len(t):
        return _no_events(), dropped
    fmt = "ISO8601"
    ann = _optional_dates(t, "dividPlanDate", fmt)
    plan = _optional_dates(t, "dividPlanAnnounceDate", fmt)
    frame = _checked(t, symbol=cr.symbols(t, "code"), ex=cr.dates(t, "dividOperateDate", fmt),
                     cash=np.nan_to_num(_non_negative(t, "dividCashPsBeforeTax")),
                     bonus=np.nan_to_num(_non_negative(t, "dividStocksPs")),
                     transfer=np.nan_to_num(_non_negative(t, "dividReserveToStockPs")),
                     record=_optional_dates(t, "dividRegistDate", fmt),
                     pay=_optional_dates(t, "dividPayDate", fmt),
                     announce=np.where(np.isnat(ann), plan, ann),
                     columns=("dividOperateDate", "dividRegistDate", "dividPlanDate"))
    return frame, dropped


def _checked(t: cr.Table, *, symbol: np.ndarray, ex: np.ndarray, cash: np.ndarray,
             bonus: np.ndarray, transfer: np.ndarray, record: np.ndarray, pay: np.ndarray,
             announce: np.ndarray, columns: tuple[str, str, str]) -> pd.DataFrame:
    """Check the dates' order by file line, and build the events (empty rows dropped)."""
    ex_col, record_col, announce_col = columns
    t.fail(~np.isnat(record) & (record >= ex), record_col,
           f"record date on or after the ex-date ({ex_col})")
    t.fail(~np.isnat(announce) & (announce > ex), announce_col,
           f"announced after the ex-date ({ex_col})")
    some = (cash > 0) | (bonus > 0) | (transfer > 0)
    frame = actions_frame(symbol=symbol[some], ex_date=ex[some], source="vendor",
                          record_date=record[some], pay_date=pay[some],
                          announce_date=announce[some], cash_pre_tax_cny=cash[some],
                          bonus_ratio=bonus[some], transfer_ratio=transfer[some])
    frame.attrs["empty"] = int((~some).sum())
    return frame


def import_dividends(path: PathLike | Sequence[PathLike], *, source: str = "auto"
                     ) -> pd.DataFrame:
    """Read dividend exports into ``corporate_actions`` events (layouts: module docstring).

    Parameters
    ----------
    path
        A CSV file, or a list of them (their events are pooled).
    source
        ``'tushare'``, ``'baostock'`` or ``'auto'`` (recognised from each file's header).

    Returns
    -------
    pandas.DataFrame
        ``CORPORATE_ACTION_COLUMNS`` with ``source='vendor'``, sorted by symbol and ex-date;
        ``attrs`` holds ``events`` (rows kept), ``not_implemented`` (plan rows dropped) and
        ``empty`` (implemented rows with neither cash nor shares, dropped).

    Raises
    ------
    DataError
        A header in no known layout, a missing symbol or ex-date in an implemented row, an
        unparseable date, a non-numeric or negative amount, ``stk_div`` not equal to
        ``stk_bo_rate + stk_co_rate``, a record date on or after the ex-date or an
        announcement after it — naming file, line and column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> f = Path(tempfile.mkdtemp()) / "dividend.csv"
    >>> _ = f.write_text("ts_code,div_proc,stk_div,cash_div,ex_date\\n"
    ...                  "600036.SH,实施,0,0.6365,20150703\\n600036.SH,预案,0,0.7,\\n")
    >>> ev = import_dividends(f)
    >>> ev[["symbol", "ex_date", "cash_pre_tax_cny", "bonus_ratio"]]
          symbol    ex_date  cash_pre_tax_cny  bonus_ratio
    0  600036.SH 2015-07-03              0.67          0.0
    """
    frames, dropped, empty = [], 0, 0
    for file in _paths(path):
        t = cr.read_table(file)
        layout = cr.pick_layout(t, source, DIVIDEND_LAYOUTS, "dividend")
        frame, n = _tushare(t) if layout.name == "tushare" else _baostock(t)
        frames.append(frame)
        dropped += n
        empty += int(frame.attrs.get("empty", 0))
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    out = out.sort_values(["symbol", "ex_date"], kind="stable", ignore_index=True)
    out.attrs.update(events=len(out), not_implemented=dropped, empty=empty)
    return out
