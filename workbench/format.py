"""One formatting layer for every table a person reads: reports, the dashboard, summaries.

A number is formatted by what it is, and what it is comes from its key, the name the
package gives it (``total_return``, ``costs_cny``, ``max_drawdown_peak``):

* :func:`label` turns a key into a header with its unit: ``'Annual return, CAGR (%)'``,
  ``'Costs excl. slippage (CNY)'``, ``'Turnover (×/yr)'``; prefixes such as ``baseline_``,
  ``oos_`` or ``peak_..._usage`` are spelled out;
* :func:`format_value` formats one value: fractions as percentages with two decimals,
  money and counts with thousands separators, dates without a time, ratios with two
  decimals, mappings as ``fast=20, slow=60``, enum members by their meaning;
* :func:`present` turns a whole table (a DataFrame, or a ``{key: value}`` mapping) into a
  :class:`Table`: every cell formatted, headers labelled, no positional or hash-ID index, no
  column that is empty throughout, full messages (never cut at "…"), and a sentence such as
  "none found" instead of a table with a header and no rows.

Functions that compute (``metrics_table``, ``unfilled_table``, ``result.metrics()``) keep
returning raw numbers for code; a notebook shows them through :func:`present`. The
``summary()`` methods return raw numbers too, in a :mod:`workbench.summary` type that shows
itself through :func:`present`. This module sits in the base layer, so that every layer's
``summary()`` can use it.

>>> format_value("total_return", 0.1234), label("avg_holding_days")
('+12.34%', 'Average holding period (days)')
"""

from __future__ import annotations

import datetime as dt
import enum
import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CODE_COLUMNS", "COUNTS_BY_CODE", "EMPTY", "LABELS", "MISSING", "Table",
           "format_value", "humanise", "label", "present"]

#: What a missing value (None, NaN, NaT) shows.
MISSING = "–"
#: What an empty table shows instead of a header without rows.
EMPTY = "none found"

# How a key's values are shown.
_SIGNED, _PERCENT, _RATIO, _MONEY, _COUNT, _DATE, _TEXT, _PRICE = (
    "signed", "percent", "ratio", "money", "count", "date", "text", "price")

