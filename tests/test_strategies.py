"""The strategies: valid weights everywhere, pencil-checked rankings, point-in-time inputs.

Look-ahead for every registered strategy is covered by ``test_strategies_lookahead.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_backtest import make_market

from workbench import strategies
from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, DataError
from workbench.strategies import Strategy
from workbench.strategies.base import Factor, Scores
from workbench.strategies.ranking import (
    percentile_rank,
    percentile_ranks,
    slot_weights,
    strongest,
    top_n,
)
from workbench.view import MarketView, ViewContext

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real_ashare"
SYMS = ["600000.SH", "600001.SH", "600002.SH", "600003.SH"]


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=40, start="2020-01-02", end="2021-12-31",
                                            seed=7))


def view_of(m: Market, row: int = 0, **kw: Any) -> MarketView:
    return MarketView(ViewContext(m), row, **kw)


def with_reports(m: Market, rows: list[tuple]) -> Market:
    """``m`` with hand-written reports: (symbol, announce, eps, bvps, roe, profit_growth)."""
    f = pd.DataFrame(rows, columns=["symbol", "announce_date", "eps", "bvps", "roe",
                                    "profit_growth"])
    f["announce_date"] = pd.to_datetime(f["announce_date"])
    f["period_end"] = f["announce_date"] - pd.Timedelta(days=30)
    f["revenue_growth"] = 0.0
    f["shares_outstanding"] = np.int64(1_000_000_000)
    f = f[list(m.fundamentals.columns)]
    return Market(bars=m.bars, securities=m.securities, fundamentals=f,
                  st_periods=m.st_periods, benchmark=m.benchmark, meta=m.meta)


# -- every strategy, every day ------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Checked(Strategy):
    """Wraps a strategy and checks its weights on every session of a backtest."""

    name: ClassVar[str] = "checked"
    inner: Strategy
    seen: list = None  # type: ignore[assignment]

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        raw = self.inner.target_weights(view)
        if raw is None:
            return None
        w = np.asarray(raw, dtype=float)
        assert w.shape == (len(view.symbols),)
        assert np.isfinite(w).all() and (w >= 0).all()
        assert w.sum() <= 1 + 1e-9
        assert not (w[~view.listed] > 0).any(), "weight on a stock not listed"
        new = (w > 0) & (view.holdings == 0)
        assert not (new & ~view.tradable).any(), "a new position in a suspended stock"
        if self.inner.name != "buy_and_hold":  # the baseline holds the whole universe
            assert not (new & view.is_st).any(), "a new position in an ST stock"
        self.seen.append(float(w.sum()))
        return raw


@pytest.mark.parametrize("name", strategies.available())
def test_every_strategy_returns_valid_weights_every_day(market, name):
    params = {"momentum": {"lookback": 120, "skip": 10}}.get(name, {})
    checked = Checked(inner=strategies.get(name, **params), seen=[])
    result = run(market, checked, BacktestConfig())
    assert checked.seen, "the strategy never traded"
    assert (result.trades["reason"] == "signal").any()


@pytest.mark.parametrize("name", strategies.available())
def test_every_strategy_scores_every_symbol(market, name):
    strategy = strategies.get(name)
    view = view_of(market, len(market.calendar) - 1)
    s = strategy.scores(view)
    n = len(market.symbols)
    assert s.score.shape == s.weights.shape == s.eligible.shape == (n,)
    finite = s.score[np.isfinite(s.score)]
    assert finite.size and ((finite >= 0) & (finite <= 1)).all()
    assert (s.weights >= 0).all() and s.weights.sum() <= 1 + 1e-9
    assert not (s.weights[~view.listed] > 0).any()
    assert s.rule and strategy.describe_inputs(market)
    assert all(isinstance(r, str) for r in s.reasons(range(n)))
    doc = type(strategy).__doc__ or ""
    assert "Parameters" in doc and "Examples" in doc


@pytest.mark.parametrize(("name", "params", "match"), [
    ("momentum", {"skip": 30, "lookback": 20}, "skip .30. must be shorter than lookback"),
    ("momentum", {"top_n": 0}, "top_n must be a whole number >= 1"),
    ("low_volatility", {"window": 1}, "window must be a whole number >= 2"),
    ("rsi_reversion", {"entry": 60, "exit": 50}, "need 0 < entry < exit <= 100"),
    ("rsi_reversion", {"exit": "high"}, "exit must be a finite RSI level"),
    ("value_quality", {"inputs": "pe"}, "inputs must be 'auto', 'statements' or 'ratios'"),
    ("value_quality", {"sector_neutral": 1}, "sector_neutral must be True or False"),
])
def test_bad_parameters_are_refused(name, params, match):
    with pytest.raises(ConfigError, match=match):
        strategies.get(name, **params)


# -- building blocks ----------------------------------------------------------------------------
def test_percentile_rank_by_pencil():
    v = np.array([10.0, 30.0, 20.0, np.nan, 40.0])
    mask = np.array([True, True, True, True, False])
    np.testing.assert_allclose(percentile_rank(v, mask), [1 / 6, 5 / 6, 3 / 6, np.nan, np.nan])
    groups = np.array([0, 1, 0, 1, 1])
    np.testing.assert_allclose(percentile_rank(v, np.ones(5, bool), groups),
                               [0.25, 0.25, 0.75, np.nan, 0.75])


def test_top_n_skips_ineligible_and_nan_and_breaks_ties_by_symbol():
    score = np.array([0.5, 0.9, np.nan, 0.9, 0.99])
    assert top_n(score, np.array([True, True, True, True, False]), 3).tolist() == [1, 3, 0]


def test_slot_weights_keep_held_names_untouched():
    m = make_market({s: {"close": [10.0, 10.0]} for s in SYMS})
    holdings = np.array([1000, 2000, 0, 0])
    view = view_of(m, 1, holdings=holdings, equity_cny=100_000.0)
    assert slot_weights(view, np.array([True, True, False, False]), np.array([]), 4) is None
    w = slot_weights(view, np.array([True, False, False, False]), np.array([2, 3]), 4)
    # 600000 keeps 10 % (1000 shares: floor gives 1000 back), 600001 sold, two new slots
    assert int(w[0] * 100_000 / 10.0) == 1000
    assert w[1] == 0 and w[2] == w[3] == 0.25
    full = slot_weights(view, np.array([True, True, False, False]), np.array([2, 3]), 2)
    assert full is None  # no free slot, nothing to sell


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.sampled_from([0.0, -0.0, 0.5, 1.0, 1.0, 2.0, np.inf, -np.inf, np.nan])
                       | st.floats(allow_nan=True), max_size=30),
       k=st.integers(0, 33))
def test_strongest_is_the_stable_full_sort(values, k):
    v = np.array(values, dtype=float)
    assert strongest(v, k).tolist() == np.argsort(-v, kind="stable")[:k].tolist()


def percentile_rank_by_lexsort(values: np.ndarray, mask: np.ndarray,
                               groups: np.ndarray | None = None) -> np.ndarray:
    """percentile_rank as first written: one lexsort by (group, value), every step spelt
    out; the reference the faster one must equal bit for bit."""
    out = np.full(values.shape, np.nan)
    idx = np.flatnonzero(mask & np.isfinite(values))
    if not idx.size:
        return out
    v = values[idx]
    g = np.zeros(idx.size, dtype=np.int64) if groups is None else groups[idx]
    order = np.lexsort((v, g))
    vs, gs = v[order], g[order]
    n = idx.size
    pos = np.arange(n)
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(gs[1:], gs[:-1], out=new_group[1:])
    new_value = new_group.copy()
    new_value[1:] |= vs[1:] != vs[:-1]
    group_start = pos[new_group]
    group_size = np.diff(group_start, append=n)
    group_of = np.cumsum(new_group) - 1
    run_start = pos[new_value]
    run_mid = (run_start + np.append(run_start[1:], n) - 1) / 2.0
    rank = run_mid[np.cumsum(new_value) - 1] - group_start[group_of]
    out[idx[order]] = (rank + 0.5) / group_size[group_of]
    return out


_RANKED = st.sampled_from([0.0, -0.0, 0.5, 1.0, 1.0, 2.0, np.inf, -np.inf, np.nan]) | st.floats(
    allow_nan=True)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(0, 40), k=st.integers(1, 5), grouped=st.booleans())
def test_percentile_ranks_equal_the_lexsort_reference_bit_for_bit(data, n, k, grouped):
    columns = [np.array(data.draw(st.lists(_RANKED, min_size=n, max_size=n)), dtype=float)
               for _ in range(k)]
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    groups = (np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)),
                       dtype=np.int64) if grouped else None)
    expected = [percentile_rank_by_lexsort(c, mask, groups) for c in columns]
    one_by_one = [percentile_rank(c, mask, groups) for c in columns]
    together = percentile_ranks(columns, mask, groups)
    assert len(together) == k
    for e, a, b in zip(expected, one_by_one, together, strict=True):
        assert a.dtype == b.dtype == np.float64 and a.shape == b.shape == e.shape
        assert a.tobytes() == e.tobytes() and b.tobytes() == e.tobytes()


def reason_row_by_row(scores: Scores, i: int) -> str:
    """Scores.reason as first written, one symbol at a time: the reference."""
    parts: list[tuple[float, str]] = []
    for f in scores.factors:
        v = float(f.values[i])
        text = f"{f.name} {f.fmt.format(v)}" if math.isfinite(v) else f"{f.name} n/a"
        r = math.nan if f.rank is None else float(f.rank[i])
        if math.isfinite(r):
            text += f" (pct {r:.2f})"
        parts.append((r, text))
    parts.sort(key=lambda p: -p[0] if math.isfinite(p[0]) else math.inf)
    return ", ".join(t for _, t in parts)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), n=st.integers(1, 25), k=st.integers(0, 5))
def test_reasons_equal_the_row_by_row_reference(data, n, k):
    fmts = ["{:.3g}", "{:.1%}", "{:+.0%}", "{:.2f}", "{:.1f}"]
    pct = st.sampled_from([0.125, 0.5, 0.5, 0.875, 1.0, 0.0, -0.0, np.nan, np.inf]) | st.floats(
        0, 1)
    factors = []
    for j in range(k):
        values = np.array(data.draw(st.lists(_RANKED, min_size=n, max_size=n)), dtype=float)
        rank = (np.array(data.draw(st.lists(pct, min_size=n, max_size=n)), dtype=float)
                if data.draw(st.booleans()) else None)
        factors.append(Factor(f"f{j}", values, fmts[j], rank))
    s = Scores(score=np.zeros(n), weights=np.zeros(n), eligible=np.ones(n, bool),
               factors=tuple(factors))
    rows = data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n))
    expected = [reason_row_by_row(s, i) for i in rows]
    assert s.reasons(rows) == expected
    assert s.reasons(np.array(rows, dtype=np.int64)) == expected
    assert [s.reason(i) for i in rows] == expected


def slot_weights_by_masks(view: MarketView, keep: np.ndarray, entries: np.ndarray,
                          max_names: int) -> np.ndarray | None:
    """slot_weights as first written, over full-width masks (the reference)."""
    held = view.holdings > 0
    keep = keep & held
    sells = held & ~keep
    free = max(max_names - int(keep.sum()), 0)
    new = np.asarray(entries, dtype=np.int64)
    new = new[~held[new]][:free]
    if not new.size and not sells.any():
        return None
    w = np.where(keep, view.weights * (1.0 + 1e-10), 0.0)
    if new.size:
        room = max(1.0 - float(w.sum()), 0.0)
        w[new] = min(1.0 / max_names, room / new.size)
    return w


@dataclass(frozen=True, kw_only=True)
class BothWays(Strategy):
    """MATrend's target weights, checked every session against its full ranking
    (``_signal``, every entry sorted) through the full-width slot_weights."""

    name: ClassVar[str] = "both_ways"
    inner: strategies.technical.MATrend
    seen: list = None  # type: ignore[assignment]

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        fast = self.inner.target_weights(view)
        slow = None
        if view.row + 1 >= self.inner.slow:
            _, up, entries = self.inner._signal(view)
            slow = slot_weights_by_masks(view, up, entries, self.inner.max_names)
        assert (fast is None) == (slow is None)
        if fast is not None:
            assert fast.tobytes() == slow.tobytes()
            self.seen.append(int(np.count_nonzero(fast)))
        return fast


@pytest.mark.parametrize("params", [{}, {"fast": 3, "slow": 10, "max_names": 4},
                                    {"fast": 5, "slow": 20, "max_names": 12}])
def test_ma_trend_ranks_only_its_free_slots_as_the_full_ranking_would(market, params):
    both = BothWays(inner=strategies.get("ma_trend", **params), seen=[])
    run(market, both, BacktestConfig())
    assert len(both.seen) > 20  # sessions that traded, each compared


# -- value_quality by pencil --------------------------------------------------------------------
def pencil_market(**bars: Any) -> Market:
    """Four SH stocks at 10 CNY for three sessions, reports announced before the first.

    Factor values (eps and bvps over the 10 CNY price):
    ========  ====  ====  ====  =======
    symbol    EY    B/P   ROE   growth
    ========  ====  ====  ====  =======
    600000    10 %  0.5   20 %  10 %
    600001     5 %  1.0    5 %  30 %
    600002    20 %  2.0   10 %   5 %
    600003     2 %  0.2    2 %   0 %
    ========  ====  ====  ====  =======
    """
    m = make_market({s: {"close": [10.0, 10.0, 10.0], **bars.get(s, {})} for s in SYMS})
    return with_reports(m, [
        ("600000.SH", "2023-10-30", 1.0, 5.0, 0.20, 0.10),
        ("600001.SH", "2023-10-30", 0.5, 10.0, 0.05, 0.30),
        ("600002.SH", "2023-10-30", 2.0, 20.0, 0.10, 0.05),
        ("600003.SH", "2023-10-30", 0.2, 2.0, 0.02, 0.00),
    ])


def test_value_quality_ranks_as_the_pencil_says():
    # Mid-rank percentiles of 4 names: 1/8, 3/8, 5/8, 7/8.
    #   EY:     600003 .125, 600001 .375, 600000 .625, 600002 .875
    #   B/P:    600003 .125, 600000 .375, 600001 .625, 600002 .875
    #   ROE:    600003 .125, 600001 .375, 600002 .625, 600000 .875
    #   growth: 600003 .125, 600002 .375, 600000 .625, 600001 .875
    # composite: 600000 2.5/4, 600001 2.25/4, 600002 2.75/4, 600003 0.5/4
    m = pencil_market()
    s = strategies.get("value_quality", top_n=2).scores(view_of(m))
    np.testing.assert_allclose(s.score, [0.625, 0.5625, 0.6875, 0.125])
    assert s.weights.tolist() == [0.5, 0.0, 0.5, 0.0]
    assert s.reason(2).startswith("earnings yield 20.0% (pct 0.88), book/price 2.00 (pct 0.88)")
    assert "profit growth +5% (pct 0.38)" in s.reason(2)
    rebalanced = strategies.get("value_quality", top_n=2).target_weights(view_of(m))
    assert rebalanced is not None and rebalanced.tolist() == [0.5, 0.0, 0.5, 0.0]


def test_value_quality_uses_only_reports_announced_by_the_day():
    m = pencil_market()
    day2 = m.calendar[2]
    # 600003 turns into the best stock, but only from its announcement on session 2
    late = with_reports(m, [*[(r.symbol, r.announce_date, r.eps, r.bvps, r.roe, r.profit_growth)
                              for r in m.fundamentals.itertuples()],
                            ("600003.SH", day2, 5.0, 50.0, 0.5, 2.0)])
    vq = strategies.get("value_quality", top_n=1)
    for row in (0, 1):
        before, after = vq.scores(view_of(m, row)), vq.scores(view_of(late, row))
        np.testing.assert_array_equal(before.score, after.score)
        assert after.weights.tolist() == [0.0, 0.0, 1.0, 0.0]
    assert vq.scores(view_of(late, 2)).weights.tolist() == [0.0, 0.0, 0.0, 1.0]


def test_value_quality_prices_reports_in_the_shares_of_their_day():
    # a 10-for-10 bonus issue on session 1 halves the price and doubles the factor; the
    # report's eps (1.0 on 10 CNY before) is then still a 10 % earnings yield
    m = pencil_market(**{"600000.SH": {"close": [10.0, 5.0, 5.0], "adj_factor": [1.0, 2.0, 2.0],
                                       "prev_close": [10.0, 5.0, 5.0]}})
    view = view_of(m, 1)
    assert view.report_price[0] == pytest.approx(10.0)
    s = strategies.get("value_quality").scores(view)
    assert s.factors[0].values[0] == pytest.approx(0.10)


def test_value_quality_sector_neutral_ranks_within_sectors():
    # 600000 > 600001 > 600002 > 600003 on every factor; the first two are banks
    m = make_market({s: {"close": [10.0]} for s in SYMS})
    m.securities["sector"] = ["Banks", "Banks", "Media", "Media"]
    m = with_reports(m, [(s, "2023-10-30", q / 10, q, q / 100, q / 100)
                         for s, q in zip(SYMS, [4.0, 3.0, 2.0, 1.0], strict=True)])
    plain = strategies.get("value_quality", top_n=2).scores(view_of(m))
    np.testing.assert_allclose(plain.score, [0.875, 0.625, 0.375, 0.125])
    assert plain.weights.tolist() == [0.5, 0.5, 0.0, 0.0]
    neutral = strategies.get("value_quality", top_n=2, sector_neutral=True).scores(view_of(m))
    np.testing.assert_allclose(neutral.score, [0.75, 0.25, 0.75, 0.25])
    assert neutral.weights.tolist() == [0.5, 0.0, 0.5, 0.0]


def test_value_quality_skips_st_and_suspended_names():
    m = pencil_market(**{"600002.SH": {"suspended": [2]}})
    bars = m.bars.copy()
    bars.loc[(bars["symbol"] == "600000.SH") & (bars["date"] == m.calendar[2]), "is_st"] = True
    m = Market(bars=bars, securities=m.securities, fundamentals=m.fundamentals,
               st_periods=m.st_periods, benchmark=m.benchmark, meta=m.meta)
    s = strategies.get("value_quality", top_n=2).scores(view_of(m, 2))
    assert np.isfinite(s.score).all()  # still ranked: the universe is the listed one
    assert s.eligible.tolist() == [False, True, False, True]
    assert s.weights.tolist() == [0.0, 0.5, 0.0, 0.5]


def ratio_market() -> Market:
    """Four stocks with daily pe_ttm / pb_mrq and no statements.

    pe 10, 20, 5, -8 and pb 1, 4, 2, 1: earnings yield .1, .05, .2, -.125; book/price
    1, .25, .5, 1; ROE = pb / pe .1, .2, .4, -.125. On the second session 600003 re-rates.
    """
    m = make_market({s: {"close": [10.0, 10.0]} for s in SYMS})
    bars = m.bars.copy()
    pe = {"600000.SH": [10, 10], "600001.SH": [20, 20], "600002.SH": [5, 5],
          "600003.SH": [-8, 2]}
    pb = {"600000.SH": [1, 1], "600001.SH": [4, 4], "600002.SH": [2, 2], "600003.SH": [1, 1]}
    bars["pe_ttm"] = [float(pe[str(s)][int(d == m.calendar[1])])
                      for s, d in zip(bars["symbol"], bars["date"], strict=True)]
    bars["pb_mrq"] = [float(pb[str(s)][0]) for s in bars["symbol"]]
    return Market(bars=bars, securities=m.securities, fundamentals=m.fundamentals,
                  st_periods=m.st_periods, benchmark=m.benchmark, meta={"name": "ratios"})


def test_value_quality_ranks_on_daily_ratios_without_statements():
    # EY:  600003 .125, 600001 .375, 600000 .625, 600002 .875
    # B/P: 600001 .125, 600002 .375, 600000 and 600003 tie: (2.5 + .5) / 4 = .75
    # ROE: 600003 .125, 600000 .375, 600001 .625, 600002 .875
    m = ratio_market()
    vq = strategies.get("value_quality", top_n=2)
    assert vq.input_mode(m) == "ratios"
    assert "pe_ttm" in vq.describe_inputs(m) and "no statements" in vq.describe_inputs(m)
    s = vq.scores(view_of(m, 0))
    np.testing.assert_allclose(s.score, [1.75 / 3, 1.125 / 3, 2.125 / 3, 1.0 / 3])
    assert s.weights.tolist() == [0.5, 0.0, 0.5, 0.0]
    assert [f.name for f in s.factors] == ["earnings yield (1/PE TTM)", "book/price (1/PB MRQ)",
                                           "ROE (PB/PE)"]
    assert "1/PE TTM" in s.reason(0)
    # as of each day: a pe of 2 on the second session makes 600003 the best
    assert vq.scores(view_of(m, 1)).weights.tolist() == [0.0, 0.0, 0.5, 0.5]


def test_value_quality_says_when_its_inputs_are_missing():
    m = ratio_market()
    with pytest.raises(DataError, match=r"no statements .* use inputs='ratios'"):
        strategies.get("value_quality", inputs="statements").input_mode(m)
    bare = make_market({s: {"close": [10.0]} for s in SYMS})
    with pytest.raises(DataError, match="neither statements nor the daily valuation ratios"):
        strategies.get("value_quality").scores(view_of(bare))
    assert strategies.get("value_quality").input_mode(pencil_market()) == "statements"


def test_value_quality_coverage_says_what_it_cannot_score():
    vq = strategies.get("value_quality", top_n=2)
    view = view_of(ratio_market())
    full = vq.coverage(view)
    assert full.scored.tolist() == [True] * 4 and full.reason == ""
    assert full.rate(view.listed) == 1.0
    m = ratio_market()
    bars = m.bars.copy()
    bars.loc[bars["symbol"].isin(["600000.SH", "600001.SH"]), "pe_ttm"] = np.nan
    bars.loc[bars["symbol"] == "600002.SH", "pb_mrq"] = 0.0
    view = view_of(Market(bars=bars, securities=m.securities, fundamentals=m.fundamentals,
                          st_periods=m.st_periods, benchmark=m.benchmark, meta=m.meta))
    gappy = vq.coverage(view)
    assert gappy.scored.tolist() == [False, False, False, True]
    assert gappy.reason == "of 4 listed: pe_ttm missing for 2, pb_mrq missing for 1"
    assert gappy.rate(view.listed) == 0.25
    # what it scores is what scores() rates
    np.testing.assert_array_equal(gappy.scored, np.isfinite(vq.scores(view).score))
    # statements: one stock has no report yet, another no profit growth
    m = pencil_market()
    rows = [(r.symbol, r.announce_date, r.eps, r.bvps, r.roe, r.profit_growth)
            for r in m.fundamentals.itertuples() if r.symbol != "600003.SH"]
    rows[0] = (*rows[0][:5], np.nan)
    c = vq.coverage(view_of(with_reports(m, rows)))
    assert c.scored.tolist() == [False, True, True, False]
    assert c.reason == ("of 4 listed: no statement announced for 1, profit_growth missing "
                        "for 1")


def test_price_strategies_do_not_report_coverage(market):
    for name in ("buy_and_hold", "momentum", "low_volatility", "ma_trend", "rsi_reversion"):
        assert strategies.get(name).coverage(view_of(market, 5)) is None


# -- the price strategies by pencil -------------------------------------------------------------
def test_momentum_buys_the_winners_of_the_window_skipping_the_last_days():
    # window t-3 .. t-1: 600000 +20 %, 600001 +10 %, 600002 -10 %; 600003 wins only on day t
    closes = {"600000.SH": [10, 11, 12, 12, 10], "600001.SH": [10, 10, 11, 11, 11],
              "600002.SH": [10, 10, 9, 9, 9], "600003.SH": [10, 10, 10, 10, 11]}
    m = make_market({s: {"close": [float(c) for c in v]} for s, v in closes.items()})
    mom = strategies.get("momentum", lookback=4, skip=1, top_n=2)
    s = mom.scores(view_of(m, 4))
    np.testing.assert_allclose(s.factors[0].values, [0.2, 0.1, -0.1, 0.0])
    assert s.weights.tolist() == [0.5, 0.5, 0.0, 0.0]
    assert mom.target_weights(view_of(m, 3)) is None  # not enough history


def test_low_volatility_holds_the_calmest_stocks():
    rng = np.random.default_rng(0)
    spread = {"600000.SH": 0.001, "600001.SH": 0.03, "600002.SH": 0.005, "600003.SH": 0.02}
    m = make_market({s: {"close": list(np.round(10 * np.exp(np.cumsum(
        rng.normal(0, sd, 30))), 2))} for s, sd in spread.items()})
    s = strategies.get("low_volatility", window=20, top_n=2).scores(view_of(m, 29))
    assert s.weights.tolist() == [0.5, 0.0, 0.5, 0.0]
    r = np.diff(np.log(view_of(m, 29).array("adj_close")[-21:, 1]))
    assert s.factors[0].values[1] == pytest.approx(r.std(ddof=1) * np.sqrt(252))


def test_rsi_reversion_buys_oversold_and_sells_on_recovery():
    # 600000 falls every day (RSI 0), 600001 rises (RSI 100), 600002 is flat (RSI 50)
    m = make_market({"600000.SH": {"close": [10.0, 9.8, 9.6, 9.4, 9.2, 9.5, 9.9]},
                     "600001.SH": {"close": [10.0, 10.1, 10.2, 10.3, 10.4, 10.5, 10.6]},
                     "600002.SH": {"close": [10.0] * 7}})
    rsi = strategies.get("rsi_reversion", window=3, entry=30, exit=50, max_names=2)
    view = view_of(m, 4, equity_cny=1e6)
    assert rsi.scores(view).factors[0].values.tolist() == [0.0, 100.0, 50.0]
    assert rsi.target_weights(view).tolist() == [0.5, 0.0, 0.0]
    held = np.array([1000, 0, 0])
    # session 6: two rises take the RSI above 50: sell
    up = view_of(m, 6, holdings=held, equity_cny=1e6)
    assert rsi.scores(up).factors[0].values[0] > 50
    assert rsi.target_weights(up).tolist() == [0.0, 0.0, 0.0]
    # session 4, already held and still oversold: nothing to do
    assert rsi.target_weights(view_of(m, 4, holdings=held, equity_cny=1e6)) is None


def test_ma_trend_trades_only_entries_and_exits(market):
    result = run(market, strategies.get("ma_trend", fast=5, slow=20, max_names=10),
                 BacktestConfig())
    buys = result.trades[(result.trades["side"] == "buy") & (result.trades["reason"] == "signal")]
    # every buy opens a position: names that stay are never topped up
    held_before = result.positions.assign(date=result.positions["date"].map(
        lambda d: result.daily.index[result.daily.index.get_loc(d) + 1]
        if d != result.daily.index[-1] else d))
    opened = buys.merge(held_before[["date", "symbol"]], on=["date", "symbol"], how="left",
                        indicator=True)
    assert (opened["_merge"] == "left_only").all()
    # at most max_names at once, but for sales a price limit or suspension holds up
    blocked = result.unfilled[result.unfilled["side"] == "sell"]
    assert result.daily["n_positions"].max() <= 10 + blocked["symbol"].nunique()


# -- a market without statements: the real sample ---------------------------------------------
@pytest.mark.real_data
@pytest.mark.skipif(not REAL.is_dir(), reason=f"real A-share sample not found at {REAL}")
def test_value_quality_on_the_real_sample_uses_daily_ratios(tmp_path):
    from workbench import cli
    from workbench.data.store import load_market
    from workbench.errors import DataWarning

    out = tmp_path / "real"
    with pytest.warns(DataWarning):
        assert cli.main(["import", "--bars", str(REAL / "bars"),
                         "--adj-factors", str(REAL / "adj_factor.csv"),
                         "--securities", str(REAL / "stock_basic.csv"),
                         "--benchmark", str(REAL / "index" / "sh.000300.csv"),
                         "--out", str(out)]) == 0
    real = load_market(out)
    vq = strategies.get("value_quality", top_n=10)
    assert vq.input_mode(real) == "ratios"
    result = run(real, vq, BacktestConfig(start="2021-01-04", end="2022-12-30"))
    assert result.positions["symbol"].nunique() >= 10
    s = vq.scores(view_of(real, int(real.calendar.get_loc(pd.Timestamp("2022-06-30")))))
    assert np.isfinite(s.score).sum() > 40 and s.weights.sum() == pytest.approx(1.0)
