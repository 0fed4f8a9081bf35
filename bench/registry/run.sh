#!/usr/bin/env bash
# The registry at scale, measured in one run: builds (or reuses) a demo registry of N
# patients with the release binary, serves a copy of it, measures every role's lists,
# deadlines and durable writes from 127.0.0.1 beside the raw engine's own commit rate,
# and writes bench/registry/results/<backend>.md (and RESULTS.md, which joins them) with
# each figure's ratio to its goal.
# Usage: bench/registry/run.sh [patients] [sqlite|postgres]   (default 100000 sqlite)
set -euo pipefail
cd "$(dirname "$0")/../.."
patients=${1:-100000}
backend=${2:-sqlite}
bin=${SAISEI:-target/release/saisei}
[ -x "$bin" ] || cargo build --release --locked -q
work=bench/registry/work
mkdir -p "$work" bench/registry/results
stamp="$work/$backend-$patients.seconds"
users="$work/$backend-$patients.txt"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -f "$work"/run.db*
  if [ "$backend" = postgres ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS saisei_bench_run" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
timed_demo() {
  local start end
  start=$(date +%s.%N)
  "$bin" demo --db "$1" --patients "$patients" --no-serve > "$users"
  end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 1))" > "$stamp"
}

if [ "$backend" = sqlite ]; then
  db="$work/demo-$patients.db"
  if [ ! -f "$db" ] || [ ! -f "$stamp" ]; then
    rm -f "$db" "$db-wal" "$db-shm"
    timed_demo "$db"
  fi
  size=$(stat -c %s "$db")
  python3 bench/registry/raw.py "$work/raw.db" 2000 > "$work/raw.txt"
  # The run writes (adverse events): it serves a copy, so every run starts alike.
  for f in "$db" "$db.key" "$db.secret"; do cp "$f" "$work/run.db${f#"$db"}"; done
  serve_db="$work/run.db"
  keys=()
else
  url=$(scripts/postgres.sh)
  admin_url="${url%/*}/postgres"
  base_url="${url%/*}/saisei_bench_$patients"
  exists=$(psql -tA "$admin_url" -c "SELECT 1 FROM pg_database WHERE datname = 'saisei_bench_$patients'")
  if [ "$exists" != 1 ] || [ ! -f "$stamp" ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS saisei_bench_$patients" -c "CREATE DATABASE saisei_bench_$patients"
    timed_demo "$base_url"
  fi
  size=$(psql -tA "$admin_url" -c "SELECT pg_database_size('saisei_bench_$patients')")
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS saisei_bench_run" \
    -c "CREATE DATABASE saisei_bench_run TEMPLATE saisei_bench_$patients"
  serve_db="${url%/*}/saisei_bench_run"
  # The raw engine: one client, one transaction per write (a row and an audit row).
  psql -q "$serve_db" -c "CREATE TABLE bench_records (id uuid PRIMARY KEY, data text NOT NULL)" \
    -c "CREATE TABLE bench_audit (seq bigserial PRIMARY KEY, entity_id uuid, after_data text, hash text)"
  printf '%s\n' "BEGIN;" \
    "INSERT INTO bench_records VALUES (gen_random_uuid(), repeat('x', 300));" \
    "INSERT INTO bench_audit (entity_id, after_data, hash) VALUES (gen_random_uuid(), repeat('y', 900), repeat('h', 64));" \
    "COMMIT;" > "$work/raw.sql"
  pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench | sort -V | tail -n 1)
  "$pgbench" -n -c 1 -t 2000 -f "$work/raw.sql" "$serve_db" | awk '/^tps/ {print $3}' > "$work/raw.txt"
  psql -q "$serve_db" -c "DROP TABLE bench_records, bench_audit"
  # A PostgreSQL demo keeps no key files; its keys are the demo's, derived from the seed
  # as for SQLite, so a SQLite demo of the same size lends its files.
  keys=(env "SAISEI_PSEUDONYM_KEY_FILE=$work/demo-$patients.db.key"
        "SAISEI_SECRET_KEY_FILE=$work/demo-$patients.db.secret")
fi
raw_rate=$(cat "$work/raw.txt")
# One line per demo user: role and bearer token.
awk '/^  [^ ]+@[^ ]+ / {role=$2} /^    token / {print role, $2}' "$users" > "$work/users.txt"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${keys[@]}" "$bin" serve --db "$serve_db" --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 300); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 0.2; done
timeout 1800 python3 bench/registry/load.py "$base" "$work/users.txt" "$raw_rate" "$work/load.json"
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
kill "$server"
wait "$server" 2>/dev/null || true
server=""
python3 bench/registry/report.py "$work/load.json" "$patients" "$size" "$(cat "$stamp")" \
  "$rss_kb" "$backend" > "bench/registry/results/$backend.md"
cat bench/registry/results/*.md > bench/registry/RESULTS.md
cat "bench/registry/results/$backend.md"
