"""Market: point-in-time accessors, panels, storage round trip and atomic writes."""

import numpy as np
import pandas as pd
import pytest

from workbench.data.market import Market
from workbench.data.store import load_market, save_market
from workbench.errors import ConfigError, DataError


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


def test_round_trip_through_parquet(tiny: Market, tmp_path):
    save_market(tiny, tmp_path / "tiny")
    back = load_market(tmp_path / "tiny")
    pd.testing.assert_frame_equal(back.bars, tiny.bars, check_dtype=False)
    pd.testing.assert_frame_equal(back.securities.astype(str), tiny.securities.astype(str))
    assert back.name == "tiny"
    assert "600000.SH" in repr(back) or "2 symbols" in repr(back)


def test_failed_save_keeps_the_last_good_market(tiny: Market, tmp_path):
    target = save_market(tiny, tmp_path / "m")
    broken = Market(bars=tiny.bars, securities=tiny.securities, fundamentals=tiny.fundamentals,
                    st_periods=tiny.st_periods, benchmark=object(),  # not a frame
                    meta={"name": "broken"})
    with pytest.raises(AttributeError):
        save_market(broken, target)
    assert load_market(target).name == "tiny"
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temp folders left behind


def test_loading_a_missing_folder_or_table_is_a_clear_error(tiny: Market, tmp_path):
    with pytest.raises(DataError, match="no such Market folder"):
        load_market(tmp_path / "nope")
    save_market(tiny, tmp_path / "m")
    (tmp_path / "m" / "fundamentals.parquet").unlink()
    with pytest.raises(DataError, match=r"missing fundamentals\.parquet"):
        load_market(tmp_path / "m")
    (tmp_path / "m" / "bars.parquet").write_text("not parquet")
    with pytest.raises(DataError, match="not a readable Parquet"):
        load_market(tmp_path / "m")


def test_summary_counts(tiny: Market):
    s = tiny.summary()
    assert (s["symbols"], s["sessions"], s["bars"], s["delisted"], s["st_episodes"]) == (
        2, 5, 9, 1, 1)
    assert s["start"] == "2024-01-02" and s["end"] == "2024-01-08"


def test_saving_invalid_data_writes_nothing(tiny: Market, tmp_path):
    bad = tiny.bars.copy()
    bad.loc[0, "high"] = 0.5  # below open and close
    m = Market(bars=bad, securities=tiny.securities, fundamentals=tiny.fundamentals,
               st_periods=tiny.st_periods, benchmark=tiny.benchmark)
    with pytest.raises(DataError, match="high below max"):
        save_market(m, tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_files_changed_after_saving_are_validated_again(tiny: Market, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = save_market(tiny, tmp_path / "m")
    load_market(folder)  # validated at write time: loads without re-checking
    bad = tiny.bars.copy()
    bad.loc[0, "low"] = 99.0  # above open and close
    pq.write_table(pa.Table.from_pandas(bad, preserve_index=False), folder / "bars.parquet")
    with pytest.raises(DataError, match="low above min"):
        load_market(folder)
    load_market(folder, validate=False)  # the caller's explicit choice
