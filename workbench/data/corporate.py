"""Corporate actions as events: cash dividends and bonus, transfer and rights shares.

A Market's ``corporate_actions`` table (``workbench.data.schema.CORPORATE_ACTION_COLUMNS``)
holds one row per event of one stock on one ex-date: the cash dividend per share before
tax (CNY), the bonus (送股), transfer (转增) and rights (配股) shares per share held, the
rights price, the record, pay and announcement dates, and where the row came from
(``source``): ``'vendor'`` (an export, read by :mod:`workbench.data.dividends`),
``'derived'`` (inferred from the jumps of ``adj_factor`` by :func:`events_from_factors`) or
``'synthetic'`` (emitted by the synthetic market with its bars).

An event is known from its ``announce_date``, or from its ``ex_date`` where the source gives
no announcement: :func:`cut_actions` (used by ``Market.as_of``) keeps only the events known
by the cut, so no dividend after the cut shows. The table is optional: a market without
events holds :func:`empty_actions`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.data.schema import CORPORATE_ACTION_COLUMNS

__all__ = [
    "CASH_ONLY_MAX_DROP",
    "actions_frame",
    "cut_actions",
    "empty_actions",
    "events_from_factors",
    "known_dates",
    "split_payout",
]

#: Largest ex-date price drop, as a fraction of the previous close, that
#: :func:`events_from_factors` reads as a pure cash dividend: 0.0909 = 1 − 1/1.1, a share
#: ratio of 0.1 (10送1). A larger drop is read as a share distribution (plus any cash).
CASH_ONLY_MAX_DROP = 1.0 - 1.0 / 1.1

_DATES = ("ex_date", "record_date", "pay_date", "announce_date")
_RATIOS = ("cash_pre_tax_cny", "bonus_ratio", "transfer_ratio", "rights_ratio")


def empty_actions() -> pd.DataFrame:
    """A ``corporate_actions`` table with no rows (the markets without events)."""
    return actions_frame(symbol=np.array([], dtype=object),
                         ex_date=np.array([], dtype="datetime64[ns]"), source="vendor")


def actions_frame(*, symbol: np.ndarray, ex_date: np.ndarray, source: str | np.ndarray,
                  **columns: np.ndarray) -> pd.DataFrame:
    """Build a ``corporate_actions`` table with the canonical dtypes and defaults.

    Parameters
    ----------
    symbol, ex_date
        One entry per event: canonical symbols and ex-dates (datetime64).
    source
        ``'vendor'``, ``'derived'`` or ``'synthetic'``, for every row or per row.
    **columns
        Any other column of ``CORPORATE_ACTION_COLUMNS``. Missing dates are NaT, missing
        cash and ratios 0.0 (none of that kind), a missing ``rights_price_cny`` NaN.

    Returns
    -------
    pandas.DataFrame
        ``CORPORATE_ACTION_COLUMNS``, sorted by symbol and ex-date (stable).
    """
    if unknown := sorted(set(columns) - set(CORPORATE_ACTION_COLUMNS)):
        raise ValueError(f"unknown corporate-action columns {unknown}; "
                         f"the table has {list(CORPORATE_ACTION_COLUMNS)}")
    n = len(symbol)
    out: dict[str, object] = {"symbol": pd.Series(np.asarray(symbol, dtype=object), dtype="str")}
    for col in _DATES:
        values = ex_date if col == "ex_date" else columns.get(col)
        out[col] = (np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]") if values is None
                    else np.asarray(values, dtype="datetime64[ns]"))
    for col in _RATIOS:
        values = columns.get(col)
        out[col] = (np.zeros(n) if values is None
                    else np.nan_to_num(np.asarray(values, dtype=float), nan=0.0))
    price = columns.get("rights_price_cny")
    out["rights_price_cny"] = np.full(n, np.nan) if price is None else np.asarray(price, float)
    out["source"] = pd.Series(np.broadcast_to(np.asarray(source, dtype=object), (n,)),
                              dtype="str")
    frame = pd.DataFrame(out, columns=list(CORPORATE_ACTION_COLUMNS))
    return frame.sort_values(["symbol", "ex_date"], kind="stable", ignore_index=True)


def known_dates(actions: pd.DataFrame) -> np.ndarray:
    """The day each event became known: ``announce_date``, else ``ex_date`` (datetime64)."""
    return actions["announce_date"].fillna(actions["ex_date"]).to_numpy(dtype="datetime64[ns]")


def cut_actions(actions: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """The events as known after the close of ``day``: those announced (or gone ex) by then.

    An event announced by ``day`` keeps its later record, ex and pay dates (they were
    announced with it); an event announced later is gone.
    """
    keep = known_dates(actions) <= np.datetime64(pd.Timestamp(day), "ns")
    return actions.loc[keep].reset_index(drop=True)


def split_payout(close_prev: np.ndarray, reference: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Split an ex-date's price step into cash and shares per share (the rule below).

    ``close_prev`` is the last close before the ex-date and ``reference`` the exchange's
    ex-rights reference price (both CNY, positive, ``reference < close_prev``). An event
    that pays cash ``d`` per share and gives ``s`` shares per share has
    ``reference = (close_prev - d) / (1 + s)``: one equation, two unknowns, so

    * a drop ``1 - reference/close_prev`` of at most :data:`CASH_ONLY_MAX_DROP` (≈ 9.1 %)
      is a pure cash dividend: ``d = close_prev - reference``, ``s = 0``;
    * a larger drop is a share distribution: ``s`` is the largest multiple of 0.1 (A-share
      plans give whole shares per 10) not above ``close_prev/reference - 1`` (allowing for
      the reference's rounding to the fen), and the rest is cash,
      ``d = close_prev - reference (1 + s)`` (0 when negative by rounding).

    Cash is rounded to 0.0001 CNY.

    Returns
    -------
    (cash_cny, shares)
        Cash per share (CNY) and shares per share, one entry per input.

    Examples
    --------
    >>> cash, shares = split_payout(np.array([10.0, 10.0, 20.0]), np.array([9.7, 8.0, 10.0]))
    >>> cash.tolist(), shares.tolist()
    ([0.3, 0.4, 0.0], [0.0, 0.2, 1.0])
    """
    c = np.asarray(close_prev, dtype=float)
    ref = np.asarray(reference, dtype=float)
    drop = 1.0 - ref / c
    whole = c / ref - 1.0
    slack = 0.0051 * c / ref**2 + 1e-9  # ref rounded to the fen moves c/ref by up to this
    shares = np.floor((whole + slack) * 10.0 + 1e-9) / 10.0
    is_cash = drop <= CASH_ONLY_MAX_DROP
    bonus = np.where(is_cash, 0.0, shares)
    cash = np.where(is_cash, c - ref, np.maximum(c - ref * (1.0 + shares), 0.0))
    return np.round(np.maximum(cash, 0.0), 4), bonus


