# Encore: the commands in the README. `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Local services used by `make test-services` (override to point elsewhere).
SERVICES_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/encore
SERVICES_REDIS_URL ?= redis://127.0.0.1:6379/1
PYTEST_ARGS ?=

.PHONY: help deps system-deps run serve test test-services e2e fuzz bench lint format lock clean

help:
	@echo "make run            install what is missing, migrate, seed demo data, serve on http://$(HOST):$(PORT)"
	@echo "make test           the whole test suite on embedded defaults"
	@echo "make test-services  the whole suite again on the local PostgreSQL + Redis"
	@echo "make e2e | fuzz     browser journeys | OpenAPI fuzzing only"
	@echo "make bench          benchmarks (each prints its ratio to a baseline)"
	@echo "make lint           ruff, migrations check, docker-compose config"
	@echo "make lock           recompile requirements/*.txt from pyproject.toml"

# --- installation ---------------------------------------------------------------------------
$(VENV)/.installed: requirements/runtime.txt requirements/dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Encore needs $(PYTHON) on PATH"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# ffmpeg for the media pipeline, Chromium for the browser tests. Installed with apt when
# missing (as root, or through sudo); elsewhere install them with your package manager.
system-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if ! command -v apt-get >/dev/null; then echo "Please install:$$missing"; exit 1; fi; \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  echo "Installing$$missing with apt-get"; \
	  $$sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q $$missing; \
	fi

deps: $(VENV)/.installed node_modules/.installed

# --- running --------------------------------------------------------------------------------
# make run and make serve take payments in the embedded sandbox provider (a local checkout page);
# a deployment never does unless told to. BILLING_SANDBOX=false make run turns it off.
run serve: export BILLING_SANDBOX ?= true
# Links in emails and the sandbox's checkout return here, so they follow HOST and PORT.
run serve: export SITE_URL ?= http://$(HOST):$(PORT)

run: deps
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py seed_demo
	@$(MAKE) --no-print-directory serve

# The web server (HTTP + websockets) and the Celery worker (with beat) side by side;
# Ctrl-C stops both.
serve:
	@echo "Encore is at http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/). Ctrl-C stops it."
	@# Without REDIS_URL, web and worker share the embedded Redis (var/redis); it stays up between runs.
	@[ -n "$$REDIS_URL" ] || $(PY) -m core.embedded_redis start >/dev/null
	@$(VENV)/bin/celery -A config worker --beat --loglevel INFO --concurrency 2 \
	    --schedule var/celerybeat-schedule & worker=$$!; \
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) config.asgi:application & web=$$!; \
	trap 'kill -TERM $$web $$worker 2>/dev/null' INT TERM; \
	wait $$web; status=$$?; \
	kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null; \
	exit $$([ $$status -gt 128 ] && echo 0 || echo $$status)

# --- checks ---------------------------------------------------------------------------------
test: deps system-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-services: deps system-deps
	DATABASE_URL=$(SERVICES_DATABASE_URL) REDIS_URL=$(SERVICES_REDIS_URL) $(PY) -m pytest $(PYTEST_ARGS)

e2e: deps system-deps
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

fuzz: deps
	$(PY) -m pytest -m fuzz $(PYTEST_ARGS)

bench: deps system-deps
	@set -e; for script in bench/*.py; do \
	  case $$script in */__init__.py|*/_*.py) continue;; esac; \
	  echo "== $$script"; $(PY) $$script; \
	done

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	@if command -v docker-compose >/dev/null; then docker-compose -f docker-compose.yml config -q && echo "docker-compose.yml is valid"; \
	 else echo "docker-compose not installed: compose file not validated"; exit 1; fi

format: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lock: $(VENV)/.installed
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  -o requirements/runtime.txt pyproject.toml
	$(VENV)/bin/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links \
	  --extra dev -c requirements/runtime.txt -o requirements/dev.txt pyproject.toml

# Stops the embedded Redis server too (it keeps room state between runs otherwise).
clean:
	-$(PY) -m core.embedded_redis stop
	rm -rf var/static var/celery .pytest_cache .ruff_cache
