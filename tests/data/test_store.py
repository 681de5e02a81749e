"""Storage: a Market folder round trip, atomic writes, validation records, the default market."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data.market import TABLES, Market
from workbench.data.panels import PANEL_COLUMNS
from workbench.data.store import (
    FORMAT_VERSION,
    default_data_dir,
    ensure_default_market,
    load_market,
    save_market,
)
from workbench.data.synthetic import GENERATOR_VERSION, SyntheticConfig, synthetic_market
from workbench.errors import DataError


def test_round_trip_keeps_every_table_of_a_synthetic_market(tmp_path: Path):
    market = synthetic_market(n_stocks=20, start="2023-01-03", end="2023-12-29", seed=3)
    folder = save_market(market, tmp_path / "small")
    assert folder == tmp_path / "small"
    panels = ["panel.calendar.npy"] + [f"panel.{c}.npy" for c in PANEL_COLUMNS
                                       if c in market.bars.columns]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"{t}.parquet" for t in TABLES] + ["meta.json"] + panels)
    back = load_market(folder)
    for table in TABLES:
        pd.testing.assert_frame_equal(getattr(back, table), getattr(market, table),
                                      obj=table)
    assert back.meta["path"] == str(folder)
    assert back.meta["format_version"] == FORMAT_VERSION
    assert back.meta["config"] == market.meta["config"]
    assert set(back.meta["validated"]) == set(TABLES)
    again = save_market(back, tmp_path / "again")  # a loaded market saves as it came
    assert "path" not in json.loads((again / "meta.json").read_text())


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
    with pytest.raises(DataError, match=r"bars\.parquet: its content does not match"):
        load_market(tmp_path / "m")
    with pytest.raises(DataError, match="not a readable Parquet"):
        load_market(tmp_path / "m", verify=False)

def test_saving_invalid_data_writes_nothing(tiny: Market, tmp_path):
    bad = tiny.bars.copy()
    bad.loc[0, "high"] = 0.5  # below open and close
    m = Market(bars=bad, securities=tiny.securities, fundamentals=tiny.fundamentals,
               st_periods=tiny.st_periods, benchmark=tiny.benchmark)
    with pytest.raises(DataError, match="high below max"):
        save_market(m, tmp_path / "m")
    assert not (tmp_path / "m").exists()

def test_files_changed_after_saving_are_refused_or_validated_again(tiny: Market, tmp_path):
    folder = save_market(tiny, tmp_path / "m")
    load_market(folder)  # validated at write time: loads without re-checking
    bad = tiny.bars.copy()
    bad.loc[0, "low"] = 99.0  # above open and close
    pq.write_table(pa.Table.from_pandas(bad, preserve_index=False), folder / "bars.parquet")
    with pytest.raises(DataError, match=r"m/bars\.parquet: its content does not match the "
                                        r"SHA-256 that meta\.json recorded .* re-import it"):
        load_market(folder)
    with pytest.raises(DataError, match="low above min"):
        load_market(folder, verify=False)  # unverified: validated, whatever meta.json says
    load_market(folder, validate=False, verify=False)  # the caller's explicit choice


def as_format_1(folder: Path) -> None:
    """Make a Market folder look as a workbench before checksums wrote it."""
    meta = json.loads((folder / "meta.json").read_text())
    del meta["checksums"]
    meta["format_version"] = 1
    (folder / "meta.json").write_text(json.dumps(meta, indent=2))


def test_a_folder_written_before_checksums_loads_and_is_always_validated(
        tiny: Market, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = save_market(tiny, tmp_path / "m")
    as_format_1(folder)
    pd.testing.assert_frame_equal(load_market(folder).bars, tiny.bars)
    bad = tiny.bars.copy()
    bad.loc[0, "low"] = 99.0
    pq.write_table(pa.Table.from_pandas(bad, preserve_index=False), folder / "bars.parquet")
    meta = json.loads((folder / "meta.json").read_text())
    meta["validated"] = {t: [(folder / f"{t}.parquet").stat().st_size,
                             (folder / f"{t}.parquet").stat().st_mtime_ns] for t in TABLES}
    (folder / "meta.json").write_text(json.dumps(meta))  # a size-and-time record that fits
    with pytest.raises(DataError, match="low above min"):
        load_market(folder)  # the old record no longer skips validation
    again = save_market(tiny, tmp_path / "again")
    calls = []
    monkeypatch.setattr("workbench.data.store.validate_market", lambda m, source: calls.append(1))
    os.utime(again / "bars.parquet", ns=(0, 0))  # copied without times: the bytes still match
    load_market(again)
    assert calls == []  # verified files that passed validation when saved are not re-checked
    as_format_1(again)
    load_market(again)
    assert calls == [1]


def test_saving_without_validation_records_nothing(tiny: Market, tmp_path: Path):
    folder = save_market(tiny, tmp_path / "m", validate=False)
    assert "validated" not in json.loads((folder / "meta.json").read_text())
    assert load_market(folder, validate=False).name == "tiny"


def test_default_data_dir_follows_the_environment(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_ensure_default_market_builds_once_and_loads(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path))
    folder = ensure_default_market()
    assert folder == tmp_path / "synthetic"
    meta_file = folder / "meta.json"
    stamp = meta_file.stat().st_mtime_ns
    assert ensure_default_market() == folder
    assert meta_file.stat().st_mtime_ns == stamp  # reused, not rebuilt
    meta = json.loads(meta_file.read_text())
    meta["generator_version"] = "0"
    meta_file.write_text(json.dumps(meta))
    ensure_default_market()  # stale version: rebuilt
    assert json.loads(meta_file.read_text())["generator_version"] == GENERATOR_VERSION
    loaded = load_market()
    assert loaded.meta["config"] == dataclasses.asdict(SyntheticConfig())
    default = synthetic_market()
    np.testing.assert_array_equal(loaded.bars["close"], default.bars["close"])
    np.testing.assert_array_equal(loaded.bars["symbol"].astype(str),
                                  default.bars["symbol"].astype(str))
