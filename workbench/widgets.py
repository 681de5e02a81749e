"""An ipywidgets dashboard for JupyterLab: pick a strategy, its parameters, a period and the
costs, and watch the backtest's figures update in place.

:func:`explore` builds a :class:`Dashboard` and runs it once; display its ``widget``.
Changing a control re-runs the backtest (:func:`workbench.backtest.run`) and refreshes the
displayed ``go.FigureWidget`` objects with :func:`workbench.report.refresh`: the same
widget objects get new trace data and layout, so the page is not redrawn. Choosing another
symbol or colour convention redraws the figures from the last result without re-running.

This module only wires controls to ``workbench`` calls; the work is done by
:mod:`workbench.backtest`, :mod:`workbench.strategies` and the figure builders of
:mod:`workbench.report`. A parameter combination the strategy rejects (e.g. ``fast >=
slow``) shows the :class:`~workbench.errors.ConfigError` message in the status line and
leaves the figures as they were.

Parameter controls follow the strategy's dataclass fields: ``int`` becomes an
``IntSlider`` (bounds from :func:`int_bounds`), ``float`` a ``FloatSlider``
(:func:`float_bounds`), ``bool`` a ``Checkbox`` and a ``Literal`` of strings a
``Dropdown``. Sliders use ``continuous_update=False``: a run starts when the handle is
released, not on every step of a drag.

Saving. The figures are :class:`SharedFigureWidget` objects, FigureWidgets whose front-end
code (plotly's ~5 MB widget bundle) is stored once per notebook, in a :class:`PlotlyCode`
widget they all load from, instead of once per figure (a figure's own front-end code is a
loader of about 1 KB). A notebook executed with papermill, or saved by JupyterLab with
widget state, therefore stays near 5 MB instead of growing by 5 MB per figure; the browser
evaluates plotly.js once instead of once per figure; and each figure's saved state holds
its last data and layout (:meth:`SharedFigureWidget.keep_state`). Reopened after its kernel
is gone, the notebook shows the figures as they were (JupyterLab shows saved widgets in a
trusted notebook once a kernel, any kernel, is running). The figures fill the width of the
notebook and follow it when it changes.
"""

from __future__ import annotations

import dataclasses
import html
import math
import os
import time
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets as w
import numpy as np
import plotly
import plotly.graph_objects as go
import traitlets

from workbench import report, strategies
from workbench.backtest import run as run_backtest
from workbench.config import BacktestConfig, FillAt
from workbench.costs import Costs
from workbench.data import Market, load_market
from workbench.errors import ConfigError, WorkbenchError

if typing.TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["FIGURES", "Dashboard", "PlotlyCode", "SharedFigureWidget", "explore", "fit_columns",
           "float_bounds", "int_bounds", "parameter_control", "plotly_code"]

#: The dashboard's figures, top to bottom (keys of :attr:`Dashboard.figures`).
FIGURES: tuple[str, ...] = ("equity", "drawdown", "candlestick", "metrics")
_COST_MULTIPLIERS: tuple[float, ...] = (0.0, 1.0, 2.0)
_FILL_AT: tuple[str, ...] = typing.get_args(FillAt)
_STYLE = {"description_width": "initial"}
_OK, _ERROR = "#2e7d32", "#c62828"


# -- parameter controls --------------------------------------------------------------------------
def int_bounds(default: int) -> tuple[int, int]:
    """Slider bounds ``(min, max)`` for a whole-number parameter with this default.

    Counts (default >= 1) run from 1 to four times the default (at least 10); anything
    else spans ``-m..m`` with ``m`` four times the default's size (at least 10).

    Examples
    --------
    >>> int_bounds(20), int_bounds(252), int_bounds(1), int_bounds(0)
    ((1, 80), (1, 1008), (1, 10), (-10, 10))
    """
    top = max(10, 4 * abs(int(default)))
    return (1, top) if default >= 1 else (-top, top)


