# Paceline: the two commands a user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test unit lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# pip does not byte-compile an editable install's sources; do it once, as a packaged install would.
	$(PY) -m compileall -q shared services >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m paceline.lab.demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m tests.support.typecheck
	$(PY) -m pytest -q -p no:cacheprovider

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# mypy over the whole project (tests/support/typecheck.py explains how the package layout is mapped).
typecheck: $(STAMP)
	$(PY) -m tests.support.typecheck

clean:
	rm -rf $(VENV) build *.egg-info
