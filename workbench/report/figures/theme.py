"""The reports' look: one Plotly template, registered once, and two colour conventions.

``TEMPLATE`` (``"workbench"``) is added to ``plotly.io.templates`` when this module is first
imported; every figure builder sets ``layout.template`` to it explicitly, so nothing
depends on Plotly's global default template. The template is kept small (layout only, no
per-trace defaults) because Plotly embeds it in every figure of a report.

Colour conventions (:func:`palette`):

* ``"intl"`` (default): rising prices and buys green, falling prices and sells red.
* ``"cn"``: the Chinese convention, rising red (涨) and falling green (跌).

Chinese stock names render through a font stack that lists CJK fonts first
(:data:`FONT_FAMILY`); the browser picks the first one installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import plotly.io as pio

from workbench.errors import LookupFailed, did_you_mean

__all__ = ["COLOR_SCHEMES", "FONT_FAMILY", "SERIES_COLORS", "TEMPLATE", "Palette", "palette",
           "register"]

#: Name of the template in ``plotly.io.templates``.
TEMPLATE = "workbench"
#: CSS font stack: CJK fonts first so that names such as 贵州茅台 render everywhere.
FONT_FAMILY = ('"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", '
               '"WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif')

#: The qualitative palette: 24 colours that stay apart on a white page, so that 15 sectors
#: or a dozen strategies never share or nearly share a colour. The first two are the
#: strategy's navy and the baseline's orange; there is one blue only, and no grey (grey is
#: the benchmark's, light grey "other"). Chosen for distance: any two differ by at least 25
#: in CIELAB (ΔE*76; 2.3 is a just-noticeable difference), and each from both greys.
SERIES_COLORS: tuple[str, ...] = (
    "#1f4e79", "#e08e0b", "#6a3d9a", "#17becf", "#8c564b", "#e377c2", "#bcbd22", "#1b9e77",
    "#e6194b", "#4363d8", "#9a6324", "#f032e6", "#2ca02c", "#882255", "#ddcc77", "#7570b3",
    "#fb9a99", "#808000", "#dcbeff", "#800000", "#b07aa1", "#fc8d59", "#c51b7d", "#006d2c",
)


@dataclass(frozen=True, kw_only=True)
class Palette:
    """Colours of one convention; every value is a CSS colour.

    ``up``/``down`` colour rising and falling prices, buys and sells, gains and losses;
    ``strategy``, ``benchmark`` and ``baseline`` the three lines of a comparison; ``series``
    any further categories in order (:data:`SERIES_COLORS`, 24 distinct colours); ``other``
    the "everything else" bucket.
    """

    name: str
    up: str
    down: str
    strategy: str = "#1f4e79"
    benchmark: str = "#7f7f7f"
    baseline: str = "#e08e0b"
    other: str = "#c7c7c7"
    series: tuple[str, ...] = SERIES_COLORS

    def diverging(self) -> list[list[float | str]]:
        """A colour scale for signed values: ``down`` at the low end, white at 0, ``up``."""
        return [[0.0, self.down], [0.5, "#ffffff"], [1.0, self.up]]


_GREEN, _RED = "#2e8b57", "#d62728"
#: The colour conventions by name.
COLOR_SCHEMES: dict[str, Palette] = {
    "intl": Palette(name="intl", up=_GREEN, down=_RED),
    "cn": Palette(name="cn", up=_RED, down=_GREEN),
}


def palette(colors: str = "intl") -> Palette:
    """Return the :class:`Palette` of a colour convention.

    Parameters
    ----------
    colors
        ``"intl"`` (up green, down red) or ``"cn"`` (up red, down green).

    Raises
    ------
    LookupFailed
        For an unknown name; the message lists the valid ones.

    Examples
    --------
    >>> palette("cn").up == palette("intl").down
    True
    """
    try:
        return COLOR_SCHEMES[colors]
    except (KeyError, TypeError):
        raise LookupFailed(f"unknown colors {colors!r}; {did_you_mean(str(colors), COLOR_SCHEMES)}"
                           ) from None


def _template() -> go.layout.Template:
    axis = {"showgrid": True, "gridcolor": "#ebebeb", "zeroline": False, "linecolor": "#b0b0b0",
            "ticks": "outside", "tickcolor": "#b0b0b0", "automargin": True}
    return go.layout.Template(layout={
        "font": {"family": FONT_FAMILY, "size": 13, "color": "#262626"},
        "title": {"x": 0.01, "xanchor": "left", "font": {"size": 16}},
        "colorway": list(SERIES_COLORS),
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "x unified",
        "hoverlabel": {"font": {"family": FONT_FAMILY}},
        # below the plot: the space above it holds the title, range selector and buttons
        "legend": {"orientation": "h", "yref": "container", "yanchor": "bottom", "y": 0.0,
                   "xanchor": "left", "x": 0.0},
        "margin": {"l": 60, "r": 20, "t": 80, "b": 40},
        "xaxis": axis,
        "yaxis": axis,
    })


def register() -> str:
    """Add the ``workbench`` template to ``plotly.io.templates`` (once); return its name.

    Examples
    --------
    >>> import plotly.io as pio
    >>> register() in pio.templates
    True
    """
    if TEMPLATE not in pio.templates:
        pio.templates[TEMPLATE] = _template()
    return TEMPLATE


register()
