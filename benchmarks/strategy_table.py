"""Every strategy in sample and out of sample on the default market, as a Markdown table.

Usage::

    python benchmarks/strategy_table.py            # print and write benchmarks/README.md
    python benchmarks/strategy_table.py --print    # print only

Runs :func:`workbench.research.compare.evaluate_strategies` with the default split (in sample
2015-2022, out of sample 2023-2024), default parameters, and the default
:class:`~workbench.config.BacktestConfig` (every A-share rule, default costs), and writes
the table between ``<!-- strategy-table:start -->`` and ``<!-- strategy-table:end -->`` in
``benchmarks/README.md`` (creating the file, or the section, when missing). Nothing else in
the README is touched. The benchmark index (CSI 300 style, price only, no costs) is listed
for comparison.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import pandas as pd

README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- strategy-table:start -->", "<!-- strategy-table:end -->"
HEADING = "## Strategies on the default market"


def _pct(x: float) -> str:
    return "–" if not math.isfinite(x) else f"{x:+.1%}"


def _num(x: float, digits: int = 2) -> str:
    return "–" if not math.isfinite(x) else f"{x:.{digits}f}"


def _index_metrics(market, start: pd.Timestamp, end: pd.Timestamp | None) -> dict:
    from workbench import metrics

    b = market.benchmark.set_index("date")["close"]
    b = b.loc[(b.index >= start) & ((b.index <= end) if end is not None else True)]
    prev = market.benchmark.set_index("date")["close"].shift(1).reindex(b.index)
    r = (b / prev - 1.0).fillna(0.0)
    s = metrics.summary(r)
    return {"annual_return": s["annual_return"], "sharpe_ratio": s["sharpe_ratio"],
            "sharpe_standard_error": s["sharpe_standard_error"],
            "probabilistic_sharpe_ratio": s["probabilistic_sharpe_ratio"],
            "max_drawdown": s["max_drawdown"], "n_trades": math.nan}


def strategy_rows(market, split) -> tuple[list[str], dict, float]:
    """The table's lines (header, rule, a row per strategy and the benchmark index), the
    periods and sessions-per-year figures, and the seconds the 12 backtests took."""
    from workbench import evaluation

    t0 = time.perf_counter()
    table = evaluation.evaluate_strategies(market, split=split)
    seconds = time.perf_counter() - t0
    rows = {name: (table.loc[(name, "in_sample")], table.loc[(name, "out_of_sample")])
            for name in table.index.get_level_values(0).unique()}
    if "buy_and_hold" in rows:  # the fair baseline, named as such
        rows["buy_and_hold (equal-weight baseline)"] = rows.pop("buy_and_hold")
    first = table.xs("in_sample", level="period")["start"].min()
    oos_start = table.xs("out_of_sample", level="period")["start"].min()
    in_end = table.xs("in_sample", level="period")["end"].max()
    ppy = table.groupby(level="period")["periods_per_year"].first()
    if not market.benchmark.empty:
        rows["*benchmark index*"] = (_index_metrics(market, first, in_end),
                                     _index_metrics(market, oos_start, None))
    head = ("| strategy | IS ann. return | IS Sharpe ± SE | IS PSR | IS max DD | IS invested "
            "| IS trades | OOS ann. return | OOS Sharpe ± SE | OOS PSR | OOS max DD "
            "| OOS invested | OOS trades |")
    lines = [head, "|" + "---|" * 13]
    for name, (i, o) in rows.items():
        cells = [name]
        for m in (i, o):
            trades = m["n_trades"]
            invested = m.get("mean_invested_rate", math.nan)
            cells += [_pct(m["annual_return"]),
                      f"{_num(m['sharpe_ratio'])} ± {_num(m['sharpe_standard_error'])}",
                      _num(m["probabilistic_sharpe_ratio"]), _pct(m["max_drawdown"]),
                      "–" if not math.isfinite(invested) else f"{invested:.0%}",
                      "–" if not math.isfinite(trades) else f"{int(trades):,}"]
        lines.append("| " + " | ".join(cells) + " |")
    periods = {"first": first, "in_end": in_end, "oos_start": oos_start, "ppy": ppy}
    return lines, periods, seconds


def conventions(market, periods: dict) -> str:
    """The note under a table: periods, rules, annualisation, what each column means."""
    ppy = periods["ppy"]
    return (f"In sample (IS) {periods['first'].date()}..{periods['in_end'].date()}, out of "
            f"sample (OOS) {periods['oos_start'].date()}..{market.calendar[-1].date()}; the OOS "
            "runs warm up on the history before. Every A-share rule and default costs on, "
            "1,000,000 CNY, fills at the next open, buys rounded to board lots spending the "
            "cash flooring leaves; dividends paid in cash on the pay date (bonus shares on the "
            "ex-date) and the individual dividend tax by holding period charged on sales. "
            "Annualised by the market's own calendar: "
            "annual return is the CAGR over elapsed calendar time; Sharpe is annualised with the "
            f"XSHG calendar's sessions per year ({ppy['in_sample']:.1f} IS, "
            f"{ppy['out_of_sample']:.1f} OOS), ± its standard error (Mertens); PSR is the "
            "probability that the true Sharpe ratio is above 0; max DD the maximum drawdown; "
            "invested the mean fraction of equity held in stocks; trades the exchange fills "
            "(settlements such as corporate actions and delistings are not trades). The "
            "benchmark index has no costs.")


def build_table() -> tuple[str, float]:
    """The Markdown section (table and notes) and the seconds it took."""
    from workbench import evaluation, strategies
    from workbench.data import load_market, provenance

    market = load_market()
    lines, periods, seconds = strategy_rows(market, evaluation.Split())
    params = "; ".join(f"`{n}` {strategies.get(n).params}" for n in strategies.available())
    notes = [
        "",
        f"Market: {provenance(market).lines()[0]} " + conventions(market, periods),
        "",
        f"Default parameters: {params}.",
        "",
        f"Produced in {seconds:.1f} s (12 backtests).",
    ]
    return "\n".join(lines + notes), seconds


def write(section: str, readme: Path = README, *, markers: tuple[str, str] = (START, END),
          heading: str = HEADING) -> None:
    """Replace the text between the markers in ``readme`` (creating what is missing)."""
    start, end = markers
    block = f"{start}\n{section}\n{end}"
    if not readme.exists():
        readme.write_text(f"# Benchmarks\n\n{heading}\n\n{block}\n")
        return
    text = readme.read_text()
    if start in text and end in text and text.index(start) < text.index(end):
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        readme.write_text(before + block + after)
    else:
        readme.write_text(text.rstrip("\n") + f"\n\n{heading}\n\n{block}\n")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print only, write nothing")
    args = parser.parse_args(argv)
    section, _ = build_table()
    print(section)
    if not args.print:
        write(section)
        print(f"\nwritten to {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
