"""workbench.progress: where the bar is drawn, tqdm in a terminal, an HTML output in a
notebook that keeps its last state, nothing otherwise."""

from __future__ import annotations

import IPython.display
import pytest

from workbench import progress
from workbench.progress import Progress, clock, progress_target


class _Handle:
    def __init__(self, sink: list) -> None:
        self.sink = sink

    def update(self, bundle: dict, raw: bool) -> None:
        self.sink.append(bundle)


def test_the_target_follows_the_flag_the_terminal_and_the_kernel(monkeypatch):
    assert progress_target(False) is None
    assert progress_target(None) is None  # pytest captures stderr: not a terminal
    assert progress_target(True) == "terminal"
    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    assert progress_target(None) == "notebook" and progress_target(False) is None


def test_counts_and_text_without_a_display():
    with Progress(5, desc="demo sweep", unit="trial", resumed=2, show=False) as bar:
        bar.update()
        bar.update(failed=True)
    assert (bar.done, bar.failed, bar.resumed, bar.target) == (4, 1, 2, None)
    assert bar.text().startswith("demo sweep: 4/5 trials (2 resumed, 1 failed), 0:0")
    assert "left" in bar.text()
    assert clock(59.9) == "0:59" and clock(3600) == "1:00:00"


def test_a_terminal_gets_a_tqdm_bar_on_stderr(capsys):
    with Progress(3, desc="demo sweep", unit="trial", resumed=1, show=True) as bar:
        bar.update()
        bar.update(failed=True)
    err = capsys.readouterr().err
    assert "demo sweep" in err and "3/3" in err and "1 resumed, 1 failed" in err
    assert err.endswith("\n")


def test_a_notebook_gets_one_html_output_updated_in_place(monkeypatch):
    shown: list = []
    updates: list = []

    def display(bundle, raw, display_id):
        assert raw and display_id
        shown.append(bundle)
        return _Handle(updates)

    monkeypatch.setattr(progress, "in_kernel", lambda: True)
    monkeypatch.setattr(IPython.display, "display", display)
    with Progress(2, desc="demo sweep", unit="trial") as bar:
        bar.update()
        bar.update(failed=True)
    assert len(shown) == 1 and '<progress value="0" max="2"' in shown[0]["text/html"]
    last = updates[-1]
    assert '<progress value="2" max="2"' in last["text/html"]
    assert last["text/plain"].startswith("demo sweep: 2/2 trials (1 failed)")


@pytest.mark.parametrize("show", [None, False])
def test_nothing_is_drawn_in_logs_and_tests(capsys, show):
    with Progress(2, desc="quiet", show=show) as bar:
        bar.update()
    assert capsys.readouterr() == ("", "")
