"""The canonical shape of every table a :class:`~workbench.data.Market` holds.

Units: prices in CNY, raw (unadjusted) as traded; ``volume`` in shares; ``amount`` in CNY;
``adj_factor`` is a backward adjustment factor (``close * adj_factor`` is the adjusted
close, comparable across dividends and splits); rates and growth figures are fractions.
See ``data/README.md`` for the full description.
"""

from __future__ import annotations

__all__ = [
    "BAR_COLUMNS",
    "BAR_DTYPES",
    "BENCHMARK_COLUMNS",
    "CORPORATE_ACTION_COLUMNS",
    "CORPORATE_ACTION_SOURCES",
    "DERIVED_BAR_COLUMNS",
    "FUNDAMENTAL_COLUMNS",
    "INDEX_MEMBER_COLUMNS",
    "OPTIONAL_BAR_COLUMNS",
    "REQUIRED_BAR_COLUMNS",
    "SECURITY_COLUMNS",
    "ST_COLUMNS",
]

#: Columns every bar source must provide.
REQUIRED_BAR_COLUMNS: tuple[str, ...] = (
    "date",  # session date, naive datetime64 at midnight
    "symbol",  # canonical 'CODE.EX', e.g. '600519.SH'
    "open",  # CNY, raw
    "high",
    "low",
    "close",
    "volume",  # shares (int64); 0 on suspended days
    "amount",  # CNY traded
    "adj_factor",  # backward factor: adjusted price = raw price * adj_factor
)
#: Columns derived when a source lacks them (see ``workbench.data.derive``).
DERIVED_BAR_COLUMNS: tuple[str, ...] = (
    "prev_close",  # exchange reference price (ex-rights on ex-dividend days), CNY
    "limit_up",  # highest price allowed that day, CNY (NaN: no limit, e.g. IPO days)
    "limit_down",  # lowest price allowed that day, CNY (NaN: no limit)
    "suspended",  # bool: no trading that day; OHLC = prev_close, volume 0
    "is_st",  # bool: under risk warning (ST / *ST) that day
)
#: Daily valuation ratios some sources carry (baostock); NaN where absent.
OPTIONAL_BAR_COLUMNS: tuple[str, ...] = ("pe_ttm", "pb_mrq")
BAR_COLUMNS: tuple[str, ...] = REQUIRED_BAR_COLUMNS + DERIVED_BAR_COLUMNS

BAR_DTYPES: dict[str, str] = {
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "volume": "int64",
    "amount": "float64",
    "adj_factor": "float64",
    "prev_close": "float64",
    "limit_up": "float64",
    "limit_down": "float64",
    "suspended": "bool",
    "is_st": "bool",
    "pe_ttm": "float64",
    "pb_mrq": "float64",
}

#: Security master, one row per symbol.
SECURITY_COLUMNS: tuple[str, ...] = (
    "symbol",
    "name",  # Chinese short name
    "exchange",  # 'SH', 'SZ' or 'BJ'
    "board",  # workbench.symbols.Board value
    "sector",  # level-1 industry
    "list_date",  # first trading session
    "delist_date",  # first day no longer listed (NaT while listed); last session is before it
)

#: Risk-warning (ST / *ST) episodes; ``end`` inclusive, NaT while still ST.
ST_COLUMNS: tuple[str, ...] = ("symbol", "start", "end")

#: Point-in-time financial statements, one row per (symbol, report period).
FUNDAMENTAL_COLUMNS: tuple[str, ...] = (
    "symbol",
    "period_end",  # report period end: 03-31, 06-30, 09-30, 12-31
    "announce_date",  # first day the figures were public; usable from this date on
    "eps",  # trailing-twelve-month earnings per share, CNY
    "bvps",  # book value per share, CNY
    "roe",  # trailing-twelve-month return on equity, fraction
    "revenue_growth",  # year-over-year, fraction
    "profit_growth",  # year-over-year net profit growth, fraction
    "shares_outstanding",  # shares
)

#: Index membership spells (optional; empty when the market has none): the stock is a
#: member of ``index`` on every day ``d`` with ``start <= d < end``. ``end`` is EXCLUSIVE
#: (the first day known not to be a member, like ``delist_date``); NaT while still a member
#: as far as the data knows. Built from snapshots by ``workbench.data.membership``.
INDEX_MEMBER_COLUMNS: tuple[str, ...] = (
    "index",  # universe name, e.g. 'csi300' (workbench.data.membership.INDEX_UNIVERSES)
    "symbol",  # canonical 'CODE.EX'; need not be in the security master
    "start",  # first day of the spell: the first snapshot that lists the stock
    "end",  # first day after the spell (exclusive): the first snapshot without it; NaT: open
)

#: Corporate actions (optional; empty when the market has none), one row per event: a cash
#: dividend and/or bonus (送股), transfer (转增) or rights (配股) shares of one stock on one
#: ex-date. Two payouts on one ex-date may be two rows. Dates are naive datetime64 at
#: midnight, NaT where the source has none; ratios and amounts are 0.0 where the event has
#: none of that kind (NaN only for ``rights_price_cny`` without a rights issue). The event is
#: known from ``announce_date`` (or, where that is NaT, from ``ex_date``): ``Market.as_of``
#: keeps no event known later. Built by ``workbench.data.corporate`` (derived from
#: adj_factor, synthetic) and ``workbench.data.dividends`` (tushare / baostock exports).
CORPORATE_ACTION_COLUMNS: tuple[str, ...] = (
    "symbol",  # canonical 'CODE.EX'
    "ex_date",  # ex-dividend / ex-rights date (除权除息日): first session without the payout
    "record_date",  # 股权登记日: holders at its close are entitled; NaT: not given
    "pay_date",  # 派息日: cash credited; NaT: not given
    "announce_date",  # first day the event was public (implementation announcement); NaT
    "cash_pre_tax_cny",  # cash dividend per share BEFORE dividend tax, CNY (0.0: none)
    "bonus_ratio",  # 送股: bonus shares per share held (10送10 → 1.0; 0.0: none)
    "transfer_ratio",  # 转增: transfer shares per share held (0.0: none)
    "rights_ratio",  # 配股: rights shares offered per share held (0.0: none)
    "rights_price_cny",  # subscription price per rights share, CNY; NaN without rights
    "source",  # 'vendor' (an export), 'derived' (from adj_factor jumps) or 'synthetic'
)
#: The values of ``CORPORATE_ACTION_COLUMNS['source']``.
CORPORATE_ACTION_SOURCES: tuple[str, ...] = ("vendor", "derived", "synthetic")

#: Benchmark index (CSI 300 style), points.
BENCHMARK_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume", "amount")
