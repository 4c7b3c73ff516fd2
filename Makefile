# Reel Studio — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint bench worker sandbox services team

# Debian's own Python needs the python3-venv package for `-m venv`; install it when missing (root).
$(PY):
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## Start the app (sandbox mode unless HEYGEN_API_KEY is set) on http://localhost:$(PORT)
run: $(VENV)/.runtime
	$(PY) -m streamlit run app.py --server.port $(PORT)

## Install everything the suite needs, then run all of it: the linter, everything but the browser
## tests spread over 3 processes (most of it waits on loopback servers), then the browser tests.
test: $(VENV)/.dev services
	$(PY) -m ruff check .
	$(PY) -m pytest -n 3 --dist loadscope -m "not e2e"
	$(PY) -m pytest -m e2e

## Debian's Chromium for the browser tests, PostgreSQL and Redis for the engine tests.
services:
	@bash tools/test-services.sh

lint: $(VENV)/.dev
	$(PY) -m ruff check .

## Standalone worker (and webhook receiver) for team deployments.
worker: $(VENV)/.runtime
	$(PY) -m core.jobs

## Standalone HeyGen-v3-compatible sandbox on port 8787.
sandbox: $(VENV)/.runtime
	$(PY) -m core.sandbox --port 8787 --api-key sandbox

## The team stack on this machine, under honcho (Procfile): the sandbox, two app replicas on
## :8501 and :8502 (GET /readyz on each), the worker and a standby, all on PostgreSQL and Redis.
## It runs against the sandbox (a real HEYGEN_API_KEY in the environment is not used).
## Ctrl-C (or SIGTERM) stops every process; the worker releases its lease on the way out.
TEAM_SANDBOX_KEY ?= team-sandbox-key
team: export DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/reel_studio_team
team: export HTTP_CACHE_URL ?= redis://127.0.0.1:6379/2
team: export SANDBOX_PORT ?= 8787
team: export HEYGEN_API_KEY = $(TEAM_SANDBOX_KEY)
team: export HEYGEN_BASE_URL = http://127.0.0.1:$(SANDBOX_PORT)
team: export WORKER_MODE = external
team: export TEAM_DATA_DIR ?= data/team
team: $(VENV)/.dev
	$(PY) tools/create_database.py
	STREAMLIT_SERVER_COOKIE_SECRET="$${STREAMLIT_SERVER_COOKIE_SECRET:-$$($(PY) -c 'import secrets; print(secrets.token_hex(32))')}" \
	  PYTHON=$(abspath $(PY)) $(PY) -m honcho -f Procfile start