#: Every key the package emits with its header (unit in brackets) and how its values show:
#: ``signed`` (+1.23%), ``percent`` (1.23%), ``ratio`` (1.23), ``money`` (1,234.56),
#: ``count`` (1,234), ``date`` (2024-01-05), ``price`` (12.345) or ``text``.
LABELS: dict[str, tuple[str, str]] = {
    # period
    "start": ("Start", _DATE), "end": ("End", _DATE), "first": ("First", _DATE),
    "last": ("Last", _DATE), "date": ("Date", _DATE), "first_bar": ("First bar", _DATE),
    "last_bar": ("Last bar", _DATE), "n_periods": ("Sessions", _COUNT),
    "sessions": ("Sessions", _COUNT), "periods_per_year": ("Sessions per year", _RATIO),
    "years": ("Years", _RATIO), "annualisation": ("Annualisation", _TEXT),
    # returns and risk
    "total_return": ("Total return (%)", _SIGNED),
    "annual_return": ("Annual return, CAGR (%)", _SIGNED),
    "annual_volatility": ("Annual volatility (%)", _PERCENT),
    "sharpe_ratio": ("Sharpe ratio", _RATIO),
    "sharpe_standard_error": ("Sharpe ratio standard error", _RATIO),
    "probabilistic_sharpe_ratio": ("Probabilistic Sharpe ratio, P(SR > 0) (%)", _PERCENT),
    "sortino_ratio": ("Sortino ratio", _RATIO),
    "max_drawdown": ("Max drawdown (%)", _PERCENT),
    "max_drawdown_peak": ("Max drawdown peak", _DATE),
    "max_drawdown_trough": ("Max drawdown trough", _DATE),
    "max_drawdown_recovery": ("Max drawdown recovered", _DATE),
    "calmar_ratio": ("Calmar ratio", _RATIO),
    "alpha": ("Alpha, annualised (%)", _SIGNED), "beta": ("Beta", _RATIO),
    "information_ratio": ("Information ratio", _RATIO),
    "deflated_sharpe": ("Deflated Sharpe ratio, P(skill) (%)", _PERCENT),
    "n_trials": ("Combinations tried", _COUNT),
    "trials_sharpe_variance": ("Variance of the trials' Sharpe ratios", _RATIO),
    "expected_max_sharpe": ("Best Sharpe ratio expected by luck", _RATIO),
    # trading
    "n_trades": ("Trades (exchange fills)", _COUNT), "n_buys": ("Buys", _COUNT),
    "n_sells": ("Sells", _COUNT),
    "n_settlements": ("Settlements (corporate actions, delistings)", _COUNT),
    "n_round_trips": ("Round trips", _COUNT), "n_wins": ("Winning round trips", _COUNT),
    "n_losses": ("Losing round trips", _COUNT), "win_rate": ("Win rate (%)", _PERCENT),
    "profit_factor": ("Profit factor", _RATIO),
    "avg_holding_days": ("Average holding period (days)", _RATIO),
    "open_shares": ("Shares held at the end", _COUNT),
    "annual_turnover": ("Turnover (×/yr)", _RATIO),
    "mean_daily_turnover": ("Mean daily turnover (%)", _PERCENT),
    "mean_invested_rate": ("Average exposure (%)", _PERCENT),
    "invested_rate": ("Exposure (%)", _PERCENT),
    "shares": ("Shares", _COUNT), "price": ("Price (CNY)", _PRICE),
    "orders": ("Orders", _COUNT), "buys": ("Buys", _COUNT), "sells": ("Sells", _COUNT),
    # money
    "capital_cny": ("Starting capital (CNY)", _MONEY),
    "final_equity_cny": ("Final equity (CNY)", _MONEY),
    "costs_cny": ("Costs excl. slippage (CNY)", _MONEY),
    "fees_cny": ("Costs excl. slippage (CNY)", _MONEY),
    "slippage_cny": ("Slippage (CNY)", _MONEY),
    "costs_with_slippage_cny": ("Costs incl. slippage (CNY)", _MONEY),
    "commission_cny": ("Commission (CNY)", _MONEY),
    "stamp_duty_cny": ("Stamp duty (CNY)", _MONEY),
    "transfer_fee_cny": ("Transfer fee (CNY)", _MONEY),
    "dividends_cny": ("Dividends received, after withholding (CNY)", _MONEY),
    "dividend_tax_cny": ("Dividend tax (CNY)", _MONEY),
    "gross_profit_cny": ("Gross profit (CNY)", _MONEY),
    "gross_loss_cny": ("Gross loss (CNY)", _MONEY),
    "net_pnl_cny": ("Net profit and loss (CNY)", _MONEY),
    "value_cny": ("Value (CNY)", _MONEY),
    # runs, risk, data
    "strategy": ("Strategy", _TEXT), "params": ("Parameters", _TEXT),
    "best_params": ("Chosen parameters", _TEXT), "mode": ("Mode", _TEXT),
    "objective": ("Objective", _TEXT), "rows": ("Rows", _COUNT),
    "failed": ("Failed rows", _COUNT), "strategies": ("Strategies compared", _COUNT),
    "best_strategy": ("Best strategy by Sharpe ratio", _TEXT),
    "cost_multiplier": ("Cost multiplier (×)", _RATIO),
    "corporate_actions": ("Corporate actions", _TEXT), "warnings": ("Warnings", _TEXT),
    "risk_rejections": ("Orders rejected by the risk checks", _COUNT),
    "rejections": ("Orders rejected by the risk checks", _COUNT),
    "layer": ("Check", _TEXT), "reason": ("Reason", _TEXT), "message": ("Message", _TEXT),
    "meaning": ("Meaning", _TEXT), "side": ("Side", _TEXT), "symbol": ("Symbol", _TEXT),
    "name": ("Name", _TEXT), "board": ("Board", _TEXT), "sector": ("Sector", _TEXT),
    "level": ("Level", _TEXT), "category": ("Category", _TEXT), "fill": ("Fill", _COUNT),
    "market": ("Market", _TEXT), "source": ("Source", _TEXT),
    "symbols": ("Symbols", _COUNT), "bars": ("Bars", _COUNT),
    "coverage": ("Coverage (%)", _PERCENT), "listed": ("Listed sessions", _COUNT),
    "gaps": ("Gaps (sessions)", _COUNT), "gap_sessions": ("Gaps (sessions)", _COUNT),
    "suspended": ("Suspended (sessions)", _COUNT),
    "suspended_sessions": ("Suspended (sessions)", _COUNT),
    "limit_up": ("Limit-up days", _COUNT), "limit_down": ("Limit-down days", _COUNT),
    "limit_up_days": ("Limit-up days", _COUNT), "limit_down_days": ("Limit-down days", _COUNT),
    "st": ("ST sessions", _COUNT), "validation_warnings": ("Validation warnings", _COUNT),
    "validation_errors": ("Validation errors", _COUNT),
    "in_sample": ("In sample", _TEXT), "out_of_sample": ("Out of sample", _TEXT),
    "period": ("Period", _TEXT), "error": ("Error", _TEXT),
    # summaries: BacktestResult.summary(), Market.summary()
    "trades": ("Trades (exchange fills)", _COUNT),
    "settlements": ("Settlements (corporate actions, delistings)", _COUNT),
    "unfilled": ("Unfilled orders by reason", _TEXT),
    "boards": ("Symbols by board", _TEXT), "sectors": ("Sectors", _COUNT),
    "delisted": ("Delisted symbols", _COUNT),
    "suspended_days": ("Suspended (symbol-sessions)", _COUNT),
    "st_episodes": ("ST episodes", _COUNT), "reports": ("Financial reports", _COUNT),
    "indexes": ("Index membership", _TEXT),
}
# A prefix names whose figure a key is; the rest of the key is looked up again.
_PREFIXES: tuple[tuple[str, str], ...] = (
    ("baseline_", "Baseline"), ("benchmark_", "Benchmark"), ("in_sample_", "In-sample"),
    ("out_of_sample_", "Out-of-sample"), ("is_", "In-sample"), ("oos_", "Out-of-sample"),
    ("best_", "Best"),
)
#: Columns whose text values are codes (``limit_up``, ``POSITION_SIZE``) shown as words.
CODE_COLUMNS: frozenset[str] = frozenset({"layer", "reason", "level", "category", "period",
                                          "mode", "objective"})
