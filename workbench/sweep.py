"""Parameter sweeps and walk-forward runs on Dask, from one laptop to a cluster.

The names live in :mod:`workbench.research.sweep` (the sweep), :mod:`workbench.research.cluster`
(where it runs) and :mod:`workbench.research.store` (its checkpoint); this module keeps
``workbench.sweep.run`` and friends working. The command line's ``--grid``, ``--costs`` and
``--split`` parsers are in :mod:`workbench.cli`.
"""

from workbench.research.cluster import local_client
from workbench.research.sweep import MODES, SweepResult, run

__all__ = ["MODES", "SweepResult", "local_client", "run"]
