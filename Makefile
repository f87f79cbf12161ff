# Every target bootstraps what it needs from a machine that has only python3.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/.venv
UV_VERSION := 0.13.9
TOOLS := $(CURDIR)/.tools
UV := $(TOOLS)/bin/uv
PY := $(CURDIR)/.venv/bin/python
RUN := $(CURDIR)/.venv/bin
GENERATED_RUFF := --isolated --line-length 120 --target-version py311

.PHONY: help demo test lint types drift upstream conformance unit regen bench clean

help:
	@echo "make demo   - regenerate if needed, run the reference provider, make images, write demo-output/index.html"
	@echo "make test   - lint, types, drift checks (generated tree, upstream SDK) and tests"
	@echo "make regen  - compile spec/ into generated_client/"
	@echo "make bench  - benchmarks (see BENCHMARKS.md)"

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) pyproject.toml uv.lock generated_client/pyproject.toml
	$(UV) sync --locked --quiet
	@touch $@

bootstrap: .venv/.synced

demo: .venv/.synced
	$(RUN)/imagewire regen
	$(UV) lock --offline --quiet
	$(PY) scripts/demo.py

# a regeneration may bump the client's version: the lock records it (offline, the workspace member only)
regen: .venv/.synced
	$(RUN)/imagewire regen

lint: .venv/.synced
	$(RUN)/ruff check imagewire generator tests scripts
	$(RUN)/ruff format --check imagewire generator tests scripts
	$(RUN)/ruff check $(GENERATED_RUFF) --select F,I,UP generated_client
	$(RUN)/ruff format --check $(GENERATED_RUFF) generated_client

types: .venv/.synced
	$(RUN)/mypy

drift: .venv/.synced
	$(RUN)/imagewire regen --check

# spec/ against the locked openai SDK's image types: a dependency bump that brings new upstream fields fails here
upstream: .venv/.synced
	$(RUN)/imagewire drift

# recorded traffic against the contract, then every persona of the reference provider probed live
conformance: .venv/.synced
	$(RUN)/imagewire check --replay tests/recordings --quiet
	$(PY) scripts/check_personas.py

unit: .venv/.synced
	$(RUN)/pytest -q

test: lint types drift upstream conformance unit

bench: .venv/.synced
	$(PY) scripts/bench_regen.py
	$(PY) scripts/bench_checks.py
	$(PY) scripts/bench_client.py
	$(PY) scripts/bench_validate.py
	$(PY) scripts/bench_batch.py

clean:
	rm -rf .venv $(TOOLS) .mypy_cache .ruff_cache .pytest_cache demo-output
