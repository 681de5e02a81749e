"""One conversion of workbench values to JSON: the only one in the package.

Results, metrics, strategy parameters, sweep rows and reports all pass their values through
:func:`jsonable`, so a date, a NaN or a numpy integer is written the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with every part made JSON-ready: dates as ISO strings, NaN/NaT as None,
    numpy scalars as Python numbers, mappings and sequences recursively.

    Examples
    --------
    >>> jsonable({"d": pd.Timestamp("2024-01-02"), "x": np.float64("nan"), "n": np.int64(3)})
    {'d': '2024-01-02', 'x': None, 'n': 3}
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, pd.Series):
        return jsonable(value.to_dict())
    if isinstance(value, (list, tuple, set, np.ndarray, pd.Index)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        if pd.isna(value):
            return None
        ts = pd.Timestamp(value)
        return ts.date().isoformat() if ts == ts.normalize() else ts.isoformat()
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is pd.NaT or (not isinstance(value, str) and pd.api.types.is_scalar(value)
                           and pd.isna(value)):
        return None
    return value if isinstance(value, str) else str(value)
