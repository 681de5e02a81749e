"""Checks of configuration arguments: whole numbers and finite numbers within bounds.

Every public function of the workbench that takes a count, a window, a rate or a fraction
checks it through these two functions, so the same mistake gets the same sentence
everywhere: the name, what is allowed, the value given and an example of a good one.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from workbench.calendar import PERIODS_PER_YEAR
from workbench.errors import ConfigError

__all__ = ["periods_per_year_arg", "real_number", "whole_number"]


def whole_number(value: object, name: str, *, minimum: int = 1, hint: str | None = None
                 ) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= minimum``; else ConfigError.

    Booleans are not numbers here (``True`` is not a window of one session).

    Examples
    --------
    >>> whole_number(np.int64(20), "window")
    20
    >>> whole_number(1.5, "window", minimum=2, hint="e.g. window=20")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: window must be a whole number >= 2, got 1.5; e.g. window=20
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}"
                          + (f"; {hint}" if hint else ""))
    return int(value)


def real_number(value: object, name: str, *, minimum: float | None = None,
                above: float | None = None, maximum: float | None = None,
                below: float | None = None, kind: str = "number",
                hint: str | None = None) -> float:
    """``value`` as a ``float`` if it is a finite real number within the bounds.

    Parameters
    ----------
    value
        What was given.
    name
        Its name in the message, e.g. ``'commission_rate'``.
    minimum, above
        Inclusive and exclusive lower bounds (None: no bound).
    maximum, below
        Inclusive and exclusive upper bounds (None: no bound).
    kind
        What the value is, for the message: ``'number'``, ``'fraction'``, ``'amount of CNY'``.
    hint
        How to fix it (a good value, a unit), appended to the message after "; ".

    Raises
    ------
    ConfigError
        For a bool, a non-number, NaN or infinity, or a value outside the bounds.

    Examples
    --------
    >>> real_number(0.0003, "commission_rate", minimum=0.0, below=0.01)
    0.0003
    >>> real_number(-1, "periods_per_year", above=0)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: periods_per_year must be a finite number > 0, got -1
    """
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real | np.floating)
          and math.isfinite(float(value)))
    if ok:
        number = float(value)  # type: ignore[arg-type]
        ok = ((minimum is None or number >= minimum) and (above is None or number > above)
              and (maximum is None or number <= maximum) and (below is None or number < below))
    if not ok:  # the sentence is built only when it is needed
        bounds = [f"{op} {bound:g}" for op, bound in
                  ((">=", minimum), (">", above), ("<=", maximum), ("<", below))
                  if bound is not None]
        allowed = f"a finite {kind}" + (f" {' and '.join(bounds)}" if bounds else "")
        raise ConfigError(f"{name} must be {allowed}, got {value!r}"
                          + (f"; {hint}" if hint else ""))
    return number


def periods_per_year_arg(value: object) -> float:
    """A ``periods_per_year`` argument as a float if it is a positive number, else ConfigError.

    Examples
    --------
    >>> periods_per_year_arg(243)
    243.0
    """
    return real_number(value, "periods_per_year", above=0,
                       hint=f"use {PERIODS_PER_YEAR} for daily returns (or 243 for the A-share "
                               "session count), 12 for monthly")
