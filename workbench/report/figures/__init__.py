"""Figure builders of the reports: data in, ``go.Figure`` out, each with its pure data function.

Nothing here runs a backtest, reads a notebook or writes a file; the rest of
:mod:`workbench.report` publishes what these modules draw.

Modules: ``theme`` (the template and the two colour conventions), ``common`` (helpers every
builder shares: a themed empty figure, compact dates, thinning, the split marker,
:func:`~.common.refresh`),
``performance`` (equity, drawdown, monthly returns, rolling), ``drawdowns`` (the worst
drawdowns: table and shading), ``calendar_returns`` (year by year, to date),
``distribution`` (return histograms, tail statistics), ``relative`` (active return and
rolling beta against the benchmark), ``stress`` (named A-share episodes), ``exposure``
(invested fraction, holdings count, turnover), ``holdings`` (sectors,
weights, candlestick with trades, costs), ``risk`` (limit usage, rejections), ``quality``
(data coverage, gaps, suspensions, limit days), ``sweep`` (a parameter sweep's heatmap,
scatter and equity) and ``tables`` (compact display tables and value formatting).

The public names are re-exported by :mod:`workbench.report`; ``report.equity_figure`` is
``workbench.report.figures.performance.equity_figure``.
"""
