"""Baselines every other strategy should beat: equal-weight buy and hold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np

from workbench.errors import ConfigError
from workbench.strategies.base import Scores, Strategy
from workbench.strategies.registry import register
from workbench.view import MarketView

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["BuyAndHold"]


@register
@dataclass(frozen=True, kw_only=True)
class BuyAndHold(Strategy):
    """Equal weight over the stocks listed (with a bar) on the backtest's first day.

    The baseline every other strategy should beat: it buys the whole listed universe in
    equal parts on the first day, ST and suspended names included (a suspended name's
    order waits until it resumes), and never picks. New listings are never bought;
    delisted names are settled into cash.

    Parameters
    ----------
    rebalance
        ``'never'``: buy once on the first day, then hold (delisted names become cash).
        ``'monthly'``: on the first session of each month, reset to equal weights over the
        first day's names that are still listed.

    Examples
    --------
    >>> BuyAndHold(rebalance="monthly").describe()
    {'name': 'buy_and_hold', 'params': {'rebalance': 'monthly'}}
    """

    name: ClassVar[str] = "buy_and_hold"
    rebalance: Literal["never", "monthly"] = "never"

    def __post_init__(self) -> None:
        if self.rebalance not in ("never", "monthly"):
            raise ConfigError(f"buy_and_hold: rebalance must be 'never' or 'monthly', got "
                              f"{self.rebalance!r}")

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        if not view.is_first and (self.rebalance == "never" or not view.is_month_start):
            return None
        names = view.listed & view.has_bar
        if not view.is_first:  # only the first day's universe, as it is still listed
            names &= view.list_dates <= view.start_date.to_datetime64()
        n = int(names.sum())
        return np.where(names, 1.0 / n, 0.0) if n else np.zeros(len(names))

    def scores(self, view: MarketView) -> Scores:
        """Equal weight over every stock listed with a bar today (score 1 for each)."""
        names = view.listed & view.has_bar
        n = int(names.sum())
        weights = np.where(names, 1.0 / n, 0.0) if n else np.zeros(len(names))
        return Scores(score=np.where(names, 1.0, np.nan), weights=weights, eligible=names,
                      rule=f"equal weight over all {n} listed names")

    def describe_inputs(self, market: Market) -> str:
        return "the listing calendar only"
