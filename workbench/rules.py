"""The dated A-share rule table: price limits, board lots, stamp duty, transfer fee, dividend tax.

Every rule that the exchanges or the tax office have changed over time is a row with the
first day it applies. A rule change is one new row here, not new code. Rates are fractions
of traded value (``0.001`` is 0.1 %); price limits are whole percents of the previous
close because the exchanges compute limit prices in integer fen.

Modelling notes (what is and is not modelled):

* Price limit: ``round_half_up(prev_close * (1 ± limit), 0.01 CNY)``, computed in integer
  fen so that no float rounding can move a limit by a fen. ``prev_close`` is the exchange's
  reference price (ex-rights on ex-dividend days).
* Main-board ST/*ST stocks have a 5 % limit until 2025-07-06 and 10 % from 2025-07-07. On
  ChiNext (from 2020-08-24), STAR and BSE an ST stock has the board's ordinary limit.
* New listings: on the first ``ipo_unlimited_days`` sessions there is no daily limit in
  this model. Main boards (and ChiNext before 2020-08-24) really cap the first day at
  +44 % / -36 % of the issue price; the issue price is not in daily bars, so the model
  leaves that day unlimited. ChiNext (from 2020-08-24) and STAR: five unlimited days. BSE:
  one.
* Transfer fee: a fraction of value on both sides. Before 2015-08-01 Shanghai charged it
  per share; the model applies the 2015 value rate throughout that earlier stretch.
* Individual dividend tax (:data:`DIVIDEND_TAX`): a fraction of the dividend income, which
  is the cash dividend before tax plus the par value (:data:`BONUS_PAR_CNY`) of bonus
  shares (送股; transfer shares from the capital reserve, 转增, are not income). Part is
  withheld when the cash is paid (``withheld_rate``); the rest depends on how long the
  shares were held and is charged when they are sold, as brokers do (财税[2012]85号,
  财税[2015]101号). Which rule applies is set by the ex-date.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.symbols import Board

__all__ = [
    "BONUS_PAR_CNY",
    "DIVIDEND_TAX",
    "LOT_RULES",
    "PRICE_LIMITS",
    "STAMP_DUTY",
    "TRANSFER_FEE",
    "DividendTaxRule",
    "LotRule",
    "PriceLimitRule",
    "RateRule",
    "dividend_tax_rule",
    "dividend_tax_rules",
    "holding_tier",
    "ipo_unlimited_days",
    "limit_percent",
    "limit_prices",
    "lot_rule",
    "rate_on",
    "rates_on",
    "round_fen",
]


@dataclass(frozen=True, kw_only=True)
class PriceLimitRule:
    """Daily price limit of a board from ``start`` on, in whole percent of the previous close."""

    board: Board
    start: pd.Timestamp
    limit_pct: int
    st_limit_pct: int
    ipo_unlimited_days: int


@dataclass(frozen=True, kw_only=True)
class RateRule:
    """A charge as a fraction of traded value, effective from ``start`` (inclusive)."""

    start: pd.Timestamp
    rate: float


@dataclass(frozen=True, kw_only=True)
class DividendTaxRule:
    """Individual dividend tax on A-shares for ex-dates from ``start`` on (fractions).

    ``rates`` is the total tax on the dividend income by holding period at the sale:
    held one month or less, more than a month up to a year, more than a year (the tiers
    of :func:`holding_tier`). ``withheld_rate`` of the income is withheld when the cash is
    paid; a sale charges ``rate - withheld_rate`` of the income the sold shares received.
    """

    start: pd.Timestamp
    withheld_rate: float
    rates: tuple[float, float, float]

    @property
    def differentiated(self) -> bool:
        """Whether anything is left to charge on a sale (the rate depends on the holding)."""
        return any(r != self.withheld_rate for r in self.rates)


@dataclass(frozen=True, kw_only=True)
class LotRule:
    """Order-size rule of a board, in shares: ``min_shares`` then steps of ``step_shares``."""

    board: Board
    min_shares: int
    step_shares: int


_T = pd.Timestamp

PRICE_LIMITS: tuple[PriceLimitRule, ...] = (
    PriceLimitRule(
        board=Board.SH_MAIN, start=_T("1996-12-16"), limit_pct=10, st_limit_pct=5,
        ipo_unlimited_days=1,
    ),
    PriceLimitRule(
        board=Board.SH_MAIN, start=_T("2025-07-07"), limit_pct=10, st_limit_pct=10,
        ipo_unlimited_days=1,
    ),
    PriceLimitRule(
        board=Board.SZ_MAIN, start=_T("1996-12-16"), limit_pct=10, st_limit_pct=5,
        ipo_unlimited_days=1,
    ),
    PriceLimitRule(
        board=Board.SZ_MAIN, start=_T("2025-07-07"), limit_pct=10, st_limit_pct=10,
        ipo_unlimited_days=1,
    ),
    PriceLimitRule(
        board=Board.CHINEXT, start=_T("2009-10-30"), limit_pct=10, st_limit_pct=5,
        ipo_unlimited_days=1,
    ),
    PriceLimitRule(
        board=Board.CHINEXT, start=_T("2020-08-24"), limit_pct=20, st_limit_pct=20,
        ipo_unlimited_days=5,
    ),
    PriceLimitRule(
        board=Board.STAR, start=_T("2019-07-22"), limit_pct=20, st_limit_pct=20,
        ipo_unlimited_days=5,
    ),
    PriceLimitRule(
        board=Board.BSE, start=_T("2021-11-15"), limit_pct=30, st_limit_pct=30,
        ipo_unlimited_days=1,
    ),
)

#: Stamp duty, charged on sells only.
STAMP_DUTY: tuple[RateRule, ...] = (
    RateRule(start=_T("2008-09-19"), rate=0.001),
    RateRule(start=_T("2023-08-28"), rate=0.0005),
)

#: Transfer fee (过户费), charged on both sides.
TRANSFER_FEE: tuple[RateRule, ...] = (
    RateRule(start=_T("2000-01-01"), rate=0.00002),
    RateRule(start=_T("2022-04-29"), rate=0.00001),
)

#: Individual dividend tax by ex-date: 20 % withheld until 2005-06-12; 10 % (half the income
#: taxable, 财税[2005]102号); from 2013-01-01 20 %, 10 % and 5 % by holding period with 5 %
#: withheld at payment (财税[2012]85号); from 2015-09-08 20 %, 10 % and 0 with nothing
#: withheld (财税[2015]101号).
DIVIDEND_TAX: tuple[DividendTaxRule, ...] = (
    DividendTaxRule(start=_T("1990-01-01"), withheld_rate=0.20, rates=(0.20, 0.20, 0.20)),
    DividendTaxRule(start=_T("2005-06-13"), withheld_rate=0.10, rates=(0.10, 0.10, 0.10)),
    DividendTaxRule(start=_T("2013-01-01"), withheld_rate=0.05, rates=(0.20, 0.10, 0.05)),
    DividendTaxRule(start=_T("2015-09-08"), withheld_rate=0.0, rates=(0.20, 0.10, 0.0)),
)
#: Par value of a bonus share (送股), CNY: the dividend income it counts as.
BONUS_PAR_CNY = 1.0

LOT_RULES: dict[Board, LotRule] = {
    Board.SH_MAIN: LotRule(board=Board.SH_MAIN, min_shares=100, step_shares=100),
    Board.SZ_MAIN: LotRule(board=Board.SZ_MAIN, min_shares=100, step_shares=100),
    Board.CHINEXT: LotRule(board=Board.CHINEXT, min_shares=100, step_shares=100),
    Board.STAR: LotRule(board=Board.STAR, min_shares=200, step_shares=1),
    Board.BSE: LotRule(board=Board.BSE, min_shares=100, step_shares=1),
}


def _rule_for(board: Board, day: pd.Timestamp) -> PriceLimitRule | None:
    found = None
    for rule in PRICE_LIMITS:
        if rule.board == board and rule.start <= day:
            found = rule
    return found


def limit_percent(board: Board | str, day: str | pd.Timestamp, *, st: bool = False) -> int:
    """Return the daily price limit in whole percent for a board on a day.

    Raises
    ------
    ValueError
        When the board did not exist yet on ``day``.

    Examples
    --------
    >>> limit_percent("ChiNext", "2020-08-21"), limit_percent("ChiNext", "2020-08-24")
    (10, 20)
    >>> limit_percent("SH main", "2019-01-02", st=True)
    5
    """
    day = pd.Timestamp(day)
    rule = _rule_for(Board(board), day)
    if rule is None:
        raise ValueError(f"board {board} had no price-limit rule on {day.date()}")
    return rule.st_limit_pct if st else rule.limit_pct


def ipo_unlimited_days(board: Board | str, day: str | pd.Timestamp) -> int:
    """Return how many first sessions of a new listing on ``day`` trade without a limit."""
    rule = _rule_for(Board(board), pd.Timestamp(day))
    return 1 if rule is None else rule.ipo_unlimited_days


def limit_prices(
    prev_close: np.ndarray | float, limit_pct: np.ndarray | int
) -> tuple[np.ndarray, np.ndarray]:
    """Return the limit-up and limit-down prices (CNY) the exchange derives from ``prev_close``.

    Computed in integer fen: ``(fen * (100 ± pct) + 50) // 100``, i.e. rounded half up to
    the fen, with the limit-down price at least 0.01 CNY. NaN ``prev_close`` gives NaN.

    Examples
    --------
    >>> up, down = limit_prices(np.array([10.05, 1.76]), 10)
    >>> up.tolist(), down.tolist()
    ([11.06, 1.94], [9.05, 1.58])
    """
    prev = np.asarray(prev_close, dtype=float)
    pct = np.asarray(limit_pct, dtype=np.int64)
    valid = np.isfinite(prev)
    fen = np.where(valid, np.rint(np.where(valid, prev, 0.0) * 100.0), 0).astype(np.int64)
    up = (fen * (100 + pct) + 50) // 100
    down = np.maximum((fen * (100 - pct) + 50) // 100, 1)
    return (
        np.where(valid, up / 100.0, np.nan),
        np.where(valid, down / 100.0, np.nan),
    )


def round_fen(amount: np.ndarray | float) -> np.ndarray:
    """Round non-negative CNY amounts half up to the fen (0.01 CNY), as brokers and exchanges do.

    The amount is first rounded to 1e-6 fen, so a product that is a true half fen but lands a
    hair below it in binary floating point (``1.005``, ``8.125``) still rounds up. The result
    is ``k / 100.0`` for a whole number ``k``, the same float :func:`limit_prices` gives.

    Examples
    --------
    >>> round_fen(np.array([3.0015, 0.10005, 0.125, 1.005, 2.4949, 8.1997])).tolist()
    [3.0, 0.1, 0.13, 1.01, 2.49, 8.2]
    """
    fen = np.rint(np.asarray(amount, dtype=float) * 1e8) / 1e6  # to 1e-6 fen
    return np.floor(fen + 0.5) / 100.0


def rate_on(table: tuple[RateRule, ...], day: str | pd.Timestamp) -> float:
    """Return the rate of a dated table in force on ``day`` (0.0 before its first row).

    Examples
    --------
    >>> rate_on(STAMP_DUTY, "2023-08-25"), rate_on(STAMP_DUTY, "2023-08-28")
    (0.001, 0.0005)
    """
    day = pd.Timestamp(day)
    rate = 0.0
    for rule in table:
        if rule.start <= day:
            rate = rule.rate
    return rate


def rates_on(table: tuple[RateRule, ...], days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Vectorised :func:`rate_on` over many days (float array, same length)."""
    values = np.asarray(days, dtype="datetime64[ns]")
    starts = np.array([r.start.to_datetime64() for r in table], dtype="datetime64[ns]")
    rates = np.array([0.0] + [r.rate for r in table])
    return rates[np.searchsorted(starts, values, side="right")]


