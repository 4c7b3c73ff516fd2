# Reel Studio — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint bench worker sandbox services

$(PY):
	$(PYTHON) -m venv $(VENV)
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

## Install everything the suite needs, then run all of it.
test: $(VENV)/.dev services
	$(PY) -m pytest

## Debian's Chromium for the browser tests, PostgreSQL and Redis for the engine tests.
services:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || { \
	  echo "starting PostgreSQL"; \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; }
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { \
	  echo "starting Redis"; \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no; }

lint: $(VENV)/.dev
	$(PY) -m ruff check .

## Standalone worker (and webhook receiver) for team deployments.
worker: $(VENV)/.runtime
	$(PY) -m core.worker

## Standalone HeyGen-v3-compatible sandbox on port 8787.
sandbox: $(VENV)/.runtime
	$(PY) -m core.sandbox --port 8787 --api-key sandbox
