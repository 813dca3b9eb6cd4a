# Developer entry points. Every target works from a fresh clone: `make test` builds the venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv lint typecheck test demo bench

venv: $(STAMP)

# The stamp is newer than pyproject.toml once the install succeeded, so editing the
# dependencies (and only that) triggers a reinstall.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check src tests bench

typecheck: venv
	$(BIN)/mypy

test: venv lint typecheck
	$(BIN)/pytest tests

demo: venv
	$(BIN)/relevo demo

bench: venv
	$(BIN)/python bench/ingest.py
