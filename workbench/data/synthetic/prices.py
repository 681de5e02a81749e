"""The synthetic price path: returns, daily limits, corporate actions, volume, benchmark.

Returns are market, sector and idiosyncratic shocks with fat (Student t) tails, volatility
regimes, rare news gaps, stylised episodes of the real market, and the planted premia
(momentum drift, value and quality tilts on the latest announced report). Each session is
then held to the board's limits on the ex-rights reference price (``workbench.rules``), in
whole fen; the part of a move the limits block is carried to the next sessions. The
benchmark is cap-weighted over the largest listed non-ST stocks, chosen each June and
December.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data.synthetic.config import SyntheticConfig
from workbench.data.synthetic.fundamentals import Ledger, Statements
from workbench.data.synthetic.lifecycle import Lifecycle
from workbench.data.synthetic.universe import BOARDS, SECTOR_TABLE, Profiles, Securities
from workbench.rules import PRICE_LIMITS, limit_percent, limit_prices, round_fen

__all__ = ["PricePaths", "simulate_prices"]

# Stylised episodes of the real market: (first day, last day, market drift per session,
# volatility multiplier). Applied where they fall inside the sample.
_EPISODES: tuple[tuple[str, str, float, float], ...] = (
    ("2015-01-05", "2015-06-08", 0.0035, 1.3),  # leveraged bull market
    ("2015-06-15", "2015-07-08", -0.0150, 2.2),  # the crash
    ("2015-07-09", "2015-08-17", 0.0040, 1.8),  # rescue
    ("2015-08-18", "2015-08-26", -0.0300, 2.0),  # second leg down
    ("2015-08-27", "2015-12-31", 0.0015, 1.3),
    ("2016-01-04", "2016-01-28", -0.0080, 2.0),  # circuit-breaker January
    ("2018-01-29", "2018-12-28", -0.0012, 1.1),  # trade-war year
    ("2019-01-04", "2019-04-19", 0.0030, 1.2),
    ("2020-02-03", "2020-02-03", -0.0800, 1.0),  # reopening after the Spring Festival
    ("2024-01-02", "2024-02-05", -0.0050, 1.5),  # small-cap rout
    ("2024-09-24", "2024-10-08", 0.0400, 1.5),  # stimulus rally
)

_T_DF = 4.0  # degrees of freedom of the fat-tailed shocks
_T_SCALE = float(np.sqrt((_T_DF - 2.0) / _T_DF))  # Student t scaled to unit variance
_YEAR = 250.0  # sessions per year, for converting annual drifts and premia
# Annual volatility of a style factor's payoff per unit of score: the premia are paid on
# average, not every day, so a long-short book has factor risk at any universe size.
_STYLE_VOL = 0.02


@dataclass(frozen=True, kw_only=True)
class PricePaths:
    """The simulated sessions × stocks arrays, before they become tables.

    Attributes
    ----------
    columns
        Bar columns ``open, high, low, close, prev_close, limit_up, limit_down, adj_factor,
        amount, pe_ttm, pb_mrq`` (CNY prices, raw; NaN-free only where listed).
    volume
        Shares traded (int64).
    listed
        Where a stock is listed: the cells that become bars.
    bench
        Per session: benchmark open, high, low and close returns on the previous close,
        volume (shares) and amount (CNY) of its constituents.
    scale
        Quarters × stocks: the scale of each quarter's statements, set as the quarter
        closed (:class:`~workbench.data.synthetic.fundamentals.Ledger`).
    event_cash
        Per corporate-action event (``Statements.events`` order): the cash dividend per share
        paid on its ex-date, CNY (0.0: none), as it entered the ex-date's reference price.
    """

    columns: dict[str, np.ndarray]
    volume: np.ndarray
    listed: np.ndarray
    bench: np.ndarray
    scale: np.ndarray
    event_cash: np.ndarray


def simulate_prices(rng: np.random.Generator, config: SyntheticConfig,
                    dates: pd.DatetimeIndex, securities: Securities, life: Lifecycle,
                    profiles: Profiles, statements: Statements) -> PricePaths:
    """Simulate every session's bars and the benchmark, one session at a time.

    Parameters
    ----------
    rng
        The build's generator (draws are taken in a fixed order).
    config
        Premia, momentum drift, episodes and benchmark size.
    dates
        The sample's sessions.
    securities, life, profiles, statements
        The earlier draws of the build.
    """
    cfg = config
    N, T = len(securities.symbols), len(dates)
    board, sector = securities.board, securities.sector
    pct_normal, pct_st = _limit_tables(dates)
    m_drift, m_vol = _market_path(rng, cfg, dates)
    drift_st, shocks = _stock_drift(life, T)
    shock_at: dict[int, list[tuple[int, float]]] = {}
    for t, i, size in shocks:
        shock_at.setdefault(t, []).append((i, size))
    listed = life.listed_mask()
    ev = statements.events
    ev_bounds = np.searchsorted(ev.t, np.arange(T + 1))
    ev_cash = np.zeros(len(ev.t))
    delist_soon = life.delist_idx - 30
    # Buyers defend prices near 1 CNY (face-value delisting rule), except for delisters.
    support = np.where(life.st_kind == 2, 0.0, 0.002)
    n_sec = len(SECTOR_TABLE)
    st_mask, report_id = life.st_mask, statements.report_id
    # The report figures fill in as their quarters close, before any is announced.
    ledger = Ledger(statements, pb_target=profiles.pb0)
    rep_ttm, rep_roe, rep_equity = ledger.ttm, ledger.roe, ledger.equity
    idio_vol, ipo_capped = profiles.idio_vol, life.ipo_capped

    out = {k: np.full((T, N), np.nan) for k in
           ("open", "high", "low", "close", "prev_close", "limit_up", "limit_down",
            "adj_factor", "amount", "pe_ttm", "pb_mrq")}
    volume = np.zeros((T, N), dtype=np.int64)
    bench = np.full((T, 6), np.nan)  # open, high, low, close returns; volume; amount

    close = profiles.price0.astype(float).copy()  # last close (or issue price)
    adj = np.ones(N)
    backlog = profiles.backlog0.copy()
    shares = profiles.shares0.copy()
    mom_daily = cfg.momentum_drift_vol / _YEAR
    rho = np.exp(-1.0 / _YEAR)
    mom = rng.normal(0.0, mom_daily, N)
    score_v = score_q = np.zeros(N)
    constituents = np.zeros(N, dtype=bool)
    intraday = 0.6 * idio_vol
    rebalance_months = (6, 12)
    for t in range(T):
        # Quarters that ended since yesterday close at yesterday's prices.
        ledger.close_quarters(dates[t], close, listed[t - 1] if t else None)
        on = listed[t]
        age = t - life.first_idx + life.age0
        unlimited = on & (age < life.ipo_days)
        day_one = on & (age == 0) & life.ipo
        cap_prev = close * shares
        # Benchmark constituents: at the start and each June and December.
        month = dates[t].month
        if t == 0 or (month in rebalance_months and dates[t - 1].month != month):
            eligible = on & ~st_mask[t] & (age >= 60)
            caps = np.where(eligible, cap_prev, -1.0)
            k = min(cfg.benchmark_size, int(eligible.sum()))
            constituents = np.zeros(N, dtype=bool)
            if k:
                constituents[np.argsort(-caps, kind="stable")[:k]] = True
        # Ex-rights reference price and the factor step.
        prev = close.copy()
        lo_e, hi_e = ev_bounds[t], ev_bounds[t + 1]
        if hi_e > lo_e:
            ex = ev.stock[lo_e:hi_e]
            close_mill = np.rint(close[ex] * 1000.0).astype(np.int64)
            cash_mill = np.where(ev.pays_cash[lo_e:hi_e], statements.dividend_mill(
                ledger.scale, ex, ev.report_q[lo_e:hi_e]), 0)
            cash = np.minimum(cash_mill, close_mill // 10)
            ev_cash[lo_e:hi_e] = cash / 1000.0
            div = 10 + ev.bonus10[lo_e:hi_e]
            fen = ((close_mill - cash) * 2 + div) // (2 * div)
            prev[ex] = fen / 100.0
            adj[ex] = adj[ex] * close[ex] / prev[ex]
            shares[ex] = ev.shares_after[lo_e:hi_e]
        # Value and quality tilt from the latest announced report, refreshed monthly.
        if t % 21 == 0:
            rid = report_id[t]
            has = on & (rid >= 0)
            ey = np.where(has, rep_ttm[rid] / np.maximum(cap_prev, 1.0), np.nan)
            roe = np.where(has, rep_roe[rid], np.nan)
            score_v, score_q = _rank_score(ey), _rank_score(roe)
        # The day's desired move: market, sector, stock, drift, premia.
        m = rng.standard_t(_T_DF) * _T_SCALE * 0.011 * m_vol[t] + m_drift[t]
        sec = rng.standard_t(_T_DF, n_sec) * _T_SCALE * 0.006 * m_vol[t]
        idio = rng.standard_t(_T_DF, N) * _T_SCALE * idio_vol * (0.5 + 0.5 * m_vol[t])
        news = np.where(rng.random(N) < 0.0025, rng.normal(0.0, 0.09, N), 0.0)
        mom = rho * mom + np.sqrt(1.0 - rho * rho) * mom_daily * rng.standard_normal(N)
        f_v, f_q, f_m = rng.standard_normal(3) * _STYLE_VOL / np.sqrt(_YEAR)
        style = (score_v * (cfg.value_premium / _YEAR + f_v)
                 + score_q * (cfg.quality_premium / _YEAR + f_q)
                 + (mom * (1.0 + f_m / mom_daily) if mom_daily > 0 else 0.0))
        z_open, z_hi, z_lo, z_vol, u_seal = (rng.standard_normal(N), rng.standard_normal(N),
                                             rng.standard_normal(N), rng.standard_normal(N),
                                             rng.random(N))
        st_today = st_mask[t]
        r = (profiles.beta * m + sec[sector] + idio + style
             + np.where(st_today, drift_st, 0.0)
             + np.where(t >= delist_soon, -0.01, 0.0) - 0.5 * idio_vol**2
             + support * np.log(np.maximum(1.5 / close, 1.0)))
        for i, size in shock_at.get(t, ()):
            news[i] += size
        r = r + news
        g = backlog + r
        # Limits on the reference price; unlimited IPO days keep an internal band only.
        pct = np.where(st_today, pct_st[board, t], pct_normal[board, t])
        up, down = limit_prices(prev, pct)
        cap44, _ = limit_prices(prev, 44)
        _, floor36 = limit_prices(prev, 36)
        cap20, _ = limit_prices(prev, 20)
        capped = unlimited & ipo_capped
        hi_cap = np.where(unlimited, np.where(capped, cap44, np.inf), up)
        lo_cap = np.where(unlimited, np.where(capped, floor36, 0.01), down)
        c = np.clip(round_fen(prev * np.exp(g)), lo_cap, hi_cap)
        go = 0.6 * backlog + news + 0.25 * (r - news) + 0.004 * z_open
        open_cap = np.where(capped & day_one, cap20, hi_cap)
        o = np.clip(round_fen(prev * np.exp(go)), lo_cap, open_cap)
        wild = np.where(unlimited, 3.0, 1.0)
        h = round_fen(np.maximum(o, c) * np.exp(np.abs(z_hi) * intraday * wild))
        lo = round_fen(np.minimum(o, c) * np.exp(-np.abs(z_lo) * intraday * wild))
        h = np.minimum(np.maximum(h, np.maximum(o, c)), hi_cap)
        lo = np.maximum(np.minimum(lo, np.minimum(o, c)), lo_cap)
        limited = ~unlimited
        seal_up = limited & (o == up) & (c == up) & (u_seal < 0.75)
        seal_dn = limited & (o == down) & (c == down) & (u_seal < 0.75)
        h = np.where(seal_dn, down, h)
        lo = np.where(seal_up, up, lo)
        susp = life.suspended[t]
        o, h, lo, c = (np.where(susp, prev, x) for x in (o, h, lo, c))
        # Volume: turnover of the float, busier on big moves, thin on sealed days.
        move = np.abs(np.log(c / prev))
        turn = profiles.turnover * np.exp(0.4 * z_vol) * (1.0 + 6.0 * move) * m_vol[t] ** 0.5
        turn = np.where(seal_up | seal_dn, 0.1 * turn, turn)
        turn = np.where(day_one, np.where(ipo_capped, 0.02, 0.6), turn)
        turn = np.where(unlimited & ~day_one, 3.0 * turn, turn)
        vol = np.maximum(np.rint(turn * shares * profiles.float_ratio / 100.0), 1.0) * 100.0
        vol = np.where(susp | ~on, 0.0, vol)
        amount = np.round(vol * (o + h + lo + c) / 4.0, 2)
        # Point-in-time valuation on the latest announced report.
        rid = report_id[t]
        has = rid >= 0
        mcap = c * shares
        p_ttm = np.where(has, rep_ttm[rid], np.nan)
        p_eq = np.where(has, rep_equity[rid], np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            # Four decimals, as vendors publish them (and the files compress better).
            pe = np.round(np.where(p_ttm > 0, mcap / p_ttm, np.nan), 4)
            pb = np.round(np.where(p_eq > 0, mcap / p_eq, np.nan), 4)
        # Benchmark: yesterday's constituents still trading, weighted by yesterday's cap.
        w = np.where(constituents & on & (cap_prev > 0), cap_prev, 0.0)
        if t:
            w = np.where(listed[t - 1] & ~st_mask[t - 1], w, 0.0)
        total = w.sum()
        if total > 0:
            wn = w / total
            bench[t, :4] = [wn @ (x / prev - 1.0) for x in (o, h, lo, c)]
        else:
            bench[t, :4] = 0.0
        bench[t, 4] = vol[w > 0].sum()
        bench[t, 5] = amount[w > 0].sum()
        # Store today's row (read back only where listed) and carry the state.
        for key, x in (("open", o), ("high", h), ("low", lo), ("close", c),
                       ("prev_close", prev), ("adj_factor", adj), ("amount", amount),
                       ("pe_ttm", pe), ("pb_mrq", pb)):
            out[key][t] = x
        out["limit_up"][t] = np.where(unlimited, np.nan, up)
        out["limit_down"][t] = np.where(unlimited, np.nan, down)
        volume[t] = vol.astype(np.int64)
        backlog = np.where(on, g - np.log(c / prev), backlog)
        close = np.where(on, c, close)
    ledger.close_quarters(None, close, listed[T - 1])
    return PricePaths(columns=out, volume=volume, listed=listed, bench=bench,
                      scale=ledger.scale, event_cash=ev_cash)


def _limit_tables(dates: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Limit percent per board and session, ordinary and ST (0 before a board opens)."""
    T = len(dates)
    cuts = sorted({r.start for r in PRICE_LIMITS} | {dates[0]})
    normal = np.zeros((len(BOARDS), T), dtype=np.int64)
    st = np.zeros_like(normal)
    for b, board in enumerate(BOARDS):
        for k, cut in enumerate(cuts):
            lo = int(dates.searchsorted(cut))
            hi = int(dates.searchsorted(cuts[k + 1])) if k + 1 < len(cuts) else T
            if lo >= hi:
                continue
            try:
                normal[b, lo:hi] = limit_percent(board, dates[lo])
                st[b, lo:hi] = limit_percent(board, dates[lo], st=True)
            except ValueError:  # the board had not opened yet
                continue
    return normal, st


