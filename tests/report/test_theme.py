"""The reports' template and colour conventions."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.io as pio
import pytest
from figure_data import GREEN, RED, ma_trend_result

from workbench import report
from workbench.errors import LookupFailed
from workbench.report.figures import theme


def test_template_is_registered_once_with_a_cjk_font_stack():
    assert theme.register() == theme.register() == "workbench"
    template = pio.templates["workbench"]
    family = template.layout.font.family
    for font in ("Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"):
        assert font in family
    assert not template.data.to_plotly_json()  # layout only: small in every figure


def test_palettes_swap_up_and_down_for_chinese_readers():
    intl, cn = theme.palette("intl"), theme.palette("cn")
    assert (intl.up, intl.down) == (cn.down, cn.up)
    assert cn.up == RED and intl.up == GREEN
    with pytest.raises(LookupFailed, match="did you mean 'intl'"):
        theme.palette("intel")


def _lab(color: str) -> np.ndarray:
    """CIELAB (D65) of a ``#rrggbb`` colour, from the sRGB formulas."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_qualitative_palette_has_twenty_colours_that_stay_apart():
    colours = theme.palette().series
    assert colours == theme.palette("cn").series == theme.SERIES_COLORS
    assert len(colours) >= 20 and len(set(colours)) == len(colours)
    labs = [_lab(c) for c in colours]
    # white is L* 100, a mid grey about 53: the formula checks out
    assert _lab("#ffffff")[0] == pytest.approx(100.0, abs=0.01)
    greys = [_lab(theme.palette().benchmark), _lab(theme.palette().other)]
    closest = min(float(np.linalg.norm(a - b))
                  for i, a in enumerate(labs) for b in labs[i + 1:] + greys)
    assert closest >= 25.0  # ΔE*76: 2.3 is just noticeable, 25 is another colour
    # one blue only: the strategy's navy; no other colour is within a blue's reach of it
    navy = _lab(theme.palette().strategy)
    assert colours[0] == theme.palette().strategy
    assert min(float(np.linalg.norm(navy - b)) for b in labs[1:]) >= 25.0
    # no colour is too light to see on the white page
    assert max(lab[0] for lab in labs) < 85.0
    assert pio.templates["workbench"].layout.colorway == colours


def test_fifteen_sectors_and_cash_never_share_a_colour():
    result = ma_trend_result()
    exposure = result.sector_exposure.copy()
    exposure["Extra sector"] = 0.01  # the synthetic market has 14; a 15th
    assert exposure.shape[1] == 15
    fig = report.sector_exposure_figure(replace(result, sector_exposure=exposure))
    colours = [t.line.color for t in fig.data]
    assert len(colours) == 16 and len(set(colours)) == 16  # 15 sectors and cash


def test_compared_strategies_take_distinct_colours_none_near_the_benchmark():
    result = ma_trend_result()
    results = {f"s{i}": result for i in range(8)}
    fig = report.comparison_figure(results, baseline=None)
    strategy_colours = [t.line.color for t in fig.data if t.name != "benchmark"]
    assert len(set(strategy_colours)) == 8
    assert theme.palette().benchmark not in strategy_colours
    labs = [_lab(c) for c in strategy_colours]
    assert min(float(np.linalg.norm(a - b)) for i, a in enumerate(labs)
               for b in labs[i + 1:]) >= 25.0
