"""Lazily loaded bars: a run that needs only the stored panels never reads the bars table."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest

from workbench.backtest import run
from workbench.config import BacktestConfig
from workbench.data.market import Market
from workbench.data.store import load_market, save_market
from workbench.data.synthetic import synthetic_market
from workbench.errors import DataError
from workbench.strategies import get


@pytest.fixture(scope="module")
def market_and_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Market, Path]:
    market = synthetic_market(n_stocks=15, start="2023-01-03", end="2023-12-29", seed=2)
    return market, save_market(market, tmp_path_factory.mktemp("lazy") / "m")


def test_a_run_on_a_saved_market_leaves_the_bars_unread(market_and_folder):
    market, folder = market_and_folder
    back = load_market(folder)
    assert "bars" not in vars(back)
    assert back.bar_columns == tuple(market.bars.columns)
    result = run(back, get("ma_trend", fast=5, slow=20), BacktestConfig())
    assert len(result.daily) == len(market.calendar)
    assert "bars" not in vars(back)  # the panels were enough
    pd.testing.assert_frame_equal(back.bars, market.bars)  # read on demand, then kept
    assert "bars" in vars(back) and back.bars is back.bars


def test_bars_changed_after_loading_are_refused_when_read(market_and_folder, tmp_path: Path):
    market, _ = market_and_folder
    folder = save_market(market, tmp_path / "m")
    back = load_market(folder)
    (folder / "bars.parquet").write_bytes((folder / "bars.parquet").read_bytes()[:-1] + b"x")
    with pytest.raises(DataError, match=r"bars\.parquet: its content does not match"):
        _ = back.bars


def test_damaged_bars_are_refused_on_load_as_before(market_and_folder, tmp_path: Path):
    market, _ = market_and_folder
    folder = save_market(market, tmp_path / "m")
    raw = bytearray((folder / "bars.parquet").read_bytes())
    raw[100] ^= 0xFF
    (folder / "bars.parquet").write_bytes(bytes(raw))
    with pytest.raises(DataError, match=r"bars\.parquet: its content does not match"):
        load_market(folder)


def test_a_lazy_market_pickles_with_its_bars_and_validating_reads_them(market_and_folder):
    market, folder = market_and_folder
    back = pickle.loads(pickle.dumps(load_market(folder)))
    pd.testing.assert_frame_equal(back.bars, market.bars)
    assert "bars" in vars(load_market(folder, validate=True))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = load_market(folder).nope
