"""Dense panels stored with a Market: used when fresh, bit-identical results, never stale."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_indicators import one_pass_mean

from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.data import panels
from workbench.data.checksums import write_manifest
from workbench.data.importfiles import check_out_folder, market_folder_extras
from workbench.data.market import Market
from workbench.data.panels import PANEL_COLUMNS, PANELS_KEY, panel_file
from workbench.data.store import load_market, save_market
from workbench.data.synthetic import synthetic_market
from workbench.errors import ConfigError, DataWarning
from workbench.risk import RiskLimits
from workbench.strategies import available, get
from workbench.view import ViewContext


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    market = synthetic_market(n_stocks=30, start="2022-01-04", end="2023-06-30", seed=5)
    return save_market(market, tmp_path_factory.mktemp("panels") / "m")


def from_bars(market: Market) -> Market:
    """The same tables with no stored panels: every panel built from the bars."""
    copy = dataclasses.replace(market)  # a copy may have other bars: it has no panels
    assert copy.panels is None and market.panels is not None
    return copy


def tables(result) -> dict[str, pd.DataFrame]:
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)
            if isinstance(getattr(result, f.name), pd.DataFrame)}


def test_a_saved_market_uses_its_stored_panels_bit_for_bit(saved: Path):
    market = load_market(saved)
    built = from_bars(market)
    columns = [c for c in PANEL_COLUMNS if c in market.bars.columns]
    assert columns and market.panels is not None and market.panels.columns == set(columns)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for column in columns:
            stored = market.grid(column)
            assert isinstance(stored.base, np.memmap)  # mapped, not rebuilt
            assert not stored.flags.writeable
            fresh = built.grid(column)
            assert stored.dtype == fresh.dtype and stored.shape == fresh.shape
            assert stored.tobytes() == fresh.tobytes(), column  # NaN and -0.0 alike
        pd.testing.assert_index_equal(market.calendar, built.calendar, exact=True)


@pytest.mark.parametrize("risk", [None, RiskLimits()], ids=["risk-off", "risk-on"])
@pytest.mark.parametrize("name", available())
def test_every_strategy_gives_the_same_result_with_stored_panels(saved: Path, name: str,
                                                                 risk: RiskLimits | None):
    market = load_market(saved)
    config = BacktestConfig(risk=risk)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        stored = run(market, get(name), config)
    assert isinstance(market.grid("close").base, np.memmap)
    built = run(from_bars(market), get(name), config)
    a, b = tables(stored), tables(built)
    assert a.keys() == b.keys() and "daily" in a
    for table in a:
        pd.testing.assert_frame_equal(a[table], b[table], check_exact=True, obj=table)


def test_moving_averages_from_stored_panels_equal_one_cumsum_over_built_ones(saved: Path):
    """The engine's moving averages (running sums over row blocks of the memory-mapped
    close and factor, ``adj_close`` never whole) against one cumsum down the built
    ``close * adj_factor``: bit for bit, listings and delistings included."""
    market = load_market(saved)
    built = from_bars(market)
    adj_close = built.grid("close") * built.grid("adj_factor")
    assert np.isnan(adj_close).any()  # listings and delistings are in the sample
    windows = (3, 20, 60, len(adj_close), len(adj_close) + 1)
    means = ViewContext(market).rolling_means("adj_close", windows)
    assert isinstance(market.grid("close").base, np.memmap)
    for window, got in zip(windows, means, strict=True):
        assert got.tobytes() == one_pass_mean(adj_close, window).tobytes(), window
        assert not got.flags.writeable
    again = ViewContext(market)
    assert again.rolling_mean("adj_close", 20) is means[1]  # kept on the market, shared


def rewrite_meta(folder: Path, change) -> None:
    """Change ``meta.json`` and record fresh checksums, as a re-save would."""
    meta = json.loads((folder / "meta.json").read_text())
    files = [n for n in meta["checksums"] if n != "meta.json" and (folder / n).exists()]
    change(meta)
    write_manifest(folder / "meta.json", meta, files)


def copy_of(saved: Path, tmp_path: Path) -> Path:
    return save_market(load_market(saved), tmp_path / "copy")


def same_grids(market: Market, built: Market) -> None:
    for column in ("open", "close", "suspended"):
        assert market.grid(column).tobytes() == built.grid(column).tobytes()


def test_stale_panels_are_rebuilt_from_the_bars_with_a_warning(saved: Path, tmp_path: Path):
    folder = copy_of(saved, tmp_path)
    rewrite_meta(folder, lambda m: m[PANELS_KEY].update(bars="0" * 64))  # other bars
    market = load_market(folder)
    with pytest.warns(DataWarning, match=r"stored panels not used \(they were built from "
                                         r"other bars.*\(stale\)\); building it from the bars"):
        grid = market.grid("close")
    assert not isinstance(grid.base, np.memmap)
    same_grids(market, from_bars(load_market(saved)))


def test_a_missing_or_damaged_panel_file_is_rebuilt_with_a_warning(saved: Path,
                                                                   tmp_path: Path):
    folder = copy_of(saved, tmp_path)
    (folder / panel_file("close")).unlink()
    raw = bytearray((folder / panel_file("open")).read_bytes())
    raw[-1] ^= 0x01  # the last byte of the data, still a valid .npy file
    (folder / panel_file("open")).write_bytes(bytes(raw))
    market = load_market(folder)
    with pytest.warns(DataWarning, match=r"panel 'close' not used \(panel\.close\.npy is "
                                         "missing\\)"):
        close = market.grid("close")
    with pytest.warns(DataWarning, match=r"panel 'open' not used \(panel\.open\.npy does not "
                                         "match the SHA-256 meta.json recorded"):
        opened = market.grid("open")
    built = from_bars(load_market(saved))
    assert close.tobytes() == built.grid("close").tobytes()
    assert opened.tobytes() == built.grid("open").tobytes()
    assert isinstance(market.grid("high").base, np.memmap)  # the others still used


def test_unverified_or_old_folders_build_panels_from_the_bars_quietly(
        saved: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    unverified = load_market(saved, verify=False)
    with caplog.at_level("INFO", logger="workbench.data.panels"):
        grid = unverified.grid("close")
    assert not isinstance(grid.base, np.memmap)
    assert "loaded unverified" in caplog.text
    folder = copy_of(saved, tmp_path)
    rewrite_meta(folder, lambda m: m.pop(PANELS_KEY))  # as written before panels existed
    old = load_market(folder)
    assert not isinstance(old.grid("close").base, np.memmap)
    same_grids(old, from_bars(load_market(saved)))


def test_an_import_may_replace_a_market_folder_with_panels(saved: Path, tmp_path: Path):
    folder = copy_of(saved, tmp_path)
    assert any(folder.glob("panel.*.npy"))
    assert market_folder_extras(folder) == []
    assert check_out_folder(folder) == folder


def test_a_copy_with_other_bars_never_sees_the_stored_panels(saved: Path):
    market = load_market(saved)
    bars = market.bars.copy()
    bars["close"] = bars["close"] * 2
    other = dataclasses.replace(market, bars=bars)
    assert other.panels is None
    np.testing.assert_array_equal(other.grid("close"), 2 * market.grid("close"))


@pytest.mark.parametrize("cores", [1, 4])
def test_grids_checks_the_panels_together_and_gives_what_grid_gives(
        saved: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cores: int):
    monkeypatch.setattr(panels, "usable_cores", lambda: cores)
    folder = copy_of(saved, tmp_path)
    (folder / panel_file("close")).unlink()
    with open(folder / panel_file("high"), "ab") as fh:
        fh.write(b"\0" * 8)  # trailing bytes: the body still hashes as recorded
    market = load_market(folder)
    asked = ["open", "close", "high", "low", "suspended", "open"]
    with pytest.warns(DataWarning) as seen:
        found = market.grids(asked)
    said = sorted(str(w.message) for w in seen if issubclass(w.category, DataWarning))
    assert len(said) == 2
    assert "panel 'close' not used (panel.close.npy is missing)" in said[0]
    assert "panel 'high' not used (panel.high.npy does not match the SHA-256" in said[1]
    built = from_bars(load_market(saved))
    assert list(found) == ["open", "close", "high", "low", "suspended"]
    for column, grid in found.items():
        assert grid is market.grid(column)  # kept: asking again gives the same array
        assert grid.tobytes() == built.grid(column).tobytes(), column
        assert isinstance(grid.base, np.memmap) == (column not in ("close", "high")), column
    with pytest.raises(ConfigError, match="no bar column 'vwap'"):
        market.grids(["open", "vwap"])


def test_a_panel_that_is_no_npy_file_is_built_from_the_bars(saved: Path, tmp_path: Path):
    folder = copy_of(saved, tmp_path)
    built = load_market(saved).grid("volume")
    with open(folder / panel_file("volume"), "wb") as fh:
        np.savez(fh, volume=built)  # an archive under the panel's name
    rewrite_meta(folder, lambda m: None)  # its checksum recorded: only the format is wrong
    market = load_market(folder)
    with pytest.warns(DataWarning, match=r"panel\.volume\.npy is not a \.npy file that can "
                                         "be memory-mapped"):
        volume = market.grids(["volume"])["volume"]
    assert not isinstance(volume.base, np.memmap)
    assert volume.tobytes() == built.tobytes()


def test_a_fortran_order_panel_is_checked_on_its_bytes_in_file_order(saved: Path,
                                                                     tmp_path: Path):
    folder = copy_of(saved, tmp_path)
    built = load_market(saved).grid("low")
    np.save(folder / panel_file("low"), np.asfortranarray(built))  # another valid layout
    rewrite_meta(folder, lambda m: None)  # its checksum recorded, as a re-save would
    market = load_market(folder)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low = market.grids(["low"])["low"]
    assert isinstance(low.base, np.memmap) and low.flags.f_contiguous
    np.testing.assert_array_equal(low, built)
