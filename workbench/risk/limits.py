"""Risk limits of the pre-trade validator: one frozen, validated configuration."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from workbench.checks import real_number, whole_number
from workbench.errors import ConfigError, did_you_mean

__all__ = ["DRAWDOWN_REARMS", "TOLERANCE_RATE", "DrawdownRearm", "RiskLimits"]

#: Relative slack on every limit comparison (a billionth of the base: 0.001 CNY on 1e6 CNY).
TOLERANCE_RATE = 1e-9

#: How the drawdown stop re-arms (see :class:`RiskLimits`).
DrawdownRearm = Literal["never", "recover", "cooloff"]
DRAWDOWN_REARMS: tuple[str, ...] = ("never", "recover", "cooloff")


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
        Fall from peak equity, as a fraction of the peak, beyond which the drawdown stop
        trips: only sells pass until it re-arms (``drawdown_rearm``).
    max_sector_rate
        A sector's value after a buy, at most this fraction of equity.
    max_gross_leverage
        Gross long exposure after a buy, at most this multiple of equity (1.0: cash account).
    allow_opening_auction
        Accept orders in the opening call auction, 09:15-09:25 China time.
    block_st_buys
        Reject buys of ST / *ST names (sells stay allowed so positions can be exited).
    drawdown_rearm
        How the drawdown stop re-arms once tripped (the peak is the highest fully priced
        equity since the start or since the last reset):

        * ``'never'``: the peak is never reset; buys pass again only when equity is back
          within ``max_drawdown_rate`` of it (the behaviour before this setting existed).
          A portfolio that sold out stays in cash for the rest of the run.
        * ``'recover'``: the stop holds until equity is back within
          ``drawdown_recover_rate`` of the peak; the peak is never reset, so this too can
          freeze a portfolio in cash.
        * ``'cooloff'`` (default): as ``'recover'``, and once the stop has held through
          ``drawdown_cooloff_sessions`` sessions after the one it tripped in, the peak is
          reset to the equity at the next session's start (a new high-water mark) and
          buys pass again.

        The default re-arms because a stop that cannot lift freezes every multi-year
        backtest after its first deep drawdown (on the real 80-stock sample ``ma_trend``
        sat in cash from 2016 to 2025, rejecting 81,518 buys), and a stop is a pause for
        review, not an exit from the market; ``'never'`` keeps the old stop available.
    drawdown_recover_rate
        Drawdown from the peak, as a fraction of it, within which equity must be back for
        a tripped stop to lift (``'recover'`` and ``'cooloff'``); at most
        ``max_drawdown_rate``. None (default): ``max_drawdown_rate``, so the stop lifts
        as soon as the drawdown is back within the limit. A lower value (e.g. 0.05 under
        a 0.15 limit) waits for a real recovery and keeps the stop from flickering around
        the limit. Must be None with ``'never'``.
    drawdown_cooloff_sessions
        Under ``'cooloff'``, the XSHG sessions the stop holds after the one it tripped in;
        the peak is reset at the start of the session after them. They are counted on the
        exchange calendar from the first day started after the trip, so sessions without
        a ``start_day`` (a backtest starts only sessions with orders) count too. Default
        20: about a month of trading, a real pause that still leaves the portfolio
        invested for most of a year with a deep drawdown in it.

    Examples
    --------
    >>> RiskLimits(max_position_rate=0.05).max_sector_rate
    0.3
    >>> lim = RiskLimits()
    >>> lim.drawdown_rearm, lim.drawdown_cooloff_sessions, lim.drawdown_release_rate
    ('cooloff', 20, 0.15)
    >>> RiskLimits(drawdown_rearm="recover", drawdown_recover_rate=0.05).drawdown_release_rate
    0.05
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
    drawdown_rearm: DrawdownRearm = "cooloff"
    drawdown_recover_rate: float | None = None
    drawdown_cooloff_sessions: int = 20

    @property
    def drawdown_release_rate(self) -> float:
        """Drawdown (fraction of the peak) within which a tripped stop lifts."""
        rate = self.drawdown_recover_rate
        return self.max_drawdown_rate if rate is None else rate

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
        if self.drawdown_rearm not in DRAWDOWN_REARMS:
            raise ConfigError(f"drawdown_rearm {self.drawdown_rearm!r} is not a re-arm policy; "
                              f"{did_you_mean(str(self.drawdown_rearm), DRAWDOWN_REARMS)}")
        if self.drawdown_recover_rate is not None:
            if self.drawdown_rearm == "never":
                raise ConfigError(
                    f"drawdown_recover_rate={self.drawdown_recover_rate!r} has no effect with "
                    "drawdown_rearm='never' (the stop lifts at max_drawdown_rate); use "
                    "drawdown_rearm='recover' or 'cooloff', or leave it None")
            rate = real_number(self.drawdown_recover_rate, "drawdown_recover_rate",
                               minimum=0.0, maximum=self.max_drawdown_rate, kind="fraction",
                               hint="the drawdown within which a tripped stop lifts, at most "
                                    "max_drawdown_rate, e.g. 0.05; None for max_drawdown_rate")
            object.__setattr__(self, "drawdown_recover_rate", rate)
        sessions = whole_number(self.drawdown_cooloff_sessions, "drawdown_cooloff_sessions",
                                hint="sessions the drawdown stop holds before the peak resets, "
                                     "e.g. 20")
        object.__setattr__(self, "drawdown_cooloff_sessions", sessions)
