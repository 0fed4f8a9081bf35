#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 and prints the URL of a test
# database on it. Starts an installed cluster that is down; installs Debian's postgresql
# package when none is installed. Used by scripts/test.sh and .ci/run.
set -euo pipefail

host=127.0.0.1
port=5432

ready() { pg_isready -h "$host" -p "$port" -q 2>/dev/null; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

installed_here=no
if ! command -v pg_isready >/dev/null 2>&1 || ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  echo "postgres.sh: installing PostgreSQL (Debian package)" >&2
  as_root apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq postgresql >&2
  installed_here=yes
fi

if ! ready; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "postgres.sh: starting PostgreSQL $version" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  for _ in $(seq 1 60); do ready && break; sleep 1; done
fi
ready || { echo "postgres.sh: PostgreSQL does not answer on $host:$port" >&2; exit 1; }

# Connect as postgres: over TCP with trust auth where the machine is set up that way,
# otherwise as the postgres OS user over the socket to set a password.
url="postgres://postgres@$host:$port/test"
if ! psql "postgres://postgres@$host:$port/postgres" -tAc 'SELECT 1' >/dev/null 2>&1; then
  as_root su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >&2
  url="postgres://postgres:postgres@$host:$port/test"
fi
admin=${url%/test}/postgres
if [ "$(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'")" != 1 ]; then
  psql "$admin" -qc 'CREATE DATABASE test' >&2
fi
# Each test makes a schema of its own; drop those left by earlier runs.
psql "$url" -tAc "SELECT nspname FROM pg_namespace WHERE nspname ~ '^(t|api)_[0-9a-f]{32}$'" |
  while read -r schema; do
    [ -n "$schema" ] && psql "$url" -qc "DROP SCHEMA \"$schema\" CASCADE" >/dev/null 2>&1 || true
  done
: "$installed_here"
echo "$url"
