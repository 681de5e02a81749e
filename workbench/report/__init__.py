"""Plotly reports: figure builders, self-contained HTML, the notebook runner and scheduler.

Figure builders (:mod:`.figures`) return a ``go.Figure`` (never shown); each has a pure
data function beside it, so a dashboard can recompute a figure's data and :func:`refresh`
a displayed ``FigureWidget`` in place. All take ``colors="intl"`` (up green, down red) or
``"cn"`` (up red, down green) and use the ``workbench`` template (:mod:`.figures.theme`).

Figures: ``figures.theme``, ``figures.performance`` (equity, drawdown, monthly returns,
rolling), ``figures.drawdowns`` (the worst drawdowns), ``figures.calendar_returns`` (year
by year, to date), ``figures.distribution`` (histograms, tails), ``figures.relative``
(active return, rolling beta), ``figures.stress`` (named A-share episodes),
``figures.exposure`` (invested fraction, turnover), ``figures.holdings`` (sectors,
weights, candlestick with trades, costs),
``figures.risk`` (limit usage, rejections), ``figures.quality`` (data quality),
``figures.sweep`` (a parameter sweep), ``figures.tables`` (display tables),
``compare`` (strategies, metrics table, in/out of sample), ``conventions`` (the
footnote stating how figures are annualised and what a trade count counts) and
``tearsheet`` (:func:`tearsheet_sections`: the performance figures and tables in order).

Reading: :func:`present` (re-exported from :mod:`workbench.format`, the one formatting
layer every table goes through, in the base layer so that ``summary()`` methods use it too:
labels with units, formatted values, "none found" for an empty table) and ``card``
(:func:`headline_card`, the strategy beside the benchmark and the equal-weight baseline at
the top of a backtest report).

Publishing: ``banner`` (:func:`warning_banner`, a result's warnings at the top of a
report), ``parameters`` (:class:`ReportParameters`, a notebook's parameters checked and
turned into a market, strategy and backtest configuration), ``emit`` (metrics.json),
``html`` (notebook to page), ``notebook`` (a kernel's set-up), ``runner`` (one report),
``publish`` (a report's folder replaced whole, by one atomic swap), ``lock`` (one writer
per reports folder) and ``schedule`` (a jobs file, the index page).

>>> from workbench import report
>>> report.palette("cn").up
'#d62728'
"""

from workbench.errors import ReportFailed
from workbench.format import Table, format_value, label, present
from workbench.report.banner import Banner, data_banner, warning_banner
from workbench.report.card import Card, headline_card, headline_data
from workbench.report.compare import (
    BESIDE_METRICS,
    TABLE_METRICS,
    backtest_metrics,
    beside_baseline,
    comparison_data,
    comparison_figure,
    comparison_metrics,
    headline_metrics,
    in_out_sample,
    in_out_sample_figure,
    metrics_table,
    metrics_table_figure,
    risk_return_figure,
    strategies_in_out_figure,
)
from workbench.report.conventions import Note, conventions_note
from workbench.report.emit import emit_metrics, jsonable, read_metrics
from workbench.report.figures.calendar_returns import (
    period_table,
    yearly_returns,
    yearly_returns_figure,
    yearly_table,
)
from workbench.report.figures.common import mark_split, refresh, thin
from workbench.report.figures.distribution import (
    distribution_data,
    return_distribution_figure,
    tail_table,
)
from workbench.report.figures.drawdowns import drawdown_periods, drawdown_table, shade_drawdowns
from workbench.report.figures.exposure import (
    exposure_data,
    exposure_figure,
    turnover_data,
    turnover_figure,
)
from workbench.report.figures.holdings import (
    COST_KINDS,
    MAX_SYMBOLS,
    candlestick_figure,
    cost_breakdown,
    costs_figure,
    most_traded,
    price_data,
    sector_exposure_figure,
    security_names,
    weights_data,
    weights_figure,
)
from workbench.report.figures.performance import (
    benchmark_close,
    drawdown_data,
    drawdown_figure,
    equity_data,
    equity_figure,
    monthly_returns,
    monthly_returns_figure,
    rolling_data,
    rolling_figure,
)
from workbench.report.figures.quality import (
    coverage_by_date,
    coverage_by_symbol,
    coverage_figure,
    gaps,
    limit_days_figure,
    quality_summary,
    suspensions,
    suspensions_figure,
    validation_findings,
)
from workbench.report.figures.relative import (
    active_data,
    active_figure,
    rolling_beta_data,
    rolling_beta_figure,
)
from workbench.report.figures.risk import (
    limit_usage,
    limit_usage_figure,
    rejection_table,
    rejections_figure,
    risk_metrics,
)
from workbench.report.figures.stress import (
    STRESS_PERIODS,
    StressPeriod,
    stress_data,
    stress_table,
)
from workbench.report.figures.sweep import (
    sweep_equity_figure,
    sweep_heatmap_figure,
    sweep_scatter_figure,
)
from workbench.report.figures.tables import (
    KEY_METRICS,
    key_value_table,
    trade_table,
    unfilled_table,
)
from workbench.report.figures.theme import TEMPLATE, palette
from workbench.report.html import PLOTLY_MIME, notebook_html, write_notebook_html
from workbench.report.lock import ReportsBusy
from workbench.report.notebook import setup_notebook
from workbench.report.parameters import ReportParameters
from workbench.report.runner import ReportRun, run_report
from workbench.report.schedule import build_index, load_jobs, run_schedule
from workbench.report.tearsheet import tearsheet_sections

