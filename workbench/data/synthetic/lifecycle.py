"""A stock's life in the synthetic market: listing (IPO), ST episodes, delisting, suspensions.

Most main-board stocks trade before the sample; the rest list inside it (IPOs), with the
board's unlimited first sessions. ST episodes end in recovery or in delisting after an
ST/*ST period; suspensions last a few days to a few months, away from listing and delisting,
plus the July 2015 mass suspension when the sample holds it. Every index is a session
position in the sample's dates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.calendar import CALENDAR_START, sessions
from workbench.data.synthetic.config import SyntheticConfig
from workbench.data.synthetic.universe import BOARD_OPEN, BOARDS
from workbench.errors import ConfigError
from workbench.rules import ipo_unlimited_days

__all__ = ["Lifecycle", "draw_lifecycle"]

# The July 2015 mass suspension: a share of listed stocks halted from this day.
_MASS_SUSPENSION = pd.Timestamp("2015-07-08")


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """When each stock trades, as session positions and sessions × stocks masks.

    Attributes
    ----------
    ipo
        Listed inside the sample.
    first_idx
        Position of the first bar in the sample (0 for a pre-sample listing).
    list_date
        Listing day (``datetime64[ns]``), before the sample for seasoned stocks.
    age0
        Sessions since listing on the first bar (pre-sample listings count as seasoned).
    ipo_days
        Sessions a new listing trades without limit (0 for seasoned stocks).
    ipo_capped
        New listings held to the first-day band of +44 % / -36 % of the issue price.
    delist_idx
        First session no longer listed (``len(dates)``: still listed at the end).
    st_kind
        0 never ST, 1 an ST episode that recovers (or still runs), 2 ST then delisted.
    st_stock, st_start, st_end
        One entry per ST episode: the stock, first and last session (inclusive).
    st_mask
        Sessions × stocks: under risk warning (and listed).
    suspended
        Sessions × stocks: suspended (and listed).
    """

    ipo: np.ndarray
    first_idx: np.ndarray
    list_date: np.ndarray
    age0: np.ndarray
    ipo_days: np.ndarray
    ipo_capped: np.ndarray
    delist_idx: np.ndarray
    st_kind: np.ndarray
    st_stock: np.ndarray
    st_start: np.ndarray
    st_end: np.ndarray
    st_mask: np.ndarray
    suspended: np.ndarray

    def listed_mask(self) -> np.ndarray:
        """Sessions × stocks: listed (from the first bar to the day before delisting)."""
        return _listed_mask(self.first_idx, self.delist_idx, len(self.st_mask))


def _listed_mask(first_idx: np.ndarray, delist_idx: np.ndarray, n_sessions: int) -> np.ndarray:
    t = np.arange(n_sessions)[:, None]
    return (t >= first_idx[None, :]) & (t < delist_idx[None, :])


def draw_lifecycle(rng: np.random.Generator, config: SyntheticConfig, dates: pd.DatetimeIndex,
                   board: np.ndarray) -> Lifecycle:
    """Draw listings, ST episodes and delistings, then suspensions (in that order).

    Parameters
    ----------
    rng
        The build's generator (draws are taken in a fixed order).
    config
        The build's configuration (``history_episodes``).
    dates
        The sample's sessions.
    board
        Per stock, its index in :data:`~workbench.data.synthetic.universe.BOARDS`.

    Raises
    ------
    ConfigError
        Fewer than three delistings fit in the sample.
    """
    ipo, first_idx, list_date, age0, ipo_days, ipo_capped = _listing(rng, dates, board)
    delist_idx, st_kind, st_stock, st_start, st_end, st_mask = _st_and_delisting(
        rng, len(dates), board, ipo, first_idx)
    suspended = _suspensions(rng, config, dates, first_idx, ipo_days, delist_idx)
    return Lifecycle(ipo=ipo, first_idx=first_idx, list_date=list_date, age0=age0,
                     ipo_days=ipo_days, ipo_capped=ipo_capped, delist_idx=delist_idx,
                     st_kind=st_kind, st_stock=st_stock, st_start=st_start, st_end=st_end,
                     st_mask=st_mask, suspended=suspended)


def _listing(rng: np.random.Generator, dates: pd.DatetimeIndex, board: np.ndarray
             ) -> tuple[np.ndarray, ...]:
    """List dates: most main-board stocks trade before the sample, the rest are IPOs."""
    N, T = len(board), len(dates)
    first_day = dates[0]
    board_open_idx = np.array([dates.searchsorted(BOARD_OPEN[b]) for b in BOARDS])
    can_pre = np.array([BOARD_OPEN[b] <= first_day - pd.Timedelta(days=30)
                        for b in BOARDS])[board]
    ipo = ~can_pre | (rng.random(N) < 0.2)
    # At least three seasoned main-board stocks (the delisting candidates) and at least
    # three listings inside the sample.
    main = np.flatnonzero(board <= 1)
    short = 3 - int((~ipo[main]).sum())
    if short > 0:
        ipo[rng.permutation(main[ipo[main]])[:short]] = False
    short = 3 - int(ipo.sum())
    if short > 0:
        spare = np.flatnonzero(~ipo)
        keep = main[~ipo[main]][:3]
        ipo[rng.permutation(np.setdiff1d(spare, keep))[:short]] = True
    lo = np.maximum(board_open_idx[board], 1)
    hi = T - 21
    list_idx = np.where(ipo, lo + np.floor(rng.random(N) * (hi - lo + 1)).astype(int), 0)
    # Pre-sample listing days: sessions where the calendar has them, weekdays before.
    pre_days = pd.bdate_range(first_day - pd.DateOffset(years=25), CALENDAR_START,
                              inclusive="left")
    pre_days = pre_days.append(sessions(CALENDAR_START, first_day)[:-1]) if (
        first_day > CALENDAR_START) else pre_days
    pre_days = np.asarray(pre_days[pre_days <= first_day - pd.Timedelta(days=30)],
                          dtype="datetime64[ns]")
    opens = np.asarray([BOARD_OPEN[b] for b in BOARDS], dtype="datetime64[ns]")[board]
    lo_pre = np.searchsorted(pre_days, opens)
    pick = lo_pre + np.floor(rng.random(N) * (len(pre_days) - lo_pre)).astype(int)
    list_date = np.where(ipo, np.asarray(dates, dtype="datetime64[ns]")[list_idx],
                         pre_days[np.minimum(pick, len(pre_days) - 1)])
    # Sessions since listing on the first bar (pre-sample listings count as seasoned).
    age0 = np.where(ipo, 0, 10_000)
    ipo_days = np.zeros(N, dtype=int)
    for i in np.flatnonzero(ipo):
        ipo_days[i] = ipo_unlimited_days(BOARDS[board[i]], dates[list_idx[i]])
    # Main boards, and ChiNext before 2020-08-24, cap day one at +44 % / -36 %.
    ipo_capped = ipo & (ipo_days == 1) & (board <= 2)
    return ipo, list_idx, list_date, age0, ipo_days, ipo_capped


def _st_and_delisting(rng: np.random.Generator, T: int, board: np.ndarray, ipo: np.ndarray,
                      first_idx: np.ndarray) -> tuple[np.ndarray, ...]:
    """Delistings after a long ST/*ST period, then ST episodes that recover."""
    N = len(board)
    delist_idx = np.full(N, T)  # first session no longer listed (T: still listed)
    st_start, st_end = [], []  # session indices, end inclusive
    st_stock: list[int] = []
    st_kind = np.zeros(N, dtype=int)  # 0 none, 1 recovers, 2 delisted
    used = np.zeros(N, dtype=bool)
    # Delistings: seasoned main-board and ChiNext stocks, after a long ST/*ST period.
    n_delist = max(3, round(0.03 * N))
    st_len_cap = max(T // 3, 60)
    candidates = rng.permutation(np.flatnonzero(board <= 2))
    for i in candidates:
        if len(st_stock) >= n_delist:
            break
        st_len = min(int(rng.integers(180, 420)), st_len_cap)
        lo = first_idx[i] + (0 if not ipo[i] else 250) + st_len + 40
        if lo > T - 1:
            continue
        d = int(lo + rng.integers(0, T - lo))
        delist_idx[i] = d
        st_stock.append(int(i))
        st_start.append(d - st_len)
        st_end.append(d - 1)
        st_kind[i] = 2
        used[i] = True
    if len(st_stock) < 3:
        raise ConfigError(f"could not fit three delistings in {T} sessions; "
                          "lengthen the sample or add stocks")
    # ST episodes that end in recovery (or are still running at the end).
    n_st = max(2, round(0.04 * N))
    done = 0
    for i in rng.permutation(np.flatnonzero(~used)):
        if done >= n_st:
            break
        lo = first_idx[i] + (250 if ipo[i] else 0) + 40
        hi = T - 40
        if lo >= hi:
            continue
        s = int(lo + rng.integers(0, hi - lo))
        e = s + int(rng.integers(120, 500)) - 1
        st_stock.append(int(i))
        st_start.append(s)
        st_end.append(min(e, T - 1))
        st_kind[i] = 1
        done += 1
    stock = np.array(st_stock, dtype=int)
    start = np.array(st_start, dtype=int)
    end = np.array(st_end, dtype=int)
    mask = np.zeros((T + 1, N), dtype=np.int8)
    np.add.at(mask, (start, stock), 1)
    np.add.at(mask, (end + 1, stock), -1)
    st_mask = np.cumsum(mask, axis=0)[:T] > 0
    st_mask &= _listed_mask(first_idx, delist_idx, T)
    return delist_idx, st_kind, stock, start, end, st_mask


def _suspensions(rng: np.random.Generator, config: SyntheticConfig, dates: pd.DatetimeIndex,
                 first_idx: np.ndarray, ipo_days: np.ndarray, delist_idx: np.ndarray
                 ) -> np.ndarray:
    """Episodes of a few days to a few months, away from listing and delisting."""
    N, T = len(first_idx), len(dates)
    n_episodes = max(5, round(0.10 * N))
    pick = rng.random(n_episodes)
    kind = rng.random(n_episodes)
    kind[:2] = (0.0, 0.95)  # at least one short and one long episode
    length = np.where(kind < 0.6, rng.integers(1, 10, n_episodes),
                      np.where(kind < 0.9, rng.integers(10, 40, n_episodes),
                               rng.integers(40, 120, n_episodes)))
    start_u = rng.random(n_episodes)
    if config.history_episodes and dates[0] < _MASS_SUSPENSION <= dates[-1]:
        t0 = int(dates.searchsorted(_MASS_SUSPENSION))
        halted = np.flatnonzero(rng.random(N) < 0.15)
        extra_start = t0 - rng.integers(0, 3, len(halted))
        extra_len = rng.integers(5, 40, len(halted))
    else:
        halted = np.zeros(0, dtype=int)
        extra_start = extra_len = np.zeros(0, dtype=int)
    lo = first_idx + np.maximum(ipo_days, 1) + 10
    hi = np.minimum(delist_idx, T) - 30  # last allowed start + length
    susp = np.zeros((T + 1, N), dtype=np.int16)
    starts, ends, who = [], [], []
    for k in range(n_episodes):
        room = hi - lo - length[k]
        fits = np.flatnonzero(room > 0)
        if not len(fits):
            continue
        i = fits[int(pick[k] * len(fits))]
        s = lo[i] + int(start_u[k] * room[i])
        starts.append(s)
        ends.append(s + length[k])
        who.append(i)
    for i, s, n in zip(halted, extra_start, extra_len, strict=True):
        e = min(s + n, hi[i])
        if lo[i] <= s < e:
            starts.append(s)
            ends.append(e)
            who.append(i)
    np.add.at(susp, (np.array(starts, dtype=int), np.array(who, dtype=int)), 1)
    np.add.at(susp, (np.array(ends, dtype=int), np.array(who, dtype=int)), -1)
    return (np.cumsum(susp, axis=0)[:T] > 0) & _listed_mask(first_idx, delist_idx, T)
