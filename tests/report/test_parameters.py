"""ReportParameters: every bad value refused with a message that names it, the configuration
built as the notebooks used to build it by hand, and every notebook handing over its
parameters literally."""

from __future__ import annotations

import ast
import dataclasses
import math
import re
from pathlib import Path

import nbformat
import pytest
from conftest import REPO

from workbench import strategies
from workbench.config import BacktestConfig
from workbench.costs import Costs
from workbench.data import save_market
from workbench.errors import ConfigError, DataError, LookupFailed, WorkbenchError
from workbench.report import ReportParameters, runner
from workbench.risk import RiskLimits

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
FIELDS = {f.name for f in dataclasses.fields(ReportParameters)}

# (the fields given, the error, a fragment naming the parameter)
BAD: list[tuple[dict, type[WorkbenchError], str]] = [
    ({"market_path": "/no/such/folder"}, DataError, "parameter market_path"),
    ({"market_path": 5}, ConfigError, "parameter market_path"),
    ({"strategy": "momentun"}, LookupFailed, "unknown strategy 'momentun'"),
    ({"strategy": 5}, ConfigError, "parameter strategy"),
    ({"strategy": "ma_trend", "params": [1, 2]}, ConfigError, "parameter params"),
    ({"strategy": "ma_trend", "params": {"fats": 3}}, ConfigError, "parameter params"),
    ({"strategy": "ma_trend", "params": {"fast": 60, "slow": 20}}, ConfigError,
     "parameter params"),
    ({"params": {"fast": 10}}, ConfigError, "parameter params"),
    ({"strategies": "momentum"}, ConfigError, "parameter strategies"),
    ({"strategies": ["momentum", 3]}, ConfigError, "parameter strategies"),
    ({"strategies": ["momentum", "nope"]}, LookupFailed, "'nope' in strategies"),
    ({"start": "someday"}, ConfigError, "parameter start"),
    ({"end": [2024]}, ConfigError, "parameter end"),
    ({"start": "2024-06-03", "end": "2023-01-03"}, ConfigError, "before start"),
    ({"split": "someday"}, ConfigError, "parameter split"),
    ({"start": "2024-01-02", "end": "2024-12-31", "split": "2024-01-02"}, ConfigError,
     "split 2024-01-02 must fall strictly inside"),
    ({"end": "2024-12-31", "split": "2025-01-02"}, ConfigError, "split 2025-01-02"),
    ({"capital_cny": -5}, ConfigError, "capital_cny"),
    ({"capital_cny": "lots"}, ConfigError, "capital_cny"),
    ({"capital_cny": math.inf}, ConfigError, "capital_cny"),
    ({"capital_cny": True}, ConfigError, "capital_cny"),
    ({"cost_multiplier": -1}, ConfigError, "parameter cost_multiplier"),
    ({"cost_multiplier": math.nan}, ConfigError, "parameter cost_multiplier"),
    ({"cost_multiplier": "2"}, ConfigError, "parameter cost_multiplier"),
    ({"cost_multiplier": True}, ConfigError, "parameter cost_multiplier"),
    ({"cost_multipliers": []}, ConfigError, "parameter cost_multipliers"),
    ({"cost_multipliers": "1,2"}, ConfigError, "parameter cost_multipliers"),
    ({"cost_multipliers": [1.0, -2.0]}, ConfigError, "parameter cost_multipliers"),
    ({"risk": [0.1]}, ConfigError, "parameter risk"),
    ({"risk": {"bogus": 1}}, ConfigError, "parameter risk"),
    ({"risk": {"max_position_rate": 5}}, ConfigError, "parameter risk"),
    ({"colors": "red"}, LookupFailed, "colors"),
    ({"colors": None}, LookupFailed, "colors"),
]


@pytest.mark.parametrize(("given", "error", "names"), BAD,
                         ids=[f"{'-'.join(g)}-{i}" for i, (g, *_) in enumerate(BAD)])
def test_every_bad_value_is_refused_with_a_message_naming_it(given, error, names):
    # values: ConfigError; unknown names: LookupFailed with the valid ones; a missing
    # market folder: DataError, as load_market says
    with pytest.raises(error, match=re.escape(names)) as caught:
        ReportParameters(**given)
    assert isinstance(caught.value, WorkbenchError)
    if error is LookupFailed:
        assert "Valid:" in str(caught.value)


def test_every_bad_value_is_refused_by_the_runner_with_the_notebooks_name():
    path = runner.find_notebook("backtest_report")
    with pytest.raises(LookupFailed, match=r"^backtest_report\.ipynb: unknown strategy 'nope'"):
        runner.prepare_parameters(path, {"strategy": "nope"})
    with pytest.raises(ConfigError, match=r"^backtest_report\.ipynb: parameter cost_multiplier"):
        runner.prepare_parameters(path, {"cost_multiplier": "-1"})