#: Keys whose values are counts by code (``{'limit_up': 3}``), shown as ``'limit up: 3'``.
COUNTS_BY_CODE: frozenset[str] = frozenset({"unfilled", "boards", "by_layer", "by_reason"})
# Words that keep their capitals when a label is put after a prefix.
_PROPER = ("Sharpe", "Sortino", "Calmar", "CAGR", "CNY", "P(", "ST ")
_UNITS = {"cny": "CNY", "rate": "%", "days": "days", "pct": "%"}
_HASH = re.compile(r"^[0-9a-f]{8,64}$")
_MIDNIGHT = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]00:00:00(\.0+)?$")


def _split(key: str) -> tuple[str, str]:
    """(prefix words, the key without its prefix)."""
    for prefix, words in _PREFIXES:
        if key.startswith(prefix) and key[len(prefix):] in LABELS:
            return words, key[len(prefix):]
    return "", key


#: Keys (column labels) whose whole numbers are calendar years.
_YEAR_KEYS = frozenset({"year", "calendar year"})


def _kind(key: str) -> str:
    """How the values of ``key`` are shown (see :data:`LABELS`)."""
    if key.rstrip().endswith(("(%)", "(pp)")):  # already in percent (points): as numbers
        return _RATIO
    _, base = _split(key)
    if base in LABELS:
        return LABELS[base][1]
    if key.endswith("_cny"):
        return _MONEY
    if key.startswith(("n_", "rejections_")):
        return _COUNT
    if "return" in key or "alpha" in key:
        return _SIGNED
    if any(w in key for w in ("drawdown", "volatility", "coverage", "_rate", "usage",
                              "probabilistic", "deflated")):
        return _PERCENT
    if key.endswith(("_date", "_day")):
        return _DATE
    return _RATIO


