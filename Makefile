# govbot developer commands. `make test` is what CI runs (.ci/run).
#
#   make demo         the bot end to end: a sandbox Gerrit with the demo changes, govbot
#                     reviewing and escalating them, then serving the dashboard (its URL is
#                     printed) until Ctrl-C, which stops everything
#   make demo-check   govbot check on a real spec pair (tests/data/demo), findings printed
#   make test         the whole suite on this machine: as root, first installs the system
#                     packages the tests need (system-deps); starts a throw-away PostgreSQL
#                     when none answers; lint, format check, govbot on its own api-specs/,
#                     every test
#   make venv         .venv with the exact versions of requirements/lock.txt (hash-checked)
#   make lock         refresh requirements/lock.txt to the newest releases pyproject.toml allows
#                     (and requirements/runtime.txt, its subset the Dockerfile installs)
#   make test-latest  the suite in .venv-latest, installed without the lock (newest releases)
#   make system-deps  install the missing Debian packages the tests need (root, apt-get)
#   make lint / format / clean

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements/lock.txt
# The venv is rebuilt from the lock when the lock or pyproject.toml changes; `make
# test-latest` sets LOCKED=0 to install the newest releases instead.
LOCKED ?= 1
STAMP  := $(VENV)/.installed
GOVBOT := $(BIN)/govbot
UV     := .uv/bin/uv
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check --no-input
CHECK_PYTHON := $(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else \
	f"govbot needs Python >= 3.11; $(PYTHON) is {sys.version.split()[0]} (make PYTHON=python3.X)")'

.PHONY: all venv test test-latest lint format lock system-deps demo demo-check clean

all: test

venv: $(STAMP)

ifeq ($(LOCKED),1)
$(STAMP): pyproject.toml $(LOCK)
	@$(CHECK_PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r $(LOCK)
	@# --no-index: every requirement, test extras included, must already be in from the
	@# lock; one the lock lacks fails here, naming it, not later as a test's missing tool.
	$(PIP) install --no-index --no-build-isolation -e '.[test]' || { \
	  echo "$(LOCK) does not cover pyproject.toml's dependencies: run make lock" >&2; exit 1; }
	@$(BIN)/python -m pip check >/dev/null || { $(BIN)/python -m pip check; \
	  echo "$(LOCK) does not cover pyproject.toml's dependencies: run make lock" >&2; exit 1; }
	touch $(STAMP)
else
$(STAMP): pyproject.toml
	@$(CHECK_PYTHON)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install --upgrade --upgrade-strategy eager -e '.[test]'
	@echo "Installed without the lock ($(BIN)/python -m pip freeze):"
	@$(BIN)/python -m pip freeze --exclude-editable | sed 's/^/  /'
	touch $(STAMP)
endif

# uv compiles the lock; it comes pinned, hash-checked, in a venv of its own.
$(UV): requirements/uv.txt
	test -x .uv/bin/python || $(PYTHON) -m venv .uv
	.uv/bin/python -m pip --quiet install --require-hashes --no-deps -r requirements/uv.txt
	touch $(UV)

# Every platform's markers and every file's hash, for the oldest Python we support.
UV_COMPILE := $(UV) pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock'

lock: $(UV)
	$(UV_COMPILE) -o requirements/uv.txt requirements/uv.in
	$(UV_COMPILE) --upgrade --extra test -o $(LOCK) pyproject.toml requirements/build.in
	@# The service image's lock: the same versions, without the test tools.
	$(UV_COMPILE) -c $(LOCK) -o requirements/runtime.txt pyproject.toml requirements/build.in

system-deps:
	@scripts/system-deps install

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# As root the missing system packages are installed first; otherwise what is missing is
# named here and, with the tests it skipped, again on the last lines.
test:
	@scripts/system-deps $(if $(filter 0,$(shell id -u)),install,report)
	@$(MAKE) --no-print-directory lint
	$(GOVBOT) check --policy policies api-specs/
	$(BIN)/python scripts/with_postgres.py $(BIN)/python -m pytest

test-latest:
	rm -rf .venv-latest
	@$(MAKE) --no-print-directory test VENV=.venv-latest LOCKED=0

demo: venv
	$(GOVBOT) demo

demo-check: venv
	@echo '$$ govbot check --min-severity warning --base tests/data/demo/compute-base.yaml tests/data/demo/compute-head.yaml'
	@$(GOVBOT) check --min-severity warning --base tests/data/demo/compute-base.yaml tests/data/demo/compute-head.yaml; \
	  status=$$?; echo "(exit code $$status: 0 = no errors, 1 = error-level findings, 2 = could not run)"; \
	  test $$status -lt 2

clean:
	rm -rf $(VENV) .venv-latest .uv build dist *.egg-info .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
