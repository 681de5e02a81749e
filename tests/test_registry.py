"""Tests of workbench.strategies.registry: finding strategies and their parameters by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from workbench import strategies
from workbench.errors import ConfigError, LookupFailed
from workbench.strategies.base import Strategy
from workbench.strategies.registry import parameter_types, register, resolve


def test_registry_lists_every_strategy_and_its_parameters():
    assert set(strategies.available()) == {"buy_and_hold", "ma_trend", "momentum",
                                           "low_volatility", "rsi_reversion", "value_quality"}
    assert strategies.parameters("value_quality") == {"top_n": 20, "sector_neutral": False,
                                                      "inputs": "auto"}
    with pytest.raises(LookupFailed, match="did you mean 'low_volatility'"):
        strategies.parameters("low_vol")
    with pytest.raises(ConfigError, match=r"no parameter 'n'; valid parameters: top_n \(int"):
        strategies.get("value_quality", n=5)


def test_parameter_types_are_resolved_types_in_declaration_order():
    for name in strategies.available():
        types = parameter_types(name)
        assert list(types) == list(strategies.parameters(name))
        assert all(not isinstance(t, str) for t in types.values()), (name, types)
    assert parameter_types("momentum")["top_n"] is int
    assert parameter_types("value_quality")["sector_neutral"] is bool
    with pytest.raises(LookupFailed, match="did you mean 'ma_trend'"):
        parameter_types("ma_trnd")


def test_register_needs_a_frozen_dataclass_and_a_free_name():
    class Loose(Strategy):
        name: ClassVar[str] = "loose"

    with pytest.raises(TypeError, match="frozen=True"):
        register(Loose)

    @dataclass(frozen=True, kw_only=True)
    class Clash(Strategy):
        name: ClassVar[str] = "momentum"

    with pytest.raises(ValueError, match="already taken"):
        register(Clash)


def test_resolve_takes_a_name_or_a_strategy():
    s = strategies.get("ma_trend", fast=5)
    assert resolve(s) is s
    assert resolve("ma_trend") == strategies.get("ma_trend")
    with pytest.raises(ConfigError, match="must be a name"):
        resolve(object())  # type: ignore[arg-type]
