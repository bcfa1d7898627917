# lakeport: every target bootstraps .venv itself, so a fresh clone needs nothing but python3 and make.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_LAKE ?= demo-lake
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help demo test lint bench clean docs screenshots

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP) ## Create a lake, load the Spotify sample, run the pipeline, print results
	$(BIN)/python -m lakeport.demo $(DEMO_LAKE)

test: $(STAMP) lint ## Lint, then run the whole test suite
	$(BIN)/python tests/support/system_deps.py
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

screenshots: $(STAMP) ## Run the browser tests and save the console's screenshots to docs/images
	LAKEPORT_SCREENSHOTS=1 $(BIN)/python -m pytest tests/web

lint: $(STAMP) ## ruff, mypy and import-linter
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(STAMP) ## Run the benchmarks and print their tables
	$(BIN)/python bench/storage_bench.py
	$(BIN)/python bench/spotify_generator_bench.py
	$(BIN)/python bench/crawler_bench.py
	$(BIN)/python bench/etl.py --scale 1 --repeat 3 --memory-limit 512MB
	$(BIN)/python bench/query.py --scale 1 10 --tpch-scale 1 --repeat 10

docs: $(STAMP) ## Regenerate docs/cli.md from the command tree
	$(BIN)/python -m lakeport.cli.reference > docs/cli.md

clean: ## Remove the virtualenv and build leftovers
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache $(DEMO_LAKE)
