# Developer entry points. Every target works from a fresh clone: `make test` builds the venv.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The browser tests drive Debian's chromium through Playwright: never a browser download.
CHROMIUM ?= /usr/bin/chromium
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

.PHONY: venv lint typecheck test demo bench chromium

venv: $(STAMP)

# The stamp is newer than pyproject.toml once the install succeeded, so editing the
# dependencies (and only that) triggers a reinstall.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check src tests bench

typecheck: venv
	$(BIN)/mypy

# Installs Debian's chromium (and a font) when it is missing; needs root, as on CI. Not when
# RELEVO_CHROMIUM names another binary, nor for a developer who opted out of the browser tests.
chromium:
	@if [ ! -x "$(CHROMIUM)" ] && [ -z "$$RELEVO_CHROMIUM" ] && \
		{ [ "$$RELEVO_SKIP_BROWSER_TESTS" != 1 ] || [ -n "$$CI" ]; }; then \
		echo "Installing Debian's chromium for the browser tests (apt-get)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq >/dev/null && \
		apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null || \
		{ echo "Could not install chromium: the browser tests will fail" >&2; exit 1; }; \
	fi

# The tests run on every core (pytest-xdist); each worker has its own databases and servers.
test: venv lint typecheck chromium
	$(BIN)/pytest -n auto tests

demo: venv
	$(BIN)/relevo demo

# Every benchmark in one go (< 10 min on 2 CPUs; see bench/README.md). PostgreSQL joins the
# ingest benchmark only when pg_isready answers for RELEVO_BENCH_POSTGRES_URL.
bench: RELEVO_BENCH_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
bench: venv
	$(BIN)/pip install -q -e '.[dev,bench]'
	@if pg_isready -q -d '$(RELEVO_BENCH_POSTGRES_URL)' >/dev/null 2>&1; then \
		echo "PostgreSQL ready: RELEVO_BENCH_POSTGRES_URL=$(RELEVO_BENCH_POSTGRES_URL)"; \
		RELEVO_BENCH_POSTGRES_URL='$(RELEVO_BENCH_POSTGRES_URL)' $(BIN)/python bench/run_all.py; \
	else \
		echo "PostgreSQL not ready (pg_isready): the PostgreSQL ingest run is skipped"; \
		env -u RELEVO_BENCH_POSTGRES_URL $(BIN)/python bench/run_all.py; \
	fi