def float_bounds(default: float) -> tuple[float, float, float]:
    """Slider bounds and step ``(min, max, step)`` for a real parameter with this default.

    The maximum is the power of ten at or above twice the default (1 for 0), the step a
    hundredth of it; non-negative defaults start at 0, negative ones at minus the maximum.

    Examples
    --------
    >>> float_bounds(30.0), float_bounds(50.0), float_bounds(0.05), float_bounds(0.0)
    ((0.0, 100.0, 1.0), (0.0, 100.0, 1.0), (0.0, 0.1, 0.001), (0.0, 1.0, 0.01))
    """
    size = abs(float(default))
    top = 10.0 ** math.ceil(math.log10(2 * size)) if size > 0 else 1.0
    return (0.0 if default >= 0 else -top), top, top / 100


def parameter_control(name: str, default: Any, annotation: Any = None,
                      value: Any = None) -> w.ValueWidget | None:
    """The control for one strategy parameter, or None for a type it has none for.

    Parameters
    ----------
    name
        The parameter's name (the control's description).
    default
        Its default value; with no ``annotation`` its type picks the control.
    annotation
        The field's resolved type: ``bool``, ``int``, ``float`` or a ``Literal`` of choices.
    value
        The starting value (default ``default``); sliders widen to include it.

    Examples
    --------
    >>> parameter_control("fast", 20).max
    80
    >>> parameter_control("rebalance", "never", typing.Literal["never", "monthly"]).options
    ('never', 'monthly')
    """
    value = default if value is None else value
    common = {"description": name, "style": _STYLE}
    choices = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
    if annotation is bool or (annotation is None and isinstance(default, bool)):
        return w.Checkbox(value=bool(value), indent=False, **common)
    if choices:
        return w.Dropdown(options=list(choices), value=value, **common)
    if annotation is int or (annotation is None and isinstance(default, int)):
        lo, hi = int_bounds(default)
        return w.IntSlider(value=value, min=min(lo, value), max=max(hi, value), step=1,
                           continuous_update=False, **common)
    if annotation is float or (annotation is None and isinstance(default, float)):
        low, high, step = float_bounds(default)
        return w.FloatSlider(value=value, min=min(low, value), max=max(high, value), step=step,
                             continuous_update=False, **common)
    return None


def _controls(strategy: str, values: Mapping[str, Any]) -> dict[str, w.ValueWidget]:
    defaults = strategies.parameters(strategy)
    if unknown := sorted(set(values) - set(defaults)):
        raise ConfigError(f"strategy {strategy!r} has no parameter {unknown[0]!r}; its "
                          f"parameters: {sorted(defaults)}")
    hints = strategies.parameter_types(strategy)
    out = {}
    for name, default in defaults.items():
        control = parameter_control(name, default, hints.get(name), values.get(name))
        if control is not None:
            out[name] = control
    return out


# -- figures that share one copy of plotly's front end -----------------------------------------
#: plotly's anywidget front end (plotly >= 6): plotly.js and its widget model, about 5 MB.
_BUNDLE = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
_SHARED = issubclass(go.FigureWidget, anywidget.AnyWidget) and _BUNDLE.is_file()

# One slot per plotly version per page (all notebooks open in a JupyterLab tab share it): the
# first PlotlyCode front end to start imports the bundle, and every figure awaits that import.
_SLOT_JS = f'const KEY = Symbol.for("workbench/plotly-widget@{plotly.__version__}");\n' + """\
function slot() {
  if (!globalThis[KEY]) {
    let provide;
    const module = new Promise((resolve) => { provide = resolve; });
    globalThis[KEY] = { module, provide, started: false };
  }
  return globalThis[KEY];
}
"""

_CODE_JS = _SLOT_JS + """\
export default {
  initialize({ model }) {
    const shared = slot();
    if (shared.started) return;
    shared.started = true;
    const url = URL.createObjectURL(new Blob([model.get("bundle")], { type: "text/javascript" }));
    const loading = import(url);
    const revoke = () => URL.revokeObjectURL(url);
    loading.then(revoke, revoke);
    shared.provide(loading);
  },
};
"""

