"""Banners at the top of a report: what a reader must know before reading the numbers.

:func:`data_banner` says what a market is (:func:`workbench.data.provenance`): synthetic or
imported and from what, its period, its benchmark by name and kind, and what could flatter
results (survivors only, a present-day sector map). :func:`warning_banner` turns a result's
warnings (:attr:`workbench.result.BacktestResult.warnings`) into a :class:`Banner`. A notebook
displays either as HTML (``_repr_html_``) and the report page keeps it as it is; the HTML
carries its own inline styles and loads nothing, so the page stays self-contained.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from workbench.data.provenance import provenance
from workbench.result import BacktestResult

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["Banner", "data_banner", "warning_banner"]

_BOX = ("border: 1px solid {edge}; border-left: 6px solid {edge}; background: {fill}; "
        "color: #262626; padding: 10px 14px; margin: 10px 0 18px; font-size: 14px; "
        "line-height: 1.45; border-radius: 3px; text-align: left;")
_WARN = {"edge": "#d9822b", "fill": "#fff4e5"}
_QUIET = {"edge": "#9fc5a8", "fill": "#f3faf5"}


@dataclass(frozen=True)
class Banner:
    """A notice for the top of a report: HTML for notebooks and pages, plain text otherwise.

    Attributes
    ----------
    title
        The heading, e.g. ``'2 warnings: read before the numbers'``.
    messages
        One sentence each (plain text; escaped when rendered).
    warning
        True for a warning (orange), False for a quiet note (green).
    """

    title: str
    messages: tuple[str, ...] = ()
    warning: bool = True

    def html(self) -> str:
        """The banner as one ``<div>`` with inline styles (no scripts, no external files)."""
        style = _BOX.format(**(_WARN if self.warning else _QUIET))
        items = "".join(f"<li style=\"margin: 4px 0;\">{html.escape(m)}</li>"
                        for m in self.messages)
        body = (f"<ul style=\"margin: 6px 0 0; padding-left: 20px;\">{items}</ul>"
                if items else "")
        role = ' role="alert"' if self.warning else ""
        return (f'<div class="wb-banner"{role} style="{style}">'
                f"<strong>{html.escape(self.title)}</strong>{body}</div>")

    def _repr_html_(self) -> str:
        return self.html()

    def __str__(self) -> str:
        return "\n".join([self.title, *(f"- {m}" for m in self.messages)])


def warning_banner(warnings: BacktestResult | Sequence[str]) -> Banner:
    """The warnings of a result (or a list of them) as a banner for the top of a report.

    Parameters
    ----------
    warnings
        A :class:`~workbench.result.BacktestResult` (its ``warnings``) or the sentences.

    Returns
    -------
    Banner
        Orange, titled with the number of warnings, one item each; without warnings, a
        quiet one-line note saying so.

    Examples
    --------
    >>> print(warning_banner(["under 50% invested on 70 of 100 sessions"]))
    1 warning: these figures may mislead
    - under 50% invested on 70 of 100 sessions
    >>> warning_banner([]).title
    'No warnings: coverage, invested fraction and risk rejections are within bounds.'
    """
    found = tuple(str(w) for w in (warnings.warnings if isinstance(warnings, BacktestResult)
                                   else warnings))
    if not found:
        return Banner("No warnings: coverage, invested fraction and risk rejections are "
                      "within bounds.", warning=False)
    n = len(found)
    return Banner(f"{n} warning{'s' if n > 1 else ''}: these figures may mislead", found)


def data_banner(market: Market) -> Banner:
    """What ``market`` is, for the top of every report page.

    The title names the data, its period and its benchmark; each note (survivors only, a
    present-day sector map) is an item, and any note makes the banner a warning (orange).

    Examples
    --------
    >>> from workbench.data.synthetic import SyntheticConfig, synthetic_market
    >>> m = synthetic_market(SyntheticConfig(n_stocks=15, start="2023-01-03",
    ...                                      end="2023-12-29"))
    >>> data_banner(m).warning
    False
    """
    p = provenance(market)
    return Banner(f"Data: {p.lines()[0]}", p.notes, warning=bool(p.notes))
