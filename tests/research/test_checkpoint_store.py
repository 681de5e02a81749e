"""workbench.research.store: the sweep checkpoint round-trips, refuses other formats and
other data, and resumes only finished rows of the sweep being run."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from workbench.errors import ConfigError, DataError
from workbench.research.store import (
    FORMAT,
    META_KEY,
    SEAL_KEY,
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
    written = {k: v for k, v in table.schema.metadata.items() if k != SEAL_KEY}
    pq.write_table(table.replace_schema_metadata(
        {**written, META_KEY: json.dumps(meta).encode()}), path)
    with pytest.raises(ConfigError, match=f"of format {FORMAT + 1}; this version reads formats "
                                          f"1 to {FORMAT} only.*Delete the file"):
        read_checkpoint(path)


def test_a_format_1_checkpoint_without_a_checksum_still_resumes(tmp_path):
    path = tmp_path / "s.parquet"
    write_checkpoint(path, _table(), META)
    table = pq.read_table(path)
    written = {k: v for k, v in table.schema.metadata.items() if k != SEAL_KEY}
    meta = json.loads(written[META_KEY]) | {"format": 1}
    pq.write_table(table.replace_schema_metadata(
        {**written, META_KEY: json.dumps(meta).encode()}), path)
    assert set(finished_rows(path, META, ["r1", "r2"], ["is_sharpe_ratio"])) == {"r1"}
    pq.write_table(table.replace_schema_metadata(written), path)  # format 2, seal lost
    with pytest.raises(DataError, match=r"s\.parquet: a sweep table of format 2 records its "
                                        "SHA-256 under b'workbench.sha256', but this one has "
                                        "none"):
        read_checkpoint(path)


def test_a_flipped_byte_anywhere_in_a_checkpoint_is_a_data_error_naming_it(tmp_path):
    path = tmp_path / "s.parquet"
    write_checkpoint(path, _table(), META)
    raw = path.read_bytes()
    rng = np.random.default_rng(20)
    flips = list(zip(rng.choice(len(raw), size=50, replace=False).tolist(),
                     rng.integers(1, 256, size=50).tolist(), strict=True))
    stamp = raw.index(SEAL_KEY) + len(SEAL_KEY) + 2  # and each digit of the recorded digest,
    flips += [(i, raw[i] ^ (ord("a") if raw[i] != ord("a") else ord("b")))  # still hex
              for i in range(stamp, stamp + 64)]
    assert re.fullmatch(rb"[0-9a-f]{64}", raw[stamp:stamp + 64])
    silent = []  # each flip on the file as written
    for offset, mask in flips:
        damaged = bytearray(raw)
        damaged[offset] ^= mask
        path.write_bytes(bytes(damaged))
        try:
            finished_rows(path, META, ["r1", "r2"], ["is_sharpe_ratio"])
        except DataError as exc:
            if str(exc).startswith(f"{path}: "):
                continue
        silent.append(offset)
    assert silent == []


def test_a_file_that_is_not_a_sweep_table_says_so(tmp_path):
    path = tmp_path / "s.parquet"
    path.write_text("not parquet")
    with pytest.raises(DataError, match="not a readable sweep table"):
        read_checkpoint(path)
    pd.DataFrame({"x": [1]}).to_parquet(path)
    with pytest.raises(DataError, match="no row_id index or error column"):
        read_checkpoint(path)
