# OpenReel: every entry point a person or CI needs. Each target sets up .venv on its own.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PROMPT ?= a lighthouse on a stormy coast at dusk, slow push-in

.PHONY: run sample test servers check bench format clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## run: set up, then start the server on http://127.0.0.1:8000 (first run prints an admin token)
run: $(STAMP)
	$(BIN)/openreel serve

## sample: set up, then make a 10-second 1080p sample video in out/ without a server
sample: $(STAMP)
	mkdir -p out
	$(BIN)/openreel generate "$(PROMPT)" -o out/lighthouse.mp4 --seed 7 --previews

## test: set up, then run every test (installs redis-server and chromium from Debian if missing)
test: $(STAMP) servers
	$(BIN)/python -m pytest

## servers: the Debian programs some tests start for themselves (redis-server, PostgreSQL, chromium)
servers:
	@command -v redis-server >/dev/null 2>&1 || { \
		echo "installing redis-server (tests start their own on a free port)"; \
		apt-get install -y -q redis-server >/dev/null || \
		{ apt-get update -q >/dev/null && apt-get install -y -q redis-server >/dev/null; }; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
		echo "installing postgresql (tests start their own cluster on a free port)"; \
		apt-get install -y -q postgresql >/dev/null || \
		{ apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null; }; }
	@test -x /usr/bin/chromium || { \
		echo "installing chromium (the studio's browser tests drive it through Playwright)"; \
		apt-get install -y -q chromium >/dev/null || \
		{ apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; }

## check: formatting, lint, types and the import-direction rule
check: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q tests/test_layers.py

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## bench: run the benchmarks quoted in benchmarks/README.md
bench: $(STAMP)
	$(BIN)/python benchmarks/sketch.py
	$(BIN)/python benchmarks/encoder.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/request_cost.py
	$(BIN)/python benchmarks/moderation.py
	$(BIN)/python benchmarks/provenance.py
	$(BIN)/python benchmarks/poll_clients.py
	$(BIN)/python benchmarks/hosted_poll.py
	$(BIN)/python benchmarks/diffusers_overhead.py
	$(BIN)/python benchmarks/scale.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
