"""Recommendations: actions and reasons on a hand-built market, errors, caching, the CLI."""

from __future__ import annotations

import contextlib
import gc
import weakref
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from test_backtest import make_market
from test_strategies import with_reports
from test_strategies_lookahead import perturbed

from workbench import cli, strategies
from workbench import recommend as recommend_module
from workbench.data.market import Market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, LookupFailed
from workbench.recommend import COLUMNS, clear_cache, recommend, recommendation
from workbench.strategies import MarketView, Strategy

# quality q drives every value_quality factor the same way: eps = q % of the price, bvps = q x
# price / 10, ROE = q %, growth = q %. Ranked by q: E 1, G 3, F 4, A 5, B 7, D 8, C 9.
Q = {"600000.SH": 5, "600001.SH": 7, "600002.SH": 9, "600003.SH": 8, "600004.SH": 1,
     "600005.SH": 4, "600006.SH": 3}
A, B, C, D, E, F, G = Q


@pytest.fixture(scope="module")
def hand() -> Market:
    """Seven stocks, two sessions; on the second (the as-of day):

    600001 (B) closes at limit-up 11.00, 600002 (C) is suspended, 600003 (D) is under risk
    warning (ST). Everything else closes at 10.00.
    """
    spec = {s: {"close": [10.0, 10.0]} for s in Q}
    spec[B] = {"close": [10.0, 11.0]}
    spec[C] = {"close": [10.0, 10.0], "suspended": [1]}
    m = make_market(spec)
    bars = m.bars.copy()
    bars.loc[(bars["symbol"] == D) & (bars["date"] == m.calendar[1]), "is_st"] = True
    m = Market(bars=bars, securities=m.securities, fundamentals=m.fundamentals,
               st_periods=m.st_periods, benchmark=m.benchmark, meta={"name": "hand"})
    price = {s: 11.0 if s == B else 10.0 for s in Q}
    return with_reports(m, [(s, "2023-10-30", q / 100 * price[s], q * price[s] / 10, q / 100,
                             q / 100) for s, q in Q.items()])


