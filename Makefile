# Paceline: the two commands a user needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test unit lint typecheck bench native clean

# The bash completion script and the manual page, both generated from the command registry.
COMPLETION := $(VENV)/share/bash-completion/completions/paceline
MANPAGE    := $(VENV)/share/man/man1/paceline.1
REGISTRY   := services/gateway/crm/registry.py services/gateway/cli/commands.py services/gateway/cli/toplevel.py \
              services/gateway/crm/preferences.py services/gateway/cli/invocation.py

install: $(STAMP) $(COMPLETION) $(MANPAGE)

# Also in /etc/bash_completion.d when root and it exists (the script asks the paceline it completes, so it works
# for any paceline on the PATH); otherwise: source $(COMPLETION) in ~/.bashrc.
$(COMPLETION): $(STAMP) $(REGISTRY)
	mkdir -p $(@D)
	$(PY) -m paceline.cli.main --bash-completion > $@
	if [ "$$(id -u)" = 0 ] && [ -d /etc/bash_completion.d ]; then cp $@ /etc/bash_completion.d/paceline; fi

$(MANPAGE): $(STAMP) $(REGISTRY)
	mkdir -p $(@D)
	$(PY) -m paceline.cli.main help --man > $@

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	# pip does not byte-compile an editable install's sources; do it once, as a packaged install would.
	$(PY) -m compileall -q shared services >/dev/null
	touch $(STAMP)

# The compiled ("native") build: the scheduler's hot modules compiled to C with mypyc (tools/native.py; which
# modules and how: [tool.paceline.native] in pyproject.toml), installed as a regular wheel into its own venv. Needs
# a C compiler and Python's headers. The build tools go into that venv (mypy, the same version as the dev venv's,
# its stubs and Paceline's dependencies, which it type-checks against, and a setuptools with bdist_wheel built in),
# not into the dev one: that stays as `make install` made it, pure Python and editable, and its setuptools is too
# old to build a wheel. Rebuilt when a file under shared/, services/ or tools/ changes; mypyc and setuptools then
# recompile only the groups whose C changed. `make clean` removes it with build/native.
NATIVE_VENV  := .venv-native
NATIVE_STAMP := $(NATIVE_VENV)/.installed
NATIVE_TOOLS := $(NATIVE_VENV)/.tools
SOURCES      := $(shell find shared services tools -type f -not -path '*/__pycache__/*')

native: $(NATIVE_STAMP)

$(NATIVE_TOOLS): $(STAMP)
	$(PYTHON) -m venv $(NATIVE_VENV)
	$(NATIVE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(NATIVE_VENV)/bin/python -m pip install --quiet $$($(PY) -m tools.native --requirements) \
		"mypy==$$($(PY) -c 'import mypy.version; print(mypy.version.__version__)')"
	touch $@

$(NATIVE_STAMP): $(NATIVE_TOOLS) pyproject.toml README.md $(SOURCES)
	$(NATIVE_VENV)/bin/python -m tools.native
	# The wheel's version does not change with the sources: reinstall it over the last one, then add what it needs.
	$(NATIVE_VENV)/bin/python -m pip install --quiet --force-reinstall --no-deps build/native/dist/paceline-*.whl
	$(NATIVE_VENV)/bin/python -m pip install --quiet build/native/dist/paceline-*.whl
	touch $@

demo: $(STAMP)
	$(PY) -m paceline.lab.demo

# The compiled build is made and tested too wherever it can be built (tests/test_native_build.py runs every shared
# Pacemaker case through both builds); elsewhere the check says what is missing and those tests skip.
test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m tests.support.typecheck
	if $(PY) -m tools.native --check; then $(MAKE) --no-print-directory native; fi
	# Two workers, one test file each at a time (a file's lab fixture stays in one process): most end-to-end time
	# is waiting on real processes, so a second worker nearly halves the wall time on CI's two cores.
	$(PY) -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --durations=25

unit: $(STAMP)
	$(PY) -m pytest -q tests/unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# mypy over the whole project (tests/support/typecheck.py explains how the package layout is mapped).
typecheck: $(STAMP)
	$(PY) -m tests.support.typecheck

clean:
	rm -rf $(VENV) $(NATIVE_VENV) build *.egg-info
