"""Tests of workbench.result: saving, loading and describing a backtest result."""

from __future__ import annotations

import pytest
from test_backtest import assert_same_result, busy_run

from workbench.errors import DataError
from workbench.result import BacktestResult, load_result


def test_result_round_trips_through_parquet(tmp_path):
    result = busy_run()
    assert len(result.trades) and len(result.unfilled) and len(result.positions)
    path = result.save(tmp_path / "run")
    back = load_result(path)
    assert_same_result(result, back)
    assert BacktestResult.load(path).summary() == result.summary()
    # a second save replaces the first atomically, leaving no temporary folders behind
    result.save(tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_load_of_a_non_result_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match=r"no result\.json"):
        load_result(tmp_path)


def test_summary_and_repr():
    result = busy_run()
    s = result.summary()
    assert s["strategy"] == "scripted" and s["sessions"] == 6
    assert "BacktestResult scripted" in repr(result)
    assert result.weights().shape[0] == 6
