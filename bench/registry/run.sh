#!/usr/bin/env bash
# The registry at scale, measured in one run: builds (or reuses) a demo registry of N
# patients with the release binary, serves it, measures every role's lists, deadlines
# and durable writes from 127.0.0.1 beside the raw engine's own commit rate on the same
# disk, and writes bench/registry/RESULTS.md with each figure's ratio to its goal.
# Usage: bench/registry/run.sh [patients]   (default 100000; the goal is 1000000)
set -euo pipefail
cd "$(dirname "$0")/../.."
patients=${1:-100000}
bin=${SAISEI:-target/release/saisei}
[ -x "$bin" ] || cargo build --release --locked -q
work=bench/registry/work
mkdir -p "$work"
db="$work/demo-$patients.db"
if [ ! -f "$db" ] || [ ! -f "$work/demo-$patients.seconds" ]; then
  rm -f "$db" "$db-wal" "$db-shm"
  start=$(date +%s.%N)
  "$bin" demo --db "$db" --patients "$patients" --no-serve > "$work/demo-$patients.txt"
  end=$(date +%s.%N)
  python3 -c "print(round($end - $start, 1))" > "$work/demo-$patients.seconds"
fi
# One line per demo user: role and bearer token.
awk '/^  [^ ]+@[^ ]+ / {role=$2} /^    token / {print role, $2}' "$work/demo-$patients.txt" > "$work/users.txt"
size=$(stat -c %s "$db")

python3 bench/registry/raw.py "$work/raw.db" 2000 > "$work/raw.txt"
raw_rate=$(cat "$work/raw.txt")

# The run writes (adverse events): it serves a copy, so every run starts from the same
# registry.
cp "$db" "$work/run.db"
cp "$db.key" "$work/run.db.key"
cp "$db.secret" "$work/run.db.secret"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --db "$work/run.db" --addr "127.0.0.1:$port" > "$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$work"/run.db*' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 300); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 0.2; done
timeout 1800 python3 bench/registry/load.py "$base" "$work/users.txt" "$raw_rate" "$work/load.json"
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
kill $server
wait $server 2>/dev/null || true
python3 bench/registry/report.py "$work/load.json" "$patients" "$size" \
  "$(cat "$work/demo-$patients.seconds")" "$rss_kb" > bench/registry/RESULTS.md
cat bench/registry/RESULTS.md