def events_from_factors(bars: pd.DataFrame) -> pd.DataFrame:
    """Infer corporate-action events from the jumps of a backward ``adj_factor``.

    An ex-date is every bar whose ``adj_factor`` differs from the stock's previous bar's
    (relative change over 1e-9). With ``c`` the previous bar's close and ``ref`` the
    exchange reference price of the ex-date (its ``prev_close``; where that is NaN,
    ``c / r`` with ``r`` the factor's step ``adj_factor_t / adj_factor_{t-1}``), an event
    that pays cash ``d`` per share and gives ``s`` shares per share has
    ``ref = (c - d) / (1 + s)`` (no rights issue), split by :func:`split_payout`; the
    shares go in ``bonus_ratio`` (送 and 转 cannot be told apart).

    So a cash dividend above 9.1 % of the price reads as shares plus cash, a share ratio
    under 0.1 or off the 0.1 grid as cash (or cash plus the nearest lower ratio), and a
    rights issue (配股) as a distribution. Cash is rounded to 0.0001 CNY. A factor that
    falls (a share consolidation, or a data error) yields no event, nor does a step that
    comes to less than 0.00005 CNY; their numbers are in ``attrs["falls"]`` and
    ``attrs["tiny"]``. Dates other than ``ex_date`` are NaT; ``source`` is ``'derived'``.

    Parameters
    ----------
    bars
        Canonical bars (at least ``date, symbol, close, prev_close, adj_factor``), any order.

    Returns
    -------
    pandas.DataFrame
        ``CORPORATE_ACTION_COLUMNS``, sorted by symbol and ex-date.

    Examples
    --------
    >>> bars = pd.DataFrame({
    ...     "date": pd.to_datetime(["2024-06-03", "2024-06-04", "2024-06-05"] * 2),
    ...     "symbol": ["600000.SH"] * 3 + ["000001.SZ"] * 3,
    ...     "close": [10.0, 9.8, 9.9, 20.0, 10.1, 10.2],
    ...     "prev_close": [10.0, 9.7, 9.8, 20.0, 10.0, 10.1],
    ...     "adj_factor": [1.0, 10 / 9.7, 10 / 9.7, 1.0, 2.0, 2.0]})
    >>> ev = events_from_factors(bars)
    >>> ev[["symbol", "ex_date", "cash_pre_tax_cny", "bonus_ratio", "source"]]
          symbol    ex_date  cash_pre_tax_cny  bonus_ratio   source
    0  000001.SZ 2024-06-04               0.0          1.0  derived
    1  600000.SH 2024-06-04               0.3          0.0  derived
    """
    b = bars.sort_values(["symbol", "date"], kind="stable")
    sym = b["symbol"].astype(str).to_numpy(dtype=object)
    af = b["adj_factor"].to_numpy(dtype=float)
    close = b["close"].to_numpy(dtype=float)
    ref_given = b["prev_close"].to_numpy(dtype=float)
    dates = b["date"].to_numpy(dtype="datetime64[ns]")
    same = np.zeros(len(b), dtype=bool)
    same[1:] = sym[1:] == sym[:-1]
    prev_af = np.roll(af, 1)
    step = np.where(same, af / np.where(same, prev_af, 1.0), 1.0)
    jump = same & (np.abs(step - 1.0) > 1e-9)
    at = np.flatnonzero(jump & (step > 1.0))
    c = close[at - 1]
    r = step[at]
    ref = np.where(np.isfinite(ref_given[at]) & (ref_given[at] > 0), ref_given[at], c / r)
    cash, bonus = split_payout(c, ref)
    some = (cash > 0) | (bonus > 0)  # a step too small to show a fen of cash is no event
    out = actions_frame(symbol=sym[at][some], ex_date=dates[at][some], source="derived",
                        cash_pre_tax_cny=cash[some], bonus_ratio=bonus[some])
    out.attrs["falls"] = int((jump & (step < 1.0)).sum())
    out.attrs["tiny"] = int((~some).sum())
    return out
