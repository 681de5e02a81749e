"""The report runner and scheduler: parameters checked before any kernel starts, atomic
outputs, a failed run that keeps the last good report, and the index page."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import nbformat
import papermill
import pytest
from conftest import REPO

from workbench import strategies
from workbench.cli import main, main_exit_code
from workbench.errors import ConfigError, DataError, LookupFailed
from workbench.report import runner, schedule

# A notebook that runs in a second or two: it fails on request.
TINY_PARAMETERS = '''
strategy = "buy_and_hold"
start = "2024-01-02"
end = "2024-12-31"
capital_cny = 1_000_000.0
fail = False
metrics_path = None
'''
TINY_CODE = '''
import plotly.graph_objects as go
from workbench import report

report.setup_notebook()
assert not fail, "asked to fail"
go.Figure(go.Scatter(y=[1, 3, 2], name="中文"), layout={"title": {"text": "tiny"}})
'''


def tiny_notebook(folder: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = nbformat.v4.new_code_cell(TINY_PARAMETERS.strip())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Tiny report"), params,
                nbformat.v4.new_code_cell(TINY_CODE.strip()),
                nbformat.v4.new_code_cell('report.emit_metrics({"strategy": strategy, '
                                          '"total_return": 0.125}, metrics_path)')]
    path = folder / "tiny.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Replace papermill.execute_notebook; record calls; fail the run if one happens."""
    calls: list[dict] = []

    def fake(*args: object, **kwargs: object) -> None:
        calls.append({"args": args, **kwargs})
        raise RuntimeError("no kernel in this test")

    monkeypatch.setattr(papermill, "execute_notebook", fake)
    return calls


# -- parameters -------------------------------------------------------------------------------
BAD = [
    ("backtest_report", {"strategy": "momentun"}, LookupFailed, "did you mean 'momentum'"),
    ("backtest_report", {"start": "2024-06-03", "end": "2023-01-03"}, ConfigError,
     "before start"),
    ("backtest_report", {"capital_cny": -5}, ConfigError, "amount of CNY > 0"),
    ("backtest_report", {"capital_cny": "-5"}, ConfigError, "amount of CNY > 0"),
    ("backtest_report", {"strategie": "momentum"}, ConfigError, "did you mean 'strategy'"),
    ("backtest_report", {"metrics_path": "/tmp/m.json"}, ConfigError, "set by the runner"),
    ("backtest_report", {"capital_cny": "lots"}, ConfigError, "must be a number"),
    ("backtest_report", {"params": {"fats": 3}}, ConfigError, "no parameter 'fats'"),
    ("backtest_report", {"params": "[1, 2]"}, ConfigError, "must be a mapping"),
    ("backtest_report", {"cost_multiplier": -1}, ConfigError, "cost multiplier"),
    ("backtest_report", {"market_path": "/no/such/folder"}, DataError, "not a folder"),
    ("backtest_report", {"colors": "red"}, LookupFailed, "Valid: 'cn', 'intl'"),
    ("backtest_report", {"split": "2030-01-02", "end": "2024-12-31"}, ConfigError,
     "inside the period"),
    ("backtest_report", {"start": "someday"}, ConfigError, "not a date"),
    ("risk_report", {"risk": {"max_position_rate": 5}}, ConfigError, "write 10 % as 0.10"),
    ("risk_report", {"risk": '{"bogus": 1}'}, ConfigError, "valid fields"),
    ("strategy_comparison", {"strategies": ["buy_and_hold", "nope"]}, LookupFailed,
     "unknown strategy 'nope'"),
    ("data_quality", {"strategy": "momentum"}, ConfigError, "has no parameter 'strategy'"),
    ("no_such_notebook", {}, LookupFailed, "backtest_report"),
]


@pytest.mark.parametrize(("notebook", "params", "error", "message"), BAD,
                         ids=[f"{nb}-{'-'.join(p) or 'none'}" for nb, p, *_ in BAD])
def test_bad_parameters_fail_before_a_kernel_starts(notebook, params, error, message,
                                                    no_kernel, tmp_path):
    with pytest.raises(error, match=re.escape(message)):
        runner.run_report(notebook, params, tmp_path / "out")
    assert no_kernel == []
    assert not (tmp_path / "out").exists()