def humanise(code: Any) -> str:
    """A code as words: ``'limit_up'`` → ``'limit up'``, ``'POSITION_SIZE'`` → ``'position
    size'``; an enum member by its value; other text unchanged.

    Examples
    --------
    >>> humanise("POSITION_SIZE"), humanise("in_sample"), humanise("600519.SH")
    ('position size', 'in sample', '600519.SH')
    """
    text = str(code.value if isinstance(code, enum.Enum) else code)
    if re.fullmatch(r"[A-Z][A-Z0-9_]+|[a-z][a-z0-9]*(_[a-z0-9]+)+", text):
        return text.replace("_", " ").lower()
    return text


def label(key: Any) -> str:
    """The header for ``key``: words, with the unit in brackets.

    Known keys come from :data:`LABELS`; a prefix (``baseline_``, ``oos_``, ...) is spelled
    out; ``rejections_<layer>`` and ``peak_<limit>_usage`` say what they count; other keys
    become words with a unit from their suffix (``_cny`` CNY, ``_rate`` %, ``_days`` days).

    Examples
    --------
    >>> label("oos_sharpe_ratio"), label("peak_sector_usage"), label("gross_leverage_cny")
    ('Out-of-sample Sharpe ratio', 'Peak sector usage (% of the limit)', 'Gross leverage (CNY)')
    """
    if not isinstance(key, str):
        return humanise(key) if isinstance(key, enum.Enum) else str(key)
    words, base = _split(key)
    if base in LABELS:
        text = LABELS[base][0]
        if not words:
            return text
        keep = any(text.startswith(p) for p in _PROPER)
        return f"{words} {text if keep else text[0].lower() + text[1:]}"
    if m := re.fullmatch(r"peak_(\w+)_usage", key):
        return f"Peak {m.group(1).replace('_', ' ')} usage (% of the limit)"
    if m := re.fullmatch(r"rejections_(\w+)", key):
        return f"Rejected by the {m.group(1).replace('_', ' ')} check"
    if re.fullmatch(r"[a-z][a-z0-9]*", key):
        return key.capitalize()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)+", key):
        return key
    parts = key.split("_")
    unit = _UNITS.get(parts[-1].lower())
    if unit:
        parts = parts[:-1]
    if parts[0] == "n" and len(parts) > 1:
        parts = ["number", "of", *parts[1:]]
    text = " ".join(parts)
    text = text[0].upper() + text[1:]
    return f"{text} ({unit})" if unit else text


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    if isinstance(value, (float, np.floating)):
        return not math.isfinite(float(value))
    return isinstance(value, (np.datetime64, np.timedelta64)) and bool(np.isnat(value))


def _date(value: dt.date | np.datetime64) -> str:
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        return MISSING
    if ts == ts.normalize():
        return ts.strftime("%Y-%m-%d")
    return ts.strftime("%Y-%m-%d %H:%M")


def _number(kind: str, v: float) -> str:
    if kind == _SIGNED:
        return f"{v:+.2%}"
    if kind == _PERCENT:
        return f"{v:.2%}"
    if kind == _MONEY:
        return f"{v:,.2f}"
    if kind == _PRICE:
        return f"{v:,.3f}"
    if kind == _COUNT and float(v).is_integer():
        return f"{int(v):,}"
    if v != 0.0 and abs(v) < 0.01:  # two decimals would show a small figure as 0.00
        return f"{v:.2g}"
    return f"{v:,.2f}"


