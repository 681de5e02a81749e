"""Risk limits of the pre-trade validator: one frozen, validated configuration."""

from __future__ import annotations

import math
from dataclasses import dataclass

from workbench.errors import ConfigError

__all__ = ["TOLERANCE_RATE", "RiskLimits"]

#: Relative slack on every limit comparison (a billionth of the base: 0.001 CNY on 1e6 CNY).
TOLERANCE_RATE = 1e-9


@dataclass(frozen=True, kw_only=True)
class RiskLimits:
    """The validator's limits; every ``*_rate`` is a fraction (10 % is ``0.10``).

    Parameters
    ----------
    max_position_rate
        A name's value after a buy, at most this fraction of equity.
    max_daily_loss_rate
        Loss, as a positive fraction of start-of-day equity, beyond which only sells pass.
    max_drawdown_rate
        Fall from peak equity, as a fraction of the peak, beyond which only sells pass.
    max_sector_rate
        A sector's value after a buy, at most this fraction of equity.
    max_gross_leverage
        Gross long exposure after a buy, at most this multiple of equity (1.0: cash account).
    allow_opening_auction
        Accept orders in the opening call auction, 09:15-09:25 China time.
    block_st_buys
        Reject buys of ST / *ST names (sells stay allowed so positions can be exited).

    Examples
    --------
    >>> RiskLimits(max_position_rate=0.05).max_sector_rate
    0.3
    >>> RiskLimits(max_position_rate=10)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: max_position_rate must be a fraction in (0, 1], got 10; \
write 10 % as 0.10
    """

    max_position_rate: float = 0.10
    max_daily_loss_rate: float = 0.03
    max_drawdown_rate: float = 0.15
    max_sector_rate: float = 0.30
    max_gross_leverage: float = 1.0
    allow_opening_auction: bool = False
    block_st_buys: bool = True

    def __post_init__(self) -> None:
        for name in ("max_position_rate", "max_daily_loss_rate", "max_drawdown_rate",
                     "max_sector_rate", "max_gross_leverage"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                math.isfinite(value)
            ):
                raise ConfigError(f"{name} must be a finite number, got {value!r}")
            hi = 10.0 if name == "max_gross_leverage" else 1.0
            if not 0.0 < value <= hi:
                hint = ("write 10 % as 0.10" if value > hi else
                        "give it as a positive fraction, e.g. 0.03 for a -3 % day")
                if name == "max_gross_leverage":
                    hint = "use 1.0 for a cash account, 2.0 for a 2x margin account"
                span = "a multiple in (0, 10]" if hi == 10.0 else "a fraction in (0, 1]"
                raise ConfigError(f"{name} must be {span}, got {value!r}; {hint}")
        for name in ("allow_opening_auction", "block_st_buys"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")

