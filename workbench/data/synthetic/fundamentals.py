"""Quarterly statements of the synthetic market and the corporate actions they decide.

Statements follow a slowly moving per-stock ROE (AR(1) per quarter), with two years of
losses before and through ST. Each annual report decides next summer's cash dividend and
bonus shares (ex-dates in June or July). Reports are announced within the legal windows
(Q1 and annual by 30 April, half-year by 31 August, Q3 by 31 October).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.schema import FUNDAMENTAL_COLUMNS
from workbench.data.synthetic.lifecycle import Lifecycle
from workbench.data.synthetic.universe import Profiles

__all__ = ["Events", "Statements", "draw_statements"]


@dataclass(frozen=True, kw_only=True)
class Events:
    """Corporate actions sorted by session: cash per share in 0.001 CNY, bonus per 10 shares.

    ``t`` is the ex-date's session position, ``stock`` the stock's index and
    ``shares_after`` its share count from the ex-date on.
    """

    t: np.ndarray
    stock: np.ndarray
    cash_mill: np.ndarray
    bonus10: np.ndarray
    shares_after: np.ndarray


@dataclass(frozen=True, kw_only=True)
class Statements:
    """The announced reports and what the price path reads from them.

    Attributes
    ----------
    fundamentals
        The ``fundamentals`` table (``workbench.data.schema.FUNDAMENTAL_COLUMNS``), sorted by
        symbol and period.
    events
        Dividends and bonus shares.
    rep_ttm, rep_equity, rep_roe
        Per row of ``fundamentals``: TTM net profit (CNY), equity (CNY), TTM ROE.
    report_id
        Sessions × stocks: the row of the latest report announced by then, -1 for none.
    """

    fundamentals: pd.DataFrame
    events: Events
    rep_ttm: np.ndarray
    rep_equity: np.ndarray
    rep_roe: np.ndarray
    report_id: np.ndarray


def draw_statements(rng: np.random.Generator, dates: pd.DatetimeIndex, symbols: np.ndarray,
                    life: Lifecycle, profiles: Profiles) -> Statements:
    """Quarterly statements from a slowly moving ROE; dividends and bonus shares.

    Parameters
    ----------
    rng
        The build's generator (draws are taken in a fixed order).
    dates
        The sample's sessions.
    symbols
        Per stock, its symbol.
    life
        Listings, ST episodes (which bring losses), delistings and suspensions.
    profiles
        Per stock: long-run ROE, payout, first price, shares and price-to-book.
    """
    N, T = len(symbols), len(dates)
    first = dates[0]
    q_start = (first - pd.DateOffset(years=3)) - pd.offsets.QuarterEnd(1)
    period_ends = pd.date_range(q_start, dates[-1], freq="QE-DEC").as_unit("ns")
    Q = len(period_ends)
    pe_ns = np.asarray(period_ends, dtype="datetime64[ns]")
    # Loss windows before and through ST: two years of losses trigger the warning.
    loss_lo = np.full(N, np.datetime64("NaT"), dtype="datetime64[ns]")
    loss_hi = loss_lo.copy()
    d_ns = np.asarray(dates, dtype="datetime64[ns]")
    for i, s, e in zip(life.st_stock, life.st_start, life.st_end, strict=True):
        loss_lo[i] = d_ns[s] - np.timedelta64(760, "D")
        recover = life.st_kind[i] == 1 and e < T - 1
        loss_hi[i] = (d_ns[e] - np.timedelta64(270, "D")) if recover else d_ns[-1]
    loss = (pe_ns[:, None] >= loss_lo[None, :]) & (pe_ns[:, None] <= loss_hi[None, :])
    # Latent ROE and revenue growth, AR(1) per quarter.
    roe_mean = profiles.roe_mean
    z_roe = rng.standard_normal((Q, N))
    z_g = rng.standard_normal((Q, N))
    z_p = rng.standard_normal((Q, N))
    roe = np.empty((Q, N))
    g = np.empty((Q, N))
    x = roe_mean + 0.03 * z_roe[0]
    gl = 0.10 + 0.10 * z_g[0]
    for q in range(Q):
        if q:
            x_new = roe_mean + 0.85 * (x - roe_mean) + 0.02 * z_roe[q]
            gl = 0.10 + 0.8 * (gl - 0.10) + 0.07 * z_g[q] + 1.5 * (x_new - x)
            x = x_new
        roe[q] = np.where(loss[q], -0.12 + 0.03 * z_roe[q], x)
        g[q] = np.clip(np.where(loss[q], -0.2 + 0.1 * z_g[q], gl), -0.7, 2.0)
    # Ex-date candidates: one session per stock in each June-July inside the sample.
    windows = {}
    for year in range(dates[0].year, dates[-1].year + 1):
        a = int(dates.searchsorted(pd.Timestamp(year, 6, 1)))
        b = int(dates.searchsorted(pd.Timestamp(year, 8, 1))) - 1
        if a <= b:
            windows[year] = a + np.floor(rng.random(N) * (b - a + 1)).astype(int)
    u_div = rng.random((len(windows) + 1, N))
    u_bonus = rng.random((len(windows) + 1, N))
    bonus_size = rng.choice(np.array([2, 3, 4, 5]), size=(len(windows) + 1, N))
    seasoned_from = life.first_idx + np.where(life.ipo, 250, 0)
    # Equity, profit, revenue, shares through the quarters.
    equity = profiles.price0 * profiles.shares0 / profiles.pb0 * 0.85
    shares = profiles.shares0.copy()
    turnover = np.exp(rng.normal(np.log(0.8), 0.5, N))
    profit = np.zeros((Q, N))
    revenue = np.zeros((Q, N))
    eq_hist = np.zeros((Q, N))
    sh_hist = np.zeros((Q, N), dtype=np.int64)
    pending: list[tuple[np.ndarray, ...]] = []
    ev_parts: list[tuple[np.ndarray, ...]] = []
    for q in range(Q):
        pe = period_ends[q]
        profit[q] = roe[q] / 4.0 * equity * (1.0 + 0.15 * z_p[q])
        if q < 4:
            revenue[q] = equity * turnover / 4.0 * (1.0 + g[q]) ** (q / 4.0)
        else:
            revenue[q] = revenue[q - 4] * (1.0 + g[q])
        equity = equity + profit[q]
        # Corporate actions with ex-dates in this quarter.
        prev_end = period_ends[q - 1] if q else pe - pd.DateOffset(months=3)
        keep = []
        for ev in pending:
            t_ev = ev[1]
            inside = (dates[t_ev] > prev_end) & (dates[t_ev] <= pe)
            if inside.all():
                i, _, cash_mill, b10 = ev
                equity[i] -= cash_mill / 1000.0 * shares[i]
                shares[i] = shares[i] * (10 + b10) // 10
                ev_parts.append((t_ev, i, cash_mill, b10, shares[i].copy()))
            else:
                keep.append(ev)
        pending = keep
        eq_hist[q] = equity
        sh_hist[q] = shares
        # The annual report decides next summer's dividend and bonus shares.
        year = pe.year + 1
        if pe.month == 12 and year in windows and q >= 3:
            k = list(windows).index(year)
            t_ex = windows[year]
            eps = profit[q - 3 : q + 1].sum(axis=0) / shares
            ok = (
                (eps > 0)
                & (t_ex >= seasoned_from)
                & (t_ex > life.first_idx)
                & (t_ex < life.delist_idx - 30)
                & ~life.st_mask[t_ex, np.arange(N)]
                & ~life.suspended[t_ex, np.arange(N)]
            )
            pay = ok & (u_div[k] < 0.8)
            bonus = ok & (u_bonus[k] < 0.08)
            cash_mill = np.where(pay, np.round(profiles.payout * eps * 1000.0), 0).astype(np.int64)
            b10 = np.where(bonus, bonus_size[k], 0).astype(np.int64)
            act = np.flatnonzero((cash_mill > 0) | (b10 > 0))
            # June ex-dates fall in Q2, July ones in Q3: one pending group per quarter.
            for in_june in (True, False):
                sel = act[(dates[t_ex[act]].month == 6) == in_june]
                if len(sel):
                    pending.append((sel, t_ex[sel], cash_mill[sel], b10[sel]))
    for sel, t_ev, cash_mill, b10 in pending:  # ex-dates after the last period end
        for j, i in enumerate(sel):
            shares[i] = shares[i] * (10 + b10[j]) // 10
        ev_parts.append((t_ev, sel, cash_mill, b10, shares[sel].copy()))
    if ev_parts:
        t_all, i_all, c_all, b_all, s_all = (np.concatenate(p) for p in zip(*ev_parts,
                                                                              strict=True))
    else:
        t_all = i_all = c_all = b_all = s_all = np.zeros(0, dtype=np.int64)
    order = np.lexsort((i_all, t_all))
    events = Events(t=t_all[order], stock=i_all[order], cash_mill=c_all[order],
                    bonus10=b_all[order], shares_after=s_all[order])
    return _reports(rng, dates, symbols, life, events, period_ends, profit, revenue, eq_hist,
                    sh_hist)


def _reports(rng: np.random.Generator, dates: pd.DatetimeIndex, symbols: np.ndarray,
             life: Lifecycle, events: Events, period_ends: pd.DatetimeIndex,
             profit: np.ndarray, revenue: np.ndarray, equity: np.ndarray, shares: np.ndarray
             ) -> Statements:
    """TTM figures, announcement days and the table of reports announced in the sample."""
    N, T = len(symbols), len(dates)
    Q = len(period_ends)
    ttm = np.full((Q, N), np.nan)
    rev_ttm = np.full((Q, N), np.nan)
    for q in range(3, Q):
        ttm[q] = profit[q - 3 : q + 1].sum(axis=0)
        rev_ttm[q] = revenue[q - 3 : q + 1].sum(axis=0)
    base = np.full((Q, N), np.nan)
    base[4:] = ttm[:-4]
    with np.errstate(divide="ignore", invalid="ignore"):
        profit_growth = np.where(np.abs(base) > 0, (ttm - base) / np.abs(base), np.nan)
    rev_growth = np.full((Q, N), np.nan)
    rev_growth[4:] = revenue[4:] / revenue[:-4] - 1.0
    # Announcement: Q1 10-30 Apr (not before the annual report), H1 15 Jul-31 Aug,
    # Q3 10-31 Oct, annual 20 Jan-30 Apr of the next year.
    u = rng.random((Q, N))
    announce = np.empty((Q, N), dtype="datetime64[ns]")
    for q, pe in enumerate(period_ends):
        if pe.month == 3:
            lo, hi = pd.Timestamp(pe.year, 4, 10), pd.Timestamp(pe.year, 4, 30)
        elif pe.month == 6:
            lo, hi = pd.Timestamp(pe.year, 7, 15), pd.Timestamp(pe.year, 8, 31)
        elif pe.month == 9:
            lo, hi = pd.Timestamp(pe.year, 10, 10), pd.Timestamp(pe.year, 10, 31)
        else:
            lo, hi = pd.Timestamp(pe.year + 1, 1, 20), pd.Timestamp(pe.year + 1, 4, 30)
        span = (hi - lo).days
        announce[q] = (np.asarray(lo, dtype="datetime64[ns]")
                       + (np.floor(u[q] * (span + 1))).astype("timedelta64[D]"))
        if pe.month == 3 and q >= 1:
            announce[q] = np.maximum(announce[q], announce[q - 1])
    pe_ns = np.asarray(period_ends, dtype="datetime64[ns]")
    d_ns = np.asarray(dates, dtype="datetime64[ns]")
    delist_day = np.where(life.delist_idx < T, d_ns[np.minimum(life.delist_idx, T - 1)],
                          np.datetime64("2262-01-01"))
    valid = (
        (np.arange(Q)[:, None] >= 7)
        & (pe_ns[:, None] >= d_ns[0] - np.timedelta64(400, "D"))
        & (announce >= life.list_date[None, :])
        & (announce <= d_ns[-1])
        & (announce < delist_day[None, :])
    )
    qq, ii = np.nonzero(valid)
    order = np.lexsort((qq, ii))  # by stock, then period
    qq, ii = qq[order], ii[order]
    sh = shares[qq, ii]
    eps = ttm[qq, ii] / sh
    bvps = equity[qq, ii] / sh
    with np.errstate(divide="ignore", invalid="ignore"):
        roe = np.where(equity[qq, ii] > 0, ttm[qq, ii] / equity[qq, ii], np.nan)
    frame = pd.DataFrame({
        "symbol": symbols[ii],
        "period_end": pe_ns[qq],
        "announce_date": announce[qq, ii],
        "eps": eps,
        "bvps": bvps,
        "roe": roe,
        "revenue_growth": rev_growth[qq, ii],
        "profit_growth": profit_growth[qq, ii],
        "shares_outstanding": sh.astype(np.int64),
    })
    # Latest announced report per session and stock (announcements are monotone in
    # period per stock, so a running maximum of the row number finds it).
    t_ann = np.searchsorted(d_ns, announce[qq, ii], side="left")
    rid = np.full((T, N), -1, dtype=np.int32)
    inside = t_ann < T
    rows = np.arange(len(qq), dtype=np.int32)[inside]
    # Several reports on one day: the later period has the larger row number.
    np.maximum.at(rid, (t_ann[inside], ii[inside]), rows)
    return Statements(
        fundamentals=frame.loc[:, list(FUNDAMENTAL_COLUMNS)].reset_index(drop=True),
        events=events,
        rep_ttm=ttm[qq, ii],
        rep_equity=equity[qq, ii],
        rep_roe=roe,
        report_id=np.maximum.accumulate(rid, axis=0),
    )