# plotly's widget draws at the width its element has when first drawn (0 before the element is
# attached, hence plotly's default 700 px). It draws into an empty child here, so plotly takes
# the height from the layout for good (an element 0 px high when drawn), and, with
# config.responsive, keeps a resize handler on it that the observer calls whenever the child's
# width changes. plotly.js pins the width whenever a relayout sets the height (as every update
# from Python does); unless the Python layout sets a width, the pin goes before resizing. The
# child also keeps the plot clear of JupyterLab's "disconnected" icon, which a saved widget's
# element shows when no kernel drives it.
_FIGURE_JS = _SLOT_JS + """\
export default async () => {
  const plotlyWidget = (await slot().module).default;
  const widget = await plotlyWidget();
  return {
    initialize: (context) => widget.initialize(context),
    render(context) {
      const plot = document.createElement("div");
      context.el.appendChild(plot);
      const cleanup = widget.render({ ...context, el: plot });
      let width = 0;
      const observer = new ResizeObserver(([entry]) => {
        const now = Math.round(entry.contentRect.width);
        if (now > 0 && now !== width) {
          width = now;
          if (plot.layout && context.model.get("_widget_layout")?.width == null) {
            delete plot.layout.width;
          }
          plot._responsiveChartHandler?.();
        }
      });
      observer.observe(plot);
      return () => {
        observer.disconnect();
        cleanup?.();
        plot.remove();
      };
    },
  };
};
"""


class PlotlyCode(anywidget.AnyWidget):
    """plotly's widget front end, stored once per notebook for every :class:`SharedFigureWidget`.

    A ``go.FigureWidget`` stores plotly's whole front end (plotly.js and its widget model,
    about 5 MB) in its own state, so a saved notebook grows by 5 MB per figure and the
    browser evaluates plotly.js once per figure. This widget carries that code once; its
    front end imports it into the page, and the front end of every SharedFigureWidget
    awaits that import. It draws nothing (``layout.display`` is ``"none"``).

    Get the kernel's instance with :func:`plotly_code` rather than building one.
    """

    _esm = _CODE_JS
    bundle = traitlets.Unicode("", help="plotly's widget bundle (JavaScript)").tag(sync=True)

    def __init__(self) -> None:
        super().__init__(bundle=_BUNDLE.read_text(encoding="utf-8") if _SHARED else "",
                         layout=w.Layout(display="none"))


_LIVE: dict[str, PlotlyCode] = {}  # the kernel's PlotlyCode, under "code"


def plotly_code() -> PlotlyCode:
    """The kernel's :class:`PlotlyCode` widget: built on first use, and again once closed.

    Examples
    --------
    >>> plotly_code() is plotly_code()
    True
    """
    code = _LIVE.get("code")
    if code is None or code.comm is None:
        code = _LIVE["code"] = PlotlyCode()
    return code


class SharedFigureWidget(go.FigureWidget):
    """A ``go.FigureWidget`` for saved notebooks: its front end comes from :func:`plotly_code`,
    it fills the notebook's width, and its saved state follows its data (:meth:`keep_state`).

    Use it as a ``go.FigureWidget``. Build it filled, ``SharedFigureWidget(figure)``, so the
    state a notebook saves holds the data from the start. A layout without a ``width``
    follows the width of the notebook.

    Examples
    --------
    >>> fig = SharedFigureWidget(go.Figure(go.Scatter(y=[1, 2])))
    >>> fig.data[0].y = [3, 4]
    >>> fig.keep_state()
    >>> list(fig._widget_data[0]["y"])
    [3, 4]
    """

    _esm = _FIGURE_JS
    _config: dict[str, Any]  # plotly's config for the browser (a synced trait of plotly's)

    def __init__(self, data: Any = None, layout: Any = None, frames: Any = None,
                 skip_invalid: bool = False, **kwargs: Any) -> None:
        if _SHARED:
            plotly_code()  # opened before the figure, so its front end is already loading
        super().__init__(data, layout, frames, skip_invalid, **kwargs)
        self._config = {**self._config, "responsive": True}

    def keep_state(self) -> None:
        """Copy the figure's current data and layout into the state a notebook saves.

        plotly sends later changes to the browser as edits (restyle, relayout) and refreshes
        the saved copy (with the same deep copies of the traces and the layout) only when
        the figure is displayed on its own, not inside a container: without this the
        notebook would save the figure as it was built.
        """
        self._widget_layout = self.layout.to_plotly_json()
        self._widget_data = [trace.to_plotly_json() for trace in self.data]


