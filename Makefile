# Two commands do all the set-up: `make demo` and `make test` (the fast tests);
# `make test-all` runs every test and is what CI runs (.ci/run).
# Each creates .venv when it is missing and installs skfral (editable) with the
# tested versions in requirements/constraints.txt.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
CONSTRAINTS := requirements/constraints.txt
STAMP := $(VENV)/.skfral-installed

.PHONY: demo test test-all install docs lint clean bench mutation browser-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the package metadata or the pins change.
$(STAMP): $(BIN)/python setup.py $(CONSTRAINTS) requirements/dev.txt
	$(PIP) install --upgrade "pip>=23" -c $(CONSTRAINTS)
	$(PIP) install -c $(CONSTRAINTS) -e ".[tests,dask]" -r requirements/dev.txt
	# modAL-python 0.4.2.1 declares skorch==0.9.0, which breaks current
	# scikit-learn: install it without its dependencies (README, "Installation").
	$(PIP) install --no-deps -c $(CONSTRAINTS) "modAL-python==0.4.2.1"
	# Peer PGD for the cross-check test; imports neither torchvision nor requests.
	$(PIP) install --no-deps -c $(CONSTRAINTS) "torchattacks==3.5.1"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m skfral demo

# TEST_JOBS: pytest-xdist worker processes. `make test` leaves out the tests
# marked slow (about 2 s or more each on an idle 2-core machine).
TEST_JOBS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -n $(TEST_JOBS)

test-all: $(STAMP) browser-deps
	$(BIN)/python -m pytest -n $(TEST_JOBS)

docs: $(STAMP)
	$(PIP) install -c $(CONSTRAINTS) -e ".[docs]"
	$(BIN)/python -m sphinx -W --keep-going -b html docs docs/_build/html

# ruff, then the import contracts of .importlinter (layers, torch only in
# skfral/nn, no private imports across packages, no cycles).
lint: $(STAMP)
	$(BIN)/python -m ruff check skfral tests examples benchmarks
	$(BIN)/lint-imports --no-cache

# The committed benchmarks (hours on 2 cores). Each writes benchmarks/results/NAME.md
# with its command at the top; benchmarks/RESULTS.md is the index generated from them.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_attack --write
	$(BIN)/python -m benchmarks.bench_cost --write
	$(BIN)/python -m benchmarks.bench_sanity --write
	$(BIN)/python -m benchmarks.bench_quality --suite ablation --write
	$(BIN)/python -m benchmarks.bench_quality --suite quality --write
	$(BIN)/python -m benchmarks.results_index

# Mutation testing (issue 17): mutmut on the maths (benchmarks/mutation/run_mutation.py
# SCOPE) against the fast unit tests ([tool.mutmut] in pyproject.toml). Slow (about
# two hours on two idle cores), so not part of `make test`; results in
# benchmarks/results/mutation.md. MUTATION_JOBS: mutants tested at once.
MUTATION_JOBS ?= 2
mutation: $(STAMP)
	$(PIP) install -c $(CONSTRAINTS) "mutmut==3.8.1"
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/mutation/run_mutation.py --max-children $(MUTATION_JOBS)

# A real headless browser for the tests marked `browser` (the labelling contact
# sheet, to_label.html): Debian's chromium, installed with apt-get when missing
# (needs root). `make test-all` depends on this target.
browser-deps:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "chromium: found"; \
	else \
		apt-get update && apt-get install -y chromium; \
	fi

clean:
	rm -rf $(VENV) build dist *.egg-info docs/_build docs/auto_examples docs/generated
