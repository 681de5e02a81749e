"""What this machine lets the workbench use, and how numpy should ask it for memory.

:func:`usable_cores` is the number of cores this process may run on. :func:`prefer_small_pages`
stops numpy from advising the kernel to back large arrays with transparent huge pages
(``madvise(MADV_HUGEPAGE)``), unless the user chose with numpy's own switch,
``NUMPY_MADVISE_HUGEPAGE``. The workbench's command line does it first thing, so its report
kernels, service workers and Dask workers start that way too.

Why: a huge page is 2 MiB that the kernel must find free and zero in one piece. On a virtual
machine whose host takes free memory back (free page reporting works on exactly such 2 MiB
blocks), every huge page a cold run faults in is memory the host must supply again. On the
project's 2-core Firecracker VM a cold ``ma_trend`` run on 3,000 stocks spent 0.12-0.77 s
of system time with numpy's advice and 0.06-0.08 s without (four pairs of fresh processes),
and was slower with it in 7 of 9 comparisons, by up to 0.7 s, while warm runs took the same
time either way (``benchmarks/bench_full_market.py`` prints both settings). Where huge pages
are cheap, leaving them off costs more, smaller page faults: about 51,000 instead of 18,000
in that cold run.
"""

from __future__ import annotations

import os

__all__ = ["HUGE_PAGES_VARIABLE", "numpy_huge_pages", "prefer_small_pages", "usable_cores"]

#: numpy's environment switch for its huge-page advice ("0" off, "1" on), read when numpy
#: is imported.
HUGE_PAGES_VARIABLE = "NUMPY_MADVISE_HUGEPAGE"

try:  # numpy >= 2
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy 1.26
    from numpy.core import multiarray as _multiarray  # type: ignore[no-redef]


def usable_cores() -> int:
    """The cores this process may run on: its CPU affinity where the system reports one,
    else :func:`os.cpu_count`; at least 1.

    Examples
    --------
    >>> usable_cores() >= 1
    True
    """
    if hasattr(os, "sched_getaffinity"):
        return max(len(os.sched_getaffinity(0)), 1)
    return max(os.cpu_count() or 1, 1)


def numpy_huge_pages() -> bool:
    """Whether numpy advises huge pages for the large arrays it allocates in this process."""
    return bool(_multiarray._get_madvise_hugepage())  # type: ignore[attr-defined]


def prefer_small_pages() -> bool:
    """Turn numpy's huge-page advice off here and in processes started from here, unless
    ``NUMPY_MADVISE_HUGEPAGE`` is already set (the user's choice stands).

    Sets ``NUMPY_MADVISE_HUGEPAGE=0`` in :data:`os.environ`, read by every numpy imported
    in a child process, and switches this process's numpy over at once. Only the kernel's
    page size for new large arrays changes: no result does.

    Returns
    -------
    bool
        Whether numpy's advice is now off in this process.
    """
    if HUGE_PAGES_VARIABLE not in os.environ:
        os.environ[HUGE_PAGES_VARIABLE] = "0"
        # what numpy itself calls with the variable's value when it is imported
        _multiarray._set_madvise_hugepage(False)  # type: ignore[attr-defined]
    return not numpy_huge_pages()
