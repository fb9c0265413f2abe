# The two commands: `make up` runs the whole system, `make test` tests it.
# Both work on a fresh clone with only Python 3.11 (and Node for the UI).

# The application's interpreter (.venv): the distribution's python3.11 where there is one.
# Debian's is built with profile-guided and link-time optimisation and linked statically,
# as the production image's (python:3.11-slim) is; pyenv's default build is neither, and
# runs the processor's order flow 10-15 % and a plain Python loop 25 % slower (README,
# "Design notes"). The tools' virtualenvs (deploy checks, the ccxt client) take any
# python3.11: Debian's is 3.11.2, and checkov's dependencies ask for 3.11.5 or later.
TOOLS_PYTHON ?= $(shell command -v python3.11 || command -v python3)
PYTHON ?= $(firstword $(wildcard /usr/bin/python3.11) $(TOOLS_PYTHON))
VENV := .venv
PY := $(VENV)/bin/python
PORTS := 8000 8001 9101 9102 9103 9105 9106 9107 9108 9109

.PHONY: up test lint venv ccxt-venv test-ccxt bench-engine bench-ingest bench-processor bench-e2e bench-ws bench-md-rest bench-risk clean deploy-check

venv: $(VENV)/.installed

# The interpreter .venv was made with, as a file name: another PYTHON (or a .venv made
# before the choice above) makes it again from scratch, once.
VENV_INTERPRETER := $(VENV)/.made-with$(subst /,_,$(PYTHON))

$(VENV_INTERPRETER):
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	touch $@

$(VENV)/.installed: pyproject.toml requirements.lock $(VENV_INTERPRETER)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[dev]"
	touch $@

## up: start PostgreSQL, Redis and Kafka, migrate, load the demo venue, re-base the
## processor's offsets to the broker's new (in-memory) log and publish again the orders it
## never processed, then run every role, restarting any that exits.
up: venv ui
	$(PY) -m oms.launcher run --state .state $(addprefix --require-free-port ,$(PORTS)) -- sh -c '\
		$(PY) manage.py migrate --noinput -v0 && \
		$(PY) manage.py collectstatic --noinput -v0 && \
		$(PY) manage.py seed_demo && \
		$(PY) manage.py resolve_order_log && \
		exec $(PY) -m oms.launcher supervise'

## lint: ruff, the import contracts and mypy (strict on the kernel, the domain and every
## app's services and selectors).
lint: venv
	$(VENV)/bin/ruff check .
	PYTHONPATH=. $(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

## test: lint, the deployment checks, the UI's tests (unit and in a real browser), then
## the whole suite against throwaway services.
test: lint deploy-check ui-test ui-e2e
	OMS_ENV=test $(PY) -m oms.launcher run --throwaway -- $(VENV)/bin/pytest $(PYTEST_ARGS)

## bench-engine: the matching engine alone, beside liquibook and nautilus_trader.
bench-engine: venv
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[bench]"
	$(PY) -m benchmarks.matching_engine

## bench-ingest: the bare Django and DRF views under daphne, uvicorn, gunicorn (sync,
## gthread) and granian, then POST /api/orders under the web role's gunicorn beside them.
bench-ingest: venv
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[bench-servers]"
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.ingest

## bench-processor: the order processor's throughput (batches of 500 and 2,000) and replay,
## beside a bare consumer and a minimal exactly-once COPY consumer.
bench-processor: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.processor

## bench-e2e: latency from POST /api/orders to its order.fill on executions, whole stack running.
bench-e2e: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.end_to_end

## bench-ws: market data and private fan-out to 1,000 WebSocket clients, beside a bare websockets broadcast server.
bench-ws: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.websocket_fanout

## bench-md-rest: GET market-data prices and orderbook on the web role (gunicorn), beside a bare DRF view under it.
bench-md-rest: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.marketdata_rest

## bench-risk: the pre-trade risk decision, pure and as the processor calls it, beside bare peers.
bench-risk: venv
	$(PY) -m oms.launcher run --throwaway -- $(PY) -m benchmarks.risk_decision

## deploy-check: the deployment checked without a cloud (Kustomize overlays rendered and
## validated against Kubernetes 1.28, checkov on them and on terraform/, HCL parsing,
## hadolint, dashboard and alert metrics), in its own virtualenv .venv-deploy.
DEPLOY_VENV := .venv-deploy

deploy-check: $(DEPLOY_VENV)/.installed
	$(DEPLOY_VENV)/bin/python deploy/check.py

$(DEPLOY_VENV)/.installed: deploy/requirements.txt deploy/requirements.lock
	$(TOOLS_PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install --quiet --disable-pip-version-check -c deploy/requirements.lock -r deploy/requirements.txt
	touch $@

## ccxt-venv: the virtualenv of the ccxt client (clients/ccxt) and of ccxt's own unified-API
## tests, apart from .venv because ccxt pins its dependencies exactly; ccxt pinned in
## clients/ccxt/requirements.lock. tests/e2e/test_ccxt_unified.py makes it when missing.
CCXT_VENV := .ccxt-venv

ccxt-venv: $(CCXT_VENV)/.installed

$(CCXT_VENV)/.installed: clients/ccxt/requirements.lock clients/ccxt/pyproject.toml
	$(TOOLS_PYTHON) -m venv $(CCXT_VENV)
	$(CCXT_VENV)/bin/pip install --quiet --disable-pip-version-check -r clients/ccxt/requirements.lock
	$(CCXT_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -e clients/ccxt
	touch $@

## test-ccxt: ccxt's unified-API tests against the ccxt class on a venue of their own.
test-ccxt: venv ccxt-venv
	OMS_ENV=test $(PY) -m oms.launcher run --throwaway -- $(VENV)/bin/pytest -q tests/e2e/test_ccxt_unified.py

clean:
	rm -rf .state staticfiles .pytest_cache .mypy_cache .ruff_cache

## ui: the trading UI (frontend/: React, TypeScript, Vite) built into frontend/dist, which
## Django serves at `/`; skipped with a message where npm is missing.
## ui-test: the UI's type check, its OpenAPI types against the API, and its unit tests (Vitest).
## ui-e2e: Playwright in Debian's chromium against the whole stack on throwaway services.
.PHONY: ui ui-test ui-e2e
UI_DEPS := frontend/node_modules/.installed

ui:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(UI_DEPS) && cd frontend && npm run build; \
	else \
		echo "make ui: npm not found, so the trading UI is not built (it needs Node 20 and npm)"; \
	fi

ui-test: venv $(UI_DEPS)
	cd frontend && npm run typecheck && npm run check-schema && npx vitest run

ui-e2e: venv $(UI_DEPS)
	sh frontend/e2e/run.sh

$(UI_DEPS): frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm not found: the UI needs Node 20 and npm" >&2; exit 2; }
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
	touch $@
