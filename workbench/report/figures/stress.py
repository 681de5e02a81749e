"""Named A-share stress episodes, and how a backtest fared in each against its benchmark.

:data:`STRESS_PERIODS` is the dated table. Each episode runs from its first session to
its last, both included: its return compounds the daily returns dated ``first`` to
``last``, i.e. from the close of the session before ``first`` to the close of ``last``.
The dates were read off the SSE Composite's daily closes (``000001.SH``; the baostock
export in ``shared/data/real_ashare/index``) at the closing high before a fall, or the
news that started a rally, and the closing low (or high) that ended it:

* **2015 crash**, 2015-06-15 to 2015-08-26: the margin-financed bull market burst. The
  closing high was 5,166.35 on Friday 12 June; the first leg ended at the closing low of
  2,927.29 on 26 August (-43.3 %). The turbulence ran on into early 2016 (next episode).
* **January 2016 circuit breaker**, 2016-01-04 to 2016-01-28: the index circuit breaker in
  force from 1 January halted the whole market on 4 and 7 January and was suspended from
  8 January; selling continued to the closing low of 2,655.66 on 28 January, -25.0 % from
  the 2015 year-end close of 3,539.18.
* **2018 trade-war bear market**, 2018-01-25 to 2018-12-28: from the year's closing high
  (3,559.47 on 24 January; the CSI 300's, 4,389.89, the same day) through the US-China
  tariff escalation (US Section 301 tariffs announced 22 March 2018) to the year's last
  session, 2,493.90 (-29.9 %). The closing low came a session later, on 3 January 2019
  (2,464.36); the episode is cut at the year end to stay "2018".
* **COVID-19, early 2020**, 2020-01-14 to 2020-03-23: from the closing high of 3,115.57 on
  13 January, through the Wuhan lockdown (23 January) and the -7.7 % reopening after the
  extended Spring Festival (3 February), to the closing low of 2,660.17 on 23 March
  during the global sell-off (-14.6 %).
* **September 2024 stimulus rally**, 2024-09-24 to 2024-10-08: from the morning the PBoC,
  the CSRC and the NFRA announced their stimulus package (24 September; the previous
  close 2,748.92) to the first session after the National Day holiday, the closing high
  of 3,489.78 on 8 October (+27.0 %).

An episode the backtest covers only in part is measured on the sessions it has (the
``In the data`` column says which); one it does not reach at all shows "not in the data".
Display tables hold percentages as numbers in percent (12.5 is 12.5 %).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench import metrics
from workbench.errors import ConfigError
from workbench.report.figures.performance import benchmark_returns

if TYPE_CHECKING:
    from workbench.result import BacktestResult

__all__ = ["NOT_IN_DATA", "STRESS_COLUMNS", "STRESS_PERIODS", "StressPeriod", "stress_data",
           "stress_table"]

#: What the table says of an episode outside the backtest's sessions.
NOT_IN_DATA = "not in the data"
#: The columns of :func:`stress_table`.
STRESS_COLUMNS: tuple[str, ...] = (
    "First session", "Last session", "In the data", "Sessions", "Strategy return (%)",
    "Benchmark return (%)", "Strategy max drawdown (%)", "Benchmark max drawdown (%)",
    "What happened")


@dataclass(frozen=True, kw_only=True)
class StressPeriod:
    """One named market episode, first and last session included.

    Attributes
    ----------
    name : str
        Its name in a report.
    first, last : str
        First and last session (``YYYY-MM-DD``); the episode's return runs from the close
        before ``first`` to the close of ``last``.
    what : str
        What happened, in a sentence.
    sse_return : float
        The SSE Composite's price return over the episode (a fraction), from its closes:
        the figure the dates were chosen by, kept so that a test can check them.
    """

    name: str
    first: str
    last: str
    what: str
    sse_return: float

    def __post_init__(self) -> None:
        first, last = pd.Timestamp(self.first), pd.Timestamp(self.last)
        if not first <= last:
            raise ConfigError(f"stress period {self.name!r}: first {self.first} is after last "
                              f"{self.last}; give the first session, then the last")


#: The named A-share episodes (see the module docstring for how each date was chosen).
STRESS_PERIODS: tuple[StressPeriod, ...] = (
    StressPeriod(name="2015 crash", first="2015-06-15", last="2015-08-26",
                 what="the margin-financed bull market bursts: from the closing high of "
                      "12 June to the closing low of 26 August", sse_return=-0.4334),
    StressPeriod(name="January 2016 circuit breaker", first="2016-01-04", last="2016-01-28",
                 what="the new index circuit breaker halts the market on 4 and 7 January "
                      "and is suspended; selling runs on to the low of 28 January",
                 sse_return=-0.2496),
    StressPeriod(name="2018 trade-war bear market", first="2018-01-25", last="2018-12-28",
                 what="from the closing high of 24 January through the US-China tariff "
                      "escalation to the year's last session", sse_return=-0.2994),
    StressPeriod(name="COVID-19, early 2020", first="2020-01-14", last="2020-03-23",
                 what="the Wuhan lockdown, the -7.7 % reopening of 3 February and the "
                      "global sell-off, to the low of 23 March", sse_return=-0.1462),
    StressPeriod(name="September 2024 stimulus rally", first="2024-09-24", last="2024-10-08",
                 what="the PBoC, CSRC and NFRA stimulus package of 24 September, to the "
                      "first session after the National Day holiday", sse_return=0.2695),
)


def _episode(returns: pd.Series, period: StressPeriod) -> tuple[str, pd.Series]:
    """The coverage (``'full'``, ``'partial'`` or ``'none'``) and the returns in ``period``."""
    first, last = pd.Timestamp(period.first), pd.Timestamp(period.last)
    part = returns.loc[(returns.index >= first) & (returns.index <= last)]
    if part.empty:
        return "none", part
    full = len(returns) > 0 and returns.index[0] <= first and returns.index[-1] >= last
    return ("full" if full else "partial"), part


def stress_data(result: BacktestResult, benchmark: pd.Series | None = None,
                periods: Sequence[StressPeriod] = STRESS_PERIODS) -> pd.DataFrame:
    """Return and maximum drawdown of the strategy and the benchmark in each episode.

    Parameters
    ----------
    result
        A backtest result.
    benchmark
        Benchmark close by date; default the result's ``benchmark_close`` column, if any.
    periods
        The episodes; default :data:`STRESS_PERIODS`.

    Returns
    -------
    pd.DataFrame
        Index ``episode`` (the names, in order); ``first``, ``last`` (timestamps),
        ``coverage`` (``'full'``, ``'partial'`` or ``'none'``), ``start`` and ``end`` (the
        first and last session of the backtest in the episode, NaT for none),
        ``sessions``, and fractions ``strategy_return``, ``benchmark_return``,
        ``strategy_max_drawdown``, ``benchmark_max_drawdown`` (the drawdown measured
        within the episode, from its start; NaN for none or without a benchmark).
    """
    r = result.returns
    bench = benchmark_returns(result, benchmark)
    rows = []
    for period in periods:
        coverage, part = _episode(r, period)
        b = None if bench is None else bench.loc[part.index]
        rows.append({
            "episode": period.name, "first": pd.Timestamp(period.first),
            "last": pd.Timestamp(period.last), "coverage": coverage,
            "start": part.index[0] if len(part) else pd.NaT,
            "end": part.index[-1] if len(part) else pd.NaT,
            "sessions": len(part),
            "strategy_return": metrics.total_return(part),
            "benchmark_return": np.nan if b is None else metrics.total_return(b),
            "strategy_max_drawdown": metrics.max_drawdown(part),
            "benchmark_max_drawdown": np.nan if b is None else metrics.max_drawdown(b),
        })
    columns = ["episode", "first", "last", "coverage", "start", "end", "sessions",
               "strategy_return", "benchmark_return", "strategy_max_drawdown",
               "benchmark_max_drawdown"]
    return pd.DataFrame(rows, columns=columns).set_index("episode")


def stress_table(result: BacktestResult, benchmark: pd.Series | None = None,
                 periods: Sequence[StressPeriod] = STRESS_PERIODS) -> pd.DataFrame:
    """The stress episodes for reading: dates, coverage, returns and drawdowns in percent.

    Returns
    -------
    pd.DataFrame
        Index ``Episode``; columns :data:`STRESS_COLUMNS`: the episode's first and last
        session (``YYYY-MM-DD``), ``In the data`` (``'yes'``, ``'partly: <start> to
        <end>'`` or :data:`NOT_IN_DATA`), the sessions measured, the four figures in
        percent (NaN when not in the data, or without a benchmark) and what happened.
    """
    data = stress_data(result, benchmark, periods)

    def covered(row: pd.Series) -> str:
        if row["coverage"] == "none":
            return NOT_IN_DATA
        if row["coverage"] == "partial":
            return f"partly: {row['start']:%Y-%m-%d} to {row['end']:%Y-%m-%d}"
        return "yes"

    table = pd.DataFrame({
        "First session": data["first"].dt.strftime("%Y-%m-%d"),
        "Last session": data["last"].dt.strftime("%Y-%m-%d"),
        "In the data": [covered(row) for _, row in data.iterrows()],
        "Sessions": data["sessions"],
        "Strategy return (%)": data["strategy_return"] * 100.0,
        "Benchmark return (%)": data["benchmark_return"] * 100.0,
        "Strategy max drawdown (%)": data["strategy_max_drawdown"] * 100.0,
        "Benchmark max drawdown (%)": data["benchmark_max_drawdown"] * 100.0,
        "What happened": [p.what for p in periods],
    }, index=pd.Index(data.index, name="Episode"), columns=list(STRESS_COLUMNS))
    return table
