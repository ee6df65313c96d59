# Dariger: `make run` starts the service on the embedded defaults; `make test` runs everything.
# Settings pass through the environment: `make run PORT=8081`, `DATABASE_URL=... make run`.
# Every recipe line is a plain command (the Dockerfile runs the same install and compile).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_STAMP := $(VENV)/.installed-run
# pytest-xdist workers: most slow tests wait (subprocesses, a browser, servers), so more
# workers than cores still shortens the run; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4
PO_FILES := $(wildcard locales/*/LC_MESSAGES/*.po)
POT_FILE := $(wildcard locales/messages.pot)
# Two gettext domains: `messages` (patients: dialogs, SMS) and `console` (1414 operators).
# Message markers: T() in dialogs, N_() for backend/otp tables, pgettext("sms", …) variants.
EXTRACT := $(BIN)/pybabel -q extract -F babel.cfg -k T -k N_ -k _ -k pgettext:1c,2 \
	--no-location --sort-output --project dariger -c TRANSLATORS:
# The staff console marks its strings with C_() only, in bot/operator (Python and templates).
EXTRACT_CONSOLE := $(BIN)/pybabel -q extract -F babel-console.cfg --no-default-keywords -k C_ \
	--no-location --sort-output --project dariger -c TRANSLATORS:

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt typecheck services locales update-locales clean mutation

help:
	@echo "make run        start the service on http://127.0.0.1:8080 (SQLite, demo data, console SMS)"
	@echo "make test       lint, types, import contracts, locales, the whole pytest suite"
	@echo "make lint       ruff check + ruff format --check + lint-imports"
	@echo "make fmt        ruff format + ruff check --fix"
	@echo "make typecheck  mypy (strict)"
	@echo "make mutation   mutation testing of backend/domain and otp policy/codes (slow; docs/testing.md)"
	@echo "make clean      remove the venv, caches, build output and var/"

# The venv is rebuilt only when pyproject.toml changes: a second `make run` installs nothing.
# `make run` needs only the service's own dependencies; `make test` adds the dev tools.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(STAMP)

locales: $(RUN_STAMP)
ifneq ($(PO_FILES),)
	$(BIN)/pybabel compile -d locales -D messages
	$(BIN)/pybabel compile -d locales -D console
endif

run: $(RUN_STAMP) locales
	$(BIN)/dariger migrate
	$(BIN)/dariger demo-data
	$(BIN)/dariger serve

services:
	bash scripts/ensure-services.sh
	bash scripts/ensure-browser.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy .

# After changing messages in the code: refresh the template and the kk/ru/en catalogs.
update-locales: install
	$(EXTRACT) -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete
	$(EXTRACT_CONSOLE) -o locales/console.pot bot/operator
	$(BIN)/pybabel update -i locales/console.pot -d locales -D console --no-fuzzy-matching --ignore-obsolete

# tests/test_locales.py checks the catalogs against the code (ids, translations, placeholders);
# `pybabel update --check` is not used: it also fails on the template's creation date.
test: install services lint typecheck locales
	$(BIN)/pytest -n $(TEST_WORKERS)

fmt: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build dist var *.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis mutants
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	rm -f locales/*/LC_MESSAGES/*.mo

# Text the service by SMS from this terminal (an in-process app on DATABASE_URL; run `make run`
# or `dariger demo-data` once first). The default phone is the demo patient Сейтқали Айгүл.
PHONE ?= +77011110001
.PHONY: chat
chat: install
	$(BIN)/dariger chat --phone $(PHONE)

# Mutation testing (docs/testing.md): mutmut mutates backend/domain/, otp/policy.py and
# otp/codes.py ([tool.mutmut] in pyproject.toml) and runs their unit tests against each mutant;
# then the score per module. Not part of `make test`: it takes a quarter of an hour or more.
# A fresh run each time (mutmut keeps old results when only the tests change); then the
# module-level rule tables and the code run at import (scripts/table_mutation.py).
mutation: install
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2
	$(BIN)/python scripts/mutation_score.py $(BIN)/mutmut
	$(BIN)/python scripts/table_mutation.py --mutmut $(BIN)/mutmut --survivors
