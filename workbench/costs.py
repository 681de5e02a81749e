"""What a fill costs: commission, stamp duty, transfer fee and slippage, over the rule table.

Conventions (each one is tested with pencil numbers in ``tests/test_costs.py``):

* **Fill price.** Slippage moves the price against the trader: a buy fills at
  ``market_price * (1 + slippage_rate)``, a sell at ``market_price * (1 - slippage_rate)``,
  where the market price is the bar's open (or close, or VWAP proxy). The fill price is
  *not* rounded to the fen: slippage is a statistical estimate of cost, and rounding 5 bps
  on a 3 CNY stock to the fen would turn it into 0 or 33 bps. The backtester clamps the fill
  price to the day's price limits, since nothing prints outside them.
* **Traded value** is ``shares * fill_price`` (CNY); commission, stamp duty and transfer fee
  are fractions of it.
* **Rounding.** Every charge is money and is rounded half up to the fen (0.01 CNY) on its
  own, as brokers bill them. Products such as ``1000 * 10.005 * 0.0003`` are first rounded
  to 1e-6 fen so that binary floating point cannot turn a true ``x.xx5`` into ``x.xx4999``.
* **Commission** is ``max(value * commission_rate, min_commission_cny)`` per order (one
  fill is one order), both sides.
* **Stamp duty** is charged on sells only, at the rate of :data:`workbench.rules.STAMP_DUTY`
  on the trade date (0.1 % to 2023-08-27, 0.05 % from 2023-08-28).
* **Transfer fee** is charged on both sides at :data:`workbench.rules.TRANSFER_FEE`
  (0.002 % before 2022-04-29, 0.001 % from then).
* **Slippage** in the trade log is ``shares * |fill_price - market_price|`` rounded to the
  fen, for attribution only: it is already inside the fill price, so cash moves by
  ``shares * fill_price`` plus the other three charges.

The statutory rates live in the rule table, not here; :class:`Costs` holds the broker's
terms and a scale for each statutory charge, so ``Costs().scale(2.0)`` doubles everything
and ``Costs.zero()`` switches costs off.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal, NamedTuple, cast

import numpy as np
import pandas as pd

from workbench import rules
from workbench.checks import real_number
from workbench.errors import ConfigError

__all__ = ["Charges", "Costs"]

Side = Literal["buy", "sell"]


class Charges(NamedTuple):
    """The charges of a batch of fills, CNY, each rounded to the fen (arrays, same length)."""

    commission: np.ndarray
    stamp_duty: np.ndarray
    transfer_fee: np.ndarray
    slippage: np.ndarray

    @property
    def fees(self) -> np.ndarray:
        """Commission + stamp duty + transfer fee: what is paid on top of the traded value."""
        return self.commission + self.stamp_duty + self.transfer_fee


@dataclass(frozen=True, kw_only=True)
class Costs:
    """A broker's terms plus scales on the statutory charges; every ``*_rate`` is a fraction.

    Parameters
    ----------
    commission_rate
        Commission as a fraction of traded value, both sides (3 bps is ``0.0003``).
    min_commission_cny
        Minimum commission per order, CNY.
    slippage_rate
        Price impact against the trader, fraction of the market price.
    stamp_duty_scale, transfer_fee_scale
        Multipliers on the dated statutory rates of :mod:`workbench.rules` (1.0 = as
        legislated, 0.0 = off).

    Raises
    ------
    ConfigError
        For a rate outside its range (a percent written as ``3`` instead of ``0.0003``),
        a negative or non-finite minimum or scale.

    Examples
    --------
    >>> c = Costs()
    >>> c.charges(np.array([10_005.0]), side="buy", day="2024-01-02").commission.tolist()
    [5.0]
    >>> Costs().scale(2.0).commission_rate
    0.0006
    """

    commission_rate: float = 0.0003
    min_commission_cny: float = 5.0
    slippage_rate: float = 0.0005
    stamp_duty_scale: float = 1.0
    transfer_fee_scale: float = 1.0

    def __post_init__(self) -> None:
        real_number(self.commission_rate, "commission_rate", minimum=0.0, below=0.01,
                    kind="fraction", hint="write 3 bps as 0.0003, not 3 or 0.03")
        real_number(self.slippage_rate, "slippage_rate", minimum=0.0, below=0.05, kind="fraction",
                    hint="write 5 bps as 0.0005, not 5 or 0.05")
        for name in ("min_commission_cny", "stamp_duty_scale", "transfer_fee_scale"):
            real_number(getattr(self, name), name, minimum=0.0)
        if self.min_commission_cny > 1000:
            raise ConfigError(f"min_commission_cny must be at most 1000 CNY, got "
                              f"{self.min_commission_cny!r}; it is a per-order amount in CNY")

    # -- variants ---------------------------------------------------------------------------
    @classmethod
    def zero(cls) -> Costs:
        """No costs at all (commission, minimum, slippage, stamp duty and transfer fee 0)."""
        return cls().scale(0.0)

    def scale(self, multiplier: float) -> Costs:
        """Return costs with every charge (and the minimum commission) times ``multiplier``.

        Examples
        --------
        >>> Costs().scale(0.0) == Costs.zero()
        True
        >>> Costs().scale(2.0).min_commission_cny
        10.0
        """
        m = real_number(multiplier, "cost multiplier", minimum=0.0,
                        hint="use 0 for no costs, 1 as configured, 2 for double")
        return replace(
            self,
            commission_rate=self.commission_rate * m,
            min_commission_cny=self.min_commission_cny * m,
            slippage_rate=self.slippage_rate * m,
            stamp_duty_scale=self.stamp_duty_scale * m,
            transfer_fee_scale=self.transfer_fee_scale * m,
        )

    # -- rates --------------------------------------------------------------------------------
    def stamp_duty_rate(self, day: str | pd.Timestamp) -> float:
        """Stamp duty on a sell on ``day`` as a fraction of traded value (scaled).

        Examples
        --------
        >>> Costs().stamp_duty_rate("2023-08-25"), Costs().stamp_duty_rate("2023-08-28")
        (0.001, 0.0005)
        """
        return rules.rate_on(rules.STAMP_DUTY, day) * self.stamp_duty_scale

    def transfer_fee_rate(self, day: str | pd.Timestamp) -> float:
        """Transfer fee on either side on ``day`` as a fraction of traded value (scaled)."""
        return rules.rate_on(rules.TRANSFER_FEE, day) * self.transfer_fee_scale

    def rates_on(self, days: pd.DatetimeIndex) -> dict[pd.Timestamp, tuple[float, float]]:
        """:meth:`stamp_duty_rate` and :meth:`transfer_fee_rate` of each of ``days``, looked
        up at once (the same floats, one dated-table search for all days).

        Examples
        --------
        >>> Costs().rates_on(pd.DatetimeIndex(["2023-08-28"]))[pd.Timestamp("2023-08-28")]
        (0.0005, 1e-05)
        """
        stamp = rules.rates_on(rules.STAMP_DUTY, days) * self.stamp_duty_scale
        transfer = rules.rates_on(rules.TRANSFER_FEE, days) * self.transfer_fee_scale
        return dict(zip(days, zip(stamp.tolist(), transfer.tolist(), strict=True), strict=True))

    # -- prices and charges ----------------------------------------------------------------
    def fill_price(self, market_price: np.ndarray | float, *, side: Side) -> np.ndarray:
        """Price the trader gets: the market price moved by ``slippage_rate`` against them.

        Not rounded to the fen (see the module docstring).

        Examples
        --------
        >>> Costs().fill_price(np.array([8.0, 100.0]), side="sell").tolist()
        [7.996, 99.95]
        """
        sign = 1.0 if _side(side) == "buy" else -1.0
        return np.asarray(market_price, dtype=float) * (1.0 + sign * self.slippage_rate)

    def charges(
        self,
        value: np.ndarray | float,
        *,
        side: Side,
        day: str | pd.Timestamp,
        slippage_cny: np.ndarray | float | None = None,
    ) -> Charges:
        """Charges on fills of traded value ``value`` (CNY, at the fill price) on ``day``.

        Parameters
        ----------
        value
            Traded value per fill, ``shares * fill_price``, CNY; 0 means no fill (no charge).
        side
            ``'buy'`` or ``'sell'``; stamp duty applies to sells only.
        day
            Trade date; picks the dated stamp duty and transfer fee rates.
        slippage_cny
            Slippage already inside the fill price, for the log; default
            ``value * slippage_rate / (1 ± slippage_rate)``.

        Returns
        -------
        Charges
            Commission, stamp duty, transfer fee and slippage, each rounded half up to the fen.

        Examples
        --------
        >>> ch = Costs().charges(np.array([20_000.0]), side="sell", day="2024-01-02")
        >>> ch.commission.tolist(), ch.stamp_duty.tolist(), ch.transfer_fee.tolist()
        ([6.0], [10.0], [0.2])
        """
        side = _side(side)
        v = np.asarray(value, dtype=float).reshape(-1)
        if slippage_cny is None:
            sign = 1.0 if side == "buy" else -1.0
            slippage_cny = v * self.slippage_rate / (1.0 + sign * self.slippage_rate)
        table = self.charge_table(
            v, np.full(len(v), side == "sell"), stamp_rate=self.stamp_duty_rate(day),
            transfer_rate=self.transfer_fee_rate(day),
            slippage_cny=np.broadcast_to(np.asarray(slippage_cny, dtype=float), v.shape))
        return Charges(*table)

    def charge_table(self, value: np.ndarray, sell: np.ndarray, *, stamp_rate: float,
                     transfer_rate: float, slippage_cny: np.ndarray) -> np.ndarray:
        """The engine's fast path of :meth:`charges`: rates given, both sides at once.

        Parameters
        ----------
        value
            Traded value per fill at the fill price, CNY (0: no fill, no charge).
        sell
            Boolean per fill; stamp duty applies where True.
        stamp_rate, transfer_rate
            Rates of the trade date, already scaled (:meth:`stamp_duty_rate`,
            :meth:`transfer_fee_rate`).
        slippage_cny
            Slippage inside the fill price per fill, CNY (for the log).

        Returns
        -------
        numpy.ndarray
            Shape ``(4, n)``: commission, stamp duty, transfer fee and slippage per fill,
            each rounded half up to the fen.
        """
        raw = np.empty((4, len(value)))
        np.multiply(value, self.commission_rate, out=raw[0])
        np.maximum(raw[0], self.min_commission_cny, out=raw[0])
        np.multiply(value, np.where(sell, stamp_rate, 0.0), out=raw[1])
        np.multiply(value, transfer_rate, out=raw[2])
        np.abs(slippage_cny, out=raw[3])
        out = rules.round_fen(raw)
        if np.count_nonzero(value) < len(value):  # no fill, no commission
            out[0][value <= 0] = 0.0
        return out

    # -- persistence ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, float]:
        """The fields as a plain dict (JSON-ready)."""
        return {f.name: float(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Costs:
        """Inverse of :meth:`to_dict`; an unknown key raises ConfigError."""
        valid = {f.name for f in fields(cls)}
        if unknown := set(data) - valid:
            raise ConfigError(f"unknown cost fields {sorted(unknown)}; valid: {sorted(valid)}")
        return cls(**data)


def _side(side: str) -> Literal["buy", "sell"]:
    if side in ("buy", "sell"):
        return cast(Literal["buy", "sell"], side)
    raise ConfigError(f"side must be 'buy' or 'sell', got {side!r}")
