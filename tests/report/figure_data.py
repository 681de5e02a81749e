"""Small data the figure tests share: a synthetic market and two backtests on it, each built
once per session (tests read them, never change them)."""

from __future__ import annotations

from functools import cache

import numpy as np
import plotly.graph_objects as go
import pytest

import workbench as wb
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.report.figures import theme

#: Rising red and rising green: the ``cn`` and ``intl`` up colours.
RED, GREEN = theme.palette("cn").up, theme.palette("intl").up


@cache
def small_market() -> wb.Market:
    """15 stocks, 2022-2023."""
    return synthetic_market(SyntheticConfig(n_stocks=15, start="2022-01-04", end="2023-12-29"))


@cache
def ma_trend_result() -> wb.BacktestResult:
    """A short-window ma_trend backtest from 2022-03-01, without risk limits."""
    strategy = wb.strategies.get("ma_trend", fast=5, slow=20, max_names=5)
    return wb.run_backtest(small_market(), strategy, wb.BacktestConfig(start="2022-03-01"))


@cache
def risky_result() -> wb.BacktestResult:
    """The same backtest under tight position and sector limits: orders get rejected."""
    limits = wb.RiskLimits(max_position_rate=0.2, max_sector_rate=0.25)
    strategy = wb.strategies.get("ma_trend", fast=5, slow=20, max_names=5)
    return wb.run_backtest(small_market(), strategy,
                           wb.BacktestConfig(start="2022-03-01", risk=limits))


def y_values(trace: go.BaseTraceType) -> np.ndarray:
    """A trace's y values as floats."""
    return np.asarray(trace.y, dtype=float)


def refuse_show(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``go.Figure.show`` fail the test."""
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a figure builder called .show()")

    monkeypatch.setattr(go.Figure, "show", refuse)
