"""The command line for people (issue 13): its name as invoked, ``--version``, a help page
without markup that lists each command once and the choices of every enumerated option,
``report NOTEBOOK --list-params``, typed notebook parameters papermill can read,
``sweep --start/--end``, warnings on one line, and hints that name commands."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
import warnings
from importlib.metadata import version as installed_version
from pathlib import Path

import nbformat
import pandas as pd
import papermill
import pytest
from conftest import REPO

from workbench import strategies
from workbench.cli import MODULE_PROG, build_parser, main, parse_split, parse_walk_forward
from workbench.data import save_market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError
from workbench.report import runner
from workbench.report.parameters import notebook_parameters
from workbench.research.trials import OBJECTIVES

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
COMMANDS = ("build-data", "info", "import", "recommend", "report", "schedule", "report-all",
            "sweep")
IMPORTS = REPO / "tests" / "data" / "importers"


def run_module(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m workbench ARGS`` in a fresh process, on this checkout."""
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True,
                          text=True, check=False, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def help_of(capsys, *args: str, prog: str = "workbench") -> str:
    with pytest.raises(SystemExit) as done:
        main([*args, "--help"], prog=prog)
    assert done.value.code == 0
    return capsys.readouterr().out


# -- the name, the version, the help page -----------------------------------------------------
def test_version_is_the_installed_packages(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"workbench {installed_version('workbench')}\n"


def test_the_script_is_named_workbench(capsys):
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"workbench": "workbench.cli:main"}  # main's default prog is its name
    assert help_of(capsys).startswith("usage: workbench [-h] [--version] COMMAND ...")
    assert help_of(capsys, "sweep").startswith("usage: workbench sweep ")
    assert build_parser().prog == "workbench"


def test_the_installed_script_says_workbench():
    script = Path(sys.executable).with_name("workbench")
    if not script.is_file():
        pytest.skip("the console script is not installed next to this interpreter")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: workbench [-h]")


def test_python_dash_m_is_named_so():
    done = run_module("--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: {MODULE_PROG} [-h] [--version] COMMAND ...")
    assert f"Run `{MODULE_PROG} COMMAND --help`" in done.stdout
    version = run_module("--version")
    assert version.stdout == f"workbench {installed_version('workbench')}\n"


def test_help_has_no_markup_and_lists_each_command_once(capsys):
    page = help_of(capsys)
    assert not re.search(r"``|:func:|:mod:|:class:|^-{3,}$", page, flags=re.M), page
    for command in COMMANDS:
        listed = [line for line in page.splitlines() if line.split()[:1] == [command]]
        assert len(listed) == 1, f"{command} is listed {len(listed)} times:\n{page}"
        assert len(listed[0].split()) > 1, f"{command}: its help is on its line"
    assert "{" not in page, "the commands are not repeated as a {a,b,...} choice list"
    for command in COMMANDS:
        assert "``" not in help_of(capsys, command), command


# -- choices ----------------------------------------------------------------------------------
def _flat(page: str) -> str:
    return " ".join(page.split())  # argparse wraps lines wherever it likes


def test_help_lists_the_choices_of_enumerated_options(capsys):
    names = strategies.available()
    sweep = _flat(help_of(capsys, "sweep"))
    assert f"--strategy STRATEGY one of {', '.join(names)}" in sweep
    assert f"one of {', '.join(OBJECTIVES)} (default sharpe)" in sweep
    recommend = _flat(help_of(capsys, "recommend"))
    assert f"one of {', '.join(names)} (default value_quality)" in recommend
    report = _flat(help_of(capsys, "report"))
    assert f"one of {', '.join(p.stem for p in NOTEBOOKS)}; or a path" in report


