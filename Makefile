# neurosoup — `make test` and `make demo` set everything up from nothing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install test test-slow test-gpu bench demo lint clean

install: $(STAMP)

# torch first, pinned: 2.13.0 resolves to the local CPU wheel; an unpinned torch would pull CUDA.
$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,dask,alife,viz]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .

test: lint
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

test-gpu: $(STAMP)
	$(PY) -m pytest -q -m gpu

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

demo: $(STAMP)
	mkdir -p runs
	$(VENV)/bin/neurosoup run soup/journal-v1 --out runs/demo.h5 --overwrite --quiet

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
