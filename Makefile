# newsbeam: `make demo` and `make test` work on a fresh machine with Python 3.11 and nothing else.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_OUT ?= out/demo
# `make install` puts `newsbeam` here (a link to this checkout's .venv/bin/newsbeam).
PREFIX ?= $(HOME)/.local
BINDIR ?= $(PREFIX)/bin
NEWSBEAM_CORPORA ?= ../shared/corpora

.PHONY: help setup install uninstall demo test test-all test-engines engines engines-up engines-down eval lint clean

help:
	@echo "make install - set up .venv and link newsbeam into $(BINDIR) (make install BINDIR=... to choose)"
	@echo "make demo   - set up .venv, run the batch job on samples/captures into $(DEMO_OUT), show a DuckDB summary"
	@echo "make test   - set up .venv and run the fast tests (the slow ones: make test-all)"
	@echo "make test-all - set up .venv and run every test but the engine ones, the slow process-level ones too"
	@echo "make engines      - fetch Flink, Spark, Kafka and Beam's job-server jars once into .engines/"
	@echo "make engines-up   - start them on localhost (Flink :8081, Spark :7077, Kafka :9092); engines-down stops them"
	@echo "make test-engines - the tests that run on those engines (after engines-up)"
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

install: setup
	mkdir -p $(BINDIR)
	ln -sf $(CURDIR)/$(BIN)/newsbeam $(BINDIR)/newsbeam
	@$(BINDIR)/newsbeam --version
	@case ":$$PATH:" in *":$(BINDIR):"*) ;; *) echo "$(BINDIR) is not on PATH: add 'export PATH=\"$(BINDIR):\$$PATH\"' to your shell's profile";; esac

uninstall:
	rm -f $(BINDIR)/newsbeam

demo: setup
	rm -rf $(DEMO_OUT)
	$(BIN)/python samples/build_samples.py
	$(BIN)/newsbeam run --input samples/captures --output $(DEMO_OUT)
	$(BIN)/newsbeam report --output $(DEMO_OUT)
	$(BIN)/python samples/show.py $(DEMO_OUT)

test: setup
	$(BIN)/python -m pytest -q -n auto -m "not slow and not engines"

test-all: setup
	$(BIN)/python -m pytest -q -m "not engines"

engines:
	PYTHON=$(PYTHON) engines/fetch.sh

engines-up: engines
	engines/up.sh

engines-down:
	engines/down.sh

test-engines: setup
	$(BIN)/python -m pytest -q -m engines

eval: setup
	NEWSBEAM_CORPORA=$(NEWSBEAM_CORPORA) $(BIN)/newsbeam eval all

lint: setup
	$(BIN)/ruff check pipeline transforms quality tests benchmarks samples

clean:
	rm -rf $(VENV) out .pytest_cache