def test_the_command_line_reports_bad_parameters_without_a_kernel(no_kernel, capsys):
    code = main(["report", "backtest_report", "-p", "strategy", "nope", "--out", "/tmp/x"])
    assert code == 2 and no_kernel == []
    assert "unknown strategy 'nope'" in capsys.readouterr().err


def test_command_line_values_are_parsed_and_the_kernel_is_this_python(no_kernel, tmp_path):
    code = main(["report", "backtest_report", "-p", "capital_cny", "500000", "-p", "params",
                 '{"fast": 10, "slow": 30}', "-p", "end", "2024-06-28", "--out",
                 str(tmp_path)])
    assert code == 1  # the fake kernel "failed"
    (call,) = no_kernel
    params = call["parameters"]
    assert params["capital_cny"] == 500000.0 and isinstance(params["capital_cny"], float)
    assert params["params"] == {"fast": 10, "slow": 30}
    assert params["end"] == "2024-06-28"
    assert Path(params["metrics_path"]).name == "metrics.json"
    assert call["kernel_name"] == "python3"
    assert Path(call["cwd"]) == REPO / "notebooks"
    assert (tmp_path / "backtest_report.failed.json").is_file()


def test_python3_kernel_runs_this_interpreter():
    assert runner.kernel_python() == sys.executable
    assert runner.check_kernel() == sys.executable


def test_a_kernel_on_another_python_is_refused(monkeypatch):
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    def other(self, name):
        return KernelSpec(argv=["/opt/other/bin/python3.9", "-m", "ipykernel_launcher"],
                          display_name="other", language="python")

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", other)
    with pytest.raises(ConfigError, match="ipykernel install --sys-prefix"):
        runner.check_kernel()


def test_defaults_and_overrides_give_the_effective_parameters():
    path = runner.find_notebook("backtest_report")
    overrides, effective = runner.prepare_parameters(path, {"strategy": "momentum",
                                                            "params": '{"lookback": 126}'})
    assert overrides == {"strategy": "momentum", "params": {"lookback": 126}}
    assert effective["strategy"] == "momentum" and effective["capital_cny"] == 1_000_000.0
    assert "metrics_path" not in effective


# -- the default jobs -------------------------------------------------------------------------
def test_default_jobs_cover_every_strategy_and_report():
    jobs = schedule.load_jobs(REPO / "reports" / "jobs.toml")
    assert jobs.out_dir == REPO / "reports"
    backtested = {j.parameters.get("strategy") for j in jobs.jobs
                  if j.notebook == "backtest_report"}
    assert backtested == set(strategies.available())
    notebooks = {j.notebook for j in jobs.jobs}
    assert {"strategy_comparison", "risk_report", "data_quality"} <= notebooks
    for job in jobs.jobs:  # every job's parameters pass the checks
        path = runner.find_notebook(job.notebook)
        runner.prepare_parameters(path, schedule._job_parameters(jobs, job))


@pytest.mark.parametrize(("text", "message"), [
    ('[[jobs]]\nname = "a"\n', "notebook is required"),
    ('[[jobs]]\nname = "a"\nnotebook = "x"\n[[jobs]]\nname = "a"\nnotebook = "y"\n',
     "duplicate name"),
    ('[[jobs]]\nname = "a b"\nnotebook = "x"\n', "report name"),
    ('[[jobs]]\nname = "a.failed"\nnotebook = "x"\n', "may not end in '.failed'"),
    ('[[jobs]]\nname = "a"\nnotebook = "x"\nparams = {}\n', "did you mean 'parameters'"),
    ('colour = "cn"\n[[jobs]]\nname = "a"\nnotebook = "x"\n', "unknown top-level keys"),
    ('out = "."\n', "no jobs"),
    ('[[jobs]\n', "not valid TOML"),
])
def test_bad_jobs_files_are_refused(tmp_path, text, message):
    file = tmp_path / "jobs.toml"
    file.write_text(text)
    with pytest.raises((ConfigError, DataError), match=re.escape(message)):
        schedule.load_jobs(file)


