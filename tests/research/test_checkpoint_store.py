"""workbench.research.store: the sweep checkpoint round-trips, refuses other formats and
other data, and resumes only finished rows of the sweep being run."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.errors import ConfigError, DataError
from workbench.research.store import (
    FORMAT,
    META_KEY,
    finished_rows,
    read_checkpoint,
    write_checkpoint,
)

MARKET = {"name": "m", "symbols": 2, "bars": 10, "first": "2024-01-02", "last": "2024-01-15",
          "close_sum": 101.5}
META = {"strategy": "ma_trend", "grid": {"fast": (5, np.int64(10))}, "market": MARKET,
        "periods": "Split(...)"}


def _table(errors=(None, "ValueError: no")) -> pd.DataFrame:
    frame = pd.DataFrame({"row_id": ["r1", "r2"], "fast": [5, 10],
                          "is_sharpe_ratio": [0.5, np.nan],
                          "is_end": pd.to_datetime(["2024-01-15", None]),
                          "error": list(errors)}).set_index("row_id")
    frame["error"] = frame["error"].astype("str")
    return frame


def test_a_checkpoint_round_trips_with_its_description(tmp_path):
    path = tmp_path / "sweeps" / "s.parquet"
    write_checkpoint(path, _table(), META)
    frame, meta = read_checkpoint(path)
    pd.testing.assert_frame_equal(frame, _table(), check_exact=True)
    assert meta == {"strategy": "ma_trend", "grid": {"fast": [5, 10]}, "market": MARKET,
                    "periods": "Split(...)", "format": FORMAT}
    assert not list(path.parent.glob(".*"))  # written atomically: no temporary left


def test_parameter_values_of_mixed_types_are_written_as_text(tmp_path):
    frame = _table()
    frame["inputs"] = [5, "auto"]
    write_checkpoint(tmp_path / "s.parquet", frame, META, text_columns=["inputs"])
    back, _ = read_checkpoint(tmp_path / "s.parquet")
    assert back["inputs"].tolist() == ["5", "auto"] and back["fast"].tolist() == [5, 10]


def test_resuming_keeps_the_finished_planned_rows(tmp_path):
    path = tmp_path / "s.parquet"
    assert finished_rows(path, META, ["r1"], ["is_sharpe_ratio"]) == {}  # no file yet
    write_checkpoint(path, _table(), META)
    rows = finished_rows(path, META, ["r1", "r2"], ["is_sharpe_ratio", "is_end"])
    assert rows == {"r1": {"is_sharpe_ratio": 0.5, "is_end": pd.Timestamp("2024-01-15"),
                           "error": None}}  # r2 failed: it runs again
    with pytest.warns(UserWarning, match="1 rows are not part of this sweep"):
        assert finished_rows(path, META, ["r2"], ["is_sharpe_ratio"]) == {}


def test_a_checkpoint_of_other_data_or_another_format_is_refused(tmp_path):
    path = tmp_path / "s.parquet"
    write_checkpoint(path, _table(), META)
    other = META | {"market": MARKET | {"bars": 11}}
    with pytest.raises(ConfigError, match="holds a sweep of other data"):
        finished_rows(path, other, ["r1"], ["is_sharpe_ratio"])
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[META_KEY]) | {"format": FORMAT + 1}
    pq.write_table(table.replace_schema_metadata(
        {**table.schema.metadata, META_KEY: json.dumps(meta).encode()}), path)
    with pytest.raises(ConfigError, match=f"of format {FORMAT + 1}; this version reads format "
                                          f"{FORMAT} only.*Delete the file"):
        read_checkpoint(path)


def test_a_file_that_is_not_a_sweep_table_says_so(tmp_path):
    path = tmp_path / "s.parquet"
    path.write_text("not parquet")
    with pytest.raises(DataError, match="not a readable sweep table"):
        read_checkpoint(path)
    pd.DataFrame({"x": [1]}).to_parquet(path)
    with pytest.raises(DataError, match="no row_id index or error column"):
        read_checkpoint(path)
