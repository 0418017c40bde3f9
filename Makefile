# Two entry points: `make run` and `make test`. Everything else is a helper of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= $(or $(AIOPS_PORT),8000)

.PHONY: install run test lint typecheck pytest services lock bench-api clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start the service on its embedded defaults (SQLite, in-process Redis), with the demo tenant.
run: $(STAMP)
	AIOPS_PORT=$(PORT) $(BIN)/aiops serve --migrate --seed-demo

## Lint, type-check and run the whole suite against PostgreSQL and SQLite, real Redis.
test: $(STAMP) services lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) services
	$(BIN)/pytest

services:
	@$(PYTHON) .ci/ensure_services.py

## Re-resolve the pinned dependency set after changing pyproject.toml.
lock:
	rm -rf /tmp/aiops-lock-venv && $(PYTHON) -m venv /tmp/aiops-lock-venv
	/tmp/aiops-lock-venv/bin/python -m pip install --quiet --upgrade pip
	/tmp/aiops-lock-venv/bin/python -m pip install --quiet -e '.[dev]'
	/tmp/aiops-lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock
	rm -rf /tmp/aiops-lock-venv

bench-api: $(STAMP)
	$(BIN)/python bench/api_latency.py

clean:
	rm -rf $(VENV) .aiops .mypy_cache .ruff_cache .pytest_cache
