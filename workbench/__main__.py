"""``python -m workbench``: see :mod:`workbench.cli`."""

from workbench.cli import MODULE_PROG, main

raise SystemExit(main(prog=MODULE_PROG))
