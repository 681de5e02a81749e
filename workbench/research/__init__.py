"""Research: choose parameters in sample, judge them on data the choice never saw.

Modules: ``periods`` (:class:`Split`, :class:`WalkForward`), ``trials`` (one combination on
its periods, its backtests and metrics), ``search`` (grid search and walk-forward in this
process), ``compare`` (strategies side by side, cost sensitivity), ``sweep`` (the same
searches on Dask), ``cluster`` (where a sweep runs) and ``store`` (the sweep's checkpoint).
"""

from workbench.research.cluster import local_client
from workbench.research.compare import (
    cost_sensitivity,
    equal_weight_baseline,
    evaluate_strategies,
    out_of_sample_check,
    run_strategies,
)
from workbench.research.periods import Split, WalkForward, evaluation_split
from workbench.research.search import (
    GridSearchResult,
    WalkForwardResult,
    grid_search,
    walk_forward,
)
from workbench.research.sweep import MODES, SweepResult
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
    "MODES",
    "OBJECTIVES",
    "GridSearchResult",
    "Split",
    "SweepResult",
    "Trial",
    "WalkForward",
    "WalkForwardResult",
    "cost_sensitivity",
    "equal_weight_baseline",
    "evaluate_strategies",
    "evaluation_split",
    "grid_combinations",
    "grid_search",
    "local_client",
    "out_of_sample_check",
    "result_metrics",
    "run_strategies",
    "trial_results",
    "walk_forward",
]
