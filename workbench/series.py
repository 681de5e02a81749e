"""A daily series as the analytics read it: checked once, the same way everywhere.

:func:`clean_series` is the gate every return or equity series passes before
:mod:`workbench.metrics` or :mod:`workbench.trades` computes anything: floats, complete
(nothing is dropped silently), sorted, one value per session.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.errors import DataError

__all__ = ["clean_series", "label"]


def label(key: object) -> str:
    """Format an index label for a message: a midnight timestamp as its date."""
    if isinstance(key, pd.Timestamp) and key == key.normalize():
        return str(key.date())
    return str(key)


def clean_series(returns: pd.Series, name: str = "returns", *, are_returns: bool = True
                 ) -> pd.Series:
    """Return ``returns`` as a new float64 Series, or raise DataError on what cannot be used.

    Parameters
    ----------
    returns
        Simple returns as fractions (or, with ``are_returns=False``, levels such as equity
        in CNY), indexed by session date, ascending.
    name
        What the series is, for messages.
    are_returns
        Also refuse returns below -1 (-100 %).

    Examples
    --------
    >>> clean_series(pd.Series([0.01, -0.02])).tolist()
    [0.01, -0.02]
    """
    if not isinstance(returns, pd.Series):
        raise DataError(f"{name} must be a pandas Series of simple returns indexed by date, "
                        f"got {type(returns).__name__}; for a one-column DataFrame pass "
                        "frame.iloc[:, 0]")
    try:
        values = returns.astype("float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} must hold numbers (simple returns as fractions), got dtype "
                        f"{returns.dtype}: {exc}") from exc
    arr = values.to_numpy()
    if (bad := ~np.isfinite(arr)).any():
        where = np.flatnonzero(bad)
        kind = "NaN" if np.isnan(arr[where[0]]) else "infinite"
        raise DataError(
            f"{name} has {len(where)} NaN or infinite value(s); the first ({kind}) is on "
            f"{label(values.index[where[0]])}. {name.capitalize()} must be complete (nothing "
            "is dropped silently): find where the gap comes from (e.g. a missing price)"
            + ("; a session with no position has a return of 0.0, not NaN." if are_returns
               else "."))
    if are_returns and (arr < -1.0).any():
        first = int(np.flatnonzero(arr < -1.0)[0])
        raise DataError(f"{name} has a return of {arr[first]!r} on "
                        f"{label(values.index[first])}, below -1 (-100 %), which would make "
                        "equity negative; pass simple returns as fractions (-5 % is -0.05)")
    index = values.index
    if not index.is_unique:
        dup = index[index.duplicated()][0]
        raise DataError(f"{name} has duplicate index label {label(dup)}; expected one return "
                        "per session. Aggregate intraday returns first.")
    if not index.is_monotonic_increasing:
        raise DataError(f"{name} must be sorted by date ascending; call .sort_index() first")
    return values