def by_symbol(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("symbol")


def test_actions_and_reasons_by_pencil(hand):
    # top 4 of the tradable, non-ST names A B E F G by q: B, A, F, G
    vq = strategies.get("value_quality", top_n=4)
    t = by_symbol(recommend(hand, vq, top=10, holdings={E: 1000, F: 500}))
    assert t["action"].to_dict() == {C: "avoid", D: "avoid", B: "avoid", A: "buy", F: "hold",
                                     G: "buy", E: "sell"}
    assert list(t.index) == [C, D, B, A, F, G, E]  # best score first
    assert "limit-up 11.00" in t.loc[B, "reasons"] and "not fill" in t.loc[B, "reasons"]
    assert t.loc[B, "target_weight"] == 0.25  # the strategy wants it; the rule blocks it
    assert "suspended" in t.loc[C, "reasons"]
    assert "ST (risk warning)" in t.loc[D, "reasons"]
    assert t.loc[A, "reasons"].startswith("rank 4 of 7: picked; earnings yield 5.0%")
    assert "no longer picked" in t.loc[E, "reasons"]
    assert t.loc[F, "reasons"].startswith("rank 5 of 7: still picked")
    assert t.loc[[A, F, G], "target_weight"].tolist() == [0.25, 0.25, 0.25]
    np.testing.assert_allclose(t.loc[C, "score"], 13 / 14)  # q = 9 is the best of 7
    assert t.loc[A, "name"] == "Stock0" and t.loc[A, "sector"] == "Banks"
    assert list(t.columns) == list(COLUMNS)[1:]
    info = recommend(hand, vq).attrs
    assert info["as_of"] == str(hand.calendar[1].date())
    assert info["rule"].startswith("top 4 by mean percentile") and "statements" in info["inputs"]


def test_held_names_a_rule_keeps_from_being_sold(hand):
    # C (suspended) is no longer wanted but cannot be sold; held B at limit-up is kept
    t = by_symbol(recommend(hand, "value_quality", holdings={C: 300, B: 100}, top=1))
    assert t.loc[C, "action"] == "hold" and "cannot be sold" in t.loc[C, "reasons"]
    assert t.loc[B, "action"] == "hold"
    assert len(t) == 2  # the top name (C) plus the other holding


def test_limit_down_blocks_a_sale():
    m = make_market({"600000.SH": {"close": [10.0, 9.0]}, "600001.SH": {"close": [10.0, 10.5]},
                     "600002.SH": {"close": [10.0, 10.2]}})
    mom = strategies.get("momentum", lookback=1, skip=0, top_n=1)
    t = by_symbol(recommend(m, mom, holdings={"600000.SH": 100}))
    assert t.loc["600000.SH", "action"] == "hold"
    assert "limit-down 9.00" in t.loc["600000.SH", "reasons"]
    assert t.loc["600001.SH", "action"] == "buy"


def test_the_top_rows_and_the_universe(hand):
    t = recommend(hand, "value_quality", top=2)
    assert t["symbol"].tolist() == [C, D]
    u = recommend(hand, "value_quality", universe=["600000", "sh.600004", "600005.SH"])
    assert u["symbol"].tolist() == [A, F, E]
    np.testing.assert_allclose(u["score"], [5 / 6, 3 / 6, 1 / 6])  # ranked within the universe
    assert (u["action"] == "buy").all()  # top 20 of three names
    comma = recommend(hand, "value_quality", universe="600000.SH, 600004.SH,600005.SH")
    pd.testing.assert_frame_equal(comma, u)


def test_errors_are_clear(hand):
    with pytest.raises(ConfigError, match=r"as_of 2030-01-02 is outside the data .*"
                                          r"choose a date within it"):
        recommend(hand, "momentum", as_of="2030-01-02")
    with pytest.raises(ConfigError, match="as_of 2023-01-02 is outside"):
        recommend(hand, "momentum", as_of="2023-01-02")
    with pytest.raises(ConfigError, match="is not a date"):
        recommend(hand, "momentum", as_of="yesterday")
    with pytest.raises(LookupFailed, match=r"unknown symbol '600009.SH' in universe; did you "
                                           r"mean '600006.SH', .* 7 symbols"):
        recommend(hand, "momentum", universe=["600000.SH", "600009.SH"])
    with pytest.raises(LookupFailed, match="unknown symbol 'ABC' in universe"):
        recommend(hand, "momentum", universe=["ABC"])
    with pytest.raises(LookupFailed, match="in holdings"):
        recommend(hand, "momentum", holdings={"600999.SH": 100})
    with pytest.raises(ConfigError, match=r"nothing in the universe is tradable on .*"
                                          r"600002.SH suspended, 600003.SH ST"):
        recommend(hand, "value_quality", universe=[C, D])
    with pytest.raises(ConfigError, match="universe is empty"):
        recommend(hand, "value_quality", universe=[])
    with pytest.raises(ConfigError, match=r"top \(rows\) must be a whole number >= 1"):
        recommend(hand, "value_quality", top=0)
    with pytest.raises(ConfigError, match="must be a finite number of shares >= 0"):
        recommend(hand, "value_quality", holdings={A: -100})
    with pytest.raises(LookupFailed, match="unknown strategy 'valu_quality'"):
        recommend(hand, "valu_quality")


@pytest.fixture(scope="module")
def synthetic() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=40, start="2021-01-04", end="2022-01-28",
                                            seed=11))


@pytest.mark.parametrize("name", strategies.available())
def test_recommend_reads_nothing_after_as_of(synthetic, name):
    day = pd.Timestamp("2021-09-15")
    held = {str(s): 1000 for s in synthetic.symbols[::9]}
    a = recommend(synthetic, name, as_of=day, top=15, holdings=held)
    b = recommend(perturbed(synthetic, day), name, as_of=day, top=15, holdings=held)
    pd.testing.assert_frame_equal(a, b)
    # a non-session date means the last session before it
    saturday = recommend(synthetic, name, as_of="2021-09-18", top=15)
    assert saturday.attrs["as_of"] == "2021-09-17"


def test_repeated_calls_are_identical_and_the_cache_can_be_cleared(synthetic):
    def rebuilt():
        raise AssertionError("rebuilt")

    first = recommend(synthetic, "rsi_reversion", top=5)
    synthetic.memo("recommend:warm", rebuilt)  # kept on the market: not rebuilt
    pd.testing.assert_frame_equal(recommend(synthetic, "rsi_reversion", top=5), first)
    clear_cache(synthetic)
    with pytest.raises(AssertionError, match="rebuilt"):
        synthetic.memo("recommend:warm", rebuilt)
    pd.testing.assert_frame_equal(recommend(synthetic, "rsi_reversion", top=5), first)


