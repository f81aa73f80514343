# Årshjul — two commands do everything on a fresh clone: `make demo` and `make test`.
# PYTHON picks the interpreter for the virtualenv (3.12+; .python-version selects pyenv's 3.12).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= $(shell command -v pyenv >/dev/null 2>&1 && pyenv which python3 2>/dev/null || command -v python3.12 || command -v python3)
# Test processes (pytest-xdist); `make test PYTEST_WORKERS=0` runs in one process.
PYTEST_WORKERS ?= auto
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test lint check venv messages clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Årshjul needs Python 3.12 or newer; found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	DEBUG=1 AARSHJUL_DEMO=1 $(PY) manage.py migrate --noinput
	DEBUG=1 AARSHJUL_DEMO=1 $(PY) manage.py load_demo
	DEBUG=1 AARSHJUL_DEMO=1 $(PY) manage.py reconcile_permissions
	@echo "Årshjul runs at http://$(HOST):$(PORT)/ — stop it with Ctrl-C."
	DEBUG=1 AARSHJUL_DEMO=1 $(PY) manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

check: $(STAMP)
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run

messages: $(STAMP)
	DEBUG=1 $(PY) manage.py makemessages -l da --no-location --ignore '.venv/*' --ignore 'var/*'
	DEBUG=1 $(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
