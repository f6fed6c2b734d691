#!/usr/bin/env bash
# Starts a PostgreSQL server of the project's own for the tests, on loopback, and prints the
# URL of a database on it. Installs PostgreSQL from Debian when it is missing. The server's
# files live under /tmp/vakt-test-postgres-UID; `scripts/postgres.sh stop` stops it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Under /tmp rather than the work tree: PostgreSQL runs as the postgres user when the tests
# run as root, and that user may not be allowed into the work tree.
dir="${VAKT_TEST_PG_DIR:-/tmp/vakt-test-postgres-$(id -u)}"
port="${VAKT_TEST_PG_PORT:-55432}"
url="postgres://vakt:vakt@127.0.0.1:$port/vakt"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

bin=""
find_bin() {
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
}

# PostgreSQL refuses to run as root: run it as the postgres user then.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

if [ "${1:-}" = "stop" ]; then
  find_bin
  [ -n "$bin" ] && [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null
  exit 0
fi

find_bin
if [ -z "$bin" ]; then
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >/dev/null
  find_bin
fi

if [ ! -f "$dir/data/PG_VERSION" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  printf 'vakt\n' > "$dir/.pw"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/.pw"
  as_owner "$bin/initdb" -D "$dir/data" -U vakt --pwfile="$dir/.pw" -A scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
fi

if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=on" \
    start >/dev/null
fi

if ! PGPASSWORD=vakt "$bin/psql" -h 127.0.0.1 -p "$port" -U vakt -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'vakt'" | grep -q 1; then
  PGPASSWORD=vakt "$bin/psql" -h 127.0.0.1 -p "$port" -U vakt -d postgres -qc "CREATE DATABASE vakt"
fi
echo "$url"
