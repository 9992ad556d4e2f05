# onthedot — the two commands of the quick start, and a few more for development.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck check bench bench-spike clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## Start onthedot on SQLite (./onthedot.db) with a demo workspace.
run: $(STAMP)
	ONTHEDOT_DEMO=$${ONTHEDOT_DEMO:-true} $(BIN)/onthedot run

## Lint, type-check and run every test (PostgreSQL tests when ONTHEDOT_TEST_POSTGRES_URL is set).
test: $(STAMP) lint typecheck
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: $(STAMP)
	$(BIN)/mypy src/onthedot

## Queue and due-batch timings with 1 thousand and 1 million stored posts.
bench: $(STAMP)
	$(BIN)/python bench/queue_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## 50,000 posts due at one instant: onthedot against the floor, Celery, APScheduler,
## procrastinate and a cron poller (installs the bench extras; Redis on 127.0.0.1:6379).
bench-spike: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/onthedot bench spike --posts 50000 --channels 5000 --timeout 700 --save
