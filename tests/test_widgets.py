"""The explore dashboard driven from Python: controls in, figures updated in place.

Each test builds a dashboard on a small synthetic market, keeps references to its
``FigureWidget`` objects, sets a control's ``value`` as a user's click would, and checks
that the figures' data changed as it should while the widget objects stayed the same.
"""

from __future__ import annotations

import typing
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd
import plotly
import plotly.graph_objects as go
import pytest

import workbench as wb
from workbench import report, strategies, widgets
from workbench.data import synthetic_market
from workbench.errors import ConfigError, LookupFailed


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return synthetic_market(n_stocks=20, start="2019-01-02", end="2021-12-31")


@pytest.fixture
def dash(market: wb.Market) -> widgets.Dashboard:
    return widgets.explore(market, "ma_trend", params={"fast": 5, "slow": 20, "max_names": 5})


def _y(fig: go.FigureWidget, trace: int = 0) -> np.ndarray:
    return np.asarray(fig.data[trace].y, dtype=float)


def _same_objects(dash: widgets.Dashboard, before: dict[str, go.FigureWidget]) -> bool:
    return all(dash.figures[k] is fig for k, fig in before.items()) and all(
        any(child is fig for child in dash.widget.children) for fig in before.values())


# -- building ----------------------------------------------------------------------------------
def test_the_dashboard_shows_controls_and_filled_figures(dash: widgets.Dashboard,
                                                         market: wb.Market):
    assert isinstance(dash.widget, w.VBox)
    assert tuple(dash.figures) == widgets.FIGURES
    assert all(isinstance(f, go.FigureWidget) for f in dash.figures.values())
    assert dash.error is None and "ma_trend(fast=5, slow=20, max_names=5)" in dash.status.value
    equity = dash.figures["equity"]
    assert [t.name for t in equity.data] == ["ma_trend", "benchmark"]
    sessions = market.calendar.strftime("%Y-%m-%d")
    assert equity.data[0].x[0] == sessions[0] and equity.data[0].x[-1] == sessions[-1]
    assert dash.dates.value == (sessions[0], sessions[-1])
    assert [t.type for t in dash.figures["metrics"].data] == ["table"]
    assert dash.figures["candlestick"].data[0].type == "candlestick"
    # the candlestick starts on the most traded name
    assert dash.symbol.value == report.most_traded(dash.result, 1)[0]
    sliders = dash.param_controls
    assert list(sliders) == list(strategies.parameters("ma_trend"))
    assert all(isinstance(s, w.IntSlider) and not s.continuous_update for s in sliders.values())
    assert [s.value for s in sliders.values()] == [5, 20, 5]
    assert list(dash.params_box.children) == list(sliders.values())


def test_start_and_end_snap_to_the_sessions_inside_them(market: wb.Market):
    dash = widgets.explore(market, "buy_and_hold", start="2020-01-01", end="2020-06-30",
                           symbol="600483.SH", colors="cn", cost_multiplier=0.5)
    assert dash.dates.value == ("2020-01-02", "2020-06-30")
    assert dash.symbol.value == "600483.SH"
    assert dash.costs.value == 0.5 and 0.5 in dict(dash.costs.options).values()
    assert dash.result.config.costs == wb.Costs().scale(0.5)


def test_bad_arguments_raise_with_the_valid_choices(market: wb.Market):
    with pytest.raises(LookupFailed, match="did you mean 'ma_trend'"):
        widgets.explore(market, "ma_trnd")
    with pytest.raises(LookupFailed, match="unknown colors"):
        widgets.explore(market, colors="us")
    with pytest.raises(ConfigError, match="no parameter 'fastest'"):
        widgets.explore(market, params={"fastest": 3})
    with pytest.raises(ConfigError, match="no session"):
        widgets.explore(market, start="2023-01-01")
    with pytest.raises(ConfigError, match="fill_at"):
        widgets.explore(market, fill_at="noon")


def test_a_market_folder_is_loaded(market: wb.Market, tmp_path):
    folder = wb.data.save_market(market, tmp_path / "small")
    dash = widgets.explore(str(folder), "buy_and_hold")
    assert dash.error is None and len(dash.market.symbols) == len(market.symbols)


