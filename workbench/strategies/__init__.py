"""Strategies: the protocol (:mod:`.base`), the registry (:mod:`.registry`) and one module
per family. The point-in-time view they read is :mod:`workbench.view`.

=================  ==============================================  =====================
name               rule                                            module
=================  ==============================================  =====================
``buy_and_hold``   equal weight over the first day's universe      :mod:`.baseline`
``value_quality``  top N on earnings yield, B/P, ROE, growth       :mod:`.fundamental`
``momentum``       top N on the 12-1 month return                  :mod:`.factors`
``low_volatility`` the N least volatile stocks                     :mod:`.factors`
``ma_trend``       hold while the fast MA is above the slow one    :mod:`.technical`
``rsi_reversion``  buy RSI below entry, sell at exit               :mod:`.technical`
=================  ==============================================  =====================

>>> from workbench import strategies
>>> s = strategies.get("buy_and_hold", rebalance="monthly")
>>> s.describe()
{'name': 'buy_and_hold', 'params': {'rebalance': 'monthly'}}
"""

from workbench.strategies.base import (
    Coverage,
    Factor,
    Scores,
    Strategy,
    Weights,
    normalize_weights,
)
from workbench.strategies.baseline import BuyAndHold
from workbench.strategies.factors import LowVolatility, Momentum
from workbench.strategies.fundamental import ValueQuality
from workbench.strategies.registry import (
    available,
    get,
    parameter_types,
    parameters,
    register,
    resolve,
)
from workbench.strategies.technical import MATrend, RSIReversion
from workbench.view import MarketView, ViewContext, clear_cache

__all__ = [
    "BuyAndHold",
    "Coverage",
    "Factor",
    "LowVolatility",
    "MATrend",
    "MarketView",
    "Momentum",
    "RSIReversion",
    "Scores",
    "Strategy",
    "ValueQuality",
    "ViewContext",
    "Weights",
    "available",
    "clear_cache",
    "get",
    "normalize_weights",
    "parameter_types",
    "parameters",
    "register",
    "resolve",
]
