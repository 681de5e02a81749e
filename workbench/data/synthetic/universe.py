"""Who is in the synthetic market: codes, boards, sectors, names and each stock's character.

The static tables (boards with their opening dates and code prefixes, the fourteen level-1
sectors) and the first two groups of draws of a build: :func:`draw_securities` and, after
the lifecycle, :func:`draw_profiles`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.rules import round_fen
from workbench.symbols import Board

__all__ = [
    "BOARDS",
    "BOARD_OPEN",
    "SECTORS",
    "SECTOR_TABLE",
    "Profiles",
    "Sector",
    "Securities",
    "draw_profiles",
    "draw_securities",
]

#: The boards in the order of every per-board table (board codes index into it).
BOARDS: tuple[Board, ...] = (Board.SH_MAIN, Board.SZ_MAIN, Board.CHINEXT, Board.STAR, Board.BSE)
_BOARD_SHARE = np.array([0.36, 0.30, 0.16, 0.10, 0.08])
#: First trading day of each board.
BOARD_OPEN = {
    Board.SH_MAIN: pd.Timestamp("1990-12-19"),
    Board.SZ_MAIN: pd.Timestamp("1991-07-03"),
    Board.CHINEXT: pd.Timestamp("2009-10-30"),
    Board.STAR: pd.Timestamp("2019-07-22"),
    Board.BSE: pd.Timestamp("2021-11-15"),
}
_PREFIXES = {
    Board.SH_MAIN: ("600", "601", "603", "605"),
    Board.SZ_MAIN: ("000", "001", "002", "003"),
    Board.CHINEXT: ("300", "301"),
    Board.STAR: ("688",),
    Board.BSE: ("83", "87", "43"),
}
_EXCHANGE = {Board.SH_MAIN: "SH", Board.STAR: "SH", Board.SZ_MAIN: "SZ", Board.CHINEXT: "SZ",
             Board.BSE: "BJ"}
# Idiosyncratic volatility, turnover and issue price level relative to the main boards.
_BOARD_VOL = np.array([1.0, 1.05, 1.25, 1.3, 1.35])
_BOARD_TURNOVER = np.array([1.0, 1.1, 1.6, 1.5, 0.7])
_BOARD_PRICE = np.array([1.0, 1.0, 1.3, 2.5, 0.8])
# Price-to-book relative to the main boards: growth boards trade at a premium, BSE cheaper.
_BOARD_PB = np.array([1.0, 1.0, 1.4, 1.8, 0.8])
# Below this fraction of its sector's ROE a stock is valued as if it earned that fraction.
_ROE_FLOOR = 0.5


@dataclass(frozen=True)
class Sector:
    """A level-1 sector and what is typical of its stocks."""

    name: str
    pb: float  # typical price-to-book
    roe: float  # typical ROE, fraction per year
    vol: float  # idiosyncratic volatility multiplier
    payout: float  # typical cash payout ratio
    suffixes: tuple[str, ...]  # name endings (disjoint across sectors, so names are unique)
    weights: tuple[float, ...]  # relative frequency on SH main, SZ main, ChiNext, STAR, BSE


#: The sectors in the order sector codes index into.
SECTOR_TABLE: tuple[Sector, ...] = (
    Sector("Banks", 0.8, 0.11, 0.55, 0.30, ("银行",), (3, 1, 0, 0, 0)),
    Sector("Non-bank Financials", 1.6, 0.09, 1.0, 0.30, ("证券", "保险", "信托"),
           (3, 2, 0.3, 0, 0)),
    Sector("Real Estate", 1.2, 0.08, 0.9, 0.25, ("地产", "置业", "发展"), (3, 3, 0, 0, 0)),
    Sector("Food & Beverage", 6.0, 0.20, 0.85, 0.50, ("酒业", "食品", "乳业"), (2, 2, 0.5, 0, 1)),
    Sector("Pharmaceuticals", 4.0, 0.11, 1.0, 0.30, ("医药", "药业", "生物"), (2, 2, 3, 3, 2)),
    Sector("Electronics", 3.8, 0.09, 1.2, 0.20, ("电子", "光电", "微电"), (2, 2, 3, 4, 2)),
    Sector("Computers", 4.5, 0.07, 1.25, 0.15, ("软件", "信息", "数据"), (1, 2, 3, 3, 2)),
    Sector("Autos", 2.4, 0.09, 1.0, 0.30, ("汽车", "汽配", "车业"), (2, 2, 1, 0.5, 1)),
    Sector("Power Equipment", 3.5, 0.11, 1.15, 0.20, ("电气", "新能", "锂电"), (2, 2, 2, 2, 1)),
    Sector("Chemicals", 2.6, 0.11, 1.0, 0.30, ("化工", "材料", "化学"), (2, 2, 1, 1, 2)),
    Sector("Machinery", 2.6, 0.08, 1.0, 0.25, ("机械", "重工", "智造"), (2, 2, 2, 3, 3)),
    Sector("Utilities", 1.7, 0.09, 0.7, 0.45, ("电力", "水务", "燃气"), (2, 1, 0.2, 0, 0.3)),
    Sector("Media", 3.0, 0.06, 1.2, 0.25, ("传媒", "文化", "影视"), (1, 1, 1, 0, 0.5)),
    Sector("Telecom", 3.0, 0.07, 1.1, 0.30, ("通信", "网络", "通讯"), (1, 1, 1, 1, 0.5)),
)
#: The fourteen level-1 sectors of the synthetic market.
SECTORS: tuple[str, ...] = tuple(s.name for s in SECTOR_TABLE)
_NAME_FIRST = "华中东海金新长国天恒宏盛万光信安永鼎瑞嘉通兴德泰和康润飞龙远"
_NAME_SECOND = "联达源科力创美丰宇晨辰晟鑫利捷凯峰立诚博迪豪航翔普益隆昌明锦"


@dataclass(frozen=True, kw_only=True)
class Securities:
    """The security master as arrays, one entry per stock, sorted by symbol.

    ``board`` indexes :data:`BOARDS`, ``sector`` indexes :data:`SECTOR_TABLE`.
    """

    symbols: np.ndarray
    board: np.ndarray
    sector: np.ndarray
    names: np.ndarray


def draw_securities(rng: np.random.Generator, dates: pd.DatetimeIndex,
                    n_stocks: int) -> Securities:
    """Draw codes, boards, sectors and names; boards opening in the last month are left out.

    Parameters
    ----------
    rng
        The build's generator (draws are taken in a fixed order).
    dates
        The sample's sessions.
    n_stocks
        Number of stocks.
    """
    N, T = n_stocks, len(dates)
    last_listing = dates[max(T - 21, 0)]
    present = np.array([BOARD_OPEN[b] <= last_listing for b in BOARDS])
    share = np.where(present, _BOARD_SHARE, 0.0)
    share = share / share.sum()
    counts = np.maximum(np.floor(share * N).astype(int), present.astype(int))
    counts[0] += N - counts.sum()  # SH main absorbs the rounding
    board = np.repeat(np.arange(len(BOARDS)), counts)
    codes = np.empty(N, dtype=object)
    for b, board_enum in enumerate(BOARDS):
        idx = np.flatnonzero(board == b)
        if not len(idx):
            continue
        width = 6 - len(_PREFIXES[board_enum][0])
        pool = [p + f"{k:0{width}d}" for p in _PREFIXES[board_enum] for k in range(10**width)]
        picked = rng.choice(len(pool), size=len(idx), replace=False)
        exchange = _EXCHANGE[board_enum]
        codes[idx] = [f"{pool[k]}.{exchange}" for k in picked]
    order = np.argsort(codes.astype(str), kind="stable")
    symbols = codes[order].astype(str)
    board = board[order]
    # Sectors by board weights; a missing sector takes a stock from a shared one.
    weights = np.array([s.weights for s in SECTOR_TABLE], dtype=float).T  # board x sector
    weights /= weights.sum(axis=1, keepdims=True)
    u = rng.random(N)
    cum = np.cumsum(weights[board], axis=1)
    sector = np.minimum((u[:, None] > cum).sum(axis=1), len(SECTOR_TABLE) - 1)
    for s in range(len(SECTOR_TABLE)):
        if not (sector == s).any():
            shared = np.bincount(sector, minlength=len(SECTOR_TABLE))[sector] > 1
            donors = np.flatnonzero(shared & (board <= 1))
            if not len(donors):  # only in the smallest markets
                donors = np.flatnonzero(shared)
            sector[donors[rng.integers(len(donors))]] = s
    # Names: two syllables and a sector ending, unique within (hence across) sectors.
    names = np.empty(N, dtype=object)
    n1, n2 = len(_NAME_FIRST), len(_NAME_SECOND)
    for s, spec in enumerate(SECTOR_TABLE):
        idx = np.flatnonzero(sector == s)
        combos = n1 * n2 * len(spec.suffixes)
        picked = rng.choice(combos, size=len(idx), replace=False)
        first, rest = np.divmod(picked, n2 * len(spec.suffixes))
        second, suffix = np.divmod(rest, len(spec.suffixes))
        names[idx] = [_NAME_FIRST[i] + _NAME_SECOND[j] + spec.suffixes[k]
                      for i, j, k in zip(first, second, suffix, strict=True)]
    return Securities(symbols=symbols, board=board, sector=sector, names=names.astype(str))


@dataclass(frozen=True, kw_only=True)
class Profiles:
    """Each stock's character, drawn once: one array entry per stock.

    ``beta`` to the market; ``idio_vol`` daily idiosyncratic volatility (fraction);
    ``price0`` pre-sample close or issue price (CNY); ``shares0`` shares outstanding on the
    first bar; ``float_ratio`` tradable fraction; ``turnover`` daily turnover of the float
    (fraction); ``pb0`` price-to-book on the first bar, also the long-run level the
    statements follow (:func:`~workbench.data.synthetic.fundamentals.catch_up`);
    ``roe_mean`` long-run ROE (fraction
    per year); ``payout`` cash payout ratio; ``backlog0`` log of fair value over issue price
    still to come on an IPO's first bar (0 for seasoned stocks).
    """

    beta: np.ndarray
    idio_vol: np.ndarray
    price0: np.ndarray
    shares0: np.ndarray
    float_ratio: np.ndarray
    turnover: np.ndarray
    pb0: np.ndarray
    roe_mean: np.ndarray
    payout: np.ndarray
    backlog0: np.ndarray


def draw_profiles(rng: np.random.Generator, securities: Securities, *, ipo: np.ndarray,
                  ipo_capped: np.ndarray) -> Profiles:
    """Draw each stock's beta, volatility, size, valuation, profitability and IPO pop.

    Parameters
    ----------
    rng
        The build's generator (draws are taken in a fixed order).
    securities
        The stocks.
    ipo, ipo_capped
        Per stock: listed inside the sample; held to the +44 % / -36 % first-day band.
    """
    N = len(securities.symbols)
    board, sector = securities.board, securities.sector
    spec = SECTOR_TABLE
    beta = np.clip(rng.normal(1.0, 0.2, N), 0.5, 1.6)
    sector_vol = np.array([s.vol for s in spec])[sector]
    cap = np.exp(rng.normal(np.log(8e9), 1.0, N))  # CNY
    size_vol = (cap / 8e9) ** -0.08
    idio_vol = (0.014 * sector_vol * _BOARD_VOL[board] * size_vol
                * np.exp(rng.normal(0.0, 0.15, N)))
    price = np.exp(rng.normal(np.log(12.0), 0.6, N)) * _BOARD_PRICE[board]
    price0 = np.maximum(round_fen(price), 1.5)  # pre-sample close or issue price
    shares0 = np.maximum(np.round(cap / price0 / 1e4), 1000).astype(np.int64) * 10_000
    float_ratio = rng.uniform(0.3, 1.0, N)
    turnover = (0.012 * _BOARD_TURNOVER[board] * (cap / 8e9) ** -0.15
                * np.exp(rng.normal(0.0, 0.3, N)))
    pb_noise = np.exp(rng.normal(0.0, 0.35, N))
    sector_roe = np.array([s.roe for s in spec])[sector]
    roe_mean = sector_roe + rng.normal(0.0, 0.04, N)
    # Investors pay for profitability: P/B is in proportion to ROE at a sector's P/E, so
    # the earnings yield varies far less across stocks than ROE or P/B do.
    roe_rel = np.maximum(roe_mean, _ROE_FLOOR * sector_roe) / sector_roe
    pb0 = np.array([s.pb for s in spec])[sector] * _BOARD_PB[board] * roe_rel * pb_noise
    payout = np.clip(np.array([s.payout for s in spec])[sector]
                     + rng.normal(0.0, 0.1, N), 0.05, 0.8)
    # Log of fair value over issue price: the IPO pop still to come on the first bar.
    fair = np.where(ipo_capped, rng.normal(1.0, 0.35, N), rng.normal(0.8, 0.45, N))
    fair = np.where(board == 4, fair - 0.4, fair)  # BSE listings pop less
    return Profiles(beta=beta, idio_vol=idio_vol, price0=price0, shares0=shares0,
                    float_ratio=float_ratio, turnover=turnover, pb0=pb0, roe_mean=roe_mean,
                    payout=payout, backlog0=np.where(ipo, fair, 0.0))
