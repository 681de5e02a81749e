"""The exposure figure: invested fraction and holdings count against the warning threshold."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from figure_data import ma_trend_result, y_values

from workbench import report
from workbench.result import MIN_INVESTED_RATE


def test_exposure_data_is_the_invested_fraction_and_the_holdings_count():
    result = ma_trend_result()
    data = report.exposure_data(result)
    assert list(data.columns) == ["invested_rate", "cash_rate", "n_positions"]
    np.testing.assert_array_equal(data["invested_rate"], result.daily["invested_rate"])
    np.testing.assert_allclose(data["invested_rate"] + data["cash_rate"], 1.0)
    assert (data["n_positions"] == result.daily["n_positions"]).all()
    # a result without the column (written by an older workbench): from equity and cash
    old = replace(result, daily=result.daily.drop(columns="invested_rate"))
    np.testing.assert_allclose(report.exposure_data(old)["invested_rate"],
                               data["invested_rate"], atol=1e-12)


def test_exposure_figure_draws_both_series_and_the_threshold():
    result = ma_trend_result()
    fig = report.exposure_figure(result, max_points=None, colors="cn")
    invested, held = fig.data
    assert invested.fill == "tozeroy" and held.yaxis == "y2"
    np.testing.assert_allclose(y_values(invested), result.daily["invested_rate"], atol=1e-6)
    assert len(invested.x) == len(result.daily)
    (line,) = fig.layout.shapes
    assert line.y0 == line.y1 == MIN_INVESTED_RATE
    assert "warning threshold" in fig.layout.annotations[0].text
    assert len(report.exposure_figure(result, max_points=100).data[0].x) == 100


def test_an_empty_result_gets_a_note():
    result = ma_trend_result()
    empty = replace(result, daily=result.daily.iloc[:0])
    fig = report.exposure_figure(empty)
    assert fig.data == () and fig.layout.annotations[0].text == "no sessions"
