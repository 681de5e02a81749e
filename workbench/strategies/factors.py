"""Cross-sectional price factors: 12-1 month momentum and low volatility.

Both rebalance on the first session of every month (and on the backtest's first day) to
equal weights over the ``top_n`` best-ranked tradable, non-ST stocks, and return None on
the days between.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from workbench.calendar import PERIODS_PER_YEAR
from workbench.errors import ConfigError
from workbench.indicators import rolling_std_array
from workbench.strategies.base import Factor, Scores, Strategy
from workbench.strategies.ranking import (
    check_count,
    equal_weights,
    percentile_rank,
    rebalance_due,
    top_n,
)
from workbench.strategies.registry import register
from workbench.view import MarketView, ViewContext

__all__ = ["LowVolatility", "Momentum"]


def _pick(view: MarketView, score: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Eligible mask (rated, tradable, not ST) and the equal weights over its top ``n``."""
    eligible = np.isfinite(score) & view.tradable & ~view.is_st
    return eligible, equal_weights(top_n(score, eligible, n), len(score))


@register
@dataclass(frozen=True, kw_only=True)
class Momentum(Strategy):
    """Cross-sectional momentum: hold last year's winners, skipping the latest month.

    The signal is the backward-adjusted return from ``lookback`` sessions ago to ``skip``
    sessions ago (12-1 months by default: the last month is left out because one-month
    returns tend to reverse). Stocks need a bar today and at both ends. On the first
    session of each month the strategy buys the ``top_n`` highest signals among tradable,
    non-ST stocks in equal weights and sells the rest. The score is the percentile of the
    signal among listed stocks.

    Parameters
    ----------
    lookback
        Start of the return window, in sessions before today (> ``skip``; 252 is 12 months).
    skip
        End of the return window, in sessions before today (>= 0; 21 is one month).
    top_n
        Stocks held (>= 1), equally weighted.

    Examples
    --------
    >>> Momentum().params
    {'lookback': 252, 'skip': 21, 'top_n': 20}
    """

    name: ClassVar[str] = "momentum"
    lookback: int = 252
    skip: int = 21
    top_n: int = 20

    def __post_init__(self) -> None:
        check_count("momentum", "lookback", self.lookback)
        check_count("momentum", "skip", self.skip, minimum=0)
        check_count("momentum", "top_n", self.top_n)
        if self.skip >= self.lookback:
            raise ConfigError(f"momentum: skip ({self.skip}) must be shorter than lookback "
                              f"({self.lookback}) sessions; e.g. lookback=252, skip=21")

    def _signal(self, view: MarketView) -> np.ndarray:
        if view.row < self.lookback:
            return np.full(len(view.symbols), np.nan)
        prices = view.array("adj_close")
        end, start = prices[view.row - self.skip], prices[view.row - self.lookback]
        with np.errstate(divide="ignore", invalid="ignore"):
            ret = end / start - 1.0
        return np.where(view.listed & view.has_bar, ret, np.nan)

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        if not rebalance_due(view) or view.row < self.lookback:
            return None
        return _pick(view, self._signal(view), self.top_n)[1]

    def scores(self, view: MarketView) -> Scores:
        ret = self._signal(view)
        score = percentile_rank(ret, view.listed)
        eligible, weights = _pick(view, score, self.top_n)
        label = f"return t-{self.lookback}..t-{self.skip}"
        return Scores(score=score, weights=weights, eligible=eligible,
                      factors=(Factor(label, ret, "{:+.1%}", score),),
                      rule=f"top {self.top_n} by {label}, monthly")


def _volatility_builder(window: int) -> Callable[[ViewContext], np.ndarray]:
    def build(ctx: ViewContext) -> np.ndarray:
        prices = ctx.array("adj_close")
        r = np.full(prices.shape, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.log(prices[1:] / prices[:-1], out=r[1:])
        return rolling_std_array(r, window) * math.sqrt(PERIODS_PER_YEAR)
    return build


@register
@dataclass(frozen=True, kw_only=True)
class LowVolatility(Strategy):
    """Low volatility: hold the calmest stocks, rebalanced monthly.

    Volatility is the sample standard deviation of daily log returns of the
    backward-adjusted close over the last ``window`` sessions, annualised with
    ``sqrt(252)``; a stock needs ``window + 1`` bars (a suspended day counts as a zero
    return). On the first session of each month the strategy buys the ``top_n`` least
    volatile tradable, non-ST stocks in equal weights and sells the rest. The score is the
    percentile of ``-volatility`` among listed stocks (1 = calmest).

    Parameters
    ----------
    window
        Sessions of returns in the estimate (>= 2; 120 is about six months).
    top_n
        Stocks held (>= 1), equally weighted.

    Examples
    --------
    >>> LowVolatility(window=60).params
    {'window': 60, 'top_n': 20}
    """

    name: ClassVar[str] = "low_volatility"
    window: int = 120
    top_n: int = 20

    def __post_init__(self) -> None:
        check_count("low_volatility", "window", self.window, minimum=2)
        check_count("low_volatility", "top_n", self.top_n)

    def _signal(self, view: MarketView) -> np.ndarray:
        vol = view.derived(f"volatility:{self.window}", _volatility_builder(self.window))
        return np.where(view.listed & view.has_bar, vol, np.nan)

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        if not rebalance_due(view) or view.row < self.window:
            return None
        return _pick(view, -self._signal(view), self.top_n)[1]

    def scores(self, view: MarketView) -> Scores:
        vol = self._signal(view)
        score = percentile_rank(-vol, view.listed)
        eligible, weights = _pick(view, score, self.top_n)
        return Scores(score=score, weights=weights, eligible=eligible,
                      factors=(Factor(f"volatility {self.window}d", vol, "{:.1%}", score),),
                      rule=f"the {self.top_n} least volatile, monthly")

