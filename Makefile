# Reel Studio — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint bench worker sandbox services

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