def format_value(key: str, value: Any) -> str:
    """A value for people, formatted by what its ``key`` says it is.

    Fractions (returns, drawdowns, volatilities, rates, probabilities) as percentages with
    two decimals, returns and alpha with a sign; money with thousands separators and two
    decimals; counts with thousands separators; ratios with two decimals; dates without a
    time; mappings as ``k=v`` pairs (counts by code, :data:`COUNTS_BY_CODE`, as
    ``limit up: 3``); lists joined; enum members by their meaning; missing values (None,
    NaN, NaT) as ``'–'``.

    Parameters
    ----------
    key
        What the value is, e.g. ``'total_return'`` (see :data:`LABELS`).
    value
        The value.

    Examples
    --------
    >>> format_value("total_return", 0.1234), format_value("sharpe_ratio", 1.234)
    ('+12.34%', '1.23')
    >>> format_value("final_equity_cny", 1234567.891), format_value("fills", 1200)
    ('1,234,567.89', '1,200')
    >>> format_value("start", pd.Timestamp("2016-01-04")), format_value("params", {"fast": 5})
    ('2016-01-04', 'fast=5')
    >>> format_value("grid", {"fast": [5, 10], "slow": [60]})
    'fast=5, 10; slow=60'
    >>> format_value("unfilled", {"limit_up": 3, "lot_too_small": 1200})
    'limit up: 3, lot too small: 1,200'
    >>> format_value("Year", 2023), format_value("sessions", 2023)
    ('2023', '2,023')
    >>> format_value("Strategy return (%)", 24.85), format_value("total_return", 0.2485)
    ('24.85', '+24.85%')

    """
    if isinstance(value, (list, tuple, np.ndarray)) and not len(value):
        return "none"
    if _missing(value):
        return MISSING
    if isinstance(value, enum.Enum):
        return humanise(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (dt.date, np.datetime64)):  # pd.Timestamp is a datetime, a date
        return _date(value)
    if isinstance(value, Mapping) and key in COUNTS_BY_CODE:
        return ", ".join(f"{humanise(k) if '_' in str(k) else k}: {format_value('n', v)}"
                         for k, v in value.items()) or "none"  # BSE stays BSE
    if isinstance(value, Mapping):
        lists = any(isinstance(v, (list, tuple)) for v in value.values())
        return ("; " if lists else ", ").join(
            f"{k}={format_value(str(k), v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(format_value(key, v) for v in value)
    kind = _kind(key)
    if isinstance(value, (int, np.integer)) and key.strip().lower() in _YEAR_KEYS:
        return str(int(value))  # a calendar year, not a count: 2023, never 2,023
    if isinstance(value, (int, np.integer)) and kind in (_COUNT, _RATIO, _TEXT, _DATE):
        return f"{int(value):,}"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return _number(kind, float(value))
    text = str(value)
    if m := _MIDNIGHT.match(text):
        return m.group(1)
    return text


@dataclass(frozen=True)
class Table:
    """A table ready to read: formatted text cells under human headers.

    Displays as HTML in notebooks and report pages (``_repr_html_``), as text elsewhere.

    Attributes
    ----------
    frame
        The cells as strings; its columns are the headers, its index is not shown.
    caption
        A line above the table (or before the empty message); may be empty.
    empty
        What shows instead of a table without rows.
    numeric
        Per column, True when it holds numbers (right-aligned).
    """

    frame: pd.DataFrame
    caption: str = ""
    empty: str = EMPTY
    numeric: tuple[bool, ...] = ()

    def __len__(self) -> int:
        return len(self.frame)

    def html(self) -> str:
        """The table as HTML (escaped, inline styles only, no scripts)."""
        caption = (f'<p class="wb-caption" style="margin: 8px 0 4px; color: #444;">'
                   f"{html.escape(self.caption)}</p>") if self.caption else ""
        if self.frame.empty:
            return (f'<div class="wb-table wb-empty">{caption}<p style="color: #6b6b6b; '
                    f'font-style: italic; margin: 4px 0 16px;">{html.escape(self.empty)}'
                    "</p></div>")
        # numbers, dates and short words stay on one line; long text wraps
        styles = [f"text-align: {'right' if num else 'left'};" + (
            " white-space: nowrap;" if num or self.frame[c].str.len().max() <= 24 else "")
            for c, num in zip(self.frame.columns, self._numeric(), strict=True)]
        head = "".join(f'<th style="text-align: {"right" if num else "left"};">'
                       f"{html.escape(str(c))}</th>"
                       for c, num in zip(self.frame.columns, self._numeric(), strict=True))
        rows = "".join(
            "<tr>" + "".join(f'<td style="{s}">{html.escape(str(v))}</td>'
                             for v, s in zip(row, styles, strict=True)) + "</tr>"
            for row in self.frame.itertuples(index=False, name=None))
        return (f'<div class="wb-table">{caption}<table class="wb-table"><thead><tr>{head}'
                f"</tr></thead><tbody>{rows}</tbody></table></div>")

    def _numeric(self) -> tuple[bool, ...]:
        n = len(self.frame.columns)
        return self.numeric if len(self.numeric) == n else (False,) * n

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        """The table as text: words left-aligned, numbers right-aligned, columns two
        spaces apart (a Chinese character counts two columns wide, as a terminal shows it)."""
        head = [self.caption] if self.caption else []
        if self.frame.empty:
            return "\n".join([*head, self.empty])
        columns = [[str(name), *map(str, self.frame.iloc[:, i])]
                   for i, name in enumerate(self.frame.columns)]
        widths = [max(map(_width, column)) for column in columns]
        lines = ["  ".join(_pad(cell, width, right=num) for cell, width, num
                           in zip(row, widths, self._numeric(), strict=True)).rstrip()
                 for row in zip(*columns, strict=True)]
        return "\n".join([*head, *lines])

    def __repr__(self) -> str:
        return str(self)


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (East Asian) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int, *, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def _identifies(name: Any, values: Sequence[Any] | pd.Index | pd.Series) -> bool:
    """True for an identifier: named ``id``, ``index`` or ``*_id``, or text that is only
    hash IDs (hex, some with a letter: a column of 8-digit numbers is not one)."""
    if isinstance(name, str) and (name.endswith("_id") or name in ("id", "index")):
        return True
    texts = [v for v in values if not _missing(v)]
    return (bool(texts) and all(isinstance(v, str) and _HASH.match(v) for v in texts)
            and any(re.search("[a-f]", v) for v in texts))


def _positional(index: pd.Index) -> bool:
    """True for an index that only numbers or identifies rows: not worth a column."""
    if pd.api.types.is_integer_dtype(index.dtype):
        return not index.name or _identifies(index.name, [])
    return _identifies(index.name or "", index)


def _is_key(value: Any) -> bool:
    return isinstance(value, str) and (value in LABELS or _split(value)[0] != "" or bool(
        re.fullmatch(r"(peak_\w+_usage|rejections_\w+)", value)))


def _column(key: Any, values: pd.Series) -> tuple[list[str], bool]:
    """A column's cells formatted, and whether it holds numbers."""
    name = str(key)
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_dtype(
            values.dtype):
        return [_date(v) if not pd.isna(v) else MISSING for v in values], True
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype)
    if name in CODE_COLUMNS:
        return [MISSING if _missing(v) else humanise(v) for v in values], False
    cells = [format_value(name, v) for v in values]
    return cells, numeric


