#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster for the test suite.
#   scripts/pg-cluster.sh start   -> prints the SQLAlchemy URL of a fresh test database
#   scripts/pg-cluster.sh stop
# Bound to 127.0.0.1 on a port of its own (GRIDMAP_PG_PORT, default 55432), data under
# .cache/pg inside the checkout (git-ignored). As root the server runs as user postgres.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PORT=${GRIDMAP_PG_PORT:-55432}
ROOT="$PWD/.cache/pg"
DATA="$ROOT/data"
LOG="$ROOT/server.log"
DB=gridmap_test

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  mkdir -p "$ROOT"
  [[ $(id -u) -eq 0 ]] && chown postgres:postgres "$ROOT"
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    as_owner "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT -c fsync=off -c full_page_writes=off" \
      >/dev/null
  fi
  PGOPTIONS="-c client_min_messages=warning" as_owner "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -d postgres \
    -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  as_owner "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -d "$DB" \
    -c "CREATE EXTENSION postgis" >/dev/null
  echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/$DB"
}

stop() {
  if [[ -f "$DATA/PG_VERSION" ]]; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
