"""workbench: an A-share quant research workbench.

Data with real exchange rules, backtests that trade the way the exchange lets you trade,
pre-trade risk checks and Plotly reports. ``__all__`` is the public contract.
"""

from workbench import (
    backtest,
    calendar,
    costs,
    data,
    errors,
    evaluation,
    indicators,
    metrics,
    recommend,
    report,
    research,
    risk,
    rules,
    strategies,
    sweep,
    symbols,
    trades,
    view,
)
from workbench.backtest import run as run_backtest
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data import Market, load_market
from workbench.errors import ConfigError, DataError, DataWarning, LookupFailed, WorkbenchError
from workbench.research import (
    Split,
    WalkForward,
    cost_sensitivity,
    evaluate_strategies,
    grid_search,
    walk_forward,
)
from workbench.result import BacktestResult, load_result
from workbench.risk import (
    Decision,
    Order,
    PreTradeValidator,
    Reason,
    RiskLimits,
    rejection_counts,
)
from workbench.symbols import Board, normalize_symbol

__version__ = "0.1.0"

__all__ = [
    "BacktestConfig",
    "BacktestResult",
    "Board",
    "ConfigError",
    "Costs",
    "DataError",
    "DataWarning",
    "Decision",
    "LookupFailed",
    "Market",
    "Order",
    "PreTradeValidator",
    "Reason",
    "RiskLimits",
    "Split",
    "WalkForward",
    "WorkbenchError",
    "__version__",
    "backtest",
    "calendar",
    "cost_sensitivity",
    "costs",
    "data",
    "errors",
    "evaluate_strategies",
    "evaluation",
    "grid_search",
    "indicators",
    "load_market",
    "load_result",
    "metrics",
    "normalize_symbol",
    "recommend",
    "rejection_counts",
    "report",
    "research",
    "risk",
    "rules",
    "run_backtest",
    "strategies",
    "sweep",
    "symbols",
    "trades",
    "view",
    "walk_forward",
]