def _empty_column(values: pd.Series) -> bool:
    return all(_missing(v) or (isinstance(v, str) and not v.strip()) for v in values)


def _frame(table: pd.DataFrame, orient: str | None) -> tuple[pd.DataFrame, list[bool]]:
    """The cells and per-column numeric flags of a DataFrame."""
    index = table.index
    text_index = not isinstance(index, pd.MultiIndex) and (
        index.dtype == object or pd.api.types.is_string_dtype(index.dtype))
    by_rows = orient == "rows" or (orient is None and text_index and index.name is None
                                   and len(index) > 0
                                   and sum(map(_is_key, index)) * 2 >= len(index))
    if by_rows:
        cells = {label(c): [format_value(str(k), v) for k, v in table[c].items()]
                 for c in table.columns if not _empty_column(table[c])}
        out = pd.DataFrame(cells)
        out.insert(0, "", [label(k) for k in index])
        return out, [False] + [True] * (out.shape[1] - 1)
    if isinstance(index, pd.MultiIndex):
        table = table.reset_index()
    elif not _positional(index):
        table = table.reset_index(names=index.name or "")
    columns: dict[str, list[str]] = {}
    numeric: list[bool] = []
    for c in table.columns:
        col = table[c]
        if isinstance(col, pd.DataFrame):  # duplicated column names: the first
            col = col.iloc[:, 0]
        if _empty_column(col) or _identifies(c, col):  # row_id, window_id: internals
            continue
        head = " ".join(map(str, c)) if isinstance(c, tuple) else c
        shown, num = _column(head, col)
        title = label(head) if head != "" else ""
        while title in columns:  # two keys with one label (costs_cny, fees_cny): keep both
            title += " "
        columns[title] = shown
        numeric.append(num)
    return pd.DataFrame(columns), numeric


