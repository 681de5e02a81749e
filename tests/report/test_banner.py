"""workbench.report.banner: every report page opens with what its data is."""

from __future__ import annotations

from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.report.banner import Banner, data_banner


def test_the_data_banner_names_the_market_and_its_benchmark():
    m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03", end="2023-12-29"))
    b = data_banner(m)
    page = b._repr_html_()
    assert b.tone == "info"
    assert "Synthetic market" in page and "invented companies" in page
    assert "synthetic cap-weighted index (price index)" in page
    assert "2023-01-03 to 2023-12-29" in str(b)


def test_a_warning_banner_lists_its_notes_and_escapes_html():
    b = Banner(title="Data", lines=("Imported <market>.", "survivors only: biased upward"),
               tone="warning")
    page = b._repr_html_()
    assert "&lt;market&gt;" in page and "<li>survivors only: biased upward</li>" in page
    assert "wb-warning" in page