# -- changes update the same figures -----------------------------------------------------------
def test_a_parameter_slider_reruns_and_refreshes_in_place(dash: widgets.Dashboard):
    before = dict(dash.figures)
    first = dash.result
    equity, drawdown = _y(dash.figures["equity"]), _y(dash.figures["drawdown"])
    table = dash.figures["metrics"].data[0].cells.values
    dash.param_controls["fast"].value = 10
    assert _same_objects(dash, before)
    assert dash.result is not first and dash.result.strategy["params"]["fast"] == 10
    assert not np.array_equal(_y(dash.figures["equity"]), equity)
    assert not np.array_equal(_y(dash.figures["drawdown"]), drawdown)
    assert dash.figures["metrics"].data[0].cells.values != table
    np.testing.assert_allclose(_y(dash.figures["equity"]),
                               dash.result.daily["equity_cny"].to_numpy(), rtol=1e-6)
    assert "fast=10" in dash.status.value


def test_costs_toggle_and_slippage_reach_the_backtest(dash: widgets.Dashboard):
    before = dict(dash.figures)
    dash.costs.value = 0.0
    free = _y(dash.figures["equity"])[-1]
    assert dash.result.config.costs == wb.Costs.zero()
    dash.costs.value = 2.0
    double = _y(dash.figures["equity"])[-1]
    assert dash.result.config.costs == wb.Costs().scale(2.0)
    assert free > double  # costs never raise equity, and this strategy trades
    dash.costs.value = 1.0
    dash.slippage.value = False
    assert dash.result.config.costs.slippage_rate == 0.0
    assert dash.result.config.costs.commission_rate == wb.Costs().commission_rate
    assert float(dash.result.trades["slippage"].sum()) == 0.0
    dash.fill_at.value = "close"
    assert dash.result.config.fill_at == "close"
    assert _same_objects(dash, before)


def test_the_date_range_sets_the_figures_x_range(dash: widgets.Dashboard, market: wb.Market):
    before = dict(dash.figures)
    sessions = market.calendar.strftime("%Y-%m-%d")
    dash.dates.value = (sessions[100], sessions[400])
    assert _same_objects(dash, before)
    for name in ("equity", "drawdown"):
        x = dash.figures[name].data[0].x
        assert (x[0], x[-1]) == (sessions[100], sessions[400]) and len(x) == 301
    candles = dash.figures["candlestick"].data[0].x
    assert sessions[100] <= candles[0] and candles[-1] <= sessions[400]
    assert dash.result.daily.index[0] == market.calendar[100]


def test_a_new_strategy_rebuilds_the_parameter_controls(dash: widgets.Dashboard):
    before = dict(dash.figures)
    old = dash.param_controls["fast"]
    dash.strategy.value = "rsi_reversion"
    assert _same_objects(dash, before)
    controls = dash.param_controls
    assert list(controls) == list(strategies.parameters("rsi_reversion"))
    assert list(dash.params_box.children) == list(controls.values())
    assert isinstance(controls["window"], w.IntSlider)
    assert isinstance(controls["entry"], w.FloatSlider) and controls["entry"].value == 30.0
    assert (controls["exit"].min, controls["exit"].max) == (0.0, 100.0)
    assert all(not c.continuous_update for c in controls.values())
    assert dash.result.strategy["name"] == "rsi_reversion"
    assert dash.figures["equity"].data[0].name == "rsi_reversion"
    old.value = 7  # the old slider is unwired: no run
    assert dash.result.strategy["name"] == "rsi_reversion"
    dash.strategy.value = "value_quality"
    controls = dash.param_controls
    assert isinstance(controls["sector_neutral"], w.Checkbox)
    assert isinstance(controls["inputs"], w.Dropdown)
    assert controls["inputs"].options == ("auto", "statements", "ratios")
    controls["sector_neutral"].value = True
    assert dash.result.strategy["params"]["sector_neutral"] is True
    dash.strategy.value = "buy_and_hold"
    dash.param_controls["rebalance"].value = "monthly"
    assert dash.result.strategy["params"] == {"rebalance": "monthly"}
    assert _same_objects(dash, before)


