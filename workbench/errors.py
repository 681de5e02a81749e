"""The workbench's exceptions and warnings: one tree, so callers can catch ours alone.

::

    WorkbenchError
    ├── DataError(ValueError)       bad or inconsistent input data (names file, row, column)
    ├── ConfigError(ValueError)     a configuration or parameter outside what is allowed
    ├── LookupFailed(KeyError)      an unknown name (strategy, symbol, layout), with suggestions
    └── ReportFailed(RuntimeError)  a report notebook failed while running; its notebook is kept

    DataWarning(UserWarning)        a repairable oddity in data (gaps, moves beyond a limit)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "ConfigError",
    "DataError",
    "DataWarning",
    "LookupFailed",
    "ReportFailed",
    "WorkbenchError",
    "did_you_mean",
]


class WorkbenchError(Exception):
    """Base class of every exception the workbench raises on purpose."""


class DataError(WorkbenchError, ValueError):
    """Input data is malformed or inconsistent; the message names file, row, column and fault."""


class ConfigError(WorkbenchError, ValueError):
    """A configuration value is outside what is allowed; the message says how to fix it."""


class LookupFailed(WorkbenchError, KeyError):
    """An unknown name was asked for; the message lists the valid ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class ReportFailed(WorkbenchError, RuntimeError):
    """A report notebook failed while running; the executed notebook was kept.

    Attributes
    ----------
    failed_notebook
        Path of the kept ``NAME.failed.ipynb`` (None if the run never produced one).
    """

    def __init__(self, message: str, failed_notebook: Path | None = None) -> None:
        super().__init__(message)
        self.failed_notebook = failed_notebook


class DataWarning(UserWarning):
    """A repairable oddity in input data: reported, never silently fixed."""


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """Return a sentence listing the valid names, with the closest match first if any.

    Examples
    --------
    >>> did_you_mean("momentun", ["momentum", "ma_trend"])
    "did you mean 'momentum'? Valid: 'ma_trend', 'momentum'"
    """
    options = sorted(valid)
    close = difflib.get_close_matches(name, options, n=1)
    listed = ", ".join(repr(o) for o in options)
    return f"did you mean {close[0]!r}? Valid: {listed}" if close else f"Valid: {listed}"
