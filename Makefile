# Two commands set everything up on a fresh machine with Python 3.11 and make:
#   make demo   create .venv, install, run the main job on the synthetic demo data
#   make test   create/update .venv with dev extras, run the whole test suite (notebooks included)
# .ci/run calls `make test` and nothing cleverer.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
OUT    ?= outputs/demo

# Real data for the tests: the shared mirror beside the checkout, unless the caller set one.
ICSRESEARCH_MIRROR ?= $(if $(wildcard ../shared/data/sources.csv),$(abspath ../shared/data),)
export ICSRESEARCH_MIRROR

.PHONY: demo test lab install install-dev lint bench clean help

help:
	@echo "make demo   - create .venv, install, run the main job on synthetic demo data"
	@echo "make test   - install dev extras and run the whole test suite"
	@echo "make lab    - start JupyterLab on the project's kernel"
	@echo "make lint   - ruff"
	@echo "make bench  - run the benchmarks in bench/ (slow)"

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name icsresearch --display-name "Python (icsresearch)" >/dev/null
	touch $@

$(DEV_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

demo: $(STAMP)
	$(BIN)/icsresearch demo --out $(OUT)

# The last lines of the output count the skipped tests by reason (tests/conftest.py), e.g. how
# many real-data tests did not run because ICSRESEARCH_MIRROR is unset.
test: $(DEV_STAMP)
	$(BIN)/python -m pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# JupyterLab refuses to run as root unless told; containers and CI machines often are root.
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --LabApp.default_url=/lab/tree/01-getting-started.ipynb \
		--MappingKernelManager.default_kernel_name=icsresearch $(LAB_FLAGS)

bench: $(DEV_STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) outputs .pytest_cache
