#!/usr/bin/env bash
# Lint, then start the throwaway PostGIS cluster, run the whole suite on both stores, and
# stop the cluster whatever the result. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "ruff and mypy"
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .
.venv/bin/mypy gridmap
trap 'scripts/pg-cluster.sh stop' EXIT
url=$(scripts/pg-cluster.sh start)
export GRIDMAP_TEST_POSTGIS_URL="$url"
echo "PostGIS test database: $(sed -E "s#://([^:/@]+):[^@]*@#://\1:***@#" <<<"$url")"
.venv/bin/python -m pytest --require-all-backends "$@"
