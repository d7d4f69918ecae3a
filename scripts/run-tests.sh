#!/usr/bin/env bash
# Start the throwaway PostGIS cluster, run the whole suite on both stores, stop the cluster
# whatever the result. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'scripts/pg-cluster.sh stop' EXIT
url=$(scripts/pg-cluster.sh start)
export GRIDMAP_TEST_POSTGIS_URL="$url"
echo "PostGIS test database: $url"
.venv/bin/python -m pytest --require-all-backends "$@"
