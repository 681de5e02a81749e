"""workbench.research.sweep: a real two-worker Dask cluster gives the serial rows bit for bit;
a bad grid fails before any task; failures are recorded; resume skips finished rows; the
market is shipped once (or loaded once per worker from a path); row ids are stable."""

from __future__ import annotations

import pickle
import time

import numpy as np
import pandas as pd
import pytest
from distributed import Client, Future, LocalCluster, get_task_stream
from test_summary import assert_reads_well

import workbench
from workbench import research
from workbench import sweep as legacy_sweep
from workbench.cli import main
from workbench.data.market import Market
from workbench.data.store import save_market
from workbench.data.synthetic import SyntheticConfig, synthetic_market
from workbench.errors import ConfigError, LookupFailed
from workbench.report.figures import sweep as sweep_figures
from workbench.research import cluster, search, sweep
from workbench.research.periods import Split, WalkForward
from workbench.research.trials import METRIC_COLUMNS, Trial, result_metrics, trial_results

SPLIT = Split(in_sample_end="2021-06-30", out_of_sample_start="2021-07-01")
GRID = {"fast": [5, 10], "slow": [30, 60]}
COSTS = (1.0, 2.0)


@pytest.fixture(scope="module")
def market() -> Market:
    return synthetic_market(SyntheticConfig(n_stocks=30, start="2019-01-02", end="2022-06-30",
                                            seed=5))


@pytest.fixture(scope="module")
def client():
    # a random dashboard port: other clusters may be running on this machine
    with (LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                       dashboard_address=":0") as cluster,
          Client(cluster) as c):
        yield c


@pytest.fixture(scope="module")
def serial(market) -> sweep.SweepResult:
    return sweep.run(market, "ma_trend", GRID, periods=SPLIT, costs=COSTS, client="serial")


def _trial_tasks(stream) -> int:
    return sum(1 for t in stream.data if str(t["key"]).startswith("trial-"))


def _held(client, prefixes: tuple[str, ...], wait_s: float = 10.0) -> list[str]:
    """Keys with these prefixes the cluster still holds, once releases have arrived."""
    deadline = time.monotonic() + wait_s
    while True:
        held = [str(k) for k in client.who_has() if str(k).startswith(prefixes)]
        if not held or time.monotonic() > deadline:
            return held
        time.sleep(0.1)


# -- the same numbers everywhere ----------------------------------------------------------------
def test_cluster_rows_equal_the_serial_rows_bit_for_bit(market, client, serial):
    on_dask = sweep.run(market, "ma_trend", GRID, periods=SPLIT, costs=COSTS, client=client)
    assert on_dask.stats["executor"] == "dask" and on_dask.stats["workers"] == 2
    assert serial.stats["executor"] == "serial"
    pd.testing.assert_frame_equal(on_dask.table, serial.table, check_exact=True)
    pd.testing.assert_frame_equal(on_dask.chosen, serial.chosen, check_exact=True)
    assert on_dask.deflated_sharpe == serial.deflated_sharpe
    assert on_dask.out_of_sample == serial.out_of_sample
    assert len(serial.table) == 8 and serial.table["error"].isna().all()
    assert serial.table.index.is_unique


def test_the_split_sweep_is_the_grid_search(market, serial):
    found = search.grid_search(market, "ma_trend", GRID, split=SPLIT)
    assert serial.best_params == found.best_params and serial.n_trials == found.n_trials == 4
    assert serial.in_sample == found.in_sample
    assert serial.out_of_sample == found.out_of_sample
    assert serial.deflated_sharpe == found.deflated_sharpe
    at_base = serial.table.loc[serial.table["cost_multiplier"] == 1.0]
    for k in METRIC_COLUMNS:
        assert at_base[f"is_{k}"].tolist() == found.table[k].tolist(), k
    # doubled costs never raise final equity
    wide = serial.table.pivot_table(index="params_json", columns="cost_multiplier",
                                    values="oos_final_equity_cny")
    assert (wide[2.0] < wide[1.0]).all()
    assert list(serial.cost_table().index) == [1.0, 2.0]


def test_the_summary_is_raw_for_code_and_formatted_for_people(market, serial):
    split = serial.summary()
    assert split.loc["total_return", "out_of_sample"] == serial.out_of_sample["total_return"]
    rows = {r[0]: r[1:] for r in assert_reads_well(split).frame.values.tolist()}
    assert rows["Start"] == ["2019-01-02", "2021-07-01"]
    assert rows["Total return (%)"][1] == f"{serial.out_of_sample['total_return']:+.2%}"
    scheme = WalkForward(train_years=1, test_months=6)
    walked = sweep.run(market, "ma_trend", {"fast": [5, 10]}, periods=scheme, client="serial")
    windows = walked.summary()
    pd.testing.assert_frame_equal(pd.DataFrame(windows), walked.windows.join(walked.chosen))
    table = assert_reads_well(windows)
    assert len(table) == len(walked.chosen) and "Parameters" in table.frame.columns
    starts = [d.strftime("%Y-%m-%d") for d in walked.windows["out_of_sample_start"]]
    assert table.frame["Out-of-sample start"].tolist() == starts
    assert not any(rid in str(windows) for rid in walked.chosen["row_id"])  # no hash IDs