def present(data: pd.DataFrame | pd.Series | Mapping[str, Any], *, caption: str = "",
            empty: str = EMPTY, keys: Sequence[str] | None = None,
            orient: str | None = None) -> Table:
    """A table (or a ``{key: value}`` mapping) as people read it: a :class:`Table`.

    Parameters
    ----------
    data
        A DataFrame whose columns (or, for a table of metrics by row such as
        ``GridSearchResult.summary()``, whose index) are keys of :data:`LABELS`; a Series; or
        a mapping such as ``result.metrics()``, shown as two columns (what, value).
    caption
        A line above the table.
    empty
        What shows when there are no rows, e.g. ``'no order went unfilled'``.
    keys
        For a mapping, the keys to show, in order (missing ones skipped; default all).
    orient
        ``'rows'`` when the index holds the keys, ``'columns'`` when the columns do;
        default: rows when the index is unnamed text and at least half of it are known keys.

    Returns
    -------
    Table
        Every value formatted by its key (:func:`format_value`), headers labelled
        (:func:`label`), codes in :data:`CODE_COLUMNS` as words; a numeric, ``*_id`` or
        hash-ID index dropped, another index shown as the first column; ``*_id`` and
        hash-ID columns, and columns empty throughout, dropped; text never shortened.

    Examples
    --------
    >>> t = present(pd.DataFrame({"total_return": [0.1], "error": [None]}))
    >>> t.frame.to_dict("list")
    {'Total return (%)': ['+10.00%']}
    >>> str(present(pd.DataFrame(columns=["reason"]), empty="every order filled"))
    'every order filled'
    """
    if isinstance(data, Mapping):
        shown = [k for k in (keys if keys is not None else data) if k in data
                 and not isinstance(data[k], (pd.DataFrame, pd.Series))]
        frame = pd.DataFrame({"": [label(k) for k in shown],
                              "Value": [format_value(k, data[k]) for k in shown]})
        return Table(frame, caption, empty, (False, True))
    if isinstance(data, pd.Series):
        data = data.to_frame(data.name if data.name is not None else "value")
    if data.empty and len(data.index) == 0:
        return Table(pd.DataFrame(), caption, empty)
    frame, numeric = _frame(data, orient)
    return Table(frame, caption, empty, tuple(numeric))
