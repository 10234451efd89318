# Tune or Prompt: every habit is one target. `make run` and `make test` set up what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
INSTALLED := $(VENV)/.installed
ENCODINGS := .cache/tiktoken/.verified
export TIKTOKEN_CACHE_DIR ?= $(CURDIR)/.cache/tiktoken

.PHONY: run test lint fmt bench soak setup browser wrk clean prices-report

# Reinstall only when the project's dependencies change.
# constraints.txt pins the exact versions the suite was run with.
$(INSTALLED): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	@touch $@

# tiktoken's encodings, fetched once and checked against tiktoken's own SHA-256.
$(ENCODINGS): $(INSTALLED) app/domain/encodings.py
	$(PY) -m app.domain.encodings prepare --cache-dir $(TIKTOKEN_CACHE_DIR)
	@touch $@

setup: $(INSTALLED) $(ENCODINGS)

# Debian's Chromium for the browser tests. Without root or apt the browser tests skip
# loudly (and fail under CI=true).
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "WARNING: could not install chromium; browser tests will skip"; \
	else echo "WARNING: /usr/bin/chromium missing and cannot be installed here; browser tests will skip"; fi

run: setup
	$(PY) -m uvicorn app.main:app --host $(HOST) --port $(PORT)

test: setup browser
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check app tests bench
	$(PY) -m ruff format --check app tests bench
	$(PY) -m mypy app

fmt: $(INSTALLED)
	$(PY) -m ruff format app tests bench
	$(PY) -m ruff check --fix app tests bench

# Debian's wrk, the load generator of the benchmark (C, light). Without it bench/run.py falls
# back to its own asyncio load generator and says so in the table.
wrk:
	@if command -v wrk >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's wrk for the benchmark..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
		|| echo "WARNING: could not install wrk; using bench/loadgen.py"; \
	else echo "WARNING: wrk missing and cannot be installed here; using bench/loadgen.py"; fi

# BENCH_ARGS=--write-doc rewrites the table in docs/performance.md.
bench: setup wrk
	$(PY) bench/run.py $(BENCH_ARGS)

# SOAK_ARGS="--seconds 300" for a longer run.
soak: setup
	$(PY) bench/soak.py $(SOAK_ARGS)

# The catalog's age per provider, rows past PRICES_STALE_AFTER_DAYS, and lifecycle dates and
# price changes within 90 days (REPORT_ARGS="--within 180" to look further).
prices-report: $(INSTALLED)
	$(PY) -m app.pricing report $(REPORT_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
