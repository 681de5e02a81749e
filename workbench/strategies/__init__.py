"""Strategies: the protocol and registry (:mod:`.base`) plus one module per family.

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
    Factor,
    MarketView,
    Scores,
    Strategy,
    ViewContext,
    Weights,
    available,
    clear_cache,
    get,
    normalize_weights,
    parameters,
    register,
    resolve,
)
from workbench.strategies.baseline import BuyAndHold
from workbench.strategies.factors import LowVolatility, Momentum
from workbench.strategies.fundamental import ValueQuality
from workbench.strategies.technical import MATrend, RSIReversion

__all__ = [
    "BuyAndHold",
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
    "parameters",
    "register",
    "resolve",
]
