# Two commands: `make run` serves the app, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run test lock lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) webapp.wsgi:app

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Compile the lock files from requirements*.in (pins kept unless an .in file asks otherwise).
lock: $(VENV)/.installed-dev
	$(BIN)/pip-compile --quiet $$(cat .ci/pip-compile-options) --output-file requirements.txt requirements.in
	$(BIN)/pip-compile --quiet $$(cat .ci/pip-compile-options) --output-file requirements-dev.txt requirements-dev.in

# What CI checks besides the tests: up-to-date locks, ruff's rules and format.
lint: $(VENV)/.installed-dev
	.ci/check-install

clean:
	rm -rf $(VENV) .pytest_cache
