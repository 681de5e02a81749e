"""The warning banner at the top of a report: escaped, styled inline, nothing loaded."""

from __future__ import annotations

from dataclasses import replace

from figure_data import ma_trend_result

from workbench import report


def test_a_result_with_warnings_gets_an_orange_banner_with_one_item_each():
    result = replace(ma_trend_result(), warnings=("under 50% invested <here>", "risk & more"))
    banner = report.warning_banner(result)
    assert banner.warning and banner.title == "2 warnings: these figures may mislead"
    html = banner._repr_html_()
    assert html.startswith('<div class="wb-banner" role="alert" style="')
    assert html.count("<li") == 2
    assert "under 50% invested &lt;here&gt;" in html and "risk &amp; more" in html
    assert "<script" not in html and "http" not in html and "src=" not in html
    assert str(banner).splitlines() == ["2 warnings: these figures may mislead",
                                        "- under 50% invested <here>", "- risk & more"]


def test_no_warnings_is_a_quiet_note():
    banner = report.warning_banner(replace(ma_trend_result(), warnings=()))
    assert not banner.warning and banner.messages == ()
    assert banner.title.startswith("No warnings")
    assert "<ul" not in banner.html() and "role=" not in banner.html()
    assert report.warning_banner(["one"]).title == "1 warning: these figures may mislead"


def test_the_data_banner_names_the_market_and_its_benchmark():
    from workbench.data.synthetic import SyntheticConfig, synthetic_market
    from workbench.report.banner import data_banner

    m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03", end="2023-12-29"))
    b = data_banner(m)
    page = b._repr_html_()
    assert not b.warning
    assert "Synthetic market" in page and "invented companies" in page
    assert "synthetic cap-weighted index (price index)" in page
    assert "2023-01-03 to 2023-12-29" in str(b)


def test_a_banner_escapes_html_and_a_warning_is_an_alert():
    from workbench.report.banner import Banner

    page = Banner("Data: Imported <market>.", ("survivors only: biased upward",))._repr_html_()
    assert "&lt;market&gt;" in page and "survivors only: biased upward</li>" in page
    assert 'role="alert"' in page
