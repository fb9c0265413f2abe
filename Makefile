# The two commands: `make up` runs the whole system, `make test` tests it.
# Both work on a fresh clone with only Python 3.11 (and Node for the UI).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORTS := 8000 8001 9101 9102 9103 9104 9105 9106 9107

.PHONY: up test lint venv bench-engine bench-ingest bench-processor bench-e2e clean deploy-check

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $@

## up: start PostgreSQL, Redis and Kafka, migrate, load the demo venue, run every role.
up: venv
	$(PY) -m oms.launcher run --state .state $(addprefix --require-free-port ,$(PORTS)) -- sh -c '\
		$(PY) manage.py migrate --noinput -v0 && \
		$(PY) manage.py collectstatic --noinput -v0 && \
		$(PY) manage.py seed_demo && \
		exec $(VENV)/bin/honcho start'

## lint: ruff, the import contracts and mypy (strict on the kernel and the domain).
lint: venv
	$(VENV)/bin/ruff check .
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

## test: lint, the deployment checks, then the whole suite against throwaway services.
test: lint deploy-check
	OMS_ENV=test $(PY) -m oms.launcher run --throwaway -- $(VENV)/bin/pytest $(PYTEST_ARGS)

## bench-engine: the matching engine alone, beside liquibook and nautilus_trader.
bench-engine: venv
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[bench]"
	$(PY) -m benchmarks.matching_engine

## bench-ingest: POST /api/orders under load, beside a bare Django and a bare DRF view.
bench-ingest: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.ingest

## bench-processor: the order processor's throughput (batch sizes 100, 500), beside a bare consumer.
bench-processor: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.processor

## bench-e2e: latency from POST /api/orders to its order.fill on executions, whole stack running.
bench-e2e: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.end_to_end

## deploy-check: the deployment checked without a cloud (Kustomize overlays rendered and
## validated against Kubernetes 1.28, checkov on them and on terraform/, HCL parsing,
## hadolint, dashboard and alert metrics), in its own virtualenv .venv-deploy.
DEPLOY_VENV := .venv-deploy

deploy-check: $(DEPLOY_VENV)/.installed
	$(DEPLOY_VENV)/bin/python deploy/check.py

$(DEPLOY_VENV)/.installed: deploy/requirements.txt deploy/requirements.lock
	$(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -c deploy/requirements.lock -r deploy/requirements.txt
	touch $@

clean:
	rm -rf .state staticfiles .pytest_cache .mypy_cache .ruff_cache