# run by research, re-exported so that report.run_strategies(...) keeps working
from workbench.research.compare import out_of_sample_check, run_strategies
from workbench.research.periods import evaluation_split

__all__ = [
    "BESIDE_METRICS",
    "COST_KINDS",
    "KEY_METRICS",
    "MAX_SYMBOLS",
    "PLOTLY_MIME",
    "STRESS_PERIODS",
    "TABLE_METRICS",
    "TEMPLATE",
    "Banner",
    "Card",
    "Note",
    "ReportFailed",
    "ReportParameters",
    "ReportRun",
    "ReportsBusy",
    "StressPeriod",
    "Table",
    "active_data",
    "active_figure",
    "backtest_metrics",
    "benchmark_close",
    "beside_baseline",
    "build_index",
    "candlestick_figure",
    "comparison_data",
    "comparison_figure",
    "comparison_metrics",
    "conventions_note",
    "cost_breakdown",
    "costs_figure",
    "coverage_by_date",
    "coverage_by_symbol",
    "coverage_figure",
    "data_banner",
    "distribution_data",
    "drawdown_data",
    "drawdown_figure",
    "drawdown_periods",
    "drawdown_table",
    "emit_metrics",
    "equity_data",
    "equity_figure",
    "evaluation_split",
    "exposure_data",
    "exposure_figure",
    "format_value",
    "gaps",
    "headline_card",
    "headline_data",
    "headline_metrics",
    "in_out_sample",
    "in_out_sample_figure",
    "jsonable",
    "key_value_table",
    "label",
    "limit_days_figure",
    "limit_usage",
    "limit_usage_figure",
    "load_jobs",
    "mark_split",
    "metrics_table",
    "metrics_table_figure",
    "monthly_returns",
    "monthly_returns_figure",
    "most_traded",
    "notebook_html",
    "out_of_sample_check",
    "palette",
    "period_table",
    "present",
    "price_data",
    "quality_summary",
    "read_metrics",
    "refresh",
    "rejection_table",
    "rejections_figure",
    "return_distribution_figure",
    "risk_metrics",
    "risk_return_figure",
    "rolling_beta_data",
    "rolling_beta_figure",
    "rolling_data",
    "rolling_figure",
    "run_report",
    "run_schedule",
    "run_strategies",
    "sector_exposure_figure",
    "security_names",
    "setup_notebook",
    "shade_drawdowns",
    "strategies_in_out_figure",
    "stress_data",
    "stress_table",
    "suspensions",
    "suspensions_figure",
    "sweep_equity_figure",
    "sweep_heatmap_figure",
    "sweep_scatter_figure",
    "tail_table",
    "tearsheet_sections",
    "thin",
    "trade_table",
    "turnover_data",
    "turnover_figure",
    "unfilled_table",
    "validation_findings",
    "warning_banner",
    "weights_data",
    "weights_figure",
    "write_notebook_html",
    "yearly_returns",
    "yearly_returns_figure",
    "yearly_table",
]