def test_rerun_rebuilds_any_row(serial):
    rid = serial.table.index[-1]
    row = serial.table.loc[rid]
    for period, prefix in (("in_sample", "is_"), ("out_of_sample", "oos_")):
        again = result_metrics(serial.rerun(rid, period))
        assert again["sharpe_ratio"] == row[f"{prefix}sharpe_ratio"]
        assert again["n_trades"] == row[f"{prefix}n_trades"]
    with pytest.raises(LookupFailed, match="no row 'nope'"):
        serial.rerun("nope")


def test_walk_forward_mode_is_evaluation_walk_forward(market, client):
    scheme = WalkForward(train_years=1, test_months=6)
    on_dask = sweep.run(market, "ma_trend", {"fast": [5, 10]}, periods=scheme, client=client)
    alone = search.walk_forward(market, "ma_trend", {"fast": [5, 10]}, scheme=scheme)
    assert on_dask.mode == "walk_forward" and len(on_dask.table) == 2 * len(alone.windows)
    assert on_dask.chosen["params"].tolist() == alone.windows["params"].tolist()
    pd.testing.assert_series_equal(on_dask.returns, alone.returns, check_exact=True)
    assert on_dask.out_of_sample["n_trades"] == alone.out_of_sample["n_trades"]


# -- before anything runs -----------------------------------------------------------------------
def test_a_bad_grid_fails_before_any_task_runs(client, capsys):
    with get_task_stream(client) as stream:
        with pytest.raises(ConfigError, match="no parameter 'window' to search over"):
            sweep.run(None, "ma_trend", {"window": [5]}, client=client)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match=r"fast \(20\) must be shorter than slow"):
            sweep.run(None, "ma_trend", {"fast": [20], "slow": [10]},  # type: ignore[arg-type]
                      client=client)
    assert stream.data == []
    # client=None would start a cluster (and print its dashboard link): none was started
    with pytest.raises(ConfigError, match="unknown objective 'sharp'"):
        sweep.run(None, "ma_trend", GRID, objective="sharp")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cost multiplier must be a finite number >= 0"):
        sweep.run(None, "ma_trend", GRID, costs=(1.0, -1.0))  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="client must be None"):
        sweep.run(None, "ma_trend", GRID, client=42)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown mode 'walkforward'"):
        sweep.run(None, "ma_trend", GRID, mode="walkforward")  # type: ignore[arg-type]
    assert "dashboard" not in capsys.readouterr().out


# -- failures, resume, shipping -----------------------------------------------------------------
def test_a_failing_combination_is_recorded_and_the_others_finish(market, client, tmp_path):
    no_reports = Market(bars=market.bars, securities=market.securities,
                        fundamentals=market.fundamentals.iloc[:0],
                        st_periods=market.st_periods, benchmark=market.benchmark)
    grid = {"inputs": ["statements", "ratios"], "top_n": [5]}
    out = tmp_path / "value_quality.parquet"
    result = sweep.run(no_reports, "value_quality", grid, periods=SPLIT, client=client, out=out)
    failed = result.failed
    assert len(failed) == 1 and failed["inputs"].item() == "statements"
    assert failed["error"].item().startswith("DataError: value_quality: the market has no "
                                             "statements")
    assert failed[["is_sharpe_ratio", "oos_final_equity_cny"]].isna().all(axis=None)
    ok = result.table.loc[result.table["error"].isna()]
    assert len(ok) == 1 and np.isfinite(ok["is_sharpe_ratio"].item())
    assert result.best_params == {"inputs": "ratios", "top_n": 5}
    assert result.stats["failed"] == 1 and "1 failed" in repr(result)
    # a resumed sweep runs the failed row again (its error may have been passing)
    again = sweep.run(no_reports, "value_quality", grid, periods=SPLIT, client=client, out=out)
    assert again.stats["resumed"] == 1 and again.stats["tasks_run"] == 1
    pd.testing.assert_frame_equal(again.table, result.table, check_exact=True)