def lot_rule(board: Board | str) -> LotRule:
    """Return the buy-size rule of a board (100-share lots; STAR 200 then 1; BSE 100 then 1)."""
    return LOT_RULES[Board(board)]


def dividend_tax_rule(day: str | pd.Timestamp) -> int:
    """Position in :data:`DIVIDEND_TAX` of the rule for an ex-date on ``day``.

    Examples
    --------
    >>> [dividend_tax_rule(d) for d in ("2012-12-31", "2015-09-07", "2015-09-08")]
    [1, 2, 3]
    """
    day = pd.Timestamp(day)
    return max(sum(rule.start <= day for rule in DIVIDEND_TAX) - 1, 0)


def dividend_tax_rules(days: pd.DatetimeIndex | np.ndarray) -> np.ndarray:
    """Vectorised :func:`dividend_tax_rule` over many ex-dates (int64 array, same length).

    NaT gives 0, as the scalar rule does (a missing date is on or after no rule's start).

    Examples
    --------
    >>> dividend_tax_rules(np.array(["2012-12-31", "2015-09-07", "2015-09-08", "NaT"],
    ...                             dtype="datetime64[ns]")).tolist()
    [1, 2, 3, 0]
    """
    values = np.asarray(days, dtype="datetime64[ns]")
    starts = np.array([r.start.to_datetime64() for r in DIVIDEND_TAX], dtype="datetime64[ns]")
    found = np.maximum(np.searchsorted(starts, values, side="right") - 1, 0)
    return np.where(np.isnat(values), 0, found).astype(np.int64)


def holding_tier(bought: pd.Timestamp, sold: pd.Timestamp) -> int:
    """Holding-period tier of shares bought on ``bought`` and sold on ``sold``.

    The holding period runs from the day the shares were acquired to the day before the
    sale (财税[2012]85号). Tier 0: one calendar month or less; 1: more than a month, up to
    one year; 2: more than a year (the order of :attr:`DividendTaxRule.rates`).

    Examples
    --------
    >>> T = pd.Timestamp
    >>> [holding_tier(T("2024-01-02"), T(d)) for d in
    ...  ("2024-02-02", "2024-02-05", "2025-01-03", "2025-01-06")]
    [0, 1, 1, 2]
    """
    held_to = pd.Timestamp(sold) - pd.Timedelta(days=1)
    start = pd.Timestamp(bought)
    if held_to <= _months_later(start, 1):
        return 0
    if held_to <= _months_later(start, 12):
        return 1
    return 2


def _months_later(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """``day + pd.DateOffset(months=months)`` (the same day of the month, or the month's
    last day when it is shorter), without the offset machinery: the engine asks per lot."""
    years, month0 = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month0 + 1
    return day.replace(year=year, month=month, day=min(day.day, monthrange(year, month)[1]))
