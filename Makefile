# OpenReel: every entry point a person or CI needs. Each target sets up .venv on its own:
# running installs OpenReel alone, the tests and checks add every extra and the dev tools.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-stamp
DEV_STAMP := $(VENV)/.installed-stamp
PROMPT ?= a lighthouse on a stormy coast at dusk, slow push-in
# The fast tier: what needs no server, browser or long wait (markers set by tests/conftest.py).
FAST   := not slow and not postgres and not redis and not s3 and not browser and not server

.PHONY: run sample test test-fast servers check bench format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# What running needs: OpenReel and its core dependencies (extras: pip install 'openreel[...]').
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# The tests and checks: every extra and the dev tools; running needs nothing more after it.
$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUN_STAMP)

## run: set up, then start the server on http://127.0.0.1:8000 (first run prints an admin token)
run: $(RUN_STAMP)
	$(BIN)/openreel serve

## sample: set up, then make a 10-second 1080p sample video in out/ without a server
sample: $(RUN_STAMP)
	mkdir -p out
	$(BIN)/openreel generate "$(PROMPT)" -o out/lighthouse.mp4 --seed 7 --previews

## test: set up, then run every test (installs redis-server and chromium from Debian if missing)
test: $(DEV_STAMP) servers
	$(BIN)/python -m pytest

## test-fast: the edit loop: SQLite only, no servers, no browser, nothing slow, on two processes
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest -n 2 -m "$(FAST)"

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
check: $(DEV_STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q tests/test_layers.py

format: $(DEV_STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

## bench: run the benchmarks quoted in benchmarks/README.md
bench: $(DEV_STAMP)
	$(BIN)/python benchmarks/sketch.py
	$(BIN)/python benchmarks/sound.py
	$(BIN)/python benchmarks/encoder.py
	$(BIN)/python benchmarks/api.py
	$(BIN)/python benchmarks/request_cost.py
	$(BIN)/python benchmarks/moderation.py
	$(BIN)/python benchmarks/provenance.py
	$(BIN)/python benchmarks/poll_clients.py
	$(BIN)/python benchmarks/hosted_poll.py
	$(BIN)/python benchmarks/diffusers_overhead.py
	$(BIN)/python benchmarks/scale.py
	$(BIN)/python benchmarks/webhooks.py
	$(BIN)/python benchmarks/load.py
	$(BIN)/python benchmarks/edits.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
