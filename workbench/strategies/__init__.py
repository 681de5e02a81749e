"""Strategies: the protocol and registry (:mod:`.base`) plus one module per family.

>>> from workbench import strategies
>>> s = strategies.get("buy_and_hold", rebalance="monthly")
>>> s.describe()
{'name': 'buy_and_hold', 'params': {'rebalance': 'monthly'}}
"""

from workbench.strategies.base import (
    MarketView,
    Strategy,
    ViewContext,
    Weights,
    available,
    get,
    normalize_weights,
    register,
)
from workbench.strategies.baseline import BuyAndHold
from workbench.strategies.technical import MATrend

__all__ = [
    "BuyAndHold",
    "MATrend",
    "MarketView",
    "Strategy",
    "ViewContext",
    "Weights",
    "available",
    "get",
    "normalize_weights",
    "register",
]
