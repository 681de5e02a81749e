"""Out-of-sample evaluation: split, grid search, walk-forward, cost sensitivity, strategy table.

The names live in :mod:`workbench.research` (``periods``, ``trials``, ``search``,
``compare``); this module keeps ``workbench.evaluation.grid_search`` and friends working.
The market as known at a day is :meth:`workbench.data.market.Market.as_of`.
"""

from workbench.research.compare import cost_sensitivity, evaluate_strategies
from workbench.research.periods import Split, WalkForward
from workbench.research.search import (
    GridSearchResult,
    WalkForwardResult,
    grid_search,
    walk_forward,
)
from workbench.research.trials import (
    METRIC_COLUMNS,
    OBJECTIVES,
    Trial,
    grid_combinations,
    result_metrics,
    trial_results,
)

__all__ = [
    "METRIC_COLUMNS",
    "OBJECTIVES",
    "GridSearchResult",
    "Split",
    "Trial",
    "WalkForward",
    "WalkForwardResult",
    "cost_sensitivity",
    "evaluate_strategies",
    "grid_combinations",
    "grid_search",
    "result_metrics",
    "trial_results",
    "walk_forward",
]
