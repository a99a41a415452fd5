# The README's commands. Each target installs what it needs first, so each is one command on a
# fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NATIVE := $(VENV)/.compiled
# the modules setup.py compiles with mypyc: rebuilt whenever one of them (or the list) changes
NATIVE_SOURCES := setup.py $(addprefix services/,$(shell grep -oE '"conveyor/[a-z_/]+[.]py"' setup.py | tr -d '"'))

.DEFAULT_GOAL := help
.PHONY: help setup demo test chaos lint format bench clean

help: ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

setup: $(NATIVE) ## Create .venv, install conveyor and the reference pipeline, compile the hot path

# Both distributions, editable: the library (pyproject.toml) and the reference pipeline
# (services/pyproject.toml) with the tools the tests and lint use.
$(STAMP): pyproject.toml services/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel
	CONVEYOR_COMPILE=0 $(BIN)/pip install --quiet -e '.[console]' -e './services[test]'
	touch $(STAMP)

$(NATIVE): $(STAMP) $(NATIVE_SOURCES)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(NATIVE)

demo: setup ## Run the whole pipeline end to end on a local broker (conveyor demo --help)
	$(BIN)/conveyor demo

test: setup ## Run the tests (starts a local Kafka and PostgreSQL unless told where they are)
	@if [ -z "$$CONVEYOR_TEST_POSTGRES_DSN" ]; then \
	  pg_env="$$(bash deploy/postgres/start-local.sh)" || echo "PostgreSQL tests will skip" >&2; \
	fi; eval "$$pg_env"; $(BIN)/pytest

chaos: setup ## Run the chaos suite (full mode): faults on a local 3-node cluster, then its checks
	$(BIN)/python -m tests.chaos --full

lint: setup ## ruff (lint + format check), mypy --strict and the schema compatibility check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/conveyor schemas check

format: setup ## Apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## Run the benchmarks in bench/ and write bench/results/
	$(BIN)/python -m bench

clean: ## Remove the virtualenv, caches and compiled modules
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
	find services -name '*.so' -delete
