# gridmap: two commands do all the set-up on Debian.
#   make demo   install what is missing, load the sample data, run the main job (SpatiaLite)
#   make test   install what is missing (PostgreSQL + PostGIS too), run the suite on both stores
# Both are idempotent; the second run only re-installs when pyproject.toml changed.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Debian's python3: its sqlite3 module can load SpatiaLite (pyenv builds often cannot).
PYTHON ?= /usr/bin/python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .cache/stamps

APT_RUN := python3 python3-venv libsqlite3-mod-spatialite fonts-noto-cjk
APT_TEST := $(APT_RUN) postgresql-15 postgresql-15-postgis-3 chromium

.PHONY: help demo test bench lint serve clean system-run system-test

help:
	@echo "make demo    set up and run the demo on the embedded SpatiaLite store"
	@echo "make test    set up (PostgreSQL + PostGIS included) and run the whole test suite"
	@echo "make bench   run every benchmark (results in benchmarks/results/)"
	@echo "make lint    ruff and mypy"

$(STAMPS):
	@mkdir -p $@

system-run: | $(STAMPS)
	@scripts/ensure-apt.sh $(APT_RUN)

system-test: | $(STAMPS)
	@scripts/ensure-apt.sh $(APT_TEST)

$(BIN)/python: | system-run
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMPS)/run: pyproject.toml $(BIN)/python | $(STAMPS)
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(STAMPS)/test: pyproject.toml $(BIN)/python | $(STAMPS)
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@ $(STAMPS)/run

demo: system-run $(STAMPS)/run
	cd $(CURDIR) && $(BIN)/gridmap demo

test: system-test $(STAMPS)/test
	scripts/run-tests.sh

bench: system-test $(STAMPS)/test
	$(BIN)/python -m benchmarks

lint: $(STAMPS)/test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gridmap

serve: system-run $(STAMPS)/run
	$(BIN)/gridmap serve

clean:
	scripts/pg-cluster.sh stop || true
	rm -rf .cache $(VENV) gridmap.sqlite demo-out