def test_resume_runs_only_the_unfinished_rows(market, client, serial, tmp_path):
    out = tmp_path / "sweeps" / "ma_trend.parquet"
    with get_task_stream(client) as first:
        part = sweep.run(market, "ma_trend", {"fast": [5], "slow": [30, 60]}, periods=SPLIT,
                         client=client, out=out)
    assert _trial_tasks(first) == 2 and part.stats["tasks_run"] == 2 and out.is_file()
    with get_task_stream(client) as second:
        full = sweep.run(market, "ma_trend", GRID, periods=SPLIT, client=client, out=out)
    assert _trial_tasks(second) == 2 and full.stats["resumed"] == 2
    at_base = serial.table.loc[serial.table["cost_multiplier"] == 1.0]
    pd.testing.assert_frame_equal(full.table, at_base, check_exact=True)
    with get_task_stream(client) as third:
        again = sweep.run(market, "ma_trend", GRID, periods=SPLIT, client=client, out=out)
    assert _trial_tasks(third) == 0 and again.stats["tasks_run"] == 0
    pd.testing.assert_frame_equal(again.table, at_base, check_exact=True)
    other = synthetic_market(SyntheticConfig(n_stocks=15, start="2019-01-02",
                                             end="2022-06-30", seed=6))
    with pytest.raises(ConfigError, match="holds a sweep of other data"):
        sweep.run(other, "ma_trend", GRID, periods=SPLIT, client="serial", out=out)


def test_the_market_is_shipped_once_and_tasks_carry_a_reference(market, client,
                                                                monkeypatch):
    scattered, submitted, holders = [], [], []
    scatter, submit = client.scatter, client.submit

    def spy_scatter(data, **kw):
        scattered.append((data, kw))
        return scatter(data, **kw)

    def spy_submit(func, *args, **kw):
        if not submitted:
            holders.append(client.who_has(args[0])[args[0].key])
        submitted.append(args)
        return submit(func, *args, **kw)

    monkeypatch.setattr(client, "scatter", spy_scatter)
    monkeypatch.setattr(client, "submit", spy_submit)
    result = sweep.run(market, "ma_trend", GRID, periods=SPLIT, costs=COSTS, client=client)
    assert len(scattered) == 1
    data, kw = scattered[0]
    assert isinstance(data, Market) and kw["broadcast"] is True
    assert len(holders[0]) == 2  # on both workers before the first task
    assert len(submitted) == len(result.table) == 8
    market_bytes = len(pickle.dumps(data))
    for args in submitted:
        assert isinstance(args[0], Future) and args[0].key == scattered_key(result)
        assert not any(isinstance(a, Market) for a in args)
        assert len(pickle.dumps(args)) < 4_000 < market_bytes // 100
    assert result.stats["task_bytes"] < 4_000


def scattered_key(result: sweep.SweepResult) -> str:
    return result.stats["market"].split("(")[1].rstrip(")")


def test_a_path_market_is_loaded_once_by_each_worker(market, client, serial, tmp_path):
    folder = save_market(market, tmp_path / "market")
    with get_task_stream(client) as stream:
        result = sweep.run(str(folder), "ma_trend", GRID, periods=SPLIT, costs=COSTS,
                           client=client)
    assert result.stats["market"].startswith("loaded by each worker")
    pd.testing.assert_frame_equal(result.table, serial.table, check_exact=True)
    loads = [t for t in stream.data if str(t["key"]).startswith("market-")]
    assert len(loads) == 2 and {t["worker"] for t in loads} == set(client.nthreads())
    assert _trial_tasks(stream) == 8
    # the loaded markets are the sweep's Dask results: released when it ends, not memoised
    assert _held(client, ("market-", "trial-")) == []
    with get_task_stream(client) as again:
        sweep.run(str(folder), "ma_trend", {"fast": [5]}, periods=SPLIT, client=client)
    assert sum(1 for t in again.data if str(t["key"]).startswith("market-")) == 2


def test_a_market_the_workers_cannot_load_is_recorded_for_every_task(client, tmp_path):
    trial = Trial(strategy="ma_trend", params={}, in_sample=(None, None))
    stats: dict = {}
    rows = dict(cluster.run_on_dask(client, trial_results, str(tmp_path / "nowhere"),
                                    [("a", trial), ("b", trial)], workbench.BacktestConfig(),
                                    retries=0, stats=stats, lost=lambda e: type(e).__name__))
    assert rows == {"a": "DataError", "b": "DataError"}
    assert stats["workers"] == 2 and stats["market"].startswith("loaded by each worker")


@pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")  # distributed's
def test_no_client_starts_a_local_cluster_and_prints_its_dashboard(market, capsys):
    result = sweep.run(market, "ma_trend", {"fast": [5]}, periods=SPLIT, n_workers=1)
    assert result.stats["executor"] == "dask" and result.stats["workers"] == 1
    assert "Dask dashboard: http" in capsys.readouterr().out


