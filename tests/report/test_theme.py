"""The reports' template and colour conventions."""

from __future__ import annotations

import plotly.io as pio
import pytest
from figure_data import GREEN, RED

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
