# govbot developer commands. `make test` is what CI runs (.ci/run).
#
#   make demo        the bot end to end: a sandbox Gerrit with the demo changes, govbot
#                    reviewing and escalating them, then serving the dashboard (its URL is
#                    printed) until Ctrl-C, which stops everything
#   make demo-check  govbot check on a real spec pair (tests/data/demo), findings printed
#   make test        lint, format check, govbot on its own api-specs/, the whole test suite
#   make lint / format / clean

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
GOVBOT := $(BIN)/govbot

.PHONY: all venv test lint format demo demo-check clean

all: test

venv: $(STAMP)

# Re-installs whenever pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: lint
	$(GOVBOT) check --policy policies api-specs/
	$(BIN)/python -m pytest

demo: venv
	$(GOVBOT) demo

demo-check: venv
	@echo '$$ govbot check --min-severity warning --base tests/data/demo/compute-base.yaml tests/data/demo/compute-head.yaml'
	@$(GOVBOT) check --min-severity warning --base tests/data/demo/compute-base.yaml tests/data/demo/compute-head.yaml; \
	  status=$$?; echo "(exit code $$status: 0 = no errors, 1 = error-level findings, 2 = could not run)"; \
	  test $$status -lt 2

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache test-artifacts
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
