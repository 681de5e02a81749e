"""The tearsheet of one backtest: every performance figure and table, in reading order.

:func:`tearsheet_sections` builds them with shared options (benchmark, baseline, split,
colours, rolling window) so that a report notebook shows them with one loop, or picks a
few by title. It runs nothing: the result, baseline and benchmark are given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import plotly.graph_objects as go

from workbench.report.figures.calendar_returns import (
    period_table,
    yearly_returns_figure,
    yearly_table,
)
from workbench.report.figures.distribution import return_distribution_figure, tail_table
from workbench.report.figures.drawdowns import drawdown_table
from workbench.report.figures.exposure import exposure_figure, turnover_figure
from workbench.report.figures.performance import (
    benchmark_close,
    drawdown_figure,
    equity_figure,
    monthly_returns_figure,
    rolling_figure,
)
from workbench.report.figures.relative import active_figure, rolling_beta_figure
from workbench.report.figures.stress import stress_table

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["Section", "tearsheet_sections"]

#: One section: its title and a figure or a display table.
Section = tuple[str, go.Figure | pd.DataFrame]


def tearsheet_sections(result: BacktestResult, benchmark: pd.Series | None = None, *,
                       baseline: BacktestResult | None = None, split: object | None = None,
                       colors: str = "intl", window: int = 126, top_drawdowns: int = 5
                       ) -> list[Section]:
    """The performance sections of a backtest report, in reading order.

    Parameters
    ----------
    result
        A backtest result.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.
        Without one, the two sections that need it (rolling beta, active return) are left
        out and the benchmark's columns and lines are absent elsewhere.
    baseline
        The equal-weight buy and hold under the same configuration
        (:func:`workbench.research.equal_weight_baseline`): a line on the equity chart and
        a column of the year-by-year, period and tail tables.
    split
        The first out-of-sample day, marked on every chart over time; None: no marker.
    colors
        ``"intl"`` or ``"cn"`` (see :mod:`workbench.report.figures.theme`).
    window
        Sessions in the rolling Sharpe ratio, volatility and beta windows (126: half a year).
    top_drawdowns
        How many of the worst drawdowns to tabulate and shade on the equity chart.

    Returns
    -------
    list of (str, go.Figure or pd.DataFrame)
        In order: ``Equity`` (worst drawdowns shaded), ``Worst drawdowns`` (table),
        ``Drawdown``, ``Returns by calendar year`` (bars), ``Year by year`` (table),
        ``Monthly returns``, ``Returns to date`` (table), ``Distribution of returns``,
        ``Tail statistics`` (table), ``Rolling Sharpe ratio and volatility``,
        ``Rolling beta``, ``Active return``, ``Exposure``, ``Turnover``,
        ``Stress periods`` (table). Tables hold percentages as numbers in percent, their
        column or row labels say which (``(%)``).
    """
    has_benchmark = benchmark_close(result, benchmark) is not None
    sections: list[Section] = [
        ("Equity", equity_figure(result, benchmark, baseline=baseline, colors=colors,
                                 drawdowns=top_drawdowns, split=split)),
        ("Worst drawdowns", drawdown_table(result, top_drawdowns)),
        ("Drawdown", drawdown_figure(result, colors=colors, benchmark=benchmark, split=split)),
        ("Returns by calendar year", yearly_returns_figure(result, benchmark, baseline=baseline,
                                                           colors=colors)),
        ("Year by year", yearly_table(result, benchmark, baseline=baseline)),
        ("Monthly returns", monthly_returns_figure(result, colors=colors)),
        ("Returns to date", period_table(result, benchmark, baseline=baseline)),
        ("Distribution of returns", return_distribution_figure(result, benchmark,
                                                               colors=colors)),
        ("Tail statistics", tail_table(result, benchmark, baseline=baseline)),
        ("Rolling Sharpe ratio and volatility", rolling_figure(
            result, window, colors=colors, benchmark=benchmark, split=split)),
    ]
    if has_benchmark:
        sections += [
            ("Rolling beta", rolling_beta_figure(result, window, benchmark=benchmark,
                                                 colors=colors, split=split)),
            ("Active return", active_figure(result, benchmark, colors=colors, split=split)),
        ]
    sections += [
        ("Exposure", exposure_figure(result, colors=colors, split=split)),
        ("Turnover", turnover_figure(result, colors=colors, split=split)),
        ("Stress periods", stress_table(result, benchmark)),
    ]
    return sections
