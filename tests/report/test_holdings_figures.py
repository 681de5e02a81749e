"""Holdings figures: sector exposure, weights, the candlestick with trades, costs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from figure_data import GREEN, RED, ma_trend_result, small_market, y_values

import workbench as wb
from workbench import report
from workbench.errors import ConfigError, LookupFailed


@pytest.fixture(scope="module")
def market() -> wb.Market:
    return small_market()


@pytest.fixture(scope="module")
def result() -> wb.BacktestResult:
    return ma_trend_result()


def test_sector_exposure_stacks_held_sectors_and_cash_to_one(result):
    fig = report.sector_exposure_figure(result, max_points=None)
    held = (result.sector_exposure.abs().sum() > 0).sum()
    assert len(fig.data) == held + 1 and fig.data[-1].name == "cash"
    assert {t.stackgroup for t in fig.data} == {"exposure"}
    total = np.sum([y_values(t) for t in fig.data], axis=0)
    invested = result.sector_exposure.sum(axis=1).to_numpy()
    np.testing.assert_allclose(total, np.maximum(invested, 1.0), atol=1e-5)


def test_weights_keep_top_names_plus_other(result, market):
    names = report.security_names(market)
    data = report.weights_data(result, top=3)
    assert list(data.columns)[-1] == "other" and data.shape[1] == 4
    np.testing.assert_allclose(data.sum(axis=1), result.weights().sum(axis=1), atol=1e-12)
    fig = report.weights_figure(result, top=3, names=names, max_points=50)
    assert len(fig.data) == 4 and all(len(t.x) == 50 for t in fig.data)
    first = data.columns[0]
    assert fig.data[0].name == f"{first} {names[first]}"  # the Chinese name is in the legend
    with pytest.raises(ConfigError):
        report.weights_data(result, top=0)


def test_candlestick_has_a_bounded_dropdown_of_most_traded_symbols(result, market):
    symbols = report.most_traded(result, 3)
    assert len(symbols) == 3
    fig = report.candlestick_figure(market, result, top=3, sessions=None, colors="cn")
    per = 7  # candle, SMA 20, SMA 60, two bands, buys, sells
    assert len(fig.data) == 3 * per
    assert [t.visible for t in fig.data] == [True] * per + [False] * (2 * per)
    (menu,) = fig.layout.updatemenus
    assert [b.label.split()[0] for b in menu.buttons] == symbols
    for i, button in enumerate(menu.buttons):
        mask = button.args[0]["visible"]
        assert sum(mask) == per and mask[i * per] is True
    candle = fig.data[0]
    assert candle.type == "candlestick" and len(candle.x) == len(result.daily)
    assert candle.increasing.line.color == RED and candle.decreasing.line.color == GREEN
    buys, sells = fig.data[per - 2], fig.data[per - 1]
    assert buys.marker.color == RED and sells.marker.color == GREEN
    t = result.trades
    mine = t[(t["symbol"].astype(str) == symbols[0]) & (t["reason"] != "corporate_action")]
    assert len(buys.x) == int((mine["side"] == "buy").sum())
    assert len(sells.x) == int((mine["side"] == "sell").sum())
    short = report.candlestick_figure(market, result, symbols[:1], sessions=60)
    assert len(short.data) == per and len(short.data[0].x) == 60


def test_candlestick_refuses_too_many_symbols(result, market):
    with pytest.raises(ConfigError, match="at most"):
        report.candlestick_figure(market, result, list(market.symbols[:11]))
    with pytest.raises(LookupFailed):
        report.price_data(market, "999999.SH")


def test_price_indicators_follow_adjusted_prices_in_raw_units(market):
    symbol = str(market.symbols[0])
    data = report.price_data(market, symbol, sma_windows=(5,), bollinger_window=5)
    bars = market.bars[market.bars["symbol"] == symbol].set_index("date")
    adj = bars["close"] * bars["adj_factor"]
    expected = adj.rolling(5).mean() / bars["adj_factor"]
    np.testing.assert_allclose(data["sma_5"], expected, equal_nan=True)
    assert (data["bb_upper"].dropna() >= data["sma_5"].dropna() - 1e-9).all()


def test_costs_by_kind_sum_to_the_trade_log(result):
    table = report.cost_breakdown(result)
    assert list(table.columns) == list(report.COST_KINDS)
    np.testing.assert_allclose(table.sum(), result.trades[list(report.COST_KINDS)].sum())
    fig = report.costs_figure(result)
    assert [t.name for t in fig.data] == ["commission", "stamp duty", "transfer fee",
                                          "slippage"]
    assert fig.layout.barmode == "stack"
    assert sum(y_values(t).sum() for t in fig.data) == pytest.approx(table.to_numpy().sum())


def test_synthetic_names_are_marked_as_invented(market):
    names = report.security_names(market)
    assert names and all(n.endswith(" (synthetic)") for n in names.values())
    imported = dataclasses.replace(market, meta={**market.meta, "source": "import"})
    assert not any(n.endswith(" (synthetic)") for n in report.security_names(imported).values())