# -- report --list-params and the notebooks' typed parameters ---------------------------------
def test_list_params_prints_names_types_and_defaults(capsys):
    assert main(["report", "backtest_report", "--list-params"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("parameters of backtest_report.ipynb (set with -p NAME VALUE):\n")
    assert '\n  strategy: str = "ma_trend"\n      one of ' in out
    assert "\n  capital_cny: float = 1_000_000.0\n      starting cash, CNY\n" in out
    assert "\n  market_path: Optional[str] = None\n" in out
    assert "metrics_path" not in out, "set by the runner: not the user's to set"
    assert "untyped" not in out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_list_params_shows_every_settable_parameter(path: Path, capsys):
    assert main(["report", str(path), "--list-params"]) == 0
    listed = re.findall(r"^  (\w+): (.+?) = ", capsys.readouterr().out, flags=re.M)
    declared = [k for k in runner.declared_parameters(path)
                if k not in runner.RESERVED_PARAMETERS]
    assert [name for name, _ in listed] == declared
    assert all(kind != "untyped" for _, kind in listed)


def test_list_params_of_an_untyped_cell_says_so(tmp_path, capsys):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell('x = 1  # a number\ny: int = 2\nmetrics_path = None')
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert main(["report", str(tmp_path / "n.ipynb"), "--list-params"]) == 2
    assert "save the notebook with its kernelspec metadata" in capsys.readouterr().err
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python",
                                 "display_name": "Python 3"}
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert main(["report", str(tmp_path / "n.ipynb"), "--list-params"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        "  x: untyped = 1", "      a number", "  y: int = 2"]
    assert [p.type for p in notebook_parameters(tmp_path / "n.ipynb")] == ["", "int", ""]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_papermill_reads_every_parameter_with_its_type(path: Path):
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    in_cell = [stmt.target.id for stmt in ast.parse(cell.source).body
               if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)]
    inferred = papermill.inspect_notebook(str(path))
    # papermill 2.7 skips a line it cannot read (e.g. `x: str | None = None`) silently
    assert list(inferred) == in_cell, "write Optional[...] in quotes, not X | None"
    assert all(info["inferred_type_name"] != "None" for info in inferred.values())


def test_papermill_help_notebook_shows_types():
    path = REPO / "notebooks" / "backtest_report.ipynb"
    done = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook", str(path)],
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Unknown type" not in done.stdout
    assert "  capital_cny: float (default 1_000_000.0)" in done.stdout
    assert "  market_path: Optional[str] (default None)" in done.stdout


# -- sweep --start/--end ----------------------------------------------------------------------
def test_parse_split_takes_start_and_end():
    split = parse_split("2023-01-03", start="2022-03-01", end="2023-10-31")
    assert split.in_sample_period == (pd.Timestamp("2022-03-01"), pd.Timestamp("2023-01-02"))
    assert split.out_of_sample_period == (pd.Timestamp("2023-01-03"),
                                          pd.Timestamp("2023-10-31"))
    default = parse_split(None, end="2024-06-28")  # the default split day: 2023-01-01
    assert default.out_of_sample_start == pd.Timestamp("2023-01-01")
    assert default.out_of_sample_end == pd.Timestamp("2024-06-28")
    with pytest.raises(ConfigError, match=r"--split 2023-01-01 \(the default\) must fall after "
                                          r"--start and on or before --end"):
        parse_split(None, start="2023-06-01")
    with pytest.raises(ConfigError, match="--split 2023-01-03 must fall"):
        parse_split("2023-01-03", end="2022-12-30")
    with pytest.raises(ConfigError, match="--end 'soon' is not a date"):
        parse_split(None, end="soon")


def test_walk_forward_windows_stay_within_start_and_end():
    calendar = pd.bdate_range("2015-01-05", "2024-12-31")
    for start in ("2016-01-04", "2016-03-15", "2016-03-01"):
        windows = parse_walk_forward(start=start, end="2023-09-29").windows(calendar)
        assert windows.iloc[:, 0].min() >= pd.Timestamp(start)  # training starts at --start
        assert windows.iloc[:, 0].min() < pd.Timestamp(start) + pd.DateOffset(months=1)
        assert windows.iloc[:, 3].max() == pd.Timestamp("2023-09-29")
    whole = parse_walk_forward().windows(calendar)  # as WalkForward(): the data's first day
    assert whole.iloc[0, 0] == calendar[0] and whole.iloc[-1, 3] == calendar[-1]


def test_sweep_command_runs_on_start_to_end(tmp_path, capsys):
    market = synthetic_market(SyntheticConfig(n_stocks=15, start="2022-01-04",
                                              end="2023-12-29"))
    save_market(market, tmp_path / "m")
    code = main(["sweep", "--strategy", "ma_trend", "--grid", "fast=5", "--grid", "slow=20",
                 "--serial", "--market", str(tmp_path / "m"), "--start", "2022-03-01",
                 "--split", "2023-01-03", "--end", "2023-10-31"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.strip()}
    assert rows["Start"] == ["2022-03-01", "2023-01-03"]  # in sample, out of sample
    assert rows["End"] == ["2022-12-30", "2023-10-31"]


# -- warnings and hints -----------------------------------------------------------------------
def test_import_prints_each_warning_on_one_clean_line(tmp_path):
    done = run_module("import", "--bars", str(IMPORTS / "baostock"), "--adj-factors",
                      str(IMPORTS / "adj_factor.csv"), "--securities",
                      str(IMPORTS / "stock_basic.csv"), "--out", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith("warning: ") for line in lines), done.stderr
    assert any("survivors only" in line for line in lines)
    assert "warnings.warn" not in done.stderr and ".py:" not in done.stderr
    assert f"`{MODULE_PROG} info {tmp_path / 'm'}` summarises it" in done.stdout


def test_main_leaves_the_warning_format_as_it_found_it(capsys):
    before = warnings.formatwarning
    main(["report", "data_quality", "--list-params"])
    assert warnings.formatwarning is before


def test_a_missing_market_folder_hint_names_commands(tmp_path, capsys):
    missing = tmp_path / "nope"
    assert main(["info", str(missing)]) == 2
    err = capsys.readouterr().err
    assert f"build one with `workbench import --bars FOLDER --out {missing}`" in err
    assert "or run `workbench info` without a path" in err
    assert "load_market" not in err
    assert main(["recommend", "--market", str(missing)], prog=MODULE_PROG) == 2
    err = capsys.readouterr().err
    assert f"`{MODULE_PROG} import --bars FOLDER" in err and "leave out --market" in err
    done = run_module("info", str(missing))
    assert done.returncode == 2 and "call load_market" not in done.stderr
    assert f"`{MODULE_PROG} info` without a path" in done.stderr
