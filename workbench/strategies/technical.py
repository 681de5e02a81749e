"""Technical strategies on adjusted prices: moving-average trend and RSI mean reversion.

Both hold up to ``max_names`` stocks in equal slots of ``1 / max_names`` of equity and
trade only on the days a name enters or leaves: names that stay are left alone (no
re-weighting), so turnover follows the signal, not the noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from workbench import indicators
from workbench.checks import real_number
from workbench.errors import ConfigError
from workbench.strategies.base import Factor, Scores, Strategy
from workbench.strategies.ranking import check_count, percentile_rank, slot_weights, strongest
from workbench.strategies.registry import register
from workbench.view import MarketView, ViewContext

__all__ = ["MATrend", "RSIReversion"]

_NONE = np.zeros(0, dtype=np.int64)


def _fresh_slots(keep: np.ndarray, entries: np.ndarray, max_names: int) -> np.ndarray:
    """Weights of a fresh portfolio: kept names, then entries, ``1 / max_names`` each."""
    w = np.zeros(len(keep))
    kept = np.flatnonzero(keep)[:max_names]
    w[kept] = 1.0 / max_names
    w[entries[~keep[entries]][: max_names - len(kept)]] = 1.0 / max_names
    return w


def _slot_scores(view: MarketView, score: np.ndarray, keep: np.ndarray, entries: np.ndarray,
                 max_names: int, factor: Factor, *, rule: str) -> Scores:
    """Scores of a slot strategy: held names it keeps, then its entries, equal slots."""
    weights = _fresh_slots(keep & (view.holdings > 0), entries, max_names)
    eligible = np.zeros(len(score), dtype=bool)
    eligible[entries] = True
    return Scores(score=score, weights=weights, eligible=eligible, factors=(factor,), rule=rule)


@register
@dataclass(frozen=True, kw_only=True)
class MATrend(Strategy):
    """Moving-average trend: hold stocks whose fast moving average is above the slow one.

    Moving averages are simple means of the backward-adjusted close (``close *
    adj_factor``) over the last ``fast`` and ``slow`` sessions, suspended days included at
    their unchanged price; a stock needs ``slow`` sessions of bars to qualify. After every
    close, held names whose fast average has fallen to or below the slow one are sold, and
    free slots (``max_names`` in all, ``1 / max_names`` of equity each) go to tradable,
    non-ST names in an up-trend that are not held yet, the strongest trends (highest
    ``fast / slow``) first, ties in symbol order. Names still trending are kept as they are,
    so the strategy trades only when a name enters or leaves, and sits partly in cash when
    few stocks trend. The score is the percentile of ``fast / slow`` among listed stocks.

    Parameters
    ----------
    fast, slow
        Window lengths in sessions, ``1 <= fast < slow``.
    max_names
        Most stocks held at once (>= 1); each slot is ``1 / max_names`` of equity. A sale
        held up by a price limit or a suspension can briefly leave one more.

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
            check_count("ma_trend", field, getattr(self, field))
        if self.fast >= self.slow:
            raise ConfigError(f"ma_trend: fast ({self.fast}) must be shorter than slow "
                              f"({self.slow}); e.g. fast=20, slow=60")

    def _signal(self, view: MarketView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        slow, fast = view.rolling_means("adj_close", (self.slow, self.fast))
        with np.errstate(divide="ignore", invalid="ignore"):
            strength = fast / slow
        up = view.listed & (fast > slow)  # NaN (short history) compares False
        buyable = up & view.tradable & ~view.is_st
        entries = np.flatnonzero(buyable)
        entries = entries[np.argsort(-strength[entries], kind="stable")]
        return strength, up, entries

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        if view.row + 1 < self.slow:
            return None  # not enough history for any stock yet
        # _signal's entries, narrowed to what slot_weights takes from them: the names not
        # held, the strongest first, as many as there are free slots (ranked only then)
        slow, fast = view.rolling_means("adj_close", (self.slow, self.fast))
        up = view.listed & (fast > slow)  # NaN (short history) compares False
        held = view.holdings > 0
        free = self.max_names - int(np.count_nonzero(up & held))
        entries = _NONE
        if free > 0:
            entries = (up & view.tradable & ~view.is_st & ~held).nonzero()[0]
            if entries.size:
                with np.errstate(divide="ignore", invalid="ignore"):
                    strength = fast[entries] / slow[entries]
                entries = entries[strongest(strength, free)]
        return slot_weights(view, up, entries, self.max_names)

    def scores(self, view: MarketView) -> Scores:
        strength, up, entries = self._signal(view)
        score = percentile_rank(strength, view.listed)
        return _slot_scores(view, score, up, entries, self.max_names,
                            Factor(f"MA{self.fast}/MA{self.slow}", strength, "{:.3f}", score),
                            rule=f"hold while MA{self.fast} > MA{self.slow}, up to "
                                 f"{self.max_names} names, strongest trends first")


def _rsi_builder(window: int) -> Callable[[ViewContext], np.ndarray]:
    def build(ctx: ViewContext) -> np.ndarray:
        prices = pd.DataFrame(ctx.array("adj_close"))
        return indicators.rsi(prices, window).to_numpy()
    return build


@register
@dataclass(frozen=True, kw_only=True)
class RSIReversion(Strategy):
    """RSI mean reversion: buy oversold stocks, sell them once the RSI has recovered.

    The RSI is Wilder's (:func:`workbench.indicators.rsi`) on the backward-adjusted close
    over ``window`` sessions. After every close, held names whose RSI has risen to
    ``exit`` or above (or that turned ST, or left the listing) are sold, and free slots
    (``max_names`` in all, ``1 / max_names`` of equity each) go to tradable, non-ST names
    with an RSI below ``entry``, the most oversold first. Names in between are kept as
    they are. The score is the percentile of ``-RSI`` among listed stocks (1 = most
    oversold).

    Parameters
    ----------
    window
        RSI period in sessions (>= 2).
    entry, exit
        RSI levels in points (0-100), ``0 < entry < exit <= 100``: buy below ``entry``,
        sell at ``exit`` or above.
    max_names
        Most stocks held at once (>= 1); each slot is ``1 / max_names`` of equity. A sale
        held up by a price limit or a suspension can briefly leave one more.

    Examples
    --------
    >>> RSIReversion(entry=25, exit=55).params
    {'window': 14, 'entry': 25, 'exit': 55, 'max_names': 10}
    """

    name: ClassVar[str] = "rsi_reversion"
    window: int = 14
    entry: float = 30.0
    exit: float = 50.0
    max_names: int = 10

    def __post_init__(self) -> None:
        check_count("rsi_reversion", "window", self.window, minimum=2)
        check_count("rsi_reversion", "max_names", self.max_names)
        for field in ("entry", "exit"):
            real_number(getattr(self, field), f"rsi_reversion: {field}", kind="RSI level (points)")
        if not 0 < self.entry < self.exit <= 100:
            raise ConfigError(f"rsi_reversion: need 0 < entry < exit <= 100 (RSI points), got "
                              f"entry={self.entry!r}, exit={self.exit!r}; e.g. entry=30, "
                              "exit=50")

    def _signal(self, view: MarketView) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rsi = view.derived(f"rsi:{self.window}", _rsi_builder(self.window))
        listed_ok = view.listed & ~view.is_st
        keep = listed_ok & ~(rsi >= self.exit)  # NaN (no RSI yet) keeps the holding
        buyable = listed_ok & view.tradable & (rsi < self.entry)
        entries = np.flatnonzero(buyable)
        entries = entries[np.argsort(rsi[entries], kind="stable")]
        return rsi, keep, entries

    def target_weights(self, view: MarketView) -> np.ndarray | None:
        _, keep, entries = self._signal(view)
        return slot_weights(view, keep, entries, self.max_names)

    def scores(self, view: MarketView) -> Scores:
        rsi, keep, entries = self._signal(view)
        score = percentile_rank(-rsi, view.listed)
        return _slot_scores(view, score, keep, entries, self.max_names,
                            Factor(f"RSI{self.window}", rsi, "{:.1f}", score),
                            rule=f"buy RSI{self.window} < {self.entry:g}, sell at >= "
                                 f"{self.exit:g}, up to {self.max_names} names")
