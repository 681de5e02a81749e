"""One progress display for the package: a bar over a known number of steps.

Where it is drawn (:func:`progress_target`):

* in a terminal, a :mod:`tqdm` bar on stderr (``tqdm.auto``, as papermill's cell progress);
* in a Jupyter kernel, one HTML output (a ``<progress>`` element and a line of text) updated
  in place. A widget bar (tqdm's notebook form) would show nothing once the notebook is saved
  and reopened, or rendered to HTML by a report run; this output keeps its last state;
* nowhere otherwise (logs, tests), unless asked for.

The parameter sweep (:func:`workbench.research.sweep.run`) is its user; the report runner
hands its own flag to papermill, which draws the same tqdm bar.
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Any, Literal

__all__ = ["Progress", "Target", "clock", "in_kernel", "progress_target"]

#: Where a bar is drawn.
Target = Literal["notebook", "terminal"]
_REDRAW_S = 0.2  # most redraws of the notebook bar per second: each one is a message


def in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel (an IPython ``ZMQInteractiveShell``)."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return get is not None and type(get()).__name__ == "ZMQInteractiveShell"


def progress_target(show: bool | None = None) -> Target | None:
    """Where a bar is drawn: ``"notebook"``, ``"terminal"`` or nowhere (None).

    Parameters
    ----------
    show
        False: nowhere. None (default): in a Jupyter kernel, or on stderr when it is a
        terminal. True: as for None, and on stderr even when it is not a terminal.

    Examples
    --------
    >>> progress_target(False) is None
    True
    """
    if show is False:
        return None
    if in_kernel():
        return "notebook"
    tty = sys.stderr is not None and sys.stderr.isatty()
    return "terminal" if tty or show else None


def clock(seconds: float) -> str:
    """A duration as ``M:SS``, or ``H:MM:SS`` from an hour on.

    Examples
    --------
    >>> clock(75.9), clock(3725)
    ('1:15', '1:02:05')
    """
    m, s = divmod(int(seconds), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


class Progress:
    """A progress bar over ``total`` steps, counting failed steps and steps done before.

    Use it as a context manager (or call :meth:`close`): the bar then shows its final state.

    Parameters
    ----------
    total
        Steps in all, those done before included.
    desc
        What is counted, shown first, e.g. ``"ma_trend sweep"``.
    unit
        Name of one step, e.g. ``"trial"`` (shown as ``3/8 trials``).
    resumed
        Steps already done before this run (e.g. read back from a checkpoint).
    show
        See :func:`progress_target`.

    Examples
    --------
    >>> with Progress(3, desc="demo", show=False) as bar:
    ...     for ok in (True, False, True):
    ...         bar.update(failed=not ok)
    >>> bar.done, bar.failed, bar.text()[:22]
    (3, 1, 'demo: 3/3 steps (1 fai')
    """

    def __init__(self, total: int, *, desc: str, unit: str = "step", resumed: int = 0,
                 show: bool | None = None) -> None:
        self.total, self.desc, self.unit = total, desc, unit
        self.done, self.resumed, self.failed = resumed, resumed, 0
        self.target = progress_target(show)
        self.started = self.shown = time.monotonic()
        self._handle: Any = None
        self._bar: Any = None
        if self.target == "notebook":
            from IPython.display import display  # optional: only inside a kernel

            self._handle = display(self._bundle(), raw=True, display_id=True)
        elif self.target == "terminal":
            from tqdm.auto import tqdm  # optional: only when a bar is drawn

            self._bar = tqdm(total=total, initial=resumed, desc=desc, unit=unit,
                             file=sys.stderr, mininterval=_REDRAW_S, dynamic_ncols=True)
            self._bar.set_postfix_str(self._notes(), refresh=True)

    def _notes(self) -> str:
        notes = [f"{self.resumed} resumed"] if self.resumed else []
        notes += [f"{self.failed} failed"] if self.failed else []
        return ", ".join(notes)

    def text(self) -> str:
        """The state in one line: steps done, resumed, failed, elapsed and left."""
        elapsed = time.monotonic() - self.started
        ran = self.done - self.resumed
        left = self.total - self.done
        eta = f", ~{clock(elapsed / ran * left)} left" if ran and left else ""
        notes = self._notes()
        return (f"{self.desc}: {self.done}/{self.total} {self.unit}s"
                f"{f' ({notes})' if notes else ''}, {clock(elapsed)} elapsed{eta}")

    def _bundle(self) -> dict[str, str]:
        text = self.text()
        bar = (f'<progress value="{self.done}" max="{max(self.total, 1)}" '
               f'style="width: 320px; vertical-align: middle"></progress> ')
        return {"text/plain": text, "text/html": f"<div>{bar}<code>{text}</code></div>"}

    def update(self, *, failed: bool = False) -> None:
        """Count one step done (``failed``: one that failed)."""
        self.done += 1
        self.failed += bool(failed)
        if self._bar is not None:
            if failed:
                self._bar.set_postfix_str(self._notes(), refresh=False)
            self._bar.update(1)
        elif self._handle is not None and (time.monotonic() - self.shown >= _REDRAW_S
                                           or self.done == self.total):
            self.shown = time.monotonic()
            self._handle.update(self._bundle(), raw=True)

    def close(self) -> None:
        """Draw the final state and release the display."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._handle is not None:
            self._handle.update(self._bundle(), raw=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
