#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS cluster for the test suite.
#   scripts/pg-cluster.sh start   -> prints the SQLAlchemy URL of a fresh test database
#   scripts/pg-cluster.sh stop    -> stops the cluster and removes its data
#
# The data lives in a private temporary directory (mode 0700) owned by the server's user,
# outside the checkout, so the checkout may sit under any parent (a 0700 home directory
# too): as root the server runs as `postgres`, otherwise as the invoking user. The socket
# stays inside that private directory; TCP listens on 127.0.0.1 only, on a port of its own
# (GRIDMAP_PG_PORT, default 55432), and every connection needs the cluster's random
# password (scram-sha-256). The state file .cache/pg/cluster.env (mode 0600) records
# where the cluster is; `stop` removes the data directory and the state file.
set -euo pipefail
cd "$(dirname "$0")/.."
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PORT=${GRIDMAP_PG_PORT:-55432}
STATE_DIR="$PWD/.cache/pg"
STATE="$STATE_DIR/cluster.env"
DB=gridmap_test

if [[ $(id -u) -eq 0 ]]; then OWNER=postgres; else OWNER=$(id -un); fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

psql_owner() {
  as_owner env PGPASSWORD="$PASSWORD" PGOPTIONS="-c client_min_messages=warning" \
    "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -v ON_ERROR_STOP=1 "$@"
}

load_state() {
  DATA="" PASSWORD=""
  # shellcheck disable=SC1090
  [[ -f "$STATE" ]] && source "$STATE"
  return 0
}

create_cluster() {
  [[ -x "$PGBIN/initdb" ]] || { echo "PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 1; }
  DATA=$(mktemp -d "${TMPDIR:-/tmp}/gridmap-pg.XXXXXXXX")
  chmod 700 "$DATA"
  [[ $(id -u) -eq 0 ]] && chown "$OWNER": "$DATA"
  PASSWORD=$(od -An -N18 -tx1 /dev/urandom | tr -d ' \n')
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  (umask 077; printf 'DATA=%q\nPASSWORD=%q\nPORT=%q\n' "$DATA" "$PASSWORD" "$PORT" >"$STATE")
  local pwfile="$DATA/.pwfile"
  (umask 077; printf '%s\n' "$PASSWORD" >"$pwfile")
  [[ $(id -u) -eq 0 ]] && chown "$OWNER": "$pwfile"
  as_owner "$PGBIN/initdb" -D "$DATA/data" -U postgres --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$pwfile"
  mkdir -p "$DATA/socket"
  [[ $(id -u) -eq 0 ]] && chown "$OWNER": "$DATA/socket"
  chmod 700 "$DATA/socket"
}

start() {
  load_state
  if [[ -z "$DATA" || ! -f "$DATA/data/PG_VERSION" ]]; then
    create_cluster
  fi
  if ! as_owner "$PGBIN/pg_ctl" -D "$DATA/data" status >/dev/null 2>&1; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA/data" -l "$DATA/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA/socket -c unix_socket_permissions=0700 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
      >/dev/null || { cat "$DATA/server.log" >&2; exit 1; }
  fi
  psql_owner -d postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
  psql_owner -d "$DB" -c "CREATE EXTENSION postgis" >/dev/null
  echo "postgresql+psycopg://postgres:$PASSWORD@127.0.0.1:$PORT/$DB"
}

stop() {
  load_state
  [[ -n "$DATA" ]] || return 0
  if [[ -f "$DATA/data/PG_VERSION" ]]; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  case "$DATA" in
    */gridmap-pg.*) rm -rf "$DATA" ;;
  esac
  rm -f "$STATE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
