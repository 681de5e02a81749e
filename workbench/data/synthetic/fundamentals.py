"""Quarterly statements of the synthetic market and the corporate actions they decide.

Statements follow a slowly moving per-stock ROE (AR(1) per quarter), with two years of
losses before and through ST. Each annual report decides next summer's cash dividend and
bonus shares (ex-dates in June or July). Reports are announced within the legal windows
(Q1 and annual by 30 April, half-year by 31 August, Q3 by 31 October).

The figures drawn here are in a *base scale*: profit, revenue and equity as if the
business never grew or shrank other than by its ROE. Most of a stock's own price moves
are news about its future cash flows, so the business's scale follows the price: the
price path (:mod:`.prices`) sets a scale per quarter and stock when the quarter closes
(:func:`catch_up`), before any report of that quarter is announced, and every published
figure is the base figure times its quarter's scale (:meth:`Statements.figures`,
:meth:`Statements.table`). This keeps earnings yield and price-to-book in the ranges of
real A-shares for the whole sample, and since the statements follow the prices (not the
other way round), it makes no return predictable beyond the planted premia.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.schema import FUNDAMENTAL_COLUMNS
from workbench.data.synthetic.lifecycle import Lifecycle
from workbench.data.synthetic.universe import Profiles

__all__ = [
    "CATCH_UP",
    "MARKET_CATCH_UP",
    "Events",
    "Ledger",
    "Statements",
    "catch_up",
    "draw_statements",
]

#: Fraction of a stock's own price-to-book gap (to its long-run level, net of the market's
#: median gap) that its fundamentals close each quarter: the cash-flow news in a stock's
#: price shows up in its statements within about a year.
CATCH_UP = 0.5
#: The same for the market's median gap: market-wide valuations swing for a few quarters
#: (the 2015 bubble and crash move P/B first) but do not drift away over a decade.
MARKET_CATCH_UP = 0.3


@dataclass(frozen=True, kw_only=True)
class Events:
    """Corporate actions sorted by session: cash dividends and bonus shares per 10 shares.

    ``t`` is the ex-date's session position, ``stock`` the stock's index, ``pays_cash``
    whether a cash dividend is paid (its size, ``payout`` times the EPS of the annual
    report of quarter ``report_q``, an index into ``Statements.period_ends``, is set once
    that quarter's scale is known: :meth:`Statements.dividend_mill`) and ``shares_after``
    the share count from the ex-date on.
    """

    t: np.ndarray
    stock: np.ndarray
    pays_cash: np.ndarray
    report_q: np.ndarray
    bonus10: np.ndarray
    shares_after: np.ndarray


@dataclass(frozen=True, kw_only=True)
class Statements:
    """The quarterly statements in base scale and the reports announced in the sample.

    Attributes
    ----------
    period_ends
        The quarter ends, from three years before the sample to its end.
    ttm
        Quarters × stocks: TTM net profit, CNY in base scale (NaN for the first three).
    revenue
        Quarters × stocks: the quarter's revenue, CNY in base scale.
    equity
        Quarters × stocks: equity at the quarter end, CNY in base scale.
    shares
        Quarters × stocks: shares outstanding at the quarter end (int64).
    payout
        Per stock: the fraction of annual EPS paid as cash dividend.
    events
        Dividends and bonus shares.
    rep_q, rep_stock
        Per announced report (a row of the ``fundamentals`` table, sorted by stock, then
        period): its quarter and its stock.
    announce
        Per report: the announcement day (``datetime64[ns]``).
    report_id
        Sessions × stocks: the row of the latest report announced by then, -1 for none.
    """

    period_ends: pd.DatetimeIndex
    ttm: np.ndarray
    revenue: np.ndarray
    equity: np.ndarray
    shares: np.ndarray
    payout: np.ndarray
    events: Events
    rep_q: np.ndarray
    rep_stock: np.ndarray
    announce: np.ndarray
    report_id: np.ndarray

    def figures(self, scale: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """TTM net profit and equity (CNY) of report ``rows``, both at the report's scale.

        ``scale`` is quarters × stocks. A report states its earlier quarters at its own
        scale (as restated comparable figures), so its ROE is the base ROE.
        """
        q, i = self.rep_q[rows], self.rep_stock[rows]
        return self.ttm[q, i] * scale[q, i], self.equity[q, i] * scale[q, i]

    def dividend_mill(self, scale: np.ndarray, stock: np.ndarray,
                      report_q: np.ndarray) -> np.ndarray:
        """Cash dividend per share in 0.001 CNY: payout times the annual report's EPS."""
        eps = self.ttm[report_q, stock] * scale[report_q, stock] / self.shares[report_q, stock]
        return np.maximum(np.round(self.payout[stock] * eps * 1000.0), 0).astype(np.int64)

    def table(self, symbols: np.ndarray, scale: np.ndarray) -> pd.DataFrame:
        """The ``fundamentals`` table (``workbench.data.schema.FUNDAMENTAL_COLUMNS``).

        Parameters
        ----------
        symbols
            Per stock, its symbol.
        scale
            Quarters × stocks: the scale of each quarter's figures (see :func:`catch_up`).
        """
        ttm, revenue = self.ttm * scale, self.revenue * scale
        # Growth on the figures published a year earlier (at their own scale).
        base = np.full_like(ttm, np.nan)
        base[4:] = ttm[:-4]
        with np.errstate(divide="ignore", invalid="ignore"):
            profit_growth = np.where(np.abs(base) > 0, (ttm - base) / np.abs(base), np.nan)
        rev_growth = np.full_like(revenue, np.nan)
        rev_growth[4:] = revenue[4:] / revenue[:-4] - 1.0
        qq, ii = self.rep_q, self.rep_stock
        sh = self.shares[qq, ii]
        equity = self.equity[qq, ii] * scale[qq, ii]
        with np.errstate(divide="ignore", invalid="ignore"):
            roe = np.where(equity > 0, ttm[qq, ii] / equity, np.nan)
        frame = pd.DataFrame({
            "symbol": symbols[ii],
            "period_end": np.asarray(self.period_ends, dtype="datetime64[ns]")[qq],
            "announce_date": self.announce,
            "eps": ttm[qq, ii] / sh,
            "bvps": equity / sh,
            "roe": roe,
            "revenue_growth": rev_growth[qq, ii],
            "profit_growth": profit_growth[qq, ii],
            "shares_outstanding": sh.astype(np.int64),
        })
        return frame.loc[:, list(FUNDAMENTAL_COLUMNS)].reset_index(drop=True)


def catch_up(statements: Statements, scale: np.ndarray, q: int, close: np.ndarray,
             traded: np.ndarray, pb_target: np.ndarray) -> np.ndarray:
    """The scale of quarter ``q``: the previous one moved toward what the price implies.

    Each traded stock closes :data:`CATCH_UP` of the log gap between its price-to-book
    (at the previous scale) and its long-run level ``pb_target``, net of the median gap of
    the market, and :data:`MARKET_CATCH_UP` of that median gap: the fundamentals follow a
    stock's own price news quickly, the market's valuation only slowly.

    Parameters
    ----------
    statements
        The statements in base scale.
    scale
        Quarters × stocks; rows before ``q`` are set (the first quarter starts from 1).
    q
        The quarter that closes.
    close
        Per stock: the last close on or before the quarter end, CNY (raw).
    traded
        Per stock: has a close of its own (listed at the quarter end).
    pb_target
        Per stock: its long-run price-to-book.

    Returns
    -------
    np.ndarray
        Per stock: the scale of quarter ``q`` (the previous one where not traded).
    """
    prev = scale[q - 1] if q else np.ones(scale.shape[1])
    book = statements.equity[q] * prev
    cap = close * statements.shares[q]
    ok = traded & (book > 0) & (cap > 0)
    if not ok.any():
        return prev.copy()
    gap = np.zeros(len(prev))
    gap[ok] = np.log(cap[ok] / (book[ok] * pb_target[ok]))
    market = float(np.median(gap[ok]))
    gap[ok] = CATCH_UP * (gap[ok] - market) + MARKET_CATCH_UP * market
    return prev * np.exp(gap)


class Ledger:
    """The statements as published so far: the scales of closed quarters, report figures.

    The price path calls :meth:`close_quarters` at the start of every session, so each
    quarter's scale is set from the closes up to its end, before any of its reports is
    announced (announcements come 10 days or more after the quarter end).

    Parameters
    ----------
    statements
        The statements in base scale.
    pb_target
        Per stock: its long-run price-to-book (see :func:`catch_up`).

    Attributes
    ----------
    scale
        Quarters × stocks: 1 until a quarter closes (and for quarters before the sample).
    ttm, equity, roe
        Per report row: TTM net profit and equity (CNY) and TTM ROE; NaN until the
        report's quarter closes.
    """

    def __init__(self, statements: Statements, *, pb_target: np.ndarray) -> None:
        self.statements = statements
        self.pb_target = pb_target
        self.scale = np.ones(statements.equity.shape)
        self.ttm = np.full(len(statements.rep_q), np.nan)
        self.equity = self.ttm.copy()
        self.roe = self.ttm.copy()
        self.closed = 0  # quarters closed so far

    def close_quarters(self, until: pd.Timestamp | None, close: np.ndarray,
                       traded: np.ndarray | None) -> None:
        """Close every open quarter that ends before ``until`` (all of them if None).

        Parameters
        ----------
        until
            The session about to start; None closes the rest (after the last session).
        close
            Per stock: its last close, CNY (raw).
        traded
            Per stock: listed on the last session; None before the first session (the
            quarters before the sample keep scale 1).
        """
        st = self.statements
        while self.closed < len(st.period_ends) and (
                until is None or st.period_ends[self.closed] < until):
            q = self.closed
            if traded is not None:
                self.scale[q] = catch_up(st, self.scale, q, close, traded, self.pb_target)
            rows = np.flatnonzero(st.rep_q == q)
            self.ttm[rows], self.equity[rows] = st.figures(self.scale, rows)
            with np.errstate(divide="ignore", invalid="ignore"):
                self.roe[rows] = np.where(self.equity[rows] > 0,
                                          self.ttm[rows] / self.equity[rows], np.nan)
            self.closed += 1


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

    Returns
    -------
    Statements
        In base scale; :meth:`Statements.table` with the scales the price path sets gives
        the ``fundamentals`` table.
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
                i, _, cash_mill, b10, report_q = ev
                # In base scale; the dividend paid is set at the report's own scale.
                equity[i] -= cash_mill / 1000.0 * shares[i]
                shares[i] = shares[i] * (10 + b10) // 10
                ev_parts.append((t_ev, i, cash_mill > 0, report_q, b10, shares[i].copy()))
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
                    pending.append((sel, t_ex[sel], cash_mill[sel], b10[sel],
                                    np.full(len(sel), q)))
    for sel, t_ev, cash_mill, b10, report_q in pending:  # ex-dates after the last period end
        for j, i in enumerate(sel):
            shares[i] = shares[i] * (10 + b10[j]) // 10
        ev_parts.append((t_ev, sel, cash_mill > 0, report_q, b10, shares[sel].copy()))
    if ev_parts:
        t_all, i_all, p_all, q_all, b_all, s_all = (
            np.concatenate(p) for p in zip(*ev_parts, strict=True))
    else:
        t_all = i_all = q_all = b_all = s_all = np.zeros(0, dtype=np.int64)
        p_all = np.zeros(0, dtype=bool)
    order = np.lexsort((i_all, t_all))
    events = Events(t=t_all[order], stock=i_all[order], pays_cash=p_all[order],
                    report_q=q_all[order], bonus10=b_all[order], shares_after=s_all[order])
    rep_q, rep_stock, announce, report_id = _reports(rng, dates, life, period_ends)
    ttm = np.full((Q, N), np.nan)
    for q in range(3, Q):
        ttm[q] = profit[q - 3 : q + 1].sum(axis=0)
    return Statements(period_ends=period_ends, ttm=ttm, revenue=revenue, equity=eq_hist,
                      shares=sh_hist, payout=profiles.payout, events=events, rep_q=rep_q,
                      rep_stock=rep_stock, announce=announce, report_id=report_id)


def _reports(rng: np.random.Generator, dates: pd.DatetimeIndex, life: Lifecycle,
             period_ends: pd.DatetimeIndex
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The reports announced in the sample: quarter, stock, announcement day, latest row.

    Returns per report (sorted by stock, then period) its quarter, its stock and its
    announcement day, and per session and stock the row of the latest announced report.
    """
    N, T = len(life.first_idx), len(dates)
    Q = len(period_ends)
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
    # Latest announced report per session and stock (announcements are monotone in
    # period per stock, so a running maximum of the row number finds it).
    t_ann = np.searchsorted(d_ns, announce[qq, ii], side="left")
    rid = np.full((T, N), -1, dtype=np.int32)
    inside = t_ann < T
    rows = np.arange(len(qq), dtype=np.int32)[inside]
    # Several reports on one day: the later period has the larger row number.
    np.maximum.at(rid, (t_ann[inside], ii[inside]), rows)
    return qq, ii, announce[qq, ii], np.maximum.accumulate(rid, axis=0)
