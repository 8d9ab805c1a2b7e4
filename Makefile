# msakeras: `make demo` trains MMIM end to end; `make test` runs the suite
# once per installed Keras backend. Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU build of torch must come in the same pip command as the project:
# alone, a plain `torch` requirement resolves to a multi-GB CUDA build.
TORCH_PIN ?= torch==2.13.0
PYTEST_ARGS ?=
LARGE_BACKENDS ?= torch
# JAX is installed (the dev extra) for the cross-backend equivalence tests,
# which drive it from the torch pass; `make test BACKENDS="tensorflow torch
# jax"` also runs the whole suite under it.
BACKENDS ?= tensorflow torch

.PHONY: install demo test lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --upgrade --quiet pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)" -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	OMP_NUM_THREADS=1 KERAS_BACKEND=torch $(BIN)/python recipes/mmim.py

lint: install
	$(BIN)/ruff check msakeras tests recipes data_prep benchmarks
	$(BIN)/ruff format --check msakeras tests recipes data_prep benchmarks

format: install
	$(BIN)/ruff check --fix msakeras tests recipes data_prep benchmarks
	$(BIN)/ruff format msakeras tests recipes data_prep benchmarks

# One pytest process per backend: Keras fixes its backend at first import.
# `large` tests (recipe subprocess runs, export, the bundled MiniLM) run on
# the backends in LARGE_BACKENDS (default torch; `make test
# LARGE_BACKENDS="tensorflow torch"` runs them on both). The backend
# processes run side by side (one thread each, OMP_NUM_THREADS=1: the two
# passes use the two cores of a small CI machine); each writes
# test-logs/<backend>.log, printed when all have finished. `make test
# SERIAL=1` runs them one after another with live output. Exit code 5 ("no
# tests collected") is a failure.
SERIAL ?=
test: install
	@mkdir -p test-logs; set -e; \
	run() { \
	  large=""; case " $(LARGE_BACKENDS) " in *" $$1 "*) large="--run_large";; esac; \
	  echo "== KERAS_BACKEND=$$1 pytest $$large"; \
	  OMP_NUM_THREADS=1 KERAS_BACKEND=$$1 $(BIN)/python -m pytest -q \
	    -p no:cacheprovider --durations=30 $$large $(PYTEST_ARGS) tests; \
	}; \
	if [ -n "$(SERIAL)" ]; then \
	  for backend in $(BACKENDS); do run $$backend; done; exit 0; \
	fi; \
	for backend in $(BACKENDS); do \
	  ( set +e; run $$backend > test-logs/$$backend.log 2>&1; \
	    echo $$? > test-logs/$$backend.rc ) & \
	done; wait; \
	status=0; for backend in $(BACKENDS); do \
	  cat test-logs/$$backend.log; \
	  rc=$$(cat test-logs/$$backend.rc); \
	  echo "== $$backend: exit $$rc"; [ "$$rc" = 0 ] || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-logs
