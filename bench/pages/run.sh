#!/usr/bin/env bash
# Every page for every role, timed on a demo registry of N patients (SQLite), with the
# release binary; writes bench/pages/RESULTS.md with each page's p95 and its ratio to the
# 150 ms goal. Reuses the registry bench's demo database when it is there.
# Usage: bench/pages/run.sh [patients]   (default 100000)
set -euo pipefail
cd "$(dirname "$0")/../.."
patients=${1:-100000}
bin=${SAISEI:-target/release/saisei}
[ -x "$bin" ] || cargo build --release --locked -q
work=bench/registry/work
mkdir -p "$work"
db="$work/demo-$patients.db"
users="$work/sqlite-$patients.txt"
if [ ! -f "$db" ] || [ ! -f "$users" ]; then
  rm -f "$db" "$db-wal" "$db-shm"
  start=$(date +%s.%N)
  "$bin" demo --db "$db" --patients "$patients" --no-serve > "$users"
  end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 1))" > "$work/sqlite-$patients.seconds"
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --db "$db" --addr "127.0.0.1:$port" > "$work/pages-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break
  sleep 0.2
done
python3 bench/pages/pages.py "http://127.0.0.1:$port" "$users" bench/pages/RESULTS.md "$patients"
