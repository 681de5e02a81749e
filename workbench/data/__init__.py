"""A-share market data: the canonical model, loaders, importers and the synthetic default.

The public entry points::

    market = load_market()                      # synthetic default, built on first use
    market = load_market("data/real")           # a folder written by `python -m workbench import`
    bars = import_bars("600519.csv", source="auto")
    members = import_index_weights("index_weight.csv")  # CSI 300 spells from snapshots
    events = import_dividends("dividend.csv")   # corporate actions (tushare / baostock)
    bench = import_total_return("510300.csv", "fund_div.csv")  # an ETF's total return
    validate(bars)
"""

from workbench.data.corporate import events_from_factors
from workbench.data.dividends import import_dividends
from workbench.data.importers import (
    import_adj_factors,
    import_bars,
    import_benchmark,
    import_index_weights,
    import_market,
    import_securities,
)
from workbench.data.market import Market
from workbench.data.provenance import Provenance, provenance
from workbench.data.store import default_data_dir, ensure_default_market, load_market, save_market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.data.total_return import import_total_return, total_return_index
from workbench.data.validation import validate, validate_bars, validate_market

__all__ = [
    "Market",
    "Provenance",
    "SyntheticConfig",
    "default_data_dir",
    "ensure_default_market",
    "events_from_factors",
    "import_adj_factors",
    "import_bars",
    "import_benchmark",
    "import_dividends",
    "import_index_weights",
    "import_market",
    "import_securities",
    "import_total_return",
    "load_market",
    "provenance",
    "save_market",
    "synthetic_market",
    "total_return_index",
    "validate",
    "validate_bars",
    "validate_market",
]
