# The README's commands. Each target installs what it needs first, so each is one command on a
# fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup demo test lint format bench clean

help: ## List the commands
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-7s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv and install conveyor with its test tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: setup ## Run the whole pipeline end to end on a local broker (conveyor demo --help)
	$(BIN)/conveyor demo

test: setup ## Run the tests (starts a local Kafka and PostgreSQL unless told where they are)
	@if [ -z "$$CONVEYOR_TEST_POSTGRES_DSN" ]; then \
	  pg_env="$$(bash deploy/postgres/start-local.sh)" || echo "PostgreSQL tests will skip" >&2; \
	fi; eval "$$pg_env"; $(BIN)/pytest

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

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