def _market_path(rng: np.random.Generator, cfg: SyntheticConfig, dates: pd.DatetimeIndex
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Market drift per session and a volatility multiplier (regimes and episodes)."""
    T = len(dates)
    drift = np.full(T, 0.0003)
    vol = np.empty(T)
    u = rng.random(T)
    turbulent = False
    for t in range(T):
        turbulent = (u[t] < 0.05) if turbulent else (u[t] < 0.008)
        vol[t] = 1.7 if turbulent else 1.0
    if cfg.history_episodes:
        for lo, hi, mu, mult in _EPISODES:
            a = int(dates.searchsorted(pd.Timestamp(lo)))
            b = int(dates.searchsorted(pd.Timestamp(hi), side="right"))
            drift[a:b] = mu
            vol[a:b] = np.maximum(vol[a:b], mult)
    return drift, vol


def _stock_drift(life: Lifecycle, T: int) -> tuple[np.ndarray, list[tuple[int, int, float]]]:
    """Extra drift on ST days and one-off shocks (ST start, recovery, delisting)."""
    drift_st = np.where(life.st_kind == 2, -0.0025, -0.0005)
    shocks: list[tuple[int, int, float]] = []
    for i, s, e in zip(life.st_stock, life.st_start, life.st_end, strict=True):
        shocks.append((int(s), int(i), -0.15))
        if life.st_kind[i] == 1 and e < T - 1:
            shocks.append((int(e) + 1, int(i), 0.12))
        if life.st_kind[i] == 2:
            shocks.append((max(int(e) - 25, int(s) + 1), int(i), -0.30))
    return drift_st, shocks


def _rank_score(x: np.ndarray) -> np.ndarray:
    """Cross-sectional ranks scaled to mean 0 and unit variance; NaN scores 0."""
    ok = np.isfinite(x)
    score = np.zeros(len(x))
    n = int(ok.sum())
    if n > 1:
        ranks = np.argsort(np.argsort(x[ok], kind="stable"), kind="stable")
        score[ok] = ((ranks + 0.5) / n - 0.5) * np.sqrt(12.0)
    return score
