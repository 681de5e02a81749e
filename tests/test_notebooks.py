"""The notebooks' papermill contract, and a small run of the backtest report end to end.

nbval executes every notebook with its default parameters (``notebooks`` is a test path,
``--nbval-lax``); these tests check what a runner and a reader rely on: one literal
``parameters`` cell, thin code, no outputs committed, kernelspec metadata, defaults that
pass the runner's checks, and a short run whose page shows every figure the notebook drew.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest

from workbench.cli import main
from workbench.report import runner

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
REPORTS = ("backtest_report", "strategy_comparison", "risk_report", "data_quality")


def test_the_report_notebooks_are_there():
    assert {p.stem for p in NOTEBOOKS} >= set(REPORTS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_thin_parameterised_and_committed_clean(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0], "the first code cell holds the parameters"
    for stmt in ast.parse(tagged[0].source).body:
        assert isinstance(stmt, ast.AnnAssign) and stmt.value is not None, (
            f"{path.name}: parameters are typed assignments only (name: type = literal)")
        ast.literal_eval(stmt.value)  # literals only
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, "committed with outputs"
        tree = ast.parse(cell.source)
        banned = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.For, ast.While,
                  ast.AsyncFor)
        assert not [n for n in ast.walk(tree) if isinstance(n, banned)], (
            f"{path.name}: no def, class or loops in a notebook; move it into the package")
        assert not re.search(r"['\"](/|[A-Za-z]:\\)", cell.source), "no absolute paths"


@pytest.mark.parametrize("name", REPORTS)
def test_report_defaults_pass_the_runners_checks(name: str):
    path = runner.find_notebook(name)
    declared = papermill.inspect_notebook(str(path))
    assert "metrics_path" in declared, "the runner hands metrics_path to every report"
    assert declared["metrics_path"]["default"] == "None"
    overrides, effective = runner.prepare_parameters(path, {})
    assert overrides == {} and "metrics_path" not in effective


def test_a_short_backtest_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "short"
    code = main(["report", "backtest_report", "-p", "strategy", "momentum", "-p", "start",
                 "2023-01-03", "-p", "end", "2024-12-31", "-p", "split", "2024-07-01",
                 "-p", "colors", "cn", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert str(out / "backtest_report.html") in capsys.readouterr().out
    executed = nbformat.read(out / "backtest_report.ipynb", as_version=4)
    assert executed.metadata["papermill"]["parameters"]["strategy"] == "momentum"
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error" or (o.output_type == "stream"
                                              and o.name == "stderr")]
    assert errors == [], "the notebook wrote errors or warnings"
    figures = sum(1 for c in executed.cells if c.cell_type == "code" for o in c.outputs
                  if "application/vnd.plotly.v1+json" in o.get("data", {}))
    assert figures >= 9
    page = (out / "backtest_report.html").read_text()
    assert page.count('class="wb-plot"') == figures
    assert page.count("plotly.js v") == 1
    assert page.count('class="wb-banner"') == 2  # the data, then the result's warnings
    assert "Exposure: fraction of equity invested" in page
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["strategy"] == "momentum" and metrics["start"] == "2023-01-03"
    assert metrics["out_of_sample_sharpe_ratio"] is None or isinstance(
        metrics["out_of_sample_sharpe_ratio"], float)
    record = json.loads((out / "report.json").read_text())
    assert record["parameters"]["colors"] == "cn" and record["metrics"] == metrics


def test_reports_the_cli_and_the_tour_share_one_default_period():
    """Every report covers the whole market by default, as BacktestConfig, the CLI and the README
    tour do, so one strategy shows one set of headline numbers everywhere."""
    import tomllib

    from workbench.config import BacktestConfig

    assert (BacktestConfig().start, BacktestConfig().end) == (None, None)
    for path in NOTEBOOKS:
        if path.stem == "explore":  # the dashboard opens on a short window for speed
            continue
        params = papermill.inspect_notebook(str(path))
        for name in ("start", "end"):
            if name in params:
                assert params[name]["default"] == "None", (path.name, name)
    jobs = tomllib.loads((path.parents[1] / "reports" / "jobs.toml").read_text())
    assert not {"start", "end"} & set(jobs["defaults"])
    assert all(not {"start", "end"} & set(j.get("parameters", {})) for j in jobs["jobs"])
