"""workbench.cli: text arguments (--grid, --costs, --split) become typed values by the
strategy's declared parameter types, or errors that say how to write them; exit codes."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.cli import main, main_exit_code, parse_costs, parse_grid, parse_split
from workbench.errors import ConfigError, LookupFailed
from workbench.research.periods import Split


def test_parse_grid_types_values_by_the_defaults():
    assert parse_grid("value_quality", ["top_n=5,10", "sector_neutral=true,no",
                                        "inputs=auto"]) == {
        "top_n": [5, 10], "sector_neutral": [True, False], "inputs": ["auto"]}
    assert parse_grid("rsi_reversion", ["entry = 25, 30"]) == {"entry": [25.0, 30.0]}
    assert parse_grid("ma_trend", []) == {}
    with pytest.raises(ConfigError, match="'x' is not a whole number"):
        parse_grid("ma_trend", ["fast=5,x"])
    with pytest.raises(ConfigError, match="'low' is not a number"):
        parse_grid("rsi_reversion", ["entry=low"])
    with pytest.raises(ConfigError, match="'maybe' is not true or false"):
        parse_grid("value_quality", ["sector_neutral=maybe"])
    with pytest.raises(ConfigError, match="did you mean 'fast'"):
        parse_grid("ma_trend", ["fats=5"])
    with pytest.raises(ConfigError, match="write NAME=V1,V2"):
        parse_grid("ma_trend", ["fast"])
    with pytest.raises(ConfigError, match="is given twice"):
        parse_grid("ma_trend", ["fast=5", "fast=10"])
    with pytest.raises(LookupFailed):
        parse_grid("ma_trnd", ["fast=5"])


def test_parse_costs_and_split():
    assert parse_costs("1") == (1.0,) and parse_costs("0.5,1,2") == (0.5, 1.0, 2.0)
    with pytest.raises(ConfigError, match=r"write cost multipliers such as 1 or 0\.5,1,2"):
        parse_costs("1,double")
    assert parse_split(None) == Split()
    split = parse_split("2024-01-02")
    assert split.in_sample_end == pd.Timestamp("2024-01-01")
    assert split.out_of_sample_start == pd.Timestamp("2024-01-02")
    with pytest.raises(ConfigError, match="is not a date"):
        parse_split("soon")


def test_exit_code_is_1_when_any_job_failed():
    assert main_exit_code([]) == 0
    assert main_exit_code([True, True]) == 0
    assert main_exit_code([True, False, True]) == 1


def test_unknown_strategy_on_the_command_line_is_a_clear_error(capsys):
    code = main(["recommend", "--strategy", "momentun", "--top", "3"])
    err = capsys.readouterr().err
    assert code != 0
    assert "did you mean 'momentum'" in err
