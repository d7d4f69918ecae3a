# gridmap: two commands do all the set-up on Debian.
#   make demo   install what is missing, load the sample data, run the main job (SpatiaLite)
#   make test   install what is missing (PostgreSQL + PostGIS too), run the suite on both stores
# Both are idempotent. Python packages come from uv.lock (exact, tested versions); the
# environment is re-synced only when uv.lock or pyproject.toml changed. `make lock` upgrades
# the lock on purpose and runs the suite on it.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian's python3: its sqlite3 module can load SpatiaLite (pyenv builds often cannot).
PYTHON ?= /usr/bin/python3
# The one tool that installs from the lock, itself pinned; it lives in .cache/tools.
UV_VERSION := 0.13.9
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .cache/stamps
TOOLS := .cache/tools
UV := $(TOOLS)/bin/uv
# Bytecode is compiled at install: a shell with PYTHONDONTWRITEBYTECODE=1 (Debian images,
# CI runners) would otherwise compile ~3,200 modules again in every command (~4 s of CPU each).
UV_ENV := UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON=$(PYTHON) UV_PYTHON_DOWNLOADS=never \
	UV_NO_PROGRESS=1 UV_SYSTEM_CERTS=1 UV_COMPILE_BYTECODE=1

APT_RUN := python3 python3-venv libsqlite3-mod-spatialite fonts-noto-cjk
APT_TEST := $(APT_RUN) postgresql-15 postgresql-15-postgis-3 chromium
# ogr2ogr, the baseline of benchmarks/bench_ingest.py
APT_BENCH := $(APT_TEST) gdal-bin

.PHONY: help demo test bench lint lock notebook serve clean system-run system-test system-bench

help:
	@echo "make demo    set up and run the demo on the embedded SpatiaLite store"
	@echo "make test    set up (PostgreSQL + PostGIS included) and run the whole test suite"
	@echo "make bench   run every benchmark (results in benchmarks/results/)"
	@echo "make lint    ruff and mypy"
	@echo "make notebook add the notebook kernel (ipykernel, nbclient) to .venv"
	@echo "make lock    upgrade uv.lock to the newest allowed versions and run the suite on them"

$(STAMPS):
	@mkdir -p $@

system-run: | $(STAMPS)
	@scripts/ensure-apt.sh $(APT_RUN)

system-test: | $(STAMPS)
	@scripts/ensure-apt.sh $(APT_TEST)

system-bench: | $(STAMPS)
	@scripts/ensure-apt.sh $(APT_BENCH)

$(UV): | system-run
	@rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION)

# --inexact: `make demo` after `make test` keeps the test tools installed.
$(STAMPS)/run: uv.lock pyproject.toml $(UV) | $(STAMPS)
	$(UV_ENV) $(UV) sync -q --frozen --inexact
	@touch $@

$(STAMPS)/test: uv.lock pyproject.toml $(UV) | $(STAMPS)
	$(UV_ENV) $(UV) sync -q --frozen --inexact --extra test
	@touch $@ $(STAMPS)/run

demo: system-run $(STAMPS)/run
	cd $(CURDIR) && $(BIN)/gridmap demo

test: system-test $(STAMPS)/test
	scripts/run-tests.sh

bench: system-bench $(STAMPS)/test
	$(BIN)/python -m benchmarks

lint: $(STAMPS)/test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gridmap

# Upgrade on purpose: a new lock is committed only after the suite passed on it.
lock: system-test $(UV) | $(STAMPS)
	$(UV_ENV) $(UV) lock --upgrade
	$(UV_ENV) $(UV) sync -q --frozen --extra test
	@touch $(STAMPS)/test $(STAMPS)/run
	scripts/run-tests.sh
	@echo "uv.lock upgraded and the suite passed on it: review 'git diff uv.lock' and commit it"

# the notebook kernel (ipykernel, nbclient) from the lock, beside what demo installed
notebook: $(STAMPS)/run
	$(UV_ENV) $(UV) sync -q --frozen --inexact --extra notebook

serve: system-run $(STAMPS)/run
	$(BIN)/gridmap serve

clean:
	scripts/pg-cluster.sh stop || true
	rm -rf .cache $(VENV) gridmap.sqlite demo-out
