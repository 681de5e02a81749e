"""workbench.research.cluster: where a sweep runs is checked before anything starts; serial
mode runs in process; an unreachable scheduler says how to start one. (The sweep's tests run
the Dask executor on a real two-worker cluster.)"""

from __future__ import annotations

import dask
import pytest

from workbench.config import BacktestConfig
from workbench.errors import ConfigError
from workbench.research.cluster import check_client, connect, run_serial


def test_check_client_refuses_what_is_not_a_place_to_run():
    for ok in (None, "local", "serial", "tcp://host:8786"):
        check_client(ok, None)
    check_client(None, 2)
    with pytest.raises(ConfigError, match="client must be None or 'local'"):
        check_client(42, None)
    with pytest.raises(ConfigError, match="n_workers must be a whole number >= 1"):
        check_client(None, 0)
    with pytest.raises(ConfigError, match="n_workers must be a whole number >= 1"):
        check_client(None, True)
    with pytest.raises(ConfigError, match="with client='tcp://host:8786' leave it out"):
        check_client("tcp://host:8786", 2)


def test_serial_runs_here_in_order_and_says_so(tiny):
    stats: dict = {}
    with connect("serial") as client:
        assert client is None
        rows = list(run_serial(lambda m, item, c: (m.name, item, c.capital_cny), tiny,
                               [("a", 1), ("b", 2)], BacktestConfig(), stats))
    assert rows == [("a", ("tiny", 1, 1e6)), ("b", ("tiny", 2, 1e6))]
    assert stats == {"executor": "serial", "workers": 1, "market": "in process"}


def test_an_unreachable_scheduler_says_how_to_start_one():
    with (dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
          pytest.raises(ConfigError, match=r"cannot reach the Dask scheduler at "
                                           r"'tcp://127.0.0.1:9'.*dask scheduler"),
          connect("tcp://127.0.0.1:9")):
        pass
