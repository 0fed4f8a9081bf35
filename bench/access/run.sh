#!/usr/bin/env bash
# Times answers that must not tell records apart (out of reach vs missing, real vs
# unknown account) on a demo registry served by the release binary, in one run, and
# prints the medians and their ratios. Usage: bench/access/run.sh [patients] [rounds]
set -euo pipefail
cd "$(dirname "$0")/../.."
patients=${1:-2000}
rounds=${2:-200}
bin=${SAISEI:-target/release/saisei}
[ -x "$bin" ] || cargo build --release -q
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
"$bin" demo --db "$dir/demo.db" --patients "$patients" --no-serve > "$dir/demo.txt"
admin=$(grep -A3 '^  admin@' "$dir/demo.txt" | awk '/token/ {print $2}')
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --db "$dir/demo.db" --addr "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -sf "$base/api/v1/health" >/dev/null && break; sleep 0.2; done
api() { curl -sf -H "Authorization: Bearer $1" -H 'Content-Type: application/json' "${@:2}"; }
# A clinic with no records, and a physician there.
clinic=$(api "$admin" "$base/api/v1/organisations" -d '{"name":"Bench Clinic","kind":"medical_institution"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf 'bench-password-long-enough' > "$dir/pw"
"$bin" user add --db "$dir/demo.db" --email bench@x.example --role physician --org "$clinic" --password-file "$dir/pw" > /dev/null 2>&1
token=$("$bin" token create --db "$dir/demo.db" --user bench@x.example 2>/dev/null | tail -1)
own=$(api "$token" "$base/api/v1/patients" -d "{\"institution_id\":\"$clinic\",\"record_number\":\"B1\",\"birth_year_month\":\"1960-01\",\"sex\":\"male\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
patient=$(api "$admin" "$base/api/v1/audit?entity=patient&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["entity_id"])')
plan=$(api "$admin" "$base/api/v1/audit?entity=plan&limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["entity_id"])')
emails=""
for i in $(seq 9); do
  "$bin" user add --db "$dir/demo.db" --email "signer$i@x.example" --role physician --org "$clinic" --password-file "$dir/pw" > /dev/null 2>&1
  emails="$emails${emails:+,}signer$i@x.example"
done
echo "demo of $patients patients; $rounds rounds of each pair, interleaved"
python3 bench/access/timing.py "$base" "$token" "$patient" "$plan" "$own" "$emails" "$rounds"
