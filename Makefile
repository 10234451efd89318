# Tune or Prompt: every habit is one target. `make run` and `make test` set up what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
INSTALLED := $(VENV)/.installed
ENCODINGS := .cache/tiktoken/.verified
export TIKTOKEN_CACHE_DIR ?= $(CURDIR)/.cache/tiktoken
comma := ,

.PHONY: run test lint fmt bench bench-slider bench-instructions bench-fairness valgrind soak setup browser calc wrk image image-test base-image clean prices-report

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

# Debian's LibreOffice Calc and python3-uno for tests/test_spreadsheet_calc.py (the formulas of
# docs/spreadsheets.md in a real Calc). Installed under CI=true, where the test fails without
# them; elsewhere it skips loudly (installing ~300 MB is left to the developer).
calc:
	@if command -v soffice >/dev/null 2>&1 && /usr/bin/python3 -c "import uno" 2>/dev/null; then :; \
	elif [ "$$CI" = true ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's libreoffice-calc for the spreadsheet test..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc python3-uno >/dev/null) \
		|| echo "WARNING: could not install libreoffice-calc; the spreadsheet test will fail"; \
	else echo "WARNING: LibreOffice Calc (soffice, python3-uno) missing; tests/test_spreadsheet_calc.py will skip (apt-get install libreoffice-calc python3-uno)"; fi

run: setup
	$(PY) -m uvicorn app.main:app --host $(HOST) --port $(PORT)

test: setup browser calc
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(PY) -m ruff check app tests bench
	$(PY) -m ruff format --check app tests bench
	$(PY) -m mypy app

fmt: $(INSTALLED)
	$(PY) -m ruff format app tests bench
	$(PY) -m ruff check --fix app tests bench

# $(call debian_tool,command and package,what it is for,what happens without it): install a
# benchmark's tool from Debian's packages when root and apt-get allow, else warn.
define debian_tool
	@if command -v $(1) >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's $(1) for $(2)..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null) \
		|| echo "WARNING: could not install $(1)$(3)"; \
	else echo "WARNING: $(1) missing and cannot be installed here$(3)"; fi
endef

# Debian's wrk, the load generator of the benchmark (C, light). Without it bench/run.py falls
# back to its own asyncio load generator and says so in the table.
wrk:
	$(call debian_tool,wrk,the benchmark,; using bench/loadgen.py)

# BENCH_ARGS=--write-doc rewrites the table in docs/performance.md.
bench: setup wrk
	$(PY) bench/run.py $(BENCH_ARGS)

# A slider move in Chromium, input to painted results (bench/slider.py);
# SLIDER_ARGS="--delays 150,30 --write-doc" rewrites its table in docs/performance.md.
bench-slider: setup browser
	$(PY) bench/slider.py $(SLIDER_ARGS)

# Instructions per request under valgrind (bench/instructions.py), steady on a busy machine;
# INSTRUCTIONS_ARGS="--root ../old-checkout" measures another checkout the same way.
bench-instructions: setup valgrind
	$(PY) bench/instructions.py $(INSTRUCTIONS_ARGS)

# Latency at 16 and 64 connections under each event loop (bench/fairness.py);
# FAIRNESS_ARGS=--write-doc rewrites its table in docs/performance.md.
bench-fairness: setup wrk
	$(PY) bench/fairness.py $(FAIRNESS_ARGS)

valgrind:
	$(call debian_tool,valgrind,bench/instructions.py,)

# SOAK_ARGS="--seconds 300" for a longer run.
soak: setup
	$(PY) bench/soak.py $(SOAK_ARGS)

# The catalog's age per provider, rows past PRICES_STALE_AFTER_DAYS, and lifecycle dates and
# price changes within 90 days (REPORT_ARGS="--within 180" to look further).
prices-report: $(INSTALLED)
	$(PY) -m app.pricing report $(REPORT_ARGS)

# --- the container image (docs/deploy.md) ---------------------------------------------------
# DOCKER: the client (BuildKit is needed for the CA secret: Docker 23+, or DOCKER_BUILDKIT=1).
# BASE_IMAGE: the base of both stages (default: the Dockerfile's python:3.11.x-slim-bookworm);
#   a mirror's copy, or `make base-image`'s where Docker Hub is unreachable.
# CA_BUNDLE: a PEM file of the CA a TLS-intercepting proxy signs with, passed as a BuildKit
#   secret: the build's downloads trust it, and no layer of the image holds it.
# PIP_INDEX_URL: a PyPI mirror for the build.
DOCKER ?= docker
IMAGE ?= tune-or-prompt
BASE_IMAGE ?=
CA_BUNDLE ?=
PIP_INDEX_URL ?=
DOCKER_BUILD_FLAGS ?=
BASE_TAG ?= tune-or-prompt-base:bookworm
DEBIAN_MIRROR ?= http://deb.debian.org/debian

image:
	DOCKER_BUILDKIT=1 $(DOCKER) build -t $(IMAGE) \
		$(if $(BASE_IMAGE),--build-arg BASE_IMAGE=$(BASE_IMAGE)) \
		$(if $(CA_BUNDLE),--secret id=ca_bundle$(comma)src=$(CA_BUNDLE)) \
		$(if $(PIP_INDEX_URL),--build-arg PIP_INDEX_URL=$(PIP_INDEX_URL)) \
		$(DOCKER_BUILD_FLAGS) .

# Builds the image, then runs it read-only, without network, as a non-root user and checks
# it from inside (tests/test_image.py). Skips loudly where no Docker daemon answers; fails
# instead under CI=true with IMAGE_TEST_REQUIRED=true.
image-test: $(INSTALLED)
	@if $(DOCKER) version --format '{{.Server.Version}}' >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory image && \
		TUNE_IMAGE=$(IMAGE) DOCKER=$(DOCKER) CA_BUNDLE=$(CA_BUNDLE) $(PY) -m pytest tests/test_image.py -p no:cacheprovider -rs -v; \
	elif [ "$$CI" = true ] && [ "$$IMAGE_TEST_REQUIRED" = true ]; then \
		echo "FAILED: no Docker daemon answers ($(DOCKER) version)"; exit 1; \
	else echo "SKIPPED (image test not run): no Docker daemon answers ($(DOCKER) version)"; fi

# A minimal Debian base with Python from Debian's packages, from a Debian mirror only (root,
# debootstrap and a daemon): `make base-image && make image BASE_IMAGE=$(BASE_TAG)`.
base-image:
	docker/base-image.sh $(BASE_TAG) $(DEBIAN_MIRROR)

clean:
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
