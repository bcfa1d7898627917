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

# uv (from PyPI) installs the dependencies in seconds where pip takes minutes; pip is the fallback. Bytecode is
# compiled here, lakeport's own sources too: where PYTHONDONTWRITEBYTECODE is set, nothing else would write it,
# and every process (each CLI command, worker and test worker) would compile its imports again (~1 s of CPU).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv \
		&& $(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e '.[dev]' \
		|| $(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q -j 0 src
	@touch $(STAMP)

DEMO_PORT ?= 8080
SCALE ?= 0.1

# DEMO_STARTED_AT: the demo reports the time from here (dependencies installed) to the served dashboard
demo: $(STAMP) ## Create a lake, load the Spotify sample (SCALE=0.1), run the pipeline, print results, serve the dashboard
	DEMO_STARTED_AT=$$(date +%s.%N) $(BIN)/python -m lakeport.demo $(DEMO_LAKE) --scale $(SCALE) --serve --port $(DEMO_PORT)

# The suite's workers often wait (processes starting, state machines' Waits, polling), so lint runs beside
# them and there is one more worker than cores; make test fails if either fails. --dist loadfile keeps each
# file on one worker, so a file's module fixtures (a served lake, a browser) are made once (xdist's loadgroup
# no longer groups anything on pytest 9.2: it renames a node id attribute pytest stopped reading).
TEST_WORKERS ?= 3

test: $(STAMP) ## Lint and run the whole test suite (side by side)
	$(BIN)/python tests/support/system_deps.py
	@$(MAKE) --no-print-directory lint > .lint.log 2>&1 & lint=$$!; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS); tests=$$?; \
	wait $$lint; linted=$$?; cat .lint.log; rm -f .lint.log; \
	if [ $$linted -ne 0 ]; then echo "make test: lint failed (above)"; fi; \
	exit $$(( tests != 0 || linted != 0 ))

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
