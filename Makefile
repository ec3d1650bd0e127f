# Doorstep: `make run` serves the demo, `make test` runs every check. Both set up what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=
# Test workers (pytest-xdist): on SQLite every test has its own database file and server port, so three run side
# by side. The SQLite pass runs every test; the PostgreSQL pass runs again what reads or writes a database (marked
# `database` by tests/conftest.py), except the browser tests, whose database work the API and sync tests already
# cover there, and tests marked `one_backend` (the worker's schemathesis run: the supervisor's covers more there; the
# wheel's packaging test: the day-one recipe migrates an empty PostgreSQL database through the command there).
# The hypothesis state machines run half their examples on PostgreSQL (tests/support/machines.py). On PostgreSQL each worker has its own database on one shared server, two side by side; the tests
# marked `alone` read that server's own files (the erasure test), so they run after the others, one at a time.
# Idle workers take tests queued for busy ones (--dist worksteal): a few long browser tests no longer make the tail.
PYTEST_WORKERS ?= 3
PYTEST_PG_WORKERS ?= 2
XDIST := --dist worksteal
# The SQLite pass names its twenty slowest tests at the end, so that a suite creeping past its time is seen.
SQLITE_PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS) $(XDIST) --durations=20 $(PYTEST_ARGS)
PG_PYTEST := $(BIN)/pytest -n $(PYTEST_PG_WORKERS) $(XDIST) -m "database and not browser and not alone" $(PYTEST_ARGS) && $(BIN)/pytest -m "database and alone" $(PYTEST_ARGS)
CODE := server tests migrations bench

.PHONY: run test lint types test-sqlite test-postgres system-deps venv node-tools clean bench screenshots

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# axe-core, which the browser tests inject to audit every screen, and the tablet code's type checker and linter
# (pinned in package-lock.json).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

node-tools: system-deps $(NODE_STAMP)

# The demo runs as a development server on loopback (plain http, so the session cookie is not marked Secure).
run: venv
	DOORSTEP_ENVIRONMENT=$${DOORSTEP_ENVIRONMENT:-development} $(BIN)/doorstep serve --demo

system-deps:
	scripts/system-deps.sh

# The server's code with ruff; the tablet's plain ES modules with TypeScript's checker (jsconfig.json, checkJs, no
# build step) and ESLint (eslint.config.mjs), both pinned in package-lock.json.
lint: venv node-tools
	$(BIN)/ruff check $(CODE)
	$(BIN)/ruff format --check $(CODE)
	npx --no-install tsc -p jsconfig.json
	npx --no-install eslint pwa/static/js

types: venv
	$(BIN)/mypy server

test-sqlite: venv
	$(SQLITE_PYTEST)

test-postgres: venv
	scripts/with-postgres.sh sh -c '$(PG_PYTEST)'

test: venv system-deps node-tools lint types
	@echo "== test suite on SQLite =="
	$(SQLITE_PYTEST)
	@echo "== test suite on PostgreSQL =="
	scripts/with-postgres.sh sh -c '$(PG_PYTEST)'

clean:
	rm -rf $(VENV) node_modules .pytest_cache .mypy_cache .ruff_cache

# Benchmarks: each prints a table and writes its section of docs/benchmarks.md.
bench: venv system-deps
	$(BIN)/python -m bench.records
	$(BIN)/python -m bench.bootstrap_browser
	scripts/with-postgres.sh sh -c '$(BIN)/python -m bench.records --database-url "$$DOORSTEP_TEST_DATABASE_URL" && $(BIN)/python -m bench.reports && $(BIN)/python -m bench.sync && $(BIN)/python -m bench.push && $(BIN)/python -m bench.attachments'

# Screenshots of the key screens at both tablet sizes, into docs/screenshots/.
screenshots: venv system-deps node-tools
	DOORSTEP_SCREENSHOTS=1 $(BIN)/pytest -q -m browser
