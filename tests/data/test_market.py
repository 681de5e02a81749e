"""Market: point-in-time accessors, panels, the per-Market memo and the as-of cut.

Storage (save, load, the default market) is tested in ``test_store.py``.
"""

import pickle

import numpy as np
import pandas as pd
import pytest
from test_summary import assert_reads_well

from workbench.data.market import TABLES, Market
from workbench.errors import ConfigError


def test_universe_is_point_in_time(tiny: Market):
    assert set(tiny.universe("2024-01-05")["symbol"]) == {"600000.SH", "000002.SZ"}
    # delist_date is the first day no longer listed
    assert set(tiny.universe("2024-01-08")["symbol"]) == {"600000.SH"}
    assert tiny.universe("1990-01-01").empty


def test_fundamentals_asof_sees_reports_only_from_their_announcement(tiny: Market):
    before = tiny.fundamentals_asof("2024-01-03")
    assert before.set_index("symbol")["eps"].to_dict() == {"600000.SH": 1.5, "000002.SZ": -0.5}
    on = tiny.fundamentals_asof("2024-01-04")
    assert on.set_index("symbol").loc["600000.SH", "eps"] == 1.6
    assert tiny.fundamentals_asof("2023-10-27").empty


def test_fundamentals_asof_prefers_latest_period_not_latest_announcement(tiny: Market):
    f = tiny.fundamentals.copy()
    # a late restatement of an older period must not replace the newer period's figures
    late = f.iloc[[0]].assign(announce_date=pd.Timestamp("2024-01-05"), eps=9.9)
    m = Market(bars=tiny.bars, securities=tiny.securities,
               fundamentals=pd.concat([f, late], ignore_index=True),
               st_periods=tiny.st_periods, benchmark=tiny.benchmark)
    assert m.fundamentals_asof("2024-01-05").set_index("symbol").loc["600000.SH", "eps"] == 1.6


def test_is_st(tiny: Market):
    assert list(tiny.is_st("2024-01-02")) == []
    assert list(tiny.is_st("2024-01-04")) == ["000002.SZ"]


def test_panel_is_dense_and_aligned(tiny: Market):
    close = tiny.panel("close")
    assert close.shape == (5, 2)
    assert list(close.columns) == ["000002.SZ", "600000.SH"]
    assert close.loc["2024-01-04", "600000.SH"] == pytest.approx(10.2)
    assert np.isnan(close.loc["2024-01-08", "000002.SZ"])  # delisted: no bar
    assert tiny.panel("suspended").dtypes.eq(bool).all()
    with pytest.raises(ConfigError, match="no bar column"):
        tiny.panel("closing_price")


def test_summary_counts(tiny: Market):
    s = tiny.summary()
    assert (s["symbols"], s["sessions"], s["bars"], s["delisted"], s["st_episodes"]) == (
        2, 5, 9, 1, 1)
    assert s["start"] == "2024-01-02" and s["end"] == "2024-01-08"
    assert s["boards"] == {"SH main": 1, "SZ main": 1}
    rows = dict(assert_reads_well(s).frame.values.tolist())
    assert rows["Symbols by board"] == "SH main: 1, SZ main: 1"
    assert (rows["Start"], rows["Delisted symbols"], rows["Index membership"]) == (
        "2024-01-02", "1", "none")


# -- memo / forget ---------------------------------------------------------------------------
def test_memo_builds_once_per_key(tiny: Market):
    calls = []

    def build(value):
        calls.append(value)
        return value

    assert tiny.memo(("square", 3), lambda: build(9)) == 9
    assert tiny.memo(("square", 3), lambda: build(0)) == 9  # kept: not rebuilt
    assert tiny.memo(("square", 4), lambda: build(16)) == 16
    assert tiny.memo("plain", lambda: build("x")) == "x"
    assert calls == [9, 16, "x"]


def test_memo_keep_drops_the_least_recently_used_of_one_family_only(tiny: Market):
    tiny.memo("other", lambda: "stays")
    for k in range(3):
        tiny.memo(("fam", k), lambda k=k: k, keep=3)
    tiny.memo(("fam", 0), lambda: "rebuilt", keep=3)  # a hit: 0 is now the most recent
    tiny.memo(("fam", 3), lambda: 3, keep=3)  # drops 1, the least recently used
    assert tiny.memo(("fam", 0), lambda: "rebuilt") == 0
    assert tiny.memo(("fam", 2), lambda: "rebuilt") == 2
    assert tiny.memo(("fam", 1), lambda: "rebuilt") == "rebuilt"
    assert tiny.memo("other", lambda: "rebuilt") == "stays"


