# Two commands: `make lab` opens the course, `make test` checks all of it.
# Both create .venv/ on first use, with the course installed into it.

PYTHON ?= python3
VENV ?= .venv
ifeq ($(OS),Windows_NT)
  BIN := $(VENV)/Scripts
else
  BIN := $(VENV)/bin
endif
STAMP := $(VENV)/.installed
# both test workers; set JOBS=0 to run in one process
JOBS ?= 2

.PHONY: lab test test-fast exercises clean

# JupyterLab refuses to start as root (containers, some cloud machines) unless told it may
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

# JupyterLab serves the whole course folder (notebooks/, exercises/, solutions/, microgpt_lib/, so that
# the chapters' links work) and opens at chapter 00; tests/test_lab.py starts it from this very line
lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb

test: $(STAMP)
	PYTHONHASHSEED=0 $(BIN)/python -m pytest -n $(JOBS) --dist loadscope

# the library alone, without the notebooks and the minutes-long reference run
test-fast: $(STAMP)
	PYTHONHASHSEED=0 $(BIN)/python -m pytest tests -m "not slow"

# regenerate exercises/ from solutions/ (never edit exercises/ by hand)
exercises: $(STAMP)
	$(BIN)/python tools/make_exercises.py

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "the course needs Python 3.10 or newer; this is " + sys.version.split()[0] + ": install a newer one, or run make PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course]" -c constraints.txt
	@touch $(STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info