def test_a_bad_combination_shows_the_message_and_keeps_the_figures(dash: widgets.Dashboard):
    before = dict(dash.figures)
    result = dash.result
    equity, candles = _y(dash.figures["equity"]), dash.figures["candlestick"].to_json()
    dash.param_controls["fast"].value = 20  # == slow
    message = "ma_trend: fast (20) must be shorter than slow (20)"
    assert dash.error.startswith(message)
    assert message in dash.status.value and "Traceback" not in dash.status.value
    assert dash.result is result
    assert np.array_equal(_y(dash.figures["equity"]), equity)
    assert dash.figures["candlestick"].to_json() == candles
    assert _same_objects(dash, before)
    dash.param_controls["slow"].value = 40  # fixed: runs again
    assert dash.error is None and dash.result.strategy["params"]["slow"] == 40
    assert not np.array_equal(_y(dash.figures["equity"]), equity)


def test_the_symbol_picker_changes_the_candlestick_only(dash: widgets.Dashboard,
                                                       market: wb.Market):
    before = dict(dash.figures)
    result, equity = dash.result, _y(dash.figures["equity"])
    other = next(s for s in market.symbols if s != dash.symbol.value)
    dash.symbol.value = other
    candles = dash.figures["candlestick"]
    assert candles.data[0].name.startswith(other)
    assert candles.layout.title.text.startswith(f"Prices and trades: {other}")
    closes = market.bars.loc[market.bars["symbol"] == other, "close"].to_numpy(dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(candles.data[0].close, dtype=np.float32), closes)
    buys = candles.data[-2]
    mine = result.trades[(result.trades["symbol"] == other) & (result.trades["side"] == "buy")
                         & (result.trades["reason"] != "corporate_action")]
    assert len(buys.x) == len(mine)
    assert dash.result is result and np.array_equal(_y(dash.figures["equity"]), equity)
    assert _same_objects(dash, before)


def test_the_colour_convention_redraws_without_rerunning(dash: widgets.Dashboard):
    before = dict(dash.figures)
    result = dash.result
    dash.colors.value = "cn"
    candle = dash.figures["candlestick"].data[0]
    assert candle.increasing.line.color == report.palette("cn").up == "#d62728"
    assert dash.result is result and _same_objects(dash, before)


# -- the parameter controls ----------------------------------------------------------------------
def test_parameter_controls_follow_the_field_types():
    assert isinstance(widgets.parameter_control("n", 20, int), w.IntSlider)
    assert isinstance(widgets.parameter_control("x", 0.5, float), w.FloatSlider)
    assert isinstance(widgets.parameter_control("x", 2, float), w.FloatSlider)
    assert isinstance(widgets.parameter_control("b", False, bool), w.Checkbox)
    assert isinstance(widgets.parameter_control("b", True), w.Checkbox)  # bool before int
    choice = widgets.parameter_control("c", "b", typing.Literal["a", "b"])
    assert isinstance(choice, w.Dropdown) and choice.value == "b"
    assert widgets.parameter_control("s", None, str | None) is None
    wide = widgets.parameter_control("n", 20, int, value=500)
    assert (wide.min, wide.max, wide.value) == (1, 500, 500)


@pytest.mark.parametrize("default", [1, 5, 20, 252, 0, -3])
def test_int_bounds_hold_the_default(default: int):
    lo, hi = widgets.int_bounds(default)
    assert lo <= default <= hi and hi - lo >= 9


@pytest.mark.parametrize("default", [0.0, 0.0005, 0.05, 0.5, 30.0, 50.0, 99.0, -2.0])
def test_float_bounds_hold_the_default_in_a_hundred_steps(default: float):
    lo, hi, step = widgets.float_bounds(default)
    assert lo <= default <= hi and 2 * abs(default) <= hi
    assert (hi - lo) / step == pytest.approx(100 if lo == 0 else 200)


