"""metrics.json: strict JSON of what a report measured."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from workbench import report
from workbench.errors import DataError


def test_emit_metrics_writes_strict_json(tmp_path):
    path = tmp_path / "m" / "metrics.json"
    doc = report.emit_metrics({"sharpe_ratio": np.float64("nan"), "start": pd.Timestamp(
        "2024-01-02"), "n": np.int64(3), "nested": {"x": [1.5, float("inf")]}}, path)
    assert doc == {"sharpe_ratio": None, "start": "2024-01-02", "n": 3,
                   "nested": {"x": [1.5, None]}}
    assert json.loads(path.read_text()) == doc
    assert report.read_metrics(path) == doc
    assert report.emit_metrics({"a": 1}) == {"a": 1}  # no path: nothing written
    with pytest.raises(DataError):
        report.emit_metrics([1, 2])  # type: ignore[arg-type]


def test_metrics_json_records_what_the_data_is(tmp_path):
    import json

    from workbench.data.synthetic import SyntheticConfig, synthetic_market
    from workbench.report.emit import emit_metrics

    m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03", end="2023-12-29"))
    path = tmp_path / "metrics.json"
    doc = emit_metrics({"sharpe_ratio": 0.5}, path, market=m)
    assert json.loads(path.read_text())["data"] == doc["data"]
    assert doc["data"]["kind"] == "synthetic"
    assert doc["data"]["benchmark"] == "synthetic cap-weighted index (price index)"
