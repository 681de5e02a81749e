"""The 80 real survivors with 9 delisted stocks, the CSI 300 total-return benchmark and CSI 300
membership: a survivorship-free import of real exports.

Reads ``../shared/data/real_ashare`` and ``../shared/data/real_ashare_events`` (see their
SOURCE.md: internal checks only, never copied into the repository) and skips when either is
absent. Imported once, through ``python -m workbench import``, into a temporary folder.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SHARED_REAL

from workbench import backtest, cli, strategies
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.provenance import provenance
from workbench.data.store import load_market
from workbench.errors import DataWarning

EVENTS = SHARED_REAL.parent / "real_ashare_events"
if not (SHARED_REAL.is_dir() and EVENTS.is_dir()):
    pytest.skip(f"real samples not found at {SHARED_REAL} and {EVENTS}",
                allow_module_level=True)

pytestmark = pytest.mark.real_data
DELISTED = ("300104.SZ", "600074.SH", "002018.SZ", "002680.SZ", "600401.SH", "002143.SZ",
            "601558.SH", "300028.SZ", "300156.SZ")


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Market:
    out = tmp_path_factory.mktemp("real_universe") / "real"
    with pytest.warns(DataWarning) as caught:
        code = cli.main([
            "import", "--bars", str(SHARED_REAL / "bars"), str(EVENTS / "delisted" / "bars"),
            "--adj-factors", str(SHARED_REAL / "adj_factor.csv"),
            "--securities", str(SHARED_REAL / "stock_basic.csv"),
            str(EVENTS / "delisted" / "stock_basic.csv"),
            "--benchmark", str(EVENTS / "index" / "h00300.csv"),
            "--index-weights", str(EVENTS / "index_weight.csv"), "--out", str(out)])
    assert code == 0
    messages = [str(w.message) for w in caught]
    assert len(messages) == 4, messages
    # the delisted bars are raw with no corporate action (SOURCE.md): factors from preclose
    assert "9 symbols have no adj_factor" in messages[0]
    assert "1 bar symbols missing" in messages[1]  # 601989.SH, as in test_real_data.py
    assert "1 benchmark rows fall on days that are no session of the bars (2018-06-18)" \
           in messages[2]
    assert "present-day snapshot" in messages[3]
    assert not any("survivors only" in m for m in messages)
    return load_market(out)


def test_delisted_stocks_carry_their_delist_dates(real: Market):
    sec = real.securities.set_index("symbol")
    assert len(sec) == 89
    assert sorted(sec.index[sec["delist_date"].notna()]) == sorted(DELISTED)
    assert sec.loc["300104.SZ", "delist_date"] == pd.Timestamp("2020-07-21")
    last_bar = real.bars.groupby("symbol", observed=True)["date"].max()
    for sym in DELISTED:  # the last bar is the session before the delist date
        after = real.calendar[real.calendar.searchsorted(last_bar[sym]) + 1]
        assert after == sec.loc[sym, "delist_date"], sym
    factors = real.bars.loc[real.bars["symbol"].isin(DELISTED), "adj_factor"]
    assert (factors == 1.0).all()  # preclose equals the previous close on every row


def test_provenance_names_the_total_return_benchmark(real: Market):
    p = provenance(real)
    assert p.benchmark == "CSI 300 total return (total return index)"
    assert p.n_delisted == 9
    assert not any("survivors only" in n for n in p.notes)
    assert pd.Timestamp("2018-06-18") not in set(real.benchmark["date"])
    assert real.benchmark["open"].isna().all()  # close-only series


def test_membership_spells_match_the_derived_table(real: Market):
    spells = real.index_members
    assert real.indexes == ("csi300",)
    assert (len(spells), spells["symbol"].nunique()) == (718, 638)
    ref = pd.read_csv(EVENTS / "index_membership.csv", dtype=str)
    ours = sorted(zip(spells["symbol"], spells["start"].dt.strftime("%Y%m%d"),
                      spells["end"].dt.strftime("%Y%m%d").fillna(""), strict=True))
    theirs = sorted(zip(ref["con_code"], ref["in_date"], ref["out_date"].fillna(""),
                        strict=True))
    assert ours == theirs
    assert real.meta["index_members"]["csi300"] == {
        "codes": ["399300.SZ"], "snapshots": 226, "first": "2015-08-03", "last": "2025-07-31"}


def test_members_at_three_dates(real: Market):
    counts = {d: (len(real.members(d, "csi300")), len(real.universe(d, index="csi300")),
                  len(real.universe(d)))
              for d in ("2015-08-03", "2018-06-29", "2021-09-30")}
    assert counts == {"2015-08-03": (300, 60, 89), "2018-06-29": (300, 70, 89),
                      "2021-09-30": (300, 80, 80)}
    assert real.universe("2015-07-31", index="csi300").empty  # before the first snapshot
    ever = sorted(set(real.index_members["symbol"]) & set(DELISTED))
    assert ever == ["300104.SZ", "600074.SH"]
    assert real.universe("2016-01-04", index="csi300")["symbol"].isin(["300104.SZ"]).any()
    assert not real.universe("2018-01-02", index="csi300")["symbol"].isin(["300104.SZ"]).any()


def test_buy_and_hold_settles_delisted_holdings(real: Market):
    result = backtest.run(real, strategies.get("buy_and_hold"), BacktestConfig())
    t = result.trades
    gone = t.loc[t["reason"] == "delisted"]
    assert list(zip(gone["symbol"].astype(str), gone["date"].dt.strftime("%Y-%m-%d"),
                    strict=True)) == [("600074.SH", "2020-06-02"), ("601558.SH", "2020-07-02")]
    for sym, price in zip(gone["symbol"].astype(str), gone["price"], strict=True):
        closes = real.bars.loc[real.bars["symbol"] == sym, "close"]
        assert price == closes.iloc[-1]  # settled at the last close
    assert not result.positions.loc[result.positions["date"] > pd.Timestamp("2020-07-02"),
                                    "symbol"].isin(DELISTED).any()


def test_a_csi300_run_buys_members_only(real: Market):
    config = BacktestConfig(start="2015-08-03", end="2017-12-29", universe="csi300")
    result = backtest.run(real, strategies.get("momentum"), config)
    member = real.membership("csi300")
    cal = real.calendar
    col = real.symbols.get_indexer(result.trades["symbol"].astype(str))
    buys = (result.trades["side"] == "buy") & (result.trades["reason"] == "signal")
    decided = cal.get_indexer(result.trades["date"]) - 1
    assert buys.sum() > 100
    assert member[decided[buys.to_numpy()], col[buys.to_numpy()]].all()
    assert not result.trades.loc[buys, "symbol"].astype(str).isin(
        set(real.symbols) - set(real.index_members["symbol"])).any()
