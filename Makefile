# assure: two set-up commands on a fresh machine, `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
ASSURE := $(VENV)/bin/assure
# The first Python >= 3.11 found on the PATH builds the virtual environment.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then \
	command -v $$p; break; fi; done)

HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help python venv install install-test install-dev run demo test test-fast check lint format \
	typecheck contracts messages static assets bench clean openapi

help:
	@echo "make run    install, migrate, load demo data and serve http://$(HOST):$(PORT)"
	@echo "make test   install the test dependencies and run the whole suite"
	@echo "make check  formatter, linter, type checker, import contracts and tests"

python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "assure needs Python 3.11 or newer: install python3.11, 3.12 or 3.13 and retry." >&2; exit 1; fi

$(VENV)/.created: | python
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	@touch $@

venv: $(VENV)/.created

$(VENV)/.installed: pyproject.toml $(VENV)/.created
	$(PIP) install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.created
	$(PIP) install --quiet -e '.[test]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.created
	$(PIP) install --quiet -e '.[test,dev]'
	@touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-dev: $(VENV)/.installed-dev

# Translation catalogues are compiled with Babel: a fresh machine has no GNU gettext.
messages: $(VENV)/.created
	@for po in $$(find assure -name django.po -path '*/locale/*'); do \
		$(VENV)/bin/pybabel compile --use-fuzzy -i $$po -o $${po%.po}.mo >/dev/null || exit 1; done

run: install messages
	ASSURE_DEMO=1 $(ASSURE) collectstatic --noinput --verbosity 0
	ASSURE_DEMO=1 $(ASSURE) migrate --noinput --verbosity 0
	ASSURE_DEMO=1 $(ASSURE) demo-data --if-empty
	ASSURE_DEMO=1 $(ASSURE) serve --host $(HOST) --port $(PORT)

test: install-test messages
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-fast: install-test messages
	$(VENV)/bin/pytest -m "not e2e and not system" $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: install-dev
	$(VENV)/bin/mypy assure

contracts: install-dev
	$(VENV)/bin/lint-imports

check: lint typecheck contracts test

# Regenerates docs/openapi.json, the API contract that tests/api/test_openapi_contract.py guards.
openapi: install
	$(ASSURE) openapi

# Rebuilds the committed CSS from GOV.UK Frontend's Sass with the fund's theme (needs Node.js).
assets:
	cd frontend && npm ci --no-audit --no-fund && npm run build

bench: install-test
	@echo "See bench/README.md: benchmarks are run by hand, one at a time."

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