def test_forget_one_family_or_everything(tiny: Market):
    tiny.memo(("a", 1), lambda: 1)
    tiny.memo(("a", 2), lambda: 2)
    tiny.memo("a", lambda: 0)  # a plain key is its own family
    tiny.memo(("b", 1), lambda: 1)
    tiny.forget("a")
    assert tiny.memo(("a", 1), lambda: -1) == -1
    assert tiny.memo(("a", 2), lambda: -2) == -2
    assert tiny.memo("a", lambda: -3) == -3
    assert tiny.memo(("b", 1), lambda: -1) == 1
    tiny.forget()
    assert tiny.memo(("b", 1), lambda: -1) == -1


def test_derived_panels_are_kept_and_forgotten(tiny: Market):
    assert tiny.panel("close") is tiny.panel("close")
    assert tiny.grid("close") is tiny.grid("close")
    first = tiny.grid("close")
    tiny.forget("grid")
    assert tiny.grid("close") is not first
    np.testing.assert_array_equal(tiny.grid("close"), first)


def test_a_pickled_market_carries_no_memo(tiny: Market):
    tiny.memo("derived", lambda: "kept here")
    tiny.panel("close")
    tiny.as_of("2024-01-03")
    state = tiny.__getstate__()
    assert set(state) == {*TABLES, "meta"}
    back = pickle.loads(pickle.dumps(tiny))
    assert back.memo("derived", lambda: "rebuilt") == "rebuilt"
    assert tiny.memo("derived", lambda: "rebuilt") == "kept here"
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(back, table), getattr(tiny, table))
    assert dict(back.meta) == dict(tiny.meta)
    back.memo(("fam", 1), lambda: 1, keep=1)  # a working memo (and lock) after unpickling
    assert back.panel("close").equals(tiny.panel("close"))


# -- as_of -----------------------------------------------------------------------------------
def test_as_of_holds_no_bar_after_the_cut(tiny: Market):
    cut = tiny.as_of("2024-01-03")
    assert cut.bars["date"].max() == pd.Timestamp("2024-01-03")
    assert len(cut.bars) == 4  # two stocks on two sessions
    assert list(cut.calendar) == list(pd.to_datetime(["2024-01-02", "2024-01-03"]))
    assert cut.benchmark["date"].max() == pd.Timestamp("2024-01-03")
    assert list(cut.symbols) == list(tiny.symbols)  # every symbol keeps its position
    assert cut.meta["known_until"] == "2024-01-03"
    assert cut.name == tiny.name
    assert len(tiny.bars) == 9  # the full market is untouched


def test_as_of_holds_no_report_announced_after_the_cut(tiny: Market):
    cut = tiny.as_of("2024-01-03")
    assert (cut.fundamentals["announce_date"] <= pd.Timestamp("2024-01-03")).all()
    assert len(cut.fundamentals) == 2  # 600000.SH's report of 2024-01-04 is not out yet
    assert cut.fundamentals_asof("2024-01-08").set_index("symbol").loc["600000.SH",
                                                                      "eps"] == 1.5
    assert len(tiny.as_of("2024-01-04").fundamentals) == 3


def test_as_of_does_not_know_a_later_delisting(tiny: Market):
    sec = tiny.as_of("2024-01-05").securities.set_index("symbol")
    assert pd.isna(sec.loc["000002.SZ", "delist_date"])  # delisted on 2024-01-08
    assert set(tiny.as_of("2024-01-05").universe("2024-01-10")["symbol"]) == {
        "600000.SH", "000002.SZ"}
    known = tiny.as_of("2024-01-08").securities.set_index("symbol")
    assert known.loc["000002.SZ", "delist_date"] == pd.Timestamp("2024-01-08")


def test_as_of_cuts_st_episodes(tiny: Market):
    assert tiny.as_of("2024-01-02").st_periods.empty  # begins on 2024-01-03
    running = tiny.as_of("2024-01-04").st_periods
    assert len(running) == 1 and pd.isna(running["end"].iloc[0])  # open-ended: end unknown
    assert list(tiny.as_of("2024-01-04").is_st("2024-01-08")) == ["000002.SZ"]
    ended = tiny.as_of("2024-01-05").st_periods
    assert ended["end"].iloc[0] == pd.Timestamp("2024-01-05")


def test_as_of_keeps_the_last_four_cuts(tiny: Market):
    days = ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08"]
    first = tiny.as_of(days[0])
    assert tiny.as_of(pd.Timestamp(days[0]) + pd.Timedelta(hours=15)) is first  # by day
    kept = [tiny.as_of(d) for d in days[1:4]]
    assert tiny.as_of(days[0]) is first  # four cuts: all kept; days[0] used most recently
    tiny.as_of(days[4])  # a fifth: drops days[1], the least recently used
    assert tiny.as_of(days[0]) is first
    assert tiny.as_of(days[3]) is kept[2]
    assert tiny.as_of(days[1]) is not kept[0]  # rebuilt
    pd.testing.assert_frame_equal(tiny.as_of(days[1]).bars, kept[0].bars)
