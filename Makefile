# Two commands set everything up on a fresh clone (only Python needs to be installed):
#   make book   build the course website into _build/html
#   make test   run every test: lint, package tests, notebooks (smoke profile), the built site in a browser
# Both create (or reuse) the virtual environment .venv and install what they need into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONSTRAINTS := requirements/constraints.txt
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help venv book test lint unit notebooks browser-deps execute exercises grade lock clean

help:
	@echo "make book     build the course website (_build/html)"
	@echo "make test     run every test (installs what it needs)"
	@echo "make execute  re-run every notebook (cpu profile) and store its outputs"
	@echo "make lint     ruff on the package, tests, scripts and notebooks"
	@echo "make exercises                 build student notebooks, public checks and autograders"
	@echo "make grade SUBMISSIONS=folder  grade every .ipynb in folder (SET=ch01 OUT=dir TIMEOUT=120 OVERWRITE=1)"
	@echo "make lock     regenerate $(CONSTRAINTS) from the current environment"

# The environment is rebuilt when the project's requirements or the pinned toolchain change.
$(INSTALLED): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10 or newer is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev]"
	# MathJax 3 for the website, served from the site itself so equations render offline.
	$(BIN)/python -m pip install --quiet --no-deps -c $(CONSTRAINTS) django-static-mathjax
	touch $(INSTALLED)

venv: $(INSTALLED)

book: $(INSTALLED)
	$(BIN)/python scripts/prepare_mathjax.py
	$(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going

lint: $(INSTALLED)
	$(BIN)/ruff check gencourse tests scripts notebooks exercises

# Chromium for the browser test: installed from Debian's packages when running as root,
# otherwise the missing package is named and the test stops here.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| command -v google-chrome >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser test needs Chromium: install it (Debian/Ubuntu: sudo apt-get install chromium) and run make test again."; \
		exit 1; \
	fi

# Every test in one pytest run: the package's tests, the notebooks under nbval in the smoke
# profile (cells tagged nbval-check-output are compared with their stored output), and the
# built website in headless Chromium.
test: lint browser-deps book
	GENCOURSE_PROFILE=smoke MPLBACKEND=agg $(BIN)/python -m pytest tests notebooks \
		--nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
		-p no:cacheprovider $(PYTEST_ARGS)

execute: $(INSTALLED)
	$(BIN)/python scripts/execute_notebooks.py --profile $${GENCOURSE_PROFILE:-cpu}

# Graded exercises. From each source exercises/src/<set>_<topic>.py: the student notebook
# exercises/<set>_<topic>.ipynb and the public checks in gencourse/exercises/public_checks/
# (both committed; a test fails when they are out of date), the book's list book/exercises.md,
# and the autograder build/exercises/<set>/autograder.zip with the hidden tests (not committed).
EXERCISES_BUILT := build/exercises/.built
$(EXERCISES_BUILT): $(INSTALLED) $(wildcard exercises/src/*.py) gencourse/exercises/build.py
	$(BIN)/python -m gencourse.exercises build
	touch $@

exercises: $(EXERCISES_BUILT)

# Grade a folder of submitted notebooks: scores.csv and feedback/ in OUT (default <folder>-graded).
SET ?=
OUT ?=
TIMEOUT ?= 120
OVERWRITE ?=
grade: $(EXERCISES_BUILT)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=folder [SET=ch01] [OUT=folder] [TIMEOUT=120] [OVERWRITE=1]"; exit 2; }
	$(BIN)/python -m gencourse.exercises grade "$(SUBMISSIONS)" --timeout $(TIMEOUT) \
		$(if $(SET),--set $(SET)) $(if $(OUT),--out "$(OUT)") $(if $(OVERWRITE),--overwrite)

# Pin the toolchain that builds and tests the course (the package itself keeps lower bounds).
lock: $(INSTALLED)
	$(BIN)/python scripts/lock.py > $(CONSTRAINTS)

clean:
	rm -rf _build .pytest_cache .ruff_cache book/_static/mathjax
