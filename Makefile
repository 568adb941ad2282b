# neurosoup — `make test` and `make demo` set everything up from nothing.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install test test-slow test-gpu bench demo lint clean docs

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

# The site: docs/ copied to build/docs, each tutorial run there (its figures kept), the API
# pages read from the docstrings through build/apisrc/neurosoup/<room> -> <room>/; strict.
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	rm -rf build/docs build/apisrc build/tutorials && mkdir -p build/apisrc/neurosoup build/tutorials
	cp -r docs build/docs
	for room in particles chemistry scenarios analysis; do \
		ln -sfn ../../../$$room build/apisrc/neurosoup/$$room; done
	for page in docs/tutorials/[0-9]*.md; do \
		name=$$(basename $$page .md); mkdir -p build/tutorials/$$name; \
		PATH="$(CURDIR)/$(VENV)/bin:$$PATH" MPLBACKEND=Agg $(PY) tests/docs/mdrun.py $$page \
			--workdir build/tutorials/$$name --report build/tutorials/$$name.json \
			--figures build/docs/tutorials/figures > build/tutorials/$$name.log 2>&1 \
			|| { tail -30 build/tutorials/$$name.log; exit 1; }; done
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet
	@echo "site built: site/index.html"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info build site