def test_the_backtest_config_equals_the_one_built_by_hand():
    p = ReportParameters(strategy="momentum", params={"lookback": 126}, start="2016-01-04",
                         end="2024-12-31", split="2023-01-03", capital_cny=2_000_000.0,
                         cost_multiplier=2.0)
    by_hand = BacktestConfig(capital_cny=2_000_000.0, start="2016-01-04", end="2024-12-31",
                             costs=Costs().scale(2.0))
    assert p.backtest_config() == by_hand
    assert p.build_strategy().describe() == strategies.get("momentum",
                                                           lookback=126).describe()
    assert p.risk_limits() is None


def test_the_risk_limits_go_into_the_config():
    risk = {"max_position_rate": 0.05, "max_sector_rate": 0.2}
    p = ReportParameters(strategy="ma_trend", start="2016-01-04", end="2024-12-31",
                         capital_cny=1_000_000.0, cost_multiplier=1.0, risk=risk)
    limits = RiskLimits(**risk)
    assert p.risk_limits() == limits
    assert p.backtest_config() == BacktestConfig(capital_cny=1_000_000.0, start="2016-01-04",
                                                 end="2024-12-31", costs=Costs().scale(1.0),
                                                 risk=limits)


def test_the_universe_goes_into_the_config():
    p = ReportParameters(strategy="momentum", universe="csi300")
    assert p.backtest_config() == BacktestConfig(universe="csi300")
    with pytest.raises(ConfigError, match="universe must be an index name such as 'csi300'"):
        ReportParameters(universe="")


def test_defaults_are_backtest_configs_defaults():
    assert ReportParameters().backtest_config() == BacktestConfig()
    # a sweep notebook gives no cost multiplier: its configuration keeps the default costs
    p = ReportParameters(strategy="ma_trend", start="2016-01-04", end="2024-12-31",
                         capital_cny=1_000_000.0, cost_multipliers=[1.0, 2.0])
    assert p.backtest_config() == BacktestConfig(capital_cny=1_000_000.0, start="2016-01-04",
                                                 end="2024-12-31")
    assert p.cost_multipliers == (1.0, 2.0)


def test_values_are_kept_as_given_and_not_shared():
    params = {"fast": 10, "slow": 30}
    p = ReportParameters(strategy="ma_trend", params=params, strategies=["momentum"],
                         start="2024-01-02")
    params["fast"] = 99
    assert p.params == {"fast": 10, "slow": 30}
    assert p.strategies == ("momentum",) and p.start == "2024-01-02"
    assert ReportParameters(strategy="ma_trend", params=None).params == {}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.strategy = "momentum"  # type: ignore[misc]


def test_building_a_strategy_needs_one():
    with pytest.raises(ConfigError, match="parameter strategy is not set"):
        ReportParameters().build_strategy()


def test_from_mapping_takes_the_fields_and_leaves_the_rest():
    p = ReportParameters.from_mapping({"strategy": "momentum", "grid": {"lookback": [63]},
                                       "baseline": "buy_and_hold", "metrics_path": None})
    assert p == ReportParameters(strategy="momentum")
    with pytest.raises(ConfigError, match=r"^x\.ipynb: capital_cny must be a finite amount"):
        ReportParameters.from_mapping({"capital_cny": 0}, source="x.ipynb")


def test_the_market_comes_from_market_path(tiny, tmp_path):
    folder = tmp_path / "tiny"
    save_market(tiny, folder)
    p = ReportParameters(market_path=str(folder))
    assert list(p.load_market().symbols) == list(tiny.symbols)
    assert len(ReportParameters(market_path=folder).load_market(validate=False).bars) == len(
        tiny.bars)


# -- the notebooks ----------------------------------------------------------------------------
def _parameters_and_call(path: Path) -> tuple[set[str], ast.Call]:
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    declared = {stmt.target.id for stmt in ast.parse(code[0]).body}  # name: type = value
    calls = [node for src in code[1:] for node in ast.walk(ast.parse(src))
             if isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
                 "ReportParameters")]
    assert len(calls) == 1, f"{path.name}: call report.ReportParameters(...) once"
    return declared, calls[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_hands_its_parameters_over_by_name(path: Path):
    declared, call = _parameters_and_call(path)
    assert not call.args, f"{path.name}: keyword arguments only"
    given = {k.arg: k.value for k in call.keywords}
    assert set(given) == declared & FIELDS, (
        f"{path.name}: pass every parameter that is a ReportParameters field, and only those")
    for name, value in given.items():
        assert isinstance(value, ast.Name) and value.id == name, (
            f"{path.name}: write {name}={name}, the parameter itself")


def test_every_field_is_a_parameter_of_some_notebook():
    used = set().union(*(_parameters_and_call(p)[0] for p in NOTEBOOKS))
    assert used >= FIELDS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebooks_defaults_pass(path: Path):
    declared = runner.declared_parameters(path)
    p = ReportParameters.from_mapping(declared, source=path.name)
    assert p.backtest_config().capital_cny == declared.get("capital_cny", 1_000_000.0)