# -- running for real -------------------------------------------------------------------------
def _write_jobs(path: Path, flaky_fails: bool, bad_job: bool) -> None:
    text = f'''
timeout_s = 120
[defaults]
capital_cny = 2_000_000.0

[[jobs]]
name = "good"
notebook = "tiny.ipynb"

[[jobs]]
name = "flaky"
notebook = "tiny.ipynb"
parameters = {{ fail = {"true" if flaky_fails else "false"} }}
'''
    if bad_job:
        text += '\n[[jobs]]\nname = "bad"\nnotebook = "tiny.ipynb"\n' \
                'parameters = { strategy = "nope" }\n'
    tomllib.loads(text)
    path.write_text(text)


def _row(index: str, name: str) -> str:
    """The index's table row of report ``name``."""
    (row,) = [r for r in index.split("<tr>") if r.startswith((f"<td>{name}</td>",
                                                             f'<td><a href="{name}/'))]
    return row


def test_a_failed_job_keeps_the_last_good_report_and_the_batch_goes_on(tmp_path):
    tiny_notebook(tmp_path)
    jobs = tmp_path / "jobs.toml"
    out = tmp_path  # out = "." relative to the jobs file
    _write_jobs(jobs, flaky_fails=False, bad_job=False)
    lines: list[str] = []
    first = schedule.run_schedule(jobs, echo=lines.append)
    assert [o.ok for o in first] == [True, True]
    assert main_exit_code([o.ok for o in first]) == 0
    good_html = out / "flaky" / "flaky.html"
    before = good_html.read_bytes()
    metrics = json.loads((out / "flaky" / "metrics.json").read_text())
    assert metrics == {"strategy": "buy_and_hold", "total_return": 0.125}
    record = json.loads((out / "flaky" / "report.json").read_text())
    assert record["parameters"]["capital_cny"] == 2_000_000.0  # from [defaults]
    assert before.count(b"plotly.js v") == 1

    _write_jobs(jobs, flaky_fails=True, bad_job=True)
    lines.clear()
    second = schedule.run_schedule(jobs, echo=lines.append)
    assert [(o.job.name, o.ok) for o in second] == [("good", True), ("flaky", False),
                                                     ("bad", False)]
    assert main_exit_code([o.ok for o in second]) == 1
    assert good_html.read_bytes() == before  # the last good report is untouched
    failed = out / "flaky" / "flaky.failed.ipynb"
    assert failed.is_file()
    assert "asked to fail" in failed.read_text()
    assert json.loads((out / "flaky" / "flaky.failed.json").read_text())["error"].startswith(
        "AssertionError")
    assert not (out / "bad" / "bad.html").exists()
    assert "unknown strategy 'nope'" in json.loads(
        (out / "bad" / "bad.failed.json").read_text())["error"]  # found before any kernel
    assert any("flaky FAILED" in line for line in lines)
    assert any(re.search(r"good ok in \d+\.\d s", line) for line in lines)

    index = (out / "index.html").read_text()
    for name in ("good", "flaky"):
        assert f'href="{name}/{name}.html"' in index
    assert "last run failed" in _row(index, "flaky") and "flaky.failed.ipynb" in index
    assert "ok</span>" not in _row(index, "flaky")
    assert "showing the last good report" in _row(index, "flaky")
    assert "last run failed before the kernel started" in _row(index, "bad")
    assert "ok</span>" in _row(index, "good")
    assert '<td class="wb-num" data-sort="0.125">+12.50%</td>' in _row(index, "good")
    assert "plotly.js v" not in index
    assert not re.findall(r"<(?:script|link)\b[^>]*\b(?:src|href)=", index)

    _write_jobs(jobs, flaky_fails=False, bad_job=False)
    third = schedule.run_schedule(jobs, only=["flaky"], echo=lines.append)
    assert [o.ok for o in third] == [True]
    assert not failed.exists()  # a good run clears the stale failure
    assert "last run failed" not in _row((out / "index.html").read_text(), "flaky")


def test_only_names_a_job_that_exists(tmp_path):
    tiny_notebook(tmp_path)
    jobs = tmp_path / "jobs.toml"
    _write_jobs(jobs, flaky_fails=False, bad_job=False)
    with pytest.raises(LookupFailed, match="did you mean 'good'"):
        schedule.run_schedule(jobs, only=["goood"])


def test_an_empty_index_says_how_to_make_reports(tmp_path):
    page = schedule.build_index(tmp_path).read_text()
    assert "make report" in page and "plotly.js" not in page
