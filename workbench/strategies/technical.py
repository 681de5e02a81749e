"""Technical strategies on adjusted prices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from workbench.errors import ConfigError
from workbench.strategies.base import MarketView, Strategy, register

__all__ = ["MATrend"]


@register
@dataclass(frozen=True, kw_only=True)
class MATrend(Strategy):
    """Moving-average trend: equal weight among listed stocks whose fast MA is above the slow.

    Moving averages are simple means of the backward-adjusted close (``close *
    adj_factor``) over the last ``fast`` and ``slow`` sessions, suspended days included at
    their unchanged price; a stock needs ``slow`` sessions of bars to qualify. When more
    than ``max_names`` qualify, the strongest trends (highest ``fast / slow``) win, ties in
    symbol order. The strategy rebalances only when the chosen names differ from the names
    held, so it trades on the days its selection changes.

    Parameters
    ----------
    fast, slow
        Window lengths in sessions, ``1 <= fast < slow``.
    max_names
        Most stocks held at once (>= 1).

    Examples
    --------
    >>> MATrend(fast=5, slow=20, max_names=10).params
    {'fast': 5, 'slow': 20, 'max_names': 10}
    """

    name: ClassVar[str] = "ma_trend"
    fast: int = 20
    slow: int = 60
    max_names: int = 50

    def __post_init__(self) -> None:
        for field in ("fast", "slow", "max_names"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"ma_trend: {field} must be a whole number >= 1, got "
                                  f"{value!r}")
        if self.fast >= self.slow:
            raise ConfigError(f"ma_trend: fast ({self.fast}) must be shorter than slow "
                              f"({self.slow}); e.g. fast=20, slow=60")

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        if view.row + 1 < self.slow:
            return None  # not enough history for any stock yet
        slow = view.rolling_mean("adj_close", self.slow)
        fast = view.rolling_mean("adj_close", self.fast)
        idx = np.flatnonzero(view.listed & (fast > slow))  # NaN (short history) compares False
        if len(idx) > self.max_names:
            strength = fast[idx] / slow[idx]
            idx = idx[np.argsort(-strength, kind="stable")[: self.max_names]]
        chosen = np.zeros(len(slow), dtype=bool)
        chosen[idx] = True
        if not (chosen ^ (view.holdings > 0)).any():
            return None
        return np.where(chosen, 1.0 / len(idx), 0.0) if len(idx) else np.zeros(len(chosen))