def test_an_unexpected_error_is_named_in_the_status_and_raised(dash: widgets.Dashboard,
                                                               monkeypatch: pytest.MonkeyPatch):
    def broken(*_: object, **__: object) -> go.Figure:
        raise RuntimeError("boom")

    monkeypatch.setattr(report, "drawdown_figure", broken)
    equity = _y(dash.figures["equity"])
    with pytest.raises(RuntimeError, match="boom"):
        dash.param_controls["fast"].value = 10
    assert "unexpected RuntimeError: boom" in dash.status.value
    assert np.array_equal(_y(dash.figures["equity"]), equity)  # nothing half-drawn


# -- what a saved notebook keeps ---------------------------------------------------------------
def _saved(fig: widgets.SharedFigureWidget) -> tuple[list[str], np.ndarray]:
    """The trace types and the first trace's y as the notebook would save them."""
    data = fig._widget_data
    return [t["type"] for t in data], np.asarray(data[0].get("y", []), dtype=float)


def test_figures_are_built_filled_and_their_saved_state_follows_every_change(
        dash: widgets.Dashboard):
    equity = dash.figures["equity"]
    types, y = _saved(equity)
    assert types == ["scatter", "scatter"] and np.array_equal(y, _y(equity))
    assert [t["type"] for t in dash.figures["metrics"]._widget_data] == ["table"]
    dash.param_controls["fast"].value = 10
    assert np.array_equal(_saved(equity)[1], _y(equity)) and not np.array_equal(y, _y(equity))
    assert equity._widget_layout["title"] == equity.layout.title.to_plotly_json()
    other = next(s for s in dash.market.symbols if s != dash.symbol.value)
    dash.symbol.value = other
    assert dash.figures["candlestick"]._widget_data[0]["name"].startswith(other)


def test_a_failed_first_run_leaves_empty_figures_that_fill_later(market: wb.Market):
    dash = widgets.explore(market, "ma_trend", params={"fast": 60, "slow": 20})
    assert dash.error is not None and dash.result is None
    assert tuple(dash.figures) == widgets.FIGURES
    assert all(len(f.data) == 0 for f in dash.figures.values())
    figures = dict(dash.figures)
    dash.param_controls["slow"].value = 120
    assert dash.error is None and _same_objects(dash, figures)
    assert _saved(dash.figures["equity"])[0] == ["scatter", "scatter"]


def test_plotly_code_is_stored_once_for_every_figure(dash: widgets.Dashboard):
    code = widgets.plotly_code()
    assert isinstance(code, widgets.PlotlyCode) and code is widgets.plotly_code()
    assert code in dash.widget.children and code.layout.display == "none"
    plotly_js = Path(plotly.__file__).parent / "package_data" / "widgetbundle.js"
    assert code.bundle == plotly_js.read_text(encoding="utf-8")
    for fig in dash.figures.values():
        assert isinstance(fig, go.FigureWidget)
        state = fig.get_state(key="_esm")["_esm"]
        assert len(state) < 5_000 and "workbench/plotly-widget@" in state
        assert fig._config["responsive"] is True
    code.close()
    again = widgets.plotly_code()
    assert again is not code and again.bundle == code.bundle
    assert widgets.SharedFigureWidget() is not None and widgets.plotly_code() is again


def test_the_period_is_spelled_out_beside_the_slider(dash: widgets.Dashboard,
                                                     market: wb.Market):
    sessions = market.calendar.strftime("%Y-%m-%d")
    assert dash.dates.readout is False
    assert dash.period.value == f"{sessions[0]} – {sessions[-1]} ({len(sessions):,} sessions)"
    dash.dates.value = (sessions[10], sessions[19])
    assert dash.period.value == f"{sessions[10]} – {sessions[19]} (10 sessions)"


def test_table_columns_get_room_for_their_longest_word():
    fig = widgets.fit_columns(report.metrics_table_figure(pd.DataFrame(
        {"total_return": [0.1], "annual_volatility": [0.2]},
        index=pd.Index(["cross_sectional_momentum"], name="strategy"))))
    widths = fig.data[0].columnwidth
    assert widths[0] == len("cross_sectional_momentum") and widths[2] == len("volatility")
    fixed = go.Figure(go.Table(columnwidth=[1, 1], header={"values": ["a", "b"]}))
    assert widgets.fit_columns(fixed).data[0].columnwidth == (1, 1)
