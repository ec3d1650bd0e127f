#!/usr/bin/env bash
# Runs a command against a throwaway PostgreSQL server on a free loopback port, then stops the server.
# The command sees DOORSTEP_TEST_DATABASE_URL. Without PostgreSQL installed this is an error under CI=true
# and a loud skip elsewhere.
set -euo pipefail

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ] || [ ! -x "$pgbin/initdb" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is not installed; under CI=true the PostgreSQL run is required." >&2
    exit 1
  fi
  echo "SKIPPED: the PostgreSQL run (PostgreSQL is not installed; apt-get install postgresql)." >&2
  exit 0
fi

dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"

cleanup() {
  as_pg "'$pgbin/pg_ctl' -D '$dir/data' -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

as_pg "'$pgbin/initdb' -D '$dir/data' -A trust -U postgres" >/dev/null
as_pg "'$pgbin/pg_ctl' -D '$dir/data' -l '$dir/log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null

export DOORSTEP_TEST_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1:$port/postgres"
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
"$@"
