"""Headline metrics handed from a notebook to the runner: ``metrics.json``.

A report notebook ends with ``report.emit_metrics(metrics, metrics_path)``; the runner
passes ``metrics_path`` (None when the notebook runs by hand, and nothing is written) and
reads the file back for the reports' index.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.atomic import atomic_write_text
from workbench.data.provenance import provenance
from workbench.errors import DataError
from workbench.jsonable import jsonable

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["emit_metrics", "jsonable", "read_metrics", "write_text"]


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, with the ordinary file mode."""
    return atomic_write_text(path, text)


def emit_metrics(metrics: Mapping[str, Any], path: str | os.PathLike[str] | None = None, *,
                 market: Market | None = None) -> dict[str, Any]:
    """Write a report's headline metrics to ``path`` as JSON (atomically); return them.

    Parameters
    ----------
    metrics
        Flat ``{name: value}`` is what the index page shows; nested values are kept in the
        file. Values are converted with :func:`jsonable`.
    path
        Where to write, usually the runner's ``metrics_path`` parameter; None writes
        nothing (a notebook run by hand).
    market
        The market the figures come from: its :func:`~workbench.data.provenance` is written
        under ``"data"``, so the index says what every report's numbers rest on.

    Returns
    -------
    dict
        The JSON-ready metrics.

    Examples
    --------
    >>> import numpy as np
    >>> emit_metrics({"sharpe_ratio": np.float64(0.5)})
    {'sharpe_ratio': 0.5}
    """
    if not isinstance(metrics, Mapping):
        raise DataError(f"metrics must be a mapping of name to value, got "
                        f"{type(metrics).__name__}; e.g. result.metrics()")
    doc = jsonable(metrics)
    if market is not None:
        doc["data"] = jsonable(provenance(market).to_dict())
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
