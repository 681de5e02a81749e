"""Risk figures: limit usage and rejections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from figure_data import risky_result, y_values

import workbench as wb
from workbench import report
from workbench.errors import DataError
from workbench.report.figures import risk as report_risk


@pytest.fixture(scope="module")
def risky() -> wb.BacktestResult:
    return risky_result()


def test_rejections_by_layer_count_every_rejected_order(risky):
    assert len(risky.rejections) > 0
    table = report.rejection_table(risky)
    assert table["orders"].sum() == len(risky.rejections)
    fig = report.rejections_figure(risky, colors="cn")
    assert len(fig.data) == table["reason"].nunique()
    assert sum(np.nansum(np.asarray(t.x, dtype=float)) for t in fig.data) == len(
        risky.rejections)
    assert str(len(risky.rejections)) in fig.layout.title.text.replace(",", "")


def test_rejection_table_orders_layers_as_the_checks_run():
    t = pd.DataFrame({"layer": ["sector", "position_size", "sector", "security"],
                      "reason": ["SECTOR", "POSITION_SIZE", "SECTOR", "ST_BLOCKED"],
                      "shares": [100, 200, 300, 400]})
    table = report.rejection_table(t)
    assert table.values.tolist() == [["security", "ST_BLOCKED", 1, 400],
                                     ["position_size", "POSITION_SIZE", 1, 200],
                                     ["sector", "SECTOR", 2, 400]]
    empty = report.rejections_figure(t.iloc[:0])
    assert not empty.data and "no order was rejected" in empty.layout.annotations[0].text
    with pytest.raises(DataError):
        report.rejection_table(pd.DataFrame({"x": [1]}))


def test_limit_usage_divides_by_each_limit(risky):
    limits = risky.config.risk
    usage = report.limit_usage(risky)
    assert list(usage.columns) == list(report_risk.USAGE_COLUMNS)
    day = risky.positions["date"].iloc[-1]
    largest = risky.positions.loc[risky.positions["date"] == day, "weight"].max()
    assert usage.loc[day, "position"] == pytest.approx(largest / limits.max_position_rate)
    fig = report.limit_usage_figure(risky, max_points=30)
    assert len(fig.data) == 5 and all(len(t.y) == 30 for t in fig.data)
    # thinned by the largest value of each run of sessions: no peak is lost
    assert np.max(y_values(fig.data[0])) == pytest.approx(usage["position"].max(), rel=1e-6)
    m = report.risk_metrics(risky)
    assert m["rejections"] == len(risky.rejections)
    assert m["peak_position_usage"] == pytest.approx(usage["position"].max())
