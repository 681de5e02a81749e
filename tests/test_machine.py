"""The machine: usable cores, and numpy's huge-page advice turned off unless the user chose."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from workbench.machine import HUGE_PAGES_VARIABLE, usable_cores

PROBE = """
import os, subprocess, sys
from workbench.machine import numpy_huge_pages, prefer_small_pages
before = numpy_huge_pages()
off = prefer_small_pages()
child = subprocess.run([sys.executable, "-c", "from workbench.machine import numpy_huge_pages;"
                        "print(numpy_huge_pages())"], capture_output=True, text=True, check=True)
print(before, off, numpy_huge_pages(), os.environ.get("NUMPY_MADVISE_HUGEPAGE"),
      child.stdout.strip())
"""


def probe(code: str, value: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != HUGE_PAGES_VARIABLE}
    if value is not None:
        env[HUGE_PAGES_VARIABLE] = value
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    return out.stdout.split()


def test_usable_cores_is_what_the_process_may_run_on():
    assert 1 <= usable_cores() <= (os.cpu_count() or 1)
    if hasattr(os, "sched_getaffinity"):
        assert usable_cores() == len(os.sched_getaffinity(0))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="numpy advises huge pages "
                    "on Linux only")
def test_small_pages_here_and_in_child_processes_unless_the_user_chose():
    _, off, now, variable, child = probe(PROBE, None)  # numpy's default: by kernel
    assert (off, now, variable, child) == ("True", "False", "0", "False")
    # the user's choice stands, either way
    assert probe(PROBE, "1")[1:] == ["False", "True", "1", "True"]
    assert probe(PROBE, "0") == ["False", "True", "False", "0", "False"]


def test_the_command_line_prefers_small_pages_first():
    code = ("import os\nfrom workbench.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\nprint(os.environ.get('NUMPY_MADVISE_HUGEPAGE'))")
    assert probe(code, None)[-1] == "0"
    assert probe(code, "1")[-1] == "1"
