"""Headline metrics handed from a notebook to the runner: ``metrics.json``.

A report notebook ends with ``report.emit_metrics(metrics, metrics_path)``; the runner
passes ``metrics_path`` (None when the notebook runs by hand, and nothing is written) and
reads the file back for the reports' index.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.atomic import atomic_write_text
from workbench.errors import DataError

__all__ = ["emit_metrics", "jsonable", "read_metrics", "write_text"]


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, with the ordinary file mode."""
    return atomic_write_text(path, text)


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


def emit_metrics(metrics: Mapping[str, Any], path: str | os.PathLike[str] | None = None
                 ) -> dict[str, Any]:
    """Write a report's headline metrics to ``path`` as JSON (atomically); return them.

    Parameters
    ----------
    metrics
        Flat ``{name: value}`` is what the index page shows; nested values are kept in the
        file. Values are converted with :func:`jsonable`.
    path
        Where to write, usually the runner's ``metrics_path`` parameter; None writes
        nothing (a notebook run by hand).

    Returns
    -------
    dict
        The JSON-ready metrics.

    Examples
    --------
    >>> emit_metrics({"sharpe_ratio": np.float64(0.5)})
    {'sharpe_ratio': 0.5}
    """
    if not isinstance(metrics, Mapping):
        raise DataError(f"metrics must be a mapping of name to value, got "
                        f"{type(metrics).__name__}; e.g. result.metrics()")
    doc = jsonable(metrics)
    if path is not None:
        write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return doc


def read_metrics(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``metrics.json``; an empty dict when it is missing.

    Raises
    ------
    DataError
        When the file is not a JSON object.
    """
    file = Path(path)
    if not file.is_file():
        return {}
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise DataError(f"{file}: expected a JSON object of metrics, got {type(doc).__name__}")
    return doc
