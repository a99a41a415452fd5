#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the tests and print the line that exports its DSN:
#   eval "$(deploy/postgres/start-local.sh)"
# Installs Debian's `postgresql` when missing (root only), runs the server as a non-root user with
# a fresh data dir under /tmp, and reuses a server this script already started on that port.
set -euo pipefail

port="${CONVEYOR_PG_PORT:-55432}"
base="${CONVEYOR_PG_DIR:-/tmp/conveyor-pg-$port}"

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true; }

bin="$(find_bin)"
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "start-local.sh: PostgreSQL is not installed; run as root to install it" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bin="$(find_bin)"
fi

# The server refuses to run as root: use the package's `postgres` user when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
owner="$(id -un)"
[ "$(id -u)" -eq 0 ] && owner=postgres

mkdir -p "$base"
[ "$(id -u)" -eq 0 ] && chown postgres: "$base"
data="$base/data"
if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  # Not running: start from a fresh data dir (fsync is off, so a killed server's is not trusted).
  rm -rf "$data"
  as_owner "$bin/initdb" -D "$data" -U "$owner" --auth=trust -E UTF8 >"$base/initdb.log" 2>&1
  as_owner "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $base -c fsync=off" >&2
fi
"$bin/pg_isready" -h 127.0.0.1 -p "$port" -t 30 >&2

echo "export CONVEYOR_TEST_POSTGRES_DSN=postgresql://$owner@127.0.0.1:$port/postgres"
