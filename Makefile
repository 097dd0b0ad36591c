# The index of verbs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYTEST := $(PY) -m pytest
# The environment file `make run` gives its processes (a test points it at its own).
RUN_ENV ?= .env

.DEFAULT_GOAL := help
.PHONY: help install run test test-e2e test-all lint format bench bench-smoke clean

help: ## list the verbs
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

.env:
	cp .env.example .env

install: $(VENV)/.installed .env ## create .venv and install everything

run: install ## migrate, load the demo, start web + worker + beat + listener; prints the demo logins last
	$(PY) manage.py migrate --no-input
	@# The Procfile's "demo" process loads the demo and prints the logins once web, emulator and worker answer.
	@# Ctrl-C (SIGINT) or a SIGTERM is how a developer stops it: a clean stop, not an error.
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start --procfile Procfile --env $(RUN_ENV); \
	  status=$$?; [ $$status -eq 0 ] || [ $$status -eq 130 ] || [ $$status -eq 143 ] || exit $$status

test: install ## the fast suite (skips tests marked slow)
	$(PYTEST) -m "not slow"

test-e2e: install ## only the slow end-to-end tests (real worker, browser, emulator timings)
	$(PYTEST) -m slow

test-all: install ## every test
	$(PYTEST)

lint: install ## ruff format check and lint, mypy, the import contract
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy scheduler queues integrations tests bench
	$(VENV)/bin/lint-imports

format: install ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install ## benchmarks at full size; they print their figures
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

bench-smoke: install ## benchmarks at smoke size, as CI runs them
	@for script in bench/[!_]*.py; do echo "== $$script --quick"; $(PY) $$script --quick || exit 1; done

clean: ## remove the virtualenv and local state (SQLite files)
	rm -rf $(VENV) var