# -- the dashboard -------------------------------------------------------------------------------
class Dashboard:
    """Controls, figures and their wiring for exploring one strategy on one market.

    Build it with :func:`explore`. The notebook displays :attr:`widget`; code (and tests)
    can set any control's ``value`` and read the figures, the :attr:`result` and the
    :attr:`error`.

    Attributes
    ----------
    market
        The market backtested.
    widget
        The top-level ipywidgets object: controls on top, then the status line and the
        figures (and the hidden :func:`plotly_code` widget they load plotly from).
    strategy, params_box, dates, period, symbol, costs, slippage, fill_at, colors, status
        The controls: strategy ``Dropdown``; ``VBox`` of the parameter controls (rebuilt
        when the strategy changes, see :attr:`param_controls`); ``SelectionRangeSlider``
        over the market's sessions (``YYYY-MM-DD`` strings) and the ``Label`` beside it
        that spells the period out (the slider's own readout is too narrow for two dates,
        so it is off); the candlestick's symbol ``Dropdown``; cost multiplier
        ``ToggleButtons`` (0×, 1×, 2×); slippage ``Checkbox``; fill price
        ``ToggleButtons``; colour convention ``ToggleButtons``; and the status line
        (``HTML``).
    param_controls
        ``{parameter: control}`` of the current strategy.
    figures
        ``{name: SharedFigureWidget}`` for :data:`FIGURES`, built filled by the first run
        (empty if it failed); the same objects for the dashboard's whole life.
    result
        The last successful backtest (None before the first).
    error
        The message of the last failed run or draw, None after a success.
    """

    def __init__(self, market: Market, strategy: str = "ma_trend", *,
                 params: Mapping[str, Any] | None = None, start: object = None,
                 end: object = None, symbol: str | None = None,
                 capital_cny: float = 1_000_000.0, cost_multiplier: float = 1.0,
                 slippage: bool = True, fill_at: FillAt = "open", colors: str = "intl"
                 ) -> None:
        BacktestConfig(capital_cny=capital_cny, start=start, end=end, fill_at=fill_at,
                       costs=Costs().scale(cost_multiplier))  # the ConfigErrors, up front
        strategies.parameters(strategy)  # LookupFailed for unknown names
        report.palette(colors)  # and for unknown colours
        self.market = market
        self._quiet = False
        self.capital_cny = float(capital_cny)
        self.result: BacktestResult | None = None
        self.error: str | None = None
        sessions = market.calendar.strftime("%Y-%m-%d").tolist()
        if not sessions:
            raise ConfigError(f"market {market.name!r} has no sessions; nothing to explore")
        labels = report.security_names(market)
        if symbol is not None and symbol not in market.symbols:
            raise ConfigError(f"symbol {symbol!r} is not in market {market.name!r}; e.g. "
                              f"{market.symbols[0]!r}")

        self.strategy = w.Dropdown(options=strategies.available(), value=strategy,
                                   description="strategy", style=_STYLE)
        self.param_controls: dict[str, w.ValueWidget] = {}
        self.params_box = w.VBox()
        self._set_params(dict(params or {}))
        self.dates = w.SelectionRangeSlider(
            options=sessions, index=_period_index(market, start, end), description="period",
            continuous_update=False, readout=False, style=_STYLE,
            layout=w.Layout(width="400px"))
        self.period = w.Label(layout=w.Layout(width="auto", min_width="max-content",
                                              margin="0 0 0 12px"))
        self._show_period()
        self.symbol = w.Dropdown(
            options=[(f"{s} {labels[s]}" if labels.get(s) else s, s) for s in market.symbols],
            value=symbol, description="symbol", style=_STYLE)
        multipliers = sorted({*_COST_MULTIPLIERS, float(cost_multiplier)})
        self.costs = w.ToggleButtons(options=[(f"{m:g}×", m) for m in multipliers],
                                     value=float(cost_multiplier), description="costs",
                                     style=_STYLE | {"button_width": "48px"})
        self.slippage = w.Checkbox(value=bool(slippage), description="slippage", indent=False)
        self.fill_at = w.ToggleButtons(options=list(_FILL_AT), value=fill_at,
                                       description="fill at",
                                       style=_STYLE | {"button_width": "60px"})
        self.colors = w.ToggleButtons(options=[("intl: up green", "intl"), ("cn: up red", "cn")],
                                      value=colors, description="colors",
                                      style=_STYLE | {"button_width": "110px"})
        self.status = w.HTML()

        self.strategy.observe(self._on_strategy, names="value")
        self.dates.observe(lambda _: self._show_period(), names="value")
        for control in (self.dates, self.costs, self.slippage, self.fill_at):
            control.observe(self._on_change, names="value")
        self.symbol.observe(self._on_symbol, names="value")
        self.colors.observe(self._on_colors, names="value")

        # the first run builds the figures with their data, so the state a notebook saves
        # carries it from the start (figures filled after being built send only edits)
        self.figures: dict[str, SharedFigureWidget] = {}
        self.run()
        for name in FIGURES:
            if name not in self.figures:  # the first run failed: empty figures
                self.figures[name] = SharedFigureWidget()
        left = w.VBox([self.strategy, self.params_box], layout=w.Layout(min_width="340px"))
        right = w.VBox([w.HBox([self.dates, self.period]), w.HBox([self.costs, self.slippage]),
                        self.fill_at, self.symbol, self.colors])
        code = [plotly_code()] if _SHARED else []  # a child too, so no saver drops it
        self.widget = w.VBox([w.HBox([left, right]), self.status, *self.figures.values(),
                              *code])

    # -- what the controls say ---------------------------------------------------------------
    def params(self) -> dict[str, Any]:
        """The strategy's parameters as the controls set them."""
        return {name: control.value for name, control in self.param_controls.items()}

    def config(self) -> BacktestConfig:
        """The backtest configuration the controls describe."""
        costs = Costs().scale(self.costs.value)
        if not self.slippage.value:
            costs = dataclasses.replace(costs, slippage_rate=0.0)
        start, end = self.dates.value
        return BacktestConfig(capital_cny=self.capital_cny, start=start, end=end,
                              fill_at=self.fill_at.value, costs=costs)

    # -- actions ------------------------------------------------------------------------------
    def run(self) -> BacktestResult | None:
        """Backtest what the controls say and refresh every figure; return the result.

        A :class:`~workbench.errors.WorkbenchError` (a rejected parameter, an empty
        period) is shown in the status line and stored in :attr:`error`; the figures and
        :attr:`result` stay as they were and None is returned.
        """
        name, params = self.strategy.value, self.params()
        self._show("running…")
        began = time.perf_counter()

        def work() -> None:
            result = run_backtest(self.market, strategies.get(name, **params), self.config())
            self._draw(result)
            self.result = result

        if not self._guard(work) or self.result is None:
            return None
        result = self.result
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        days = result.daily.index
        span = f"{days[0].date()}..{days[-1].date()}" if len(days) else "no sessions"
        facts = result.summary()  # trades are exchange fills, as in the metrics
        self._show(f"{name}({shown}) over {span}: {facts['trades']:,} trades; "
                   f"ran in {time.perf_counter() - began:.2f} s", color=_OK)
        return result

    def _draw(self, result: BacktestResult) -> None:
        """Build every figure of ``result``, then refresh the widgets (all or none)."""
        if self.symbol.value is None:  # first run: the most traded name, else the first
            self._quiet = True
            try:
                self.symbol.value = (report.most_traded(result, 1) or list(self.market.symbols))[0]
            finally:
                self._quiet = False
        colors = self.colors.value
        name = str(result.strategy.get("name", "strategy"))
        new = {"equity": report.equity_figure(result, colors=colors),
               "drawdown": report.drawdown_figure(result, colors=colors),
               "candlestick": self._candles(result),
               "metrics": fit_columns(report.metrics_table_figure(
                   report.metrics_table({name: result}), title="Metrics"))}
        for key, figure in new.items():
            self._refresh(key, figure)

    def _refresh(self, key: str, figure: go.Figure) -> None:
        """Show ``figure`` in the widget ``key``: built with it the first time, else updated."""
        widget = self.figures.get(key)
        if widget is None:
            self.figures[key] = SharedFigureWidget(figure)
        else:
            report.refresh(widget, figure)
            widget.keep_state()

    def _candles(self, result: BacktestResult) -> go.Figure:
        return report.candlestick_figure(self.market, result, [self.symbol.value],
                                         sessions=None, colors=self.colors.value)

    def _guard(self, action: Callable[[], object]) -> bool:
        """Run ``action``; show a workbench error's message instead of raising it.

        Returns whether ``action`` succeeded. Other exceptions are bugs: the status line
        says so and the exception propagates (its traceback goes to the log).
        """
        try:
            action()
        except WorkbenchError as exc:
            self.error = str(exc)
            self._show(f"error: {exc}", color=_ERROR)
            return False
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            self._show(f"unexpected {self.error} (a bug in the workbench; see the log)",
                       color=_ERROR)
            raise
        self.error = None
        return True

    def _show_period(self) -> None:
        (start, end), (first, last) = self.dates.value, self.dates.index
        self.period.value = f"{start} – {end} ({last - first + 1:,} sessions)"

    def _show(self, text: str, color: str = "#595959") -> None:
        self.status.value = (f'<span style="color:{color}">'
                             f"{html.escape(text, quote=False)}</span>")

    def _set_params(self, values: Mapping[str, Any]) -> None:
        for old in self.param_controls.values():
            old.unobserve(self._on_change, names="value")
            old.close()
        self.param_controls = _controls(self.strategy.value, values)
        for control in self.param_controls.values():
            control.observe(self._on_change, names="value")
        self.params_box.children = tuple(self.param_controls.values())

    # -- observers ----------------------------------------------------------------------------
    def _on_change(self, _: Mapping[str, Any]) -> None:
        self.run()

    def _on_strategy(self, _: Mapping[str, Any]) -> None:
        self._set_params({})
        self.run()

    def _on_symbol(self, _: Mapping[str, Any]) -> None:
        result = self.result
        if self._quiet or result is None:
            return
        if self._guard(lambda: self._refresh("candlestick", self._candles(result))):
            self._show(f"showing {self.symbol.value}", color=_OK)

    def _on_colors(self, _: Mapping[str, Any]) -> None:
        result = self.result
        if result is not None and self._guard(lambda: self._draw(result)):
            self._show(f"colours: {self.colors.value}", color=_OK)


