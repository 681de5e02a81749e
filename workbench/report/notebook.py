"""What a report notebook calls first: :func:`setup_notebook`."""

from __future__ import annotations

import plotly.io as pio

from workbench.report.figures.theme import register

__all__ = ["setup_notebook"]


def setup_notebook() -> None:
    """Make the notebook display figures as Plotly JSON and register the theme.

    Figures then travel as ``application/vnd.plotly.v1+json`` outputs: JupyterLab draws
    them with its Plotly extension, and :func:`workbench.report.notebook_html` turns them
    into plots in a self-contained page (no CDN, no plotly.js copy per output). Call it
    once, in the notebook's first code cell after the parameters; it changes only
    Plotly's default renderer, the setting made for this purpose.
    """
    register()
    pio.renderers.default = "plotly_mimetype"
