# geo_service: `make run` serves the Guangzhou sample, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest setup system-deps sample bench clean-db

run: setup system-deps
	$(BIN)/geo-service db start
	$(BIN)/geo-service sample load
	@echo ""
	@echo "  API        http://$${GEO_HOST:-127.0.0.1}:$${GEO_PORT:-8000}/"
	@echo "  API docs   http://$${GEO_HOST:-127.0.0.1}:$${GEO_PORT:-8000}/docs"
	@echo "  health     http://$${GEO_HOST:-127.0.0.1}:$${GEO_PORT:-8000}/health"
	@echo ""
	$(BIN)/geo-service serve

test: setup
	scripts/system-deps.sh --with-browser
	$(MAKE) lint typecheck pytest

lint:
	$(BIN)/ruff check geo_service tests $(wildcard bench/*.py)
	$(BIN)/ruff format --check geo_service tests $(wildcard bench/*.py)

typecheck:
	$(BIN)/mypy

pytest:
	$(BIN)/pytest -q

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

system-deps:
	scripts/system-deps.sh

sample: setup
	$(BIN)/geo-service sample build

clean-db:
	-$(BIN)/geo-service db stop
	rm -rf .geo_service

bench: setup system-deps
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/geo-service db start
	$(BIN)/python -m bench.large_dataset
	$(BIN)/python -m bench.api_load
	$(BIN)/python -m bench.maps_bench
	$(BIN)/python -m bench.upload_bench
