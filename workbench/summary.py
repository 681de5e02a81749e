"""What a ``summary()`` method returns: raw values for code, formatted when shown.

``BacktestResult.summary()``, ``Market.summary()``, ``GridSearchResult.summary()`` and
``SweepResult.summary()`` return their numbers as numbers, so code reads them as before
(``s["total_return"]`` is a float, ``s.loc["sharpe_ratio", "in_sample"]`` a number). Shown
in a notebook, printed or typed at a prompt, the same object goes through the one
formatting layer (:func:`workbench.format.present`): percentages with two decimals,
thousands separators, CNY, dates without a time, labels with units, and "none found" for
an empty table.

* :class:`Summary`, a ``dict`` of facts by key;
* :class:`SummaryFrame`, a ``pandas.DataFrame`` of metrics whose rows (or columns) are keys.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.format import EMPTY, Table, present

__all__ = ["Summary", "SummaryFrame"]


class FormattedDisplay:
    """Shows an object through its ``table()``: ``repr``, ``str`` and a notebook's HTML
    (the display half :class:`Summary` and :class:`SummaryFrame` share)."""

    def table(self) -> Table:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return self.table().html()

    def __repr__(self) -> str:
        return str(self.table())

    def __str__(self) -> str:
        return str(self.table())


class Summary(FormattedDisplay, dict[str, Any]):
    """Facts by key as raw values: a ``dict`` that shows itself formatted.

    Everything a dict does works on the raw values (indexing, ``==``, ``json.dumps``,
    :func:`workbench.jsonable.jsonable`); ``repr``, ``str`` and a notebook's HTML show
    :meth:`table`, one labelled row per key.

    Examples
    --------
    >>> s = Summary(total_return=0.701873, start="2016-01-04", capital_cny=1_000_000.0)
    >>> s["total_return"]
    0.701873
    >>> print(s)
                                   Value
    Total return (%)             +70.19%
    Start                     2016-01-04
    Starting capital (CNY)  1,000,000.00
    """

    def table(self, *, empty: str = EMPTY) -> Table:
        """The facts as a :class:`~workbench.format.Table`: a label and a value per row
        (``empty`` shows when there are none)."""
        return present(self, empty=empty)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """IPython's plain-text display (it would print a dict subclass as a dict)."""
        printer.text("Summary(...)" if cycle else str(self))


class SummaryFrame(FormattedDisplay, pd.DataFrame):
    """Metrics as raw numbers: a ``DataFrame`` that shows itself formatted.

    Indexing, ``.loc``, ``.to_dict()`` and ``.to_string()`` give the raw values; whatever
    pandas derives from it (``.T``, a selection, arithmetic) is a plain ``DataFrame``.
    ``repr``, ``str`` and a notebook's HTML show :meth:`table`. Rows are keys (a metric
    per row, a column per period) or columns are, as :func:`~workbench.format.present`
    tells from the index.

    Examples
    --------
    >>> s = SummaryFrame({"in_sample": {"sharpe_ratio": 0.701873, "total_return": 0.25},
    ...                   "out_of_sample": {"sharpe_ratio": -0.1, "total_return": -0.02}})
    >>> float(s.loc["sharpe_ratio", "in_sample"])
    0.701873
    >>> print(s)
                      In sample  Out of sample
    Sharpe ratio           0.70          -0.10
    Total return (%)    +25.00%         -2.00%
    >>> type(s.T).__name__
    'DataFrame'
    """

    def table(self, *, empty: str = EMPTY) -> Table:
        """The metrics as a :class:`~workbench.format.Table` (``empty`` shows without rows)."""
        return present(pd.DataFrame(self), empty=empty)
