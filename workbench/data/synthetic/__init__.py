"""A deterministic synthetic A-share market: real sessions and rules, planted premia.

:func:`synthetic_market` builds a :class:`~workbench.data.Market` from a
:class:`SyntheticConfig` and nothing else: the same configuration gives bit-identical
tables (one ``numpy.random.default_rng(seed)``, no clock). It is the default dataset of
the workbench (:func:`workbench.data.store.ensure_default_market` writes it once to
``default_data_dir() / "synthetic"``) and the test bed of strategies and benchmarks.

What is modelled, and how:

* Sessions are the real XSHG sessions (``workbench.calendar.sessions``), not weekdays.
* Every board, with its real opening date: SH main, SZ main, ChiNext (2009-10-30),
  STAR (2019-07-22), BSE (2021-11-15). Symbols carry the board's code prefixes; names are
  four Chinese characters; fourteen level-1 sectors.
* Daily limits from ``workbench.rules`` (``limit_percent`` and ``limit_prices`` on the
  ``prev_close`` reference price), so ChiNext moves from 10 % to 20 % on 2020-08-24 and a
  main-board ST stock has 5 %. Prices are whole fen. Moves the limits block are carried
  over to the next sessions, which gives sealed limit days (open = high = low = close at
  the limit), consecutive limit days and days that touch the limit after trading through.
* New listings trade without limit for ``ipo_unlimited_days`` sessions (``limit_up`` is
  NaN); ``prev_close`` on the first day is the issue price. Main-board listings (and
  ChiNext before 2020-08-24) are held to the real first-day band of +44 % / -36 % of the
  issue price and then usually run a streak of sealed limit-up days; STAR, new-rule ChiNext
  and BSE listings take their first-day pop at once.
* Suspensions are rows with ``suspended`` set, ``open = high = low = close = prev_close``
  and zero volume (baostock's ``tradestatus=0`` convention); the price catches up on
  resumption, through limit days where needed.
* ST episodes (``st_periods``) follow two years of losses in the statements. Delistings
  come after an ST/*ST period and a price slide; the delisted stock keeps its history and
  its row in ``securities`` (``delist_date`` = first day no longer listed).
* Cash dividends and bonus shares on June/July ex-dates: ``prev_close`` is the exchange's
  ex-rights reference ``(close - cash) / (1 + bonus)`` rounded half up to the fen and the
  backward factor steps by ``close / prev_close`` (first bar 1.0).
* Quarterly statements announced within the legal windows (Q1 and annual by 30 April,
  half-year by 31 August, Q3 by 31 October), driven by a slowly moving per-stock ROE;
  ``pe_ttm`` and ``pb_mrq`` use the latest *announced* report and the current share count.
  P/B is in proportion to ROE within a sector, and the scale of each business follows its
  own price within about a year (most of a stock's own moves are cash-flow news), so
  earnings yield and P/B stay in the ranges real A-shares show for the whole sample.
* Returns: market, sector and idiosyncratic shocks with fat (Student t) tails, volatility
  regimes, rare overnight news gaps and, within the sample, stylised episodes of the real
  market (the 2015 bubble and crash, January 2016, 2018, 3 February 2020, late 2024).
* Planted premia, modest and noisy: a persistent, slowly changing drift per stock (so
  12-1 month momentum weakly predicts the next month) and a higher expected return for high
  earnings yield and high ROE on the latest announced report (value/quality).
* The benchmark is CSI 300 style: the largest ``benchmark_size`` listed non-ST stocks by
  market value, chosen each June and December, cap-weighted on adjusted returns, 1000
  points on the first session.

Not modelled: the issue price's relation to earnings, share issuance other than bonus
shares, rights issues, the delisting consolidation period, lot sizes in volumes (every
volume is a multiple of 100 shares).

The modules: :mod:`.config` (the configuration), :mod:`.universe` (codes, boards, sectors,
names; each stock's character), :mod:`.lifecycle` (listing, ST, delisting, suspensions),
:mod:`.fundamentals` (statements, dividends, bonus shares), :mod:`.prices` (returns, limits,
corporate actions, benchmark), :mod:`.frames` (the tables) and :mod:`.build`
(:func:`synthetic_market`, which fixes the order of the draws from the one generator).
"""

from workbench.data.synthetic.build import NOTE, synthetic_market
from workbench.data.synthetic.config import (
    GENERATOR_VERSION,
    MAX_STOCKS,
    MIN_SESSIONS,
    MIN_STOCKS,
    SyntheticConfig,
)
from workbench.data.synthetic.universe import SECTORS

__all__ = [
    "GENERATOR_VERSION",
    "MAX_STOCKS",
    "MIN_SESSIONS",
    "MIN_STOCKS",
    "NOTE",
    "SECTORS",
    "SyntheticConfig",
    "synthetic_market",
]
