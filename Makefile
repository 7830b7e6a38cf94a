# Every target installs what it needs into .venv first (uv, from pyproject.toml + uv.lock).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV := $(VENV)/bin/uv
PY := $(VENV)/bin/python
PORT ?= 5000
EVENT ?= events/npm-published.json
export PYTHONPATH := $(CURDIR)/functions/promoter:$(CURDIR)/local

.PHONY: setup demo test lint typecheck template-check unit integration e2e bench bench-small local-aws invoke build requirements clean

setup: $(VENV)/.synced

$(VENV)/.synced: pyproject.toml uv.lock
	@test -x $(UV) || { $(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install --quiet uv==0.13.9; }
	$(UV) sync --locked --inexact --quiet
	@touch $@

## The main job, locally, with no AWS account: local AWS + runtime emulator + the promoter.
demo: setup
	$(PY) -m promoter_dev.demo

## Everything CI checks: lint, types, template checks, unit, integration and end-to-end tests.
test: setup lint typecheck template-check
	$(PY) -m pytest -q -n 2 -m "not bench"

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

template-check: setup
	$(PY) -m promoter_dev.template_check

unit: setup
	$(PY) -m pytest -q tests/unit

integration: setup
	$(PY) -m pytest -q tests/integration tests/codeartifact

e2e: setup
	$(PY) -m pytest -q tests/e2e

## The benchmark: prints a table and writes bench-results.json.
bench: setup
	$(PY) -m pytest -q -s -m bench tests/performance

bench-small: setup
	BENCH_SCALE=small $(PY) -m pytest -q -s -m bench tests/performance

## A local AWS (moto + our CodeArtifact) on http://127.0.0.1:$(PORT), in the foreground; its CodeArtifact
## repository endpoints serve twine, pip and npm (README, "pip, twine and npm against the local CodeArtifact").
local-aws: setup
	$(PY) -m codeartifact_moto.server --port $(PORT)

## Runs the promoter once under the Lambda runtime emulator, as `sam local invoke -e $(EVENT)` would.
invoke: setup
	@$(PY) -m promoter_dev.invoke --event "$(EVENT)" --port $(PORT)

## sam build, no container. The function's python-uv build method is a SAM CLI beta: this opts in to it
## alone (SAM CLI 1.170 reads SAM_CLI_BETA_UV_PACKAGE_MANAGER), and SAM CLI runs the `uv` on PATH (.venv's).
build: setup
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 SAM_CLI_BETA_UV_PACKAGE_MANAGER=1 \
		$(VENV)/bin/sam build --template-file template.yaml

## functions/promoter/requirements.txt, what `sam build` packages, from uv.lock: the [project] dependencies and
## everything they need, pinned to the locked versions the tests run on (tests/unit/test_packaging.py checks it).
REQUIREMENTS_EXPORT := export --frozen --no-default-groups --no-emit-project --no-hashes --no-header
requirements: setup
	{ echo "# What \`sam build\` packages with the function: pyproject.toml's [project] dependencies and"; \
	  echo "# everything they need, pinned to uv.lock (the versions the tests run on). Generated: after a"; \
	  echo "# change to uv.lock run \`make requirements\`, which writes this file with"; \
	  echo "#   uv $(REQUIREMENTS_EXPORT)"; \
	  $(UV) $(REQUIREMENTS_EXPORT); } > functions/promoter/requirements.txt.tmp
	mv functions/promoter/requirements.txt.tmp functions/promoter/requirements.txt

clean:
	rm -rf .aws-sam .mypy_cache .pytest_cache .ruff_cache bench-results.json
