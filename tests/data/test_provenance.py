"""workbench.data.provenance: every market says what it is, its benchmark and what flatters it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED_REAL

from workbench.data.importers import import_market
from workbench.data.provenance import benchmark_identity, provenance
from workbench.data.store import load_market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import DataWarning

DATA = Path(__file__).resolve().parent / "importers"


@pytest.mark.parametrize(("code", "name", "kind"), [
    ("sh.000300", "CSI 300", "price"),
    ("000300.SH", "CSI 300", "price"),
    ("sz.399006", "ChiNext Index", "price"),
    ("H00300.CSI", "CSI 300 total return", "total return"),
    ("h00905", "CSI 500 total return", "total return"),
    ("XYZ", "XYZ", "price"),
    (None, "no benchmark", "none"),
])
def test_benchmark_identity_from_any_vendor_spelling(code, name, kind):
    got = benchmark_identity(code)
    assert (got["name"], got["kind"]) == (name, kind)


def test_synthetic_market_says_it_is_invented_and_names_its_index():
    m = synthetic_market(SyntheticConfig(n_stocks=40, start="2018-01-02", end="2020-12-31",
                                         seed=3))
    p = provenance(m)
    assert p.kind == "synthetic" and p.notes == ()
    assert "invented companies" in p.description and f"seed {3}" in p.description
    assert p.benchmark == "synthetic cap-weighted index (price index)"
    assert p.start == "2018-01-02" and p.end == "2020-12-31"
    assert p.to_dict()["n_symbols"] == 40


def test_an_import_without_delistings_warns_survivors_only(tmp_path):
    with pytest.warns(DataWarning) as caught:
        market = import_market(bars=DATA / "baostock", adj_factors=DATA / "adj_factor.csv",
                               securities=DATA / "stock_basic.csv", out=tmp_path / "m")
    messages = [str(w.message) for w in caught]
    assert any("survivors only" in m and "biased upward" in m for m in messages)
    assert any("present-day snapshot" in m for m in messages)
    p = provenance(load_market(tmp_path / "m"))
    assert p.kind == "imported" and "baostock" in p.description
    assert len(p.notes) == 2 and p.notes == provenance(market).notes
    assert p.benchmark.startswith("none")  # imported without an index


@pytest.mark.real_data
def test_the_real_sample_names_csi300_as_a_price_index(tmp_path):
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real A-share sample not found at {SHARED_REAL}")
    with pytest.warns(DataWarning):
        market = import_market(bars=SHARED_REAL / "bars",
                               adj_factors=SHARED_REAL / "adj_factor.csv",
                               securities=SHARED_REAL / "stock_basic.csv",
                               benchmark=SHARED_REAL / "index" / "sh.000300.csv",
                               out=tmp_path / "real")
    p = provenance(market)
    assert p.benchmark == "CSI 300 (price index)"
    assert p.n_delisted == 0 and p.notes[0].startswith("survivors only")