# -- row identity -------------------------------------------------------------------------------
def test_row_ids_and_params_json_are_stable_for_typical_parameters():
    # the ids of rows written by earlier versions: a resumed sweep must find them, under
    # the config they ran with (limit-blocked orders dropped, as before limit_orders; buys
    # floored to lots, as before lot_rounding; dividends reinvested, the default before
    # they were booked as cash)
    old = workbench.BacktestConfig(limit_orders="drop", lot_rounding="floor",
                                   corporate_actions="reinvest")
    carried = workbench.BacktestConfig(lot_rounding="floor", corporate_actions="reinvest")
    trial = Trial(strategy="ma_trend", params={"fast": 5, "slow": 30}, cost_multiplier=2.0,
                  in_sample=(None, pd.Timestamp("2021-06-30")),
                  out_of_sample=(pd.Timestamp("2021-07-01"), None))
    assert sweep.row_id(trial, old) == "dd8590dc309a59af"
    assert sweep.row_id(trial, carried) == "62718459a515ed21"
    assert sweep.row_id(trial, workbench.BacktestConfig()) == "eaa5233b36d44ec6"
    typed = Trial(strategy="value_quality", in_sample=trial.in_sample,
                  out_of_sample=trial.out_of_sample,
                  params={"top_n": np.int64(5), "sector_neutral": np.bool_(True),
                          "inputs": "ratios"})
    assert sweep.row_id(typed, old) == "1fe040b7fe87e1ce"
    assert sweep.row_id(typed, carried) == "f02390e61b6e2188"
    assert sweep.row_id(typed, workbench.BacktestConfig()) == "f5e334b1d0913704"
    assert sweep.params_json({"exit": 50.0, "entry": np.float64(25.0), "inputs": "财报"}) == (
        '{"entry": 25.0, "exit": 50.0, "inputs": "财报"}')
    assert sweep.row_id(trial, workbench.BacktestConfig(capital_cny=2e6)) != sweep.row_id(
        trial, workbench.BacktestConfig())


def test_the_old_module_keeps_its_names():
    assert legacy_sweep.run is sweep.run and legacy_sweep.SweepResult is sweep.SweepResult
    assert legacy_sweep.local_client is workbench.research.local_client


# -- the command line and the figures -----------------------------------------------------------
def test_cli_sweep_writes_the_table(market, tmp_path, capsys):
    folder = save_market(market, tmp_path / "market")
    out = tmp_path / "ma_trend.parquet"
    code = main(["sweep", "--strategy", "ma_trend", "--grid", "fast=5,10", "--grid",
                 "slow=30", "--split", "2021-07-01", "--market", str(folder), "--serial",
                 "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "<SweepResult ma_trend (split)" in printed.out and "2 combinations" in printed.out
    assert len(pd.read_parquet(out)) == 2
    assert main(["sweep", "--strategy", "ma_trend", "--grid", "fats=5", "--serial"]) == 2
    assert "did you mean 'fast'" in capsys.readouterr().err


def test_sweep_figures(serial, market):
    heat = sweep_figures.sweep_heatmap_figure(serial, colors="cn")
    data = sweep_figures.heatmap_data(serial, "fast", "slow")
    assert heat.data[0].z.tolist() == data.to_numpy().tolist()
    assert [t.name for t in heat.data].count("chosen") == 2
    pick = serial.table.loc[serial.best_row_id]
    assert data.loc[pick["slow"], pick["fast"]] == pick["is_sharpe_ratio"]
    scatter = sweep_figures.sweep_scatter_figure(serial)
    assert "4 combinations tried" in scatter.layout.title.text
    assert len(scatter.data[2].x) == 1  # the pick
    equity = sweep_figures.sweep_equity_data(serial)
    assert equity["in_sample"].iloc[0] == pytest.approx(1.0, abs=0.01)
    last_in = equity["in_sample"].dropna().iloc[-1]
    oos = serial.out_of_sample_result.daily["equity_cny"] / 1e6 * last_in
    np.testing.assert_allclose(equity["out_of_sample"].dropna().to_numpy(), oos.to_numpy())
    assert len(sweep_figures.sweep_equity_figure(serial).data) == 3
    baseline = research.equal_weight_baseline(market, serial.config)
    with_base = sweep_figures.sweep_equity_data(serial, baseline)
    first = with_base["baseline"].first_valid_index()
    assert with_base.loc[first, "baseline"] == pytest.approx(
        baseline.daily.loc[first, "equity_cny"] / baseline.config.capital_cny)
    names = [t.name for t in sweep_figures.sweep_equity_figure(serial, baseline=baseline).data]
    assert "equal-weight buy and hold" in names and len(names) == 4
    with pytest.raises(ConfigError, match="not a parameter of this sweep"):
        sweep_figures.heatmap_data(serial, "max_names")
