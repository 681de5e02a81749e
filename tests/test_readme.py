"""The README's tour runs as written: a stale example is a failing test."""

import re

from conftest import REPO


def test_readme_tour_runs():
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), re.S)
    tour = blocks[0]
    assert "run_backtest" in tour
    namespace: dict = {}
    exec(compile(tour, "README.md", "exec"), namespace)
    assert namespace["result"].metrics()["n_periods"] > 2000
    assert namespace["risky"].risk_summary()["enabled"]
