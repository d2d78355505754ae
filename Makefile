# mbconform: the two commands of the README, and the pieces they are made of.
# Everything installs into the project folder (.venv, node_modules); nothing is installed globally.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: demo test fuzz install check selftest clean

demo: $(PY_STAMP) $(NODE_STAMP)  ## run the conformance suite against the embedded reference adapter
	$(VENV)/bin/mbconform run

test: $(PY_STAMP)  ## lint, type-check, and run the project's own tests
	$(PY) -m ruff check harness tests
	$(PY) -m ruff format --check harness tests
	$(PY) -m mypy
	$(PY) -m pytest -n 2  # both cores: 9 min 13 s with the load average at 3.5-5 (was 26 min at 5-7; 611 tests; CPU 498 s, was 747 s): over the 3-minute budget (issue 16)

fuzz: $(PY_STAMP)  ## the ci fuzz profile against the embedded reference adapter (derandomized, bounded)
	$(VENV)/bin/mbconform fuzz --fuzz-profile ci

install: $(PY_STAMP) $(NODE_STAMP)

check: $(PY_STAMP)
	$(VENV)/bin/mbconform lint

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mbconform needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

clean:
	rm -rf $(VENV) node_modules reports/allure-results reports/allure-report reports/junit.xml
