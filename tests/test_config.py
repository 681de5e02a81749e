"""Tests of workbench.config: what a backtest configuration allows, and its round trip."""

from __future__ import annotations

import pytest

from workbench.config import FILL_TIMES, BacktestConfig
from workbench.costs import Costs
from workbench.errors import ConfigError
from workbench.risk import RiskLimits


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"capital_cny": -1_000_000}, "capital_cny must be a finite amount of CNY > 0"),
    ({"capital_cny": float("nan")}, "capital_cny must be a finite amount of CNY > 0"),
    ({"start": "2024-02-01", "end": "2024-01-01"}, "end 2024-01-01 is before start"),
    ({"start": "not a date"}, "is not a date"),
    ({"fill_at": "midday"}, "fill_at must be one of"),
    ({"max_participation_rate": 10}, "write 10 % as 0.1"),
    ({"costs": {"commission_rate": 0.0003}}, "costs must be a workbench.costs.Costs"),
])
def test_bad_config_is_refused(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        BacktestConfig(**kwargs)


def test_cost_rate_as_a_percent_is_refused():
    with pytest.raises(ConfigError, match=r"write 3 bps as 0\.0003"):
        BacktestConfig(costs=Costs(commission_rate=3))


def test_to_dict_and_from_dict_round_trip():
    config = BacktestConfig(capital_cny=250_000, start="2020-01-02", end="2020-12-31",
                            fill_at="vwap", costs=Costs().scale(2.0),
                            risk=RiskLimits(max_position_rate=0.05))
    doc = config.to_dict()
    assert doc["start"] == "2020-01-02" and doc["costs"]["min_commission_cny"] == 10.0
    assert BacktestConfig.from_dict(doc) == config
    with pytest.raises(ConfigError, match=r"unknown config fields \['capital'\]"):
        BacktestConfig.from_dict({"capital": 1})
    with pytest.raises(ConfigError, match="unknown risk fields"):
        BacktestConfig.from_dict({"risk": {"max_position": 0.1}})


def test_every_fill_price_has_a_time_for_the_risk_check():
    assert set(FILL_TIMES) == {"open", "close", "vwap"}
    for fill_at in FILL_TIMES:
        assert BacktestConfig(fill_at=fill_at).fill_at == fill_at


def test_a_risk_config_saved_before_rearm_policies_reads_as_never():
    saved = {"risk": {"max_drawdown_rate": 0.15}}
    assert BacktestConfig.from_dict(saved).risk.drawdown_rearm == "never"
    now = BacktestConfig(risk=RiskLimits())
    assert BacktestConfig.from_dict(now.to_dict()) == now  # today's default round-trips
