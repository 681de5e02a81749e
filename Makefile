# Two commands for a fresh machine: `make report` and `make test`.
# Both create .venv if it is missing and install the package (editable, with its dev extra).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup test report lab data bench lint clean

# numpy without its huge-page advice unless you chose (workbench/machine.py says why); the
# kernels JupyterLab and the reports start inherit it.
export NUMPY_MADVISE_HUGEPAGE ?= 0

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

data: $(STAMP)
	$(BIN)/python -m workbench build-data

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# Runs reports/jobs.toml (a backtest report per bundled strategy, the comparison, the risk and
# data-quality reports) into reports/NAME/ and prints the path of reports/index.html.
report: data
	$(BIN)/python -m workbench report-all

# JupyterLab on the notebooks, with this environment's python3 kernel. Jupyter refuses to run
# as root without --allow-root, so it is passed only when the user is uid 0.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: data
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info
