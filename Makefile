# Two entry points (see README): `make fit` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.rosetta-installed
PYTEST_ARGS ?=

.PHONY: setup fit test test-fast lint bench browser docs

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,jax,dask,docs]"
	touch $(STAMP)

setup: $(STAMP)

fit: $(STAMP)
	$(BIN)/rosetta fit --min-benchmarks 4 --since 2022-11-01 --out results/posterior.nc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The full suite: lint, fast tests and the slow (real-data, recovery) tests, on every core.
test: lint
	$(BIN)/python -m pytest -n auto --run-slow $(PYTEST_ARGS)

# Without the slow tests, on every core (pytest-xdist).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

# The documentation site into site/, any warning an error. It runs the notebooks and each
# command's examples; ROSETTA_DOCS_EXECUTE=false builds without running them (seconds).
# docs/jupyter_nbconvert_config.json encrypts the notebook kernel's connection (ipykernel warns
# otherwise); NO_MKDOCS_2_WARNING silences the theme's end-of-life banner.
docs: $(STAMP)
	JUPYTER_CONFIG_PATH=docs NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_fit.py

# Debian's Chromium for the report's browser test (skipped without it). Needs root and apt-get.
browser:
	command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
