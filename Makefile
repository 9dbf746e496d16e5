# newsbeam: `make demo` and `make test` work on a fresh machine with Python 3.11 and nothing else.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= out/demo
NEWSBEAM_CORPORA ?= ../shared/corpora

.PHONY: help setup demo test test-all eval lint clean

help:
	@echo "make demo   - set up .venv, run the batch job on samples/captures into $(DEMO_OUT), show a DuckDB summary"
	@echo "make test   - set up .venv and run the fast tests (the slow ones: make test-all)"
	@echo "make test-all - set up .venv and run every test, the slow process-level ones too (what CI runs)"
	@echo "make eval   - score the pipeline against the evaluation corpora in $$NEWSBEAM_CORPORA (default ../shared/corpora)"
	@echo "make lint   - ruff"
	@echo "make clean  - remove .venv and out/"

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or make PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	rm -rf $(DEMO_OUT)
	$(BIN)/python samples/build_samples.py
	$(BIN)/newsbeam run --input samples/captures --output $(DEMO_OUT)
	$(BIN)/newsbeam report --output $(DEMO_OUT)
	$(BIN)/python samples/show.py $(DEMO_OUT)

test: setup
	$(BIN)/python -m pytest -q -m "not slow"

test-all: setup
	$(BIN)/python -m pytest -q

eval: setup
	NEWSBEAM_CORPORA=$(NEWSBEAM_CORPORA) $(BIN)/newsbeam eval all

lint: setup
	$(BIN)/ruff check pipeline transforms quality tests benchmarks samples

clean:
	rm -rf $(VENV) out .pytest_cache
