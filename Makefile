# Newsroom: `make run` serves the site with demo content; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# Local development defaults; real deployments set their own environment.
DEV_ENV := DEBUG=$${DEBUG:-true}
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install dirs run test lint migrate worker import import-usage clean

$(INSTALLED): requirements/dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.lock
	touch $@

install: $(INSTALLED)

dirs:
	@mkdir -p var/static var/media

migrate: install dirs
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput

run: migrate
	$(DEV_ENV) $(BIN)/python manage.py setup_demo
	@echo "Starting a Celery worker (with beat) and the web server on http://$(HOST):$(PORT)/ ..."
	@$(DEV_ENV) $(BIN)/celery -A newsroom worker --beat --loglevel=info --concurrency=1 \
		--schedule=var/celerybeat-schedule & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV_ENV) $(BIN)/python manage.py runserver $(HOST):$(PORT)

worker: install dirs
	$(DEV_ENV) $(BIN)/celery -A newsroom worker --beat --loglevel=info --schedule=var/celerybeat-schedule

# make import FILE="one.txt two.txt" [IMPORT_ARGS="--author reporter"]: draft
# stories from explainer documents, with the same local defaults as make run.
import: import-usage migrate
	$(DEV_ENV) $(BIN)/python manage.py import_story $(FILE) $(IMPORT_ARGS)

import-usage:
	@test -n "$(FILE)" || { echo 'Usage: make import FILE="explainer.txt [more.txt ...]"' >&2; exit 2; }

# axe-core checks accessibility in the browser tests; pinned, no lock file.
AXE := var/node/node_modules/axe-core/axe.min.js
AXE_VERSION := 4.10.3

$(AXE):
	npm install --silent --no-audit --no-fund --no-package-lock --prefix var/node axe-core@$(AXE_VERSION) \
		|| echo "npm could not install axe-core: accessibility tests will say so"

test: lint dirs $(AXE)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache
