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
# PyTorch, for chapter 10 only (`make lab` never installs it). On Linux, PyPI's torch is the CUDA build
# (several GB); TORCH_INDEX=https://download.pytorch.org/whl/cpu takes PyTorch's CPU build instead.
TORCH_INDEX ?=
TORCH_STAMP := $(VENV)/.torch-installed
# both test workers; set JOBS=0 to run in one process
JOBS ?= 2

.PHONY: lab test test-fast exercises torch clean

# JupyterLab refuses to start as root (containers, some cloud machines) unless told it may
ROOT_FLAG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root,)

# JupyterLab serves the whole course folder (notebooks/, exercises/, solutions/, microgpt_lib/, so that
# the chapters' links work) and opens at chapter 00; tests/test_lab.py starts it from this very line
lab: $(STAMP)
	$(BIN)/jupyter lab $(ROOT_FLAG) --ServerApp.root_dir=. --LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb

# chapter 10 runs under nbval too, so the full test run installs torch first (make torch)
test: $(STAMP) $(TORCH_STAMP)
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

torch: $(TORCH_STAMP)

$(TORCH_STAMP): $(STAMP)
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet torch -c constraints.txt --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[course,torch]" -c constraints.txt
	@touch $(TORCH_STAMP)

clean:
	rm -rf $(VENV) build dist *.egg-info