def fit_columns(figure: go.Figure) -> go.Figure:
    """Give each column of the figure's tables a width in proportion to its longest word.

    plotly splits a table's width evenly between its columns and cuts off what does not
    fit, so long names (``benchmark``, a strategy's name) lose their ends in a narrow
    notebook while short numbers have room to spare. Header text wraps at spaces, so a
    header counts by its longest word. Tables that set ``columnwidth`` keep it. Returns
    ``figure``, changed in place.

    Examples
    --------
    >>> fig = go.Figure(go.Table(header={"values": ["strategy", "total return"]},
    ...                          cells={"values": [["benchmark"], ["-1.5%"]]}))
    >>> fit_columns(fig).data[0].columnwidth
    (9, 6)
    """
    for table in figure.select_traces({"type": "table"}):
        if table.columnwidth is not None:
            continue
        headers = list(table.header.values or ())
        columns = list(table.cells.values or ())
        widths = []
        for k in range(max(len(headers), len(columns))):
            words = str(headers[k]).split() if k < len(headers) else []
            words += [str(v) for v in (columns[k] if k < len(columns) else ())]
            widths.append(max([len(word) for word in words] + [4]))
        table.columnwidth = widths
    return figure


def _period_index(market: Market, start: object, end: object) -> tuple[int, int]:
    """Indices of the first session on or after ``start`` and the last on or before ``end``."""
    cal = market.calendar.to_numpy()
    config = BacktestConfig(start=start, end=end)
    lo = 0 if config.start is None else int(np.searchsorted(cal, np.datetime64(config.start, "ns")))
    hi = (len(cal) - 1 if config.end is None
          else int(np.searchsorted(cal, np.datetime64(config.end, "ns"), side="right")) - 1)
    if lo > hi:
        raise ConfigError(f"no session of market {market.name!r} between {start} and {end}; "
                          f"it covers {market.calendar[0].date()}..{market.calendar[-1].date()}")
    return lo, hi


