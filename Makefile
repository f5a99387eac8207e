# Task runner. `make help` lists the targets; CI calls `make check`, then `make test` (through .ci/run).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-fast check format dashboard clean

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-11s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## Create .venv and install the project with its pinned dependencies

demo: $(STAMP)  ## Generate sample data and run the whole pipeline on the embedded default
	$(BIN)/lakehouse demo

test: $(STAMP)  ## Run the whole test suite: installs Chromium, MinIO, Kafka on first use and starts every service
	scripts/install_browser.sh
	$(BIN)/python -m pytest tests

test-fast: $(STAMP)  ## Tests without services or browser
	$(BIN)/python -m pytest tests -m "not services and not browser"

check: $(STAMP)  ## Lint, format check, types (mypy) and import contracts (lint-imports); CI runs it first
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)  ## Apply ruff fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

dashboard: $(STAMP)  ## Serve the dashboard on http://127.0.0.1:8501
	$(BIN)/lakehouse dashboard

clean:  ## Remove the local lakehouse and landing data (not the venv, not caches)
	rm -rf data/lakehouse data/landing
