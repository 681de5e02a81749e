"""How a backtest trades: :class:`BacktestConfig`, the fill times and the choices it allows.

The configuration sits below the engine (``backtest``, ``result``) so that both read it and
neither imports the other for it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any, Literal

import pandas as pd

from workbench.calendar import parse_day
from workbench.checks import real_number
from workbench.costs import Costs
from workbench.errors import ConfigError
from workbench.portfolio import LOT_ROUNDINGS, LotRounding
from workbench.risk.limits import RiskLimits

__all__ = ["FILL_TIMES", "LEGACY_RISK_VALUES", "LEGACY_VALUES", "BacktestConfig", "FillAt"]

FillAt = Literal["open", "close", "vwap"]
_FILL_AT: tuple[str, ...] = ("open", "close", "vwap")
_CHOICES: dict[str, tuple[str, ...]] = {
    "fill_at": _FILL_AT,
    "suspended_orders": ("carry", "drop"),
    "limit_orders": ("carry", "drop"),
    "delisting": ("last_price", "write_off"),
    "corporate_actions": ("reinvest", "cash"),
    "lot_rounding": LOT_ROUNDINGS,
}
#: Fields added after configurations were first saved, and the value every run saved
#: without them had: :meth:`BacktestConfig.from_dict` reads a missing one as that value, and
#: a sweep's row identity leaves it out at that value, so earlier rows are still found.
LEGACY_VALUES: dict[str, Any] = {"limit_orders": "drop", "lot_rounding": "floor"}
#: The same for :class:`~workbench.risk.RiskLimits` fields saved inside a configuration: a
#: drawdown stop saved before re-arm policies existed never re-armed.
LEGACY_RISK_VALUES: dict[str, Any] = {"drawdown_rearm": "never"}
#: Time of day (Asia/Shanghai) at which fills are judged by the pre-trade validator.
FILL_TIMES: dict[str, dt.time] = {"open": dt.time(9, 30), "close": dt.time(14, 57),
                                  "vwap": dt.time(14, 57)}


@dataclass(frozen=True, kw_only=True)
class BacktestConfig:
    """How a backtest trades. Every A-share rule is on by default and can be switched off.

    Parameters
    ----------
    capital_cny
        Starting cash, CNY (> 0).
    start, end
        First and last session of the period (inclusive); None for the market's first or
        last session. Strategies still see the history before ``start``.
    fill_at
        Price orders fill at on the session after the decision: ``'open'``, ``'close'`` or
        ``'vwap'`` (``amount / volume``).
    costs
        :class:`~workbench.costs.Costs`; ``Costs.zero()`` for none, ``Costs().scale(2)``
        for double.
    board_lots
        Buys in board lots (100; STAR 200 then 1; BSE 100 then 1), sells in lots or the
        whole holding. Off: any whole number of shares.
    lot_rounding
        How target weights become whole lots at the decision-day close. ``'floor'``: each
        name's target ``floor(weight * equity / close)`` shares, a buy rounded down to board
        lots, so the cash the rounding leaves (up to a lot a name) stays idle. ``'fill'``
        (default): then spend that cash as a trader would, one extra lot at a time to the
        names furthest below their target value, each ending within its target plus one
        lot, while the buys and their estimated costs (slippage, commission with its
        minimum, transfer fee) fit in the cash after the planned sells, less a 1 % margin
        for the move to the fill price; floored buys that do not fit are scaled down
        (``insufficient_cash`` rows dated at the fill session). A name with weight 0, or one
        that may not be bought, gets none. See :func:`workbench.portfolio.fill_lots`.
        Results saved before this option existed ran with ``'floor'``.
    t_plus_1
        Shares bought in a session can be sold from the next session only.
    price_limits
        No buy fill at the limit-up price, no sell fill at the limit-down price.
    max_participation_rate
        Most of the fill session's volume one fill may take (fraction, default 0.10; the
        whole day's volume, even for fills at the open); None for no cap.
    suspended_orders
        ``'carry'``: retry orders blocked by a suspension on the next session, and on each
        session after it, until they fill, the strategy returns new target weights (the new
        plan replaces every pending order) or the stock delists; ``'drop'``: forget them.
    limit_orders
        The same choice for orders blocked by a sealed price limit (a buy whose fill price
        is at ``limit_up``, a sell at ``limit_down``; only with ``price_limits=True``):
        ``'carry'`` (default) retries them on the next session, ``'drop'`` forgets them.
        Either way each blocked session is an ``unfilled`` row with reason ``'limit_up'``
        or ``'limit_down'``, and a retried order that fills has reason ``'carried'``. The
        share count is the one planned at the decision; cash, lots, T+1 and the volume cap
        are checked again at each retry. Results saved before this option existed ran
        with ``'drop'``.
    delisting
        ``'last_price'``: settle a delisted holding at its last close; ``'write_off'``: at 0.
    corporate_actions
        ``'cash'`` (default): book the market's corporate-action events as a broker does:
        bonus and transfer shares on the ex-date, cash dividends on the pay date less the
        tax withheld, and dividend tax by holding period charged on each sale
        (:mod:`workbench.dividend_book`). ``'reinvest'``: the total-return view, no tax:
        the value an ex-date takes out of the price is reinvested in whole shares at the
        ex-rights price. Either way new shares are trade-log rows with reason
        ``'corporate_action'``.
    risk
        :class:`~workbench.risk.RiskLimits` to judge every fill against a pre-trade
        validator (see the module docstring), or None (default) for no risk checks, at no
        cost in speed. The validator applies the exchange's board lots, so it needs
        ``board_lots=True``.
    universe
        Name of an index whose members alone may be bought (e.g. ``'csi300'``; the market
        must carry its membership, see :meth:`workbench.data.Market.membership`), or None
        (default) for every listed stock. At each session the strategy sees only the
        stocks that are members as of that session (membership known by then, so no
        look-ahead) and the engine buys nothing else: a target above the holding of a
        non-member is cut to the holding (an ``unfilled`` row, reason
        ``'not_in_universe'``). Held stocks that leave the index may be held or sold. A
        config without a universe writes no ``universe`` key in :meth:`to_dict`, so
        configurations saved before this option read and compare as before.

    Raises
    ------
    ConfigError
        For a value outside what is allowed; the message names it and the fix.

    Examples
    --------
    >>> BacktestConfig(capital_cny=500_000, fill_at="close").fill_at
    'close'
    >>> BacktestConfig(capital_cny=-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: capital_cny must be a finite amount of CNY > 0, got -1; ...
    """

    capital_cny: float = 1_000_000.0
    start: pd.Timestamp | str | None = None
    end: pd.Timestamp | str | None = None
    fill_at: FillAt = "open"
    costs: Costs = field(default_factory=Costs)
    board_lots: bool = True
    lot_rounding: LotRounding = "fill"
    t_plus_1: bool = True
    price_limits: bool = True
    max_participation_rate: float | None = 0.10
    suspended_orders: Literal["carry", "drop"] = "carry"
    limit_orders: Literal["carry", "drop"] = "carry"
    delisting: Literal["last_price", "write_off"] = "last_price"
    corporate_actions: Literal["reinvest", "cash"] = "cash"
    risk: RiskLimits | None = None
    universe: str | None = None

    def __post_init__(self) -> None:
        real_number(self.capital_cny, "capital_cny", above=0.0, kind="amount of CNY",
                    hint="e.g. capital_cny=1_000_000")
        start, end = parse_day(self.start, "start"), parse_day(self.end, "end")
        if start is not None and end is not None and end < start:
            raise ConfigError(f"end {end.date()} is before start {start.date()}; swap them or "
                              "give an end on or after the start")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {list(allowed)}, got "
                                  f"{getattr(self, name)!r}")
        if not isinstance(self.costs, Costs):
            raise ConfigError(f"costs must be a workbench.costs.Costs, got "
                              f"{type(self.costs).__name__}; e.g. Costs(commission_rate=0.0003)")
        for name in ("board_lots", "t_plus_1", "price_limits"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.max_participation_rate is not None:
            real_number(self.max_participation_rate, "max_participation_rate", above=0.0,
                        maximum=1.0, kind="fraction", hint="write 10 % as 0.1, or None for no cap")
        if self.risk is not None:
            if not isinstance(self.risk, RiskLimits):
                raise ConfigError(f"risk must be a workbench.risk.RiskLimits or None, got "
                                  f"{type(self.risk).__name__}; e.g. "
                                  "risk=RiskLimits(max_position_rate=0.05)")
            if not self.board_lots:
                raise ConfigError("risk needs board_lots=True: the pre-trade validator rejects "
                                  "orders that are not board lots; switch one of them off")
        if self.universe is not None and (not isinstance(self.universe, str)
                                          or not self.universe.strip()):
            raise ConfigError(f"universe must be an index name such as 'csi300' or None (every "
                              f"listed stock), got {self.universe!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings, costs as a dict; no ``universe`` when None)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "universe" and value is None:
                continue  # the default before the option existed: saved configs stay equal
            if isinstance(value, pd.Timestamp):
                value = value.date().isoformat()
            elif isinstance(value, Costs):
                value = value.to_dict()
            elif isinstance(value, RiskLimits):
                value = dataclasses.asdict(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BacktestConfig:
        """Inverse of :meth:`to_dict`; an unknown key raises ConfigError.

        A missing key takes the field's default, except a field of :data:`LEGACY_VALUES`,
        which takes the value runs had before it existed: ``limit_orders`` reads as
        ``'drop'``, ``lot_rounding`` as ``'floor'`` and a saved risk limit's
        ``drawdown_rearm`` as ``'never'`` (:data:`LEGACY_RISK_VALUES`), so re-running a
        saved config reproduces the saved result.

        Examples
        --------
        >>> BacktestConfig.from_dict({"capital_cny": 500_000}).limit_orders
        'drop'
        >>> BacktestConfig.from_dict(BacktestConfig().to_dict()).limit_orders
        'carry'
        >>> BacktestConfig.from_dict({"capital_cny": 500_000}).lot_rounding
        'floor'
        """
        valid = {f.name for f in fields(cls)}
        if unknown := set(data) - valid:
            raise ConfigError(f"unknown config fields {sorted(unknown)}; valid: {sorted(valid)}")
        values = {**LEGACY_VALUES, **data}
        if isinstance(values.get("costs"), dict):
            values["costs"] = Costs.from_dict(values["costs"])
        if isinstance(values.get("risk"), dict):
            valid_risk = {f.name for f in fields(RiskLimits)}
            if unknown := set(values["risk"]) - valid_risk:
                raise ConfigError(f"unknown risk fields {sorted(unknown)}; valid: "
                                  f"{sorted(valid_risk)}")
            values["risk"] = RiskLimits(**{**LEGACY_RISK_VALUES, **values["risk"]})
        return cls(**values)
