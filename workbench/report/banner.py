"""Banners at the top of a report: what the data is, and what could mislead.

A :class:`Banner` displays as HTML in a notebook (and so in the self-contained page the
runner builds from it) and as plain text anywhere else. :func:`data_banner` says what a
market is (:func:`workbench.data.provenance`): synthetic or imported and from what, its
period, its benchmark, and any survivorship note.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from workbench.data.provenance import provenance

if TYPE_CHECKING:
    from workbench.data.market import Market

__all__ = ["Banner", "data_banner"]

_STYLES = {
    "info": "background:#eef3f8;border-left:4px solid #1f4e79;",
    "warning": "background:#fff4e5;border-left:4px solid #b35c00;",
}


@dataclass(frozen=True, kw_only=True)
class Banner:
    """A titled box of sentences; ``tone`` ``'info'`` (blue) or ``'warning'`` (orange).

    Examples
    --------
    >>> b = Banner(title="Data", lines=("Synthetic market.",))
    >>> print(b)
    Data: Synthetic market.
    >>> "Synthetic market." in b._repr_html_()
    True
    """

    title: str
    lines: tuple[str, ...]
    tone: Literal["info", "warning"] = "info"

    def __str__(self) -> str:
        return f"{self.title}: " + "\n".join(self.lines)

    def _repr_html_(self) -> str:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines[1:])
        return (f'<div class="wb-banner wb-{self.tone}" style="{_STYLES[self.tone]}'
                'padding:8px 12px;margin:6px 0;font-size:14px;">'
                f"<b>{html.escape(self.title)}.</b> {html.escape(self.lines[0])}"
                + (f'<ul style="margin:4px 0 0 0;">{items}</ul>' if items else "")
                + "</div>")


def data_banner(market: Market) -> Banner:
    """What ``market`` is, for the top of every report page.

    Orange (a warning) when something flatters results: survivors-only data or a
    present-day sector map; blue otherwise.
    """
    p = provenance(market)
    return Banner(title="Data", lines=tuple(p.lines()), tone="warning" if p.notes else "info")
