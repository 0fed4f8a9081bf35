"""Writes RESULTS.md from one run of bench/registry/run.sh: each figure with its goal and
the ratio to it (below 1.00 meets the goal for times and sizes; at or above 1.00 meets it
for rates)."""

import json
import sys

load, patients, size, demo_seconds, rss_kb, backend = sys.argv[1:7]
r = json.load(open(load))
patients = int(patients)
size = int(size)
demo_seconds = float(demo_seconds)
rss_mb = int(rss_kb) / 1024
raw = r["raw_rate"]

engine = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
print(f"# The registry at scale on {engine}\n")
print(f"One run of `bench/registry/run.sh {patients} {backend}` on this machine (2 cores), the")
print("release binary, one client on 127.0.0.1 for reads (40 requests each). Goals are for")
print("1,000,000 patients; the ratio is the figure over its goal (below 1.00 meets a time or")
print("size goal, 1.00 or more meets a rate goal).\n")
if patients < 1_000_000:
    print(f"This run holds {patients:,} patients, not 1,000,000: a list's ratio says something about")
    print("the goal only where its cost does not grow with the registry, which")
    print("`crates/server/tests/api/query_plans.rs` pins for every scoped list; the deadlines")
    print("and a marketing-authorisation holder's lists still grow with what they cover.\n")
print("## Lists, pages and deadlines\n")
print("| role | request | median ms | p95 ms | goal p95 ms | ratio |")
print("|---|---|---:|---:|---:|---:|")
for x in r["reads"]:
    goal = 200 if "deadlines" in x["request"] else 100
    print(f"| {x['role']} | `{x['request']}` | {x['median_ms']:.1f} | {x['p95_ms']:.1f} | {goal} | {x['p95_ms'] / goal:.2f} |")
print("\n## Durable writes (`POST /api/v1/adverse-events`)\n")
durability = "WAL, `synchronous=FULL`" if backend == "sqlite" else "`fsync` on, `synchronous_commit` on; pgbench"
print(f"Raw engine, same disk, same durability ({durability}), one client, one")
print(f"transaction per write (a row and an audit row): **{raw:.0f} per second**. The API is")
print("driven by curl's parallel mode, a bounded number of requests per client count.\n")
print("| clients | acknowledged | errors | per second | ratio to raw engine | p50 ms | p99 ms | goal p99 ms |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|")
for w in r["writes"]:
    p50 = f"{w['p50_ms']:.1f}" if w["p50_ms"] is not None else "—"
    p99 = f"{w['p99_ms']:.1f}" if w["p99_ms"] is not None else "—"
    print(f"| {w['clients']} | {w['acknowledged']} | {w['errors']} | {w['per_second']:.0f} | {w['per_second'] / raw:.2f} | {p50} | {p99} | 50 |")
errs = [w["first_error"] for w in r["writes"] if w["first_error"]]
if errs:
    print(f"\nFirst error: `{errs[0]}`")
print("\n## Size, build and memory\n")
print("| figure | value | goal | ratio |")
print("|---|---:|---:|---:|")
kb = size / 1024 / patients
print(f"| database per patient | {kb:.1f} KB | 8 KB | {kb / 8:.2f} |")
projected = demo_seconds * 1_000_000 / patients / 60
print(f"| demo build, {patients:,} patients | {demo_seconds:.0f} s | — | — |")
print(f"| demo build projected to 1,000,000 (linear) | {projected:.1f} min | 10 min | {projected / 10:.2f} |")
print(f"| server peak resident memory under this load | {rss_mb:.0f} MB | 300 MB | {rss_mb / 300:.2f} |")