def explore(market: Market | str | os.PathLike[str] | None = None, strategy: str = "ma_trend",
            *, params: Mapping[str, Any] | None = None, start: object = None,
            end: object = None, symbol: str | None = None, capital_cny: float = 1_000_000.0,
            cost_multiplier: float = 1.0, slippage: bool = True, fill_at: FillAt = "open",
            colors: str = "intl") -> Dashboard:
    """Build a :class:`Dashboard`, run its first backtest and return it; display ``.widget``.

    Parameters
    ----------
    market
        A :class:`~workbench.data.Market`, a Market folder, or None for the synthetic
        default (:func:`~workbench.data.load_market`).
    strategy
        One of :func:`workbench.strategies.available`.
    params
        Starting parameter values (the strategy's defaults otherwise).
    start, end
        The period's first and last day; snapped to the market's sessions inside them.
        None: the market's first or last session.
    symbol
        The candlestick's symbol; None: the first run's most-traded name.
    capital_cny
        Starting cash, CNY.
    cost_multiplier
        Times the default :class:`~workbench.costs.Costs` (the toggle offers 0×, 1×, 2×).
    slippage
        Whether fills pay slippage.
    fill_at
        ``'open'``, ``'close'`` or ``'vwap'``.
    colors
        ``"intl"`` (up green) or ``"cn"`` (up red).

    Returns
    -------
    Dashboard

    Raises
    ------
    ConfigError
        For a value the backtest does not allow, or a period without sessions.
    LookupFailed
        For an unknown strategy or colour convention.

    Examples
    --------
    >>> from workbench.data import synthetic_market
    >>> m = synthetic_market(n_stocks=15, start="2023-01-03", end="2023-12-29")
    >>> dash = explore(m, "ma_trend", params={"fast": 5, "slow": 20})
    >>> equity = dash.figures["equity"]
    >>> dash.param_controls["fast"].value = 10
    >>> dash.figures["equity"] is equity, dash.result.strategy["params"]["fast"]
    (True, 10)
    >>> dash.param_controls["fast"].value = 20  # not shorter than slow
    >>> dash.error
    'ma_trend: fast (20) must be shorter than slow (20); e.g. fast=20, slow=60'
    """
    if not isinstance(market, Market):
        market = load_market(market)
    return Dashboard(market, strategy, params=params, start=start, end=end, symbol=symbol,
                     capital_cny=capital_cny, cost_multiplier=cost_multiplier,
                     slippage=slippage, fill_at=fill_at, colors=colors)