def test_the_last_64_universes_are_kept_and_the_frame_is_the_columns(synthetic, monkeypatch):
    symbols = [str(s) for s in synthetic.universe(synthetic.calendar[-1])["symbol"]]
    triples = [symbols[k:k + 3] for k in range(len(symbols) - 2)]
    universes = [",".join(t) for t in triples] + [",".join(t[::-1]) for t in triples]
    universes = universes[:40]  # 40 different ones (a bug kept 32 at most)
    assert len(set(universes)) == 40
    first = [recommendation(synthetic, "momentum", universe=u, top=3) for u in universes]

    def unread(raw):
        raise AssertionError(f"universe read again: {raw}")

    monkeypatch.setattr(recommend_module, "normalize_symbol", unread)  # kept: not read again
    for u, answer in zip(universes, first, strict=True):
        again = recommendation(synthetic, "momentum", universe=u, top=3)
        pd.testing.assert_frame_equal(again.frame(), answer.frame())
        pd.testing.assert_frame_equal(again.frame(),
                                      recommend(synthetic, "momentum", universe=u, top=3))
        rows, records = again.rows(), answer.frame().to_dict("records")
        assert [list(r) for r in rows] == [list(COLUMNS)] * len(records)
        assert all(a == b or (a != a and b != b)  # NaN scores are NaN in both
                   for r, e in zip(rows, records, strict=True) for a, b in zip(
                       r.values(), e.values(), strict=True))
    monkeypatch.undo()
    for k in range(64):  # 64 other ones push the first out
        n = len(symbols)
        with contextlib.suppress(ConfigError):  # kept even when nothing in it is tradable
            recommendation(synthetic, "momentum", universe=[symbols[k % n]] * (2 + k // n),
                           top=3)
    monkeypatch.setattr(recommend_module, "normalize_symbol", unread)
    with pytest.raises(AssertionError, match="universe read again"):
        recommendation(synthetic, "momentum", universe=universes[0], top=3)


def test_the_cache_does_not_keep_a_market_alive():
    m = synthetic_market(SyntheticConfig(n_stocks=15, start="2022-01-04", end="2022-12-30"))
    recommend(m, "low_volatility", top=3)
    gone = weakref.ref(m)
    del m
    gc.collect()
    assert gone() is None


def test_a_strategy_without_scores_falls_back_on_its_target_weights(hand):
    @dataclass(frozen=True, kw_only=True)
    class OnlyA(Strategy):
        name: ClassVar[str] = "only_a"

        def target_weights(self, view: MarketView) -> dict[str, float] | None:
            return {A: 0.5} if view.is_first else None

    t = by_symbol(recommend(hand, OnlyA(), top=3))
    assert t.loc[A, "action"] == "buy" and t.loc[A, "target_weight"] == 0.5
    assert t.attrs["rule"] == "target weights (no scores)"


def test_cli_prints_the_table(capsys, tmp_path):
    from workbench.data.store import save_market

    m = synthetic_market(SyntheticConfig(n_stocks=20, start="2022-01-04", end="2022-12-30",
                                         seed=2))
    folder = save_market(m, tmp_path / "m")
    code = cli.main(["recommend", "--strategy", "low_volatility", "--top", "3", "--market",
                     str(folder), "--as-of", "2022-11-30"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].startswith("Synthetic market (seed 2, generator")  # which data
    assert "low_volatility on synthetic, after the close of 2022-11-30" in out
    assert "rule: the 20 least volatile" in out and "inputs: daily bars" in out
    header = out.splitlines()[4].split()
    assert header == ["symbol", "name", "sector", "action", "score", "target_weight", "reasons"]
    assert len(out.splitlines()) == 5 + 3
    code = cli.main(["recommend", "--market", str(folder), "--universe", "600999.SH"])
    err = capsys.readouterr().err
    assert code == 2 and "unknown symbol '600999.SH' in universe" in err


def test_a_delisted_holding_is_a_sale(tiny):
    # conftest's tiny market: 000002.SZ is delisted from the last session, 2024-01-08
    t = by_symbol(recommend(tiny, "buy_and_hold", holdings={"000002.SZ": 100}))
    assert t.loc["000002.SZ", "action"] == "sell"
    assert "not listed on 2024-01-08" in t.loc["000002.SZ", "reasons"]
    assert t.loc["600000.SH", "action"] == "buy" and t.loc["600000.SH", "target_weight"] == 1.0


def test_an_index_universe_is_its_members_as_of_the_day(synthetic):
    import dataclasses

    syms = list(synthetic.symbols[:6])
    day = synthetic.calendar[-60]
    spells = pd.DataFrame({"index": "csi300", "symbol": syms,
                           "start": [synthetic.calendar[0]] * 4 + [day + pd.Timedelta(days=1)] * 2,
                           "end": pd.NaT})
    m = dataclasses.replace(synthetic, index_members=spells)
    table = recommend(m, "momentum", as_of=day, universe="csi300", top=10)
    assert len(table) and set(table["symbol"]) <= set(syms[:4])  # later members unknown yet
    later = recommend(m, "momentum", universe="csi300", top=10)
    assert set(later["symbol"]) <= set(syms) and len(later) > 0
