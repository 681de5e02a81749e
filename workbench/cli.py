"""Command line: ``workbench <command> ...`` (the installed script) or
``python -m workbench <command> ...``; ``workbench --help`` lists the commands.

Commands
--------
build-data   build (or rebuild) the synthetic default market under ``data/``
info         print a dataset's summary
import       import a folder of tushare / akshare / baostock exports as a Market
report       run one report notebook (papermill) into HTML, notebook and metrics.json
schedule     run a batch of reports from a TOML jobs file, then rebuild the index
report-all   run the default reports (reports/jobs.toml) and print the index's path
recommend    a strategy's buy / hold / sell / avoid list with reasons, after a close
sweep        backtest a parameter grid in and out of sample, on Dask or in process
serve        recommendations, risk checks and backtests over HTTP (FastAPI, docs at /docs)
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

from workbench.errors import WorkbenchError
from workbench.machine import prefer_small_pages

if TYPE_CHECKING:
    from workbench.data import Market
    from workbench.report.parameters import NotebookParameter
    from workbench.research.periods import Split, WalkForward

__all__ = ["build_parser", "main", "main_exit_code", "parse_costs", "parse_grid", "parse_split",
           "parse_walk_forward", "version"]

#: The program name of ``python -m workbench`` (``__main__`` passes it to :func:`main`).
MODULE_PROG = "python -m workbench"


def version() -> str:
    """The installed package's version (its metadata), e.g. ``'0.1.0'``.

    Examples
    --------
    >>> version()[0].isdigit()
    True
    """
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("workbench")
    except PackageNotFoundError:  # a checkout on sys.path, never installed
        return "unknown (not installed; pip install -e . records it)"


def _load_market(path: str | None, prog: str, without: str) -> Market:
    """The Market at ``path`` (None: the synthetic default), with a command-line hint when the
    folder is not there (load_market's own names Python calls)."""
    from pathlib import Path

    from workbench.data import load_market
    from workbench.errors import DataError

    if path is not None and not Path(path).is_dir():
        raise DataError(f"{path}: no such Market folder; build one with `{prog} import --bars "
                        f"FOLDER --out {path}`, or {without} for the synthetic default market")
    return load_market(path)


def _cmd_build_data(args: argparse.Namespace) -> int:
    from workbench.data.store import ensure_default_market

    path = ensure_default_market(rebuild=args.rebuild)
    print(f"synthetic default market ready at {path}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from workbench.data.provenance import provenance

    market = _load_market(args.path, args.prog, f"run `{args.prog} info` without a path")
    print(market)
    print("\n".join(provenance(market).lines()))
    return 0


def _parameter_lines(declared: Sequence[NotebookParameter], skip: frozenset[str]
                     ) -> list[str]:
    """``name: type = default`` and the help under it, as the cell reads."""
    lines = []
    for p in declared:
        if p.name not in skip:
            lines.append(f"  {p.name}: {p.type or 'untyped'} = {p.default}")
            lines += [f"      {p.help}"] if p.help else []
    return lines


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.errors import ReportFailed
    from workbench.report.parameters import notebook_parameters
    from workbench.report.runner import RESERVED_PARAMETERS, find_notebook, run_report

    if args.list_params:
        path = find_notebook(args.notebook)
        lines = _parameter_lines(notebook_parameters(path), RESERVED_PARAMETERS)
        print("\n".join([f"parameters of {path.name} (set with -p NAME VALUE):", *lines]))
        return 0
    try:
        run = run_report(args.notebook, dict(args.parameter), args.out, name=args.name,
                         timeout_s=args.timeout, progress=sys.stderr.isatty(),
                         wait_s=args.wait, plotlyjs=args.plotlyjs or "inline")
    except ReportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"report {run.name} written in {run.elapsed_s:.1f} s:\n  {run.html}\n  {run.ipynb}\n"
          f"  {run.out_dir / 'metrics.json'}")
    return 0


def main_exit_code(succeeded: Sequence[bool]) -> int:
    """The exit code of a batch for cron: 0 when every job succeeded, 1 otherwise.

    Examples
    --------
    >>> main_exit_code([True, True]), main_exit_code([True, False])
    (0, 1)
    """
    return 0 if all(succeeded) else 1


def _cmd_schedule(args: argparse.Namespace) -> int:
    from workbench.report.schedule import run_schedule

    return main_exit_code([o.ok for o in run_schedule(args.jobs, only=args.only,
                                                      wait_s=args.wait,
                                                      plotlyjs=args.plotlyjs)])


def _cmd_report_all(args: argparse.Namespace) -> int:
    from workbench.report.schedule import default_jobs_file, run_schedule

    return main_exit_code([o.ok for o in run_schedule(args.jobs or default_jobs_file(),
                                                      wait_s=args.wait,
                                                      plotlyjs=args.plotlyjs)])


def _import_summary(meta: dict[str, object], out: str) -> list[str]:
    """Every bar file the import read (rows, layout) and every file it did not, with why."""
    found = meta.get("bar_inputs")
    if not isinstance(found, dict):
        return []
    read, ignored = list(found.get("read", [])), list(found.get("ignored", []))
    rows = sum(int(f["rows"]) for f in read)
    lines = [f"read {len(read):,} bar files, {rows:,} rows (each row is a bar):"]
    shown = read if len(read) <= 40 else read[:20]
    lines += [f"  {f['file']}: {f['layout']}, {int(f['rows']):,} rows" for f in shown]
    if len(shown) < len(read):
        lines.append(f"  ... and {len(read) - len(shown):,} more; every file is listed in "
                     f"{out}/meta.json under bar_inputs")
    lines.append(f"not read: {len(ignored):,} files" + (":" if ignored else ""))
    lines += [f"  {f['file']}: {f['reason']}" for f in ignored]
    return lines


def _cmd_import(args: argparse.Namespace) -> int:
    from workbench.data.importers import import_market
    from workbench.data.importfiles import check_out_folder
    from workbench.data.provenance import provenance
    from workbench.data.total_return import import_total_return
    from workbench.errors import ConfigError

    # Before any work, and before the benchmark's inputs are read: --out may not hold data.
    check_out_folder(args.out, {
        "--bars": args.bars, "--adj-factors": args.adj_factors,
        "--securities": args.securities, "--benchmark": args.benchmark,
        "--benchmark-etf": args.benchmark_etf, "--benchmark-dividends": args.benchmark_dividends,
        "--index-weights": args.index_weights, "--dividends": args.dividends})
    benchmark = args.benchmark
    if (args.benchmark_etf is None) != (args.benchmark_dividends is None):
        raise ConfigError("--benchmark-etf and --benchmark-dividends go together: the "
                          "security's bars and its dividend export(s) make its total return")
    if args.benchmark_base is not None and args.benchmark_etf is None:
        raise ConfigError("--benchmark-base sets the start of a derived total-return index; "
                          "give --benchmark-etf and --benchmark-dividends too")
    if args.benchmark_etf is not None:
        benchmark = import_total_return(args.benchmark_etf, args.benchmark_dividends,
                                        base=args.benchmark_base)
    market = import_market(  # its DataWarnings (survivors only, ...) go to stderr
        bars=args.bars,
        adj_factors=args.adj_factors,
        securities=args.securities,
        benchmark=benchmark,
        index_weights=args.index_weights,
        dividends=args.dividends,
        out=args.out,
        name=args.name,
    )
    print(market)
    print("\n".join(provenance(market).lines()))
    print("\n".join(_import_summary(dict(market.meta), args.out)))
    print(f"written to {args.out}; `{args.prog} info {args.out}` summarises it, and "
          f"--market {args.out} (or market_path in a report) uses it")
    return 0


def _cmd_recommend(args: argparse.Namespace) -> int:
    from workbench.data.provenance import provenance
    from workbench.recommend import recommend

    market = _load_market(args.market, args.prog, "leave out --market")
    print(provenance(market).lines()[0])  # which market the picks are on: never silent
    table = recommend(market, args.strategy, as_of=args.as_of, universe=args.universe,
                      top=args.top)
    info = table.attrs
    print(f"{args.strategy} on {market.name}, after the close of {info['as_of']}")
    print(f"rule: {info['rule']}\ninputs: {info['inputs']}")
    print(table.to_string(index=False, formatters={
        "score": "{:.3f}".format, "target_weight": "{:.1%}".format}))
    return 0


#: --wait of the report commands: one writer per reports folder (see workbench.report.lock).
_WAIT_HELP = ("seconds to wait while another scheduler or run writes the same reports; "
             "default 0: exit at once with a message naming it")
#: --plotlyjs of the report commands (see workbench.report.html).
_PLOTLYJS_CHOICES = ("inline", "shared")
_PLOTLYJS_HELP = ("inline: plotly.js inside every page, each one file that opens anywhere "
                  "(about 5 MB); shared: one plotly.min.js beside index.html that every page "
                  "loads (pages of about 0.5 MB that open inside their reports folder)")


class _WideHelp(argparse.HelpFormatter):
    """Each command's name and help on one line.

    argparse (3.11) measures a command's name without the indent it prints it with, so
    ``report-all`` and ``build-data`` would have their help wrapped onto the next line; the
    help column starts past the longest name instead.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)
        self._action_max_length = 16  # 4 of indent, 10 of 'report-all', 2 of gap


def _one_of(names: Sequence[str]) -> str:
    return "one of " + ", ".join(names)


def build_parser(prog: str = "workbench") -> argparse.ArgumentParser:
    """Return the argument parser of the command line.

    Parameters
    ----------
    prog
        The program name its usage and messages show: ``"workbench"`` (the installed
        script) or ``"python -m workbench"`` (:data:`MODULE_PROG`).
    """
    from workbench import strategies
    from workbench.report.runner import notebooks_dir
    from workbench.research.trials import OBJECTIVES

    names = strategies.available()
    bundled = sorted(p.stem for p in notebooks_dir().glob("*.ipynb"))
    parser = argparse.ArgumentParser(
        prog=prog, description="A-share quant research workbench: data, backtests with "
        "A-share rules, risk checks, reports and parameter sweeps.",
        epilog=f"Run `{prog} COMMAND --help` for a command's options.",
        formatter_class=_WideHelp)
    parser.add_argument("--version", action="version", version=f"workbench {version()}")
    parser.set_defaults(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True, title="commands",
                                metavar="COMMAND")

    p = sub.add_parser("build-data", help="build the synthetic default market")
    p.add_argument("--rebuild", action="store_true", help="rebuild even if present")
    p.set_defaults(func=_cmd_build_data)

    p = sub.add_parser("info", help="print a dataset's summary")
    p.add_argument("path", nargs="?", default=None, help="Market folder (default: synthetic)")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("import", help="import exports into a Market folder")
    p.add_argument("--bars", required=True, action="extend", nargs="+", metavar="PATH",
                   help="folder (or file) of daily bar CSV exports; several allowed, e.g. "
                        "the listed and the delisted stocks' folders")
    p.add_argument("--adj-factors", default=None, help="tushare adj_factor CSV")
    p.add_argument("--securities", default=None, action="extend", nargs="+", metavar="FILE",
                   help="tushare stock_basic CSV; several allowed (list_status L and D "
                        "exports: delist_date drives delisting settlement)")
    bench = p.add_mutually_exclusive_group()
    bench.add_argument("--benchmark", default=None, help="benchmark index CSV (baostock index "
                       "daily or tushare index_daily, e.g. sh.000300 or the total-return H00300)")
    bench.add_argument("--benchmark-etf", default=None, metavar="FILE",
                       help="daily bars of an ETF (or any security) whose total return, "
                            "derived with --benchmark-dividends, is the benchmark")
    p.add_argument("--benchmark-dividends", default=None, action="extend", nargs="+",
                   metavar="FILE", help="the --benchmark-etf security's dividends: tushare "
                   "fund_div for a fund, tushare dividend or baostock query_dividend_data for "
                   "a stock (pre-tax cash reinvested at the ex-date close)")
    p.add_argument("--benchmark-base", default=None, type=float, metavar="POINTS",
                   help="level of the derived total-return index on its first day "
                        "(default: the security's first close)")
    p.add_argument("--index-weights", default=None, action="extend", nargs="+",
                   metavar="FILE", help="tushare index_weight CSV: index membership "
                                        "snapshots (e.g. CSI 300), for universe='csi300'")
    p.add_argument("--dividends", default=None, action="extend", nargs="+", metavar="FILE",
                   help="tushare dividend or baostock query_dividend_data CSV: corporate "
                        "actions (default: derived from the adj_factor jumps)")
    p.add_argument("--out", required=True, help="output Market folder, e.g. data/real: "
                   "absent, empty, or a Market folder (then replaced); never anything else")
    p.add_argument("--name", default=None, help="dataset name (default: folder name)")
    p.set_defaults(func=_cmd_import)

    p = sub.add_parser("recommend", help="what a strategy would buy, hold, sell or avoid")
    p.add_argument("--strategy", default="value_quality",
                   help=f"{_one_of(names)} (default value_quality)")
    p.add_argument("--top", type=int, default=20, help="rows of candidates (default 20)")
    p.add_argument("--as-of", default=None, help="session to decide after (default: last)")
    p.add_argument("--market", default=None, help="Market folder (default: synthetic)")
    p.add_argument("--universe", default=None, help="comma-separated symbols to analyse")
    p.set_defaults(func=_cmd_recommend)

    p = sub.add_parser("report", help="run one report notebook into a self-contained HTML page",
                       description="Execute a report notebook with papermill and write "
                       "NAME.ipynb, NAME.html (opens offline) and metrics.json into --out. "
                       "Parameters are checked before the kernel starts; --list-params "
                       "lists them.")
    p.add_argument("notebook", help=f"a bundled notebook, {_one_of(bundled)}; or a path to "
                   "an .ipynb file")
    p.add_argument("--list-params", action="store_true", help="list the notebook's parameters "
                   "(name: type = default, and what each means) and exit")
    p.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("KEY", "VALUE"), help="override a parameter, e.g. -p strategy "
                   "momentum -p params '{\"lookback\": 126}' (repeatable)")
    p.add_argument("--out", default=None, help="output folder (default: reports/NAME)")
    p.add_argument("--name", default=None, help="report name (default: the notebook's)")
    p.add_argument("--timeout", type=float, default=None, help="most seconds per cell")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help=_WAIT_HELP)
    p.add_argument("--plotlyjs", choices=_PLOTLYJS_CHOICES, default=None,
                   help=_PLOTLYJS_HELP + "; default inline")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("schedule", help="run the report jobs of a TOML file (cron-friendly)",
                       description="Run every job of a jobs file (see reports/README.md), "
                       "keep going when one fails, rebuild index.html; exit 1 if any failed.")
    p.add_argument("jobs", help="the jobs file, e.g. reports/jobs.toml")
    p.add_argument("--only", nargs="+", default=None, metavar="NAME", help="run these jobs only")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help=_WAIT_HELP)
    p.add_argument("--plotlyjs", choices=_PLOTLYJS_CHOICES, default=None,
                   help=_PLOTLYJS_HELP + "; default: the jobs file's plotlyjs, else inline")
    p.set_defaults(func=_cmd_schedule)

    p = sub.add_parser("report-all", help="run the default reports (reports/jobs.toml)")
    p.add_argument("--jobs", default=None, help="another jobs file (default reports/jobs.toml)")
    p.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                   help=_WAIT_HELP)
    p.add_argument("--plotlyjs", choices=_PLOTLYJS_CHOICES, default=None,
                   help=_PLOTLYJS_HELP + "; default: the jobs file's plotlyjs, else inline")
    p.set_defaults(func=_cmd_report_all)

    p = sub.add_parser("sweep", help="backtest a parameter grid in and out of sample (Dask)",
                       description="Backtest every combination of --grid (times every cost "
                       "multiplier) in sample and out of sample, on a local Dask cluster "
                       "(default; the dashboard link is printed), a running one (--scheduler) "
                       "or in this process (--serial); choose in sample, report out of sample.")
    p.add_argument("--strategy", required=True, help=_one_of(names))
    p.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                   help="values of one parameter, e.g. --grid fast=5,10,20 (repeatable)")
    p.add_argument("--costs", default="1", help="cost multipliers, e.g. 1,2 (default 1)")
    periods = p.add_mutually_exclusive_group()
    periods.add_argument("--split", default=None, metavar="DAY", help="first out-of-sample "
                         "day (default 2023-01-01); in sample ends the day before")
    periods.add_argument("--walk-forward", action="store_true",
                         help="rolling windows instead: train 3 years, test 6 months")
    p.add_argument("--start", default=None, metavar="DAY", help="first day in sample (with "
                   "--walk-forward: of the first training window); default: the market's first "
                   "session")
    p.add_argument("--end", default=None, metavar="DAY",
                   help="last day out of sample (default: the market's last session)")
    p.add_argument("--objective", default="sharpe", help="what the in-sample choice maximises: "
                   f"{_one_of(list(OBJECTIVES))} (default sharpe)")
    p.add_argument("--market", default=None, help="Market folder (default: synthetic)")
    p.add_argument("--out", default=None, help="Parquet file for the table; run again to resume")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", default=None, help="a Dask scheduler, e.g. tcp://host:8786")
    where.add_argument("--serial", action="store_true", help="run in this process, without Dask")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the local cluster (default: one per core)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("serve", help="serve recommendations, risk checks and backtests over HTTP",
                       description="Run the workbench's HTTP service (FastAPI on uvicorn): "
                       "the market is loaded once, OpenAPI docs are at /docs, every route but "
                       "/v1/health needs the --token-file token when one is given.")
    p.add_argument("--market", default=None, help="Market folder (default: synthetic)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free)")
    p.add_argument("--token-file", default=None, metavar="FILE",
                   help="file holding the bearer token every route but /v1/health requires")
    p.add_argument("--workers", type=int, default=1,
                   help="backtests run at once: worker processes (default 1)")
    p.add_argument("--scheduler", default=None,
                   help="run backtests on this Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--max-queued", type=int, default=8, metavar="N",
                   help="backtests that may wait beyond the running ones; more get 429")
    p.add_argument("--max-body-bytes", type=int, default=2 * 1024 * 1024, metavar="N",
                   help="largest request body (default 2 MiB; larger: 413)")
    p.add_argument("--max-batch", type=int, default=10_000, metavar="N",
                   help="most orders per check-batch request (default 10000)")
    p.add_argument("--reports", default=None, metavar="DIR",
                   help="reports folder served at /v1/reports (default reports/)")
    p.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                   help="allow browser calls from this origin (repeatable; default: none)")
    p.add_argument("--recommendation-cache", type=int, default=1024, metavar="N",
                   help="recommendation answers kept by query (default 1024; 0: none)")
    p.add_argument("--recommendation-workers", type=int, default=None, metavar="N",
                   help="processes computing recommendations, in parallel (default: one "
                   "per core, at most 4; 0: the server's)")
    p.add_argument("--inline-budget-ms", type=float, default=2.0, metavar="MS",
                   help="run a recommendation on the event loop when the last of its kind "
                   "took at most MS of CPU (default 2.0; 0: always in a thread)")
    p.set_defaults(func=_cmd_serve)
    return parser


def _cmd_sweep(args: argparse.Namespace) -> int:
    from workbench.research import sweep

    grid, costs = parse_grid(args.strategy, args.grid), parse_costs(args.costs)
    periods = (parse_walk_forward(start=args.start, end=args.end) if args.walk_forward
               else parse_split(args.split, start=args.start, end=args.end))
    market = _load_market(args.market, args.prog, "leave out --market")
    result = sweep.run(market, args.strategy, grid, periods=periods,
                       costs=costs, objective=args.objective,
                       client="serial" if args.serial else args.scheduler,
                       n_workers=args.workers, out=args.out)
    print(result)
    print(result.summary())  # formatted: percentages, dates, labelled rows
    if args.out:
        print(f"table of {len(result.table)} rows written to {args.out}; run the same command "
              "again to finish an interrupted sweep")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from workbench.serve import ServeSettings, read_token, serve

    settings = ServeSettings(
        host=args.host, port=args.port, workers=args.workers, scheduler=args.scheduler,
        token=None if args.token_file is None else read_token(args.token_file),
        max_queued=args.max_queued, max_body_bytes=args.max_body_bytes,
        max_batch=args.max_batch, reports_dir=args.reports,
        cors_origins=tuple(args.cors_origin), recommendation_cache=args.recommendation_cache,
        inline_budget_ms=args.inline_budget_ms,
        **({} if args.recommendation_workers is None
           else {"recommendation_workers": args.recommendation_workers}))
    serve(settings, args.market)
    return 0


# -- the sweep's text arguments: --grid, --costs, --split ---------------------------------------
def _parse_value(strategy: str, key: str, text: str, kind: object) -> object:
    from workbench.errors import ConfigError

    fix = f"--grid {key}=V1,V2,... with {getattr(kind, '__name__', kind)} values"
    if kind is bool:
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ConfigError(f"{strategy}.{key}: {text!r} is not true or false; {fix}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{strategy}.{key}: {text!r} is not a whole number; {fix}"
                              ) from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{strategy}.{key}: {text!r} is not a number; {fix}") from None
    return text


def parse_grid(strategy: str, items: Sequence[str]) -> dict[str, list[object]]:
    """A grid from ``NAME=V1,V2,...`` strings (the ``sweep`` command's ``--grid``).

    Values take the parameter's declared type (:func:`workbench.strategies.parameter_types`):
    whole numbers, numbers, true/false, text.

    Raises
    ------
    LookupFailed
        For an unknown strategy.
    ConfigError
        For a malformed item, an unknown or repeated parameter, or a value of the wrong
        type.

    Examples
    --------
    >>> parse_grid("ma_trend", ["fast=5,10", "slow=60"])
    {'fast': [5, 10], 'slow': [60]}
    """
    from workbench import strategies
    from workbench.errors import ConfigError, did_you_mean

    defaults = strategies.parameters(strategy)
    types = strategies.parameter_types(strategy)  # declared types; defaults for the rest
    grid: dict[str, list[object]] = {}
    for item in items:
        key, sep, text = (part.strip() for part in item.partition("="))
        if not sep or not key or not text:
            raise ConfigError(f"--grid {item!r}: write NAME=V1,V2,...; e.g. --grid fast=5,10,20")
        if key not in defaults:
            raise ConfigError(f"strategy {strategy!r} has no parameter {key!r} to search over; "
                              f"{did_you_mean(key, defaults)}")
        if key in grid:
            raise ConfigError(f"--grid {key}=... is given twice; list all its values once")
        kind = types[key] if types[key] in (bool, int, float, str) else type(defaults[key])
        grid[key] = [_parse_value(strategy, key, v.strip(), kind)
                     for v in text.split(",")]
    return grid


def parse_costs(text: str) -> tuple[float, ...]:
    """Cost multipliers from ``"1"`` or ``"0.5,1,2"`` (the ``sweep`` command's ``--costs``).

    Examples
    --------
    >>> parse_costs("1,2")
    (1.0, 2.0)
    """
    from workbench.errors import ConfigError

    try:
        return tuple(float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--costs {text!r}: write cost multipliers such as 1 or 0.5,1,2"
                          ) from None


def parse_split(text: str | None, *, start: str | None = None, end: str | None = None
                ) -> Split:
    """The split at a first out-of-sample day (the ``sweep`` command's ``--split``, with
    ``--start`` and ``--end``).

    In sample runs from ``start`` (None: the data's first session) to the day before the
    split, out of sample from the split to ``end`` (None: the data's last session). A
    ``text`` of None splits where ``Split()`` does (2023-01-01).

    Raises
    ------
    ConfigError
        For a text that is not a date, or a split outside ``start..end``.

    Examples
    --------
    >>> parse_split("2024-01-02")
    Split(in-sample …..2024-01-01, out-of-sample 2024-01-02..…)
    >>> parse_split("2024-01-02", start="2020-01-02", end="2024-06-28")
    Split(in-sample 2020-01-02..2024-01-01, out-of-sample 2024-01-02..2024-06-28)
    """
    import pandas as pd

    from workbench.calendar import parse_day
    from workbench.errors import ConfigError
    from workbench.research.periods import Split

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    day = parse_day(text, "--split")
    day = pd.Timestamp(Split().out_of_sample_start) if day is None else day
    try:
        return Split(in_sample_start=first, in_sample_end=day - pd.Timedelta(days=1),
                     out_of_sample_start=day, out_of_sample_end=last)
    except ConfigError as exc:  # the days are out of order
        raise ConfigError(f"--split {day.date()}{'' if text else ' (the default)'} must fall "
                          f"after --start and on or before --end: {exc}") from None


def parse_walk_forward(*, start: str | None = None, end: str | None = None) -> WalkForward:
    """Walk-forward windows (the ``sweep`` command's ``--walk-forward``) within
    ``start..end``: train 3 years, test 6 months, as ``WalkForward()``.

    The first training window starts on or after ``start`` (None: the data's first
    session); the last test ends at ``end`` (None: the data's last session).

    Raises
    ------
    ConfigError
        For a text that is not a date.

    Examples
    --------
    >>> w = parse_walk_forward(start="2016-01-04", end="2024-06-28")
    >>> w.start.date(), w.end.date()
    (datetime.date(2019, 2, 1), datetime.date(2024, 6, 28))
    """
    import pandas as pd

    from workbench.calendar import parse_day
    from workbench.research.periods import WalkForward

    first, last = parse_day(start, "--start"), parse_day(end, "--end")
    years = WalkForward().train_years
    # tests start on a month's first day; round up so that training never reaches before start
    tests_from = None if first is None else pd.offsets.MonthBegin().rollforward(
        first + pd.DateOffset(years=years))
    return WalkForward(train_years=years, start=tests_from, end=last)


def _one_line(message: Warning | str, category: type[Warning], filename: str, lineno: int,
              line: str | None = None) -> str:
    """A warning as the command line prints it: ``warning: MESSAGE``, no source line."""
    return f"warning: {message}\n"


def main(argv: Sequence[str] | None = None, *, prog: str = "workbench") -> int:
    """Run the command line; return the process exit code.

    Parameters
    ----------
    argv
        The arguments after the program name; None reads ``sys.argv``.
    prog
        The program name usage lines and hints show: ``"workbench"`` for the installed
        script, :data:`MODULE_PROG` for ``python -m workbench``.

    numpy's huge-page advice is turned off first, unless ``NUMPY_MADVISE_HUGEPAGE`` is set
    (:func:`workbench.machine.prefer_small_pages`). Warnings print as one line each,
    ``warning: ...``, while the command runs (where they go, and which are shown, is
    unchanged).
    """
    prefer_small_pages()  # for this process and the kernels and workers it starts
    args = build_parser(prog).parse_args(argv)
    formatter = warnings.formatwarning
    warnings.formatwarning = _one_line
    try:
        return int(args.func(args))
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        warnings.formatwarning = formatter
