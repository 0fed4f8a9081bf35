"""Renders every page for every role against a running Saisei and times each, from one
client on 127.0.0.1 (the time is the server's plus loopback, well under a millisecond).

Usage: pages.py BASE USERS_FILE OUT_MD PATIENTS

USERS_FILE is the demo's output (each user's e-mail, role and API token); pages accept
the token as the API does. Each page is asked ROUNDS times after one warm-up; a page a
role may not open (403/404) is listed as such, not timed. Bounded in count and time.
"""

import http.client
import json
import re
import statistics
import sys
import time
import urllib.parse

ROUNDS = 40
GOAL_MS = 150.0
DEADLINE = time.time() + 1500

BASE, USERS, OUT, PATIENTS = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
host = urllib.parse.urlparse(BASE)


def users():
    text = open(USERS).read()
    out = {}
    for m in re.finditer(r"^  (\S+@\S+)\s+(\S+).*?\n.*?\n\s+token\s+(\S+)", text, re.M):
        out.setdefault(m.group(2), m.group(3))
    return out


class Client:
    def __init__(self, token):
        self.token = token
        self.conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)

    def get(self, path):
        self.conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
        r = self.conn.getresponse()
        body = r.read()
        return r.status, body

    def first_id(self, api):
        status, body = self.get(f"/api/v1/{api}?limit=1")
        if status != 200:
            return None
        items = json.loads(body)["items"]
        return items[0]["id"] if items else None

    def deep_cursor(self, path, pages=20):
        """The cursor of a page deep into a list (following next links)."""
        cursor = None
        for _ in range(pages):
            status, body = self.get(path + (f"?cursor={cursor}" if cursor else ""))
            if status != 200:
                return None
            m = re.search(rb'href="[^"]*cursor=([0-9a-f-]{36})[^"]*" rel="next"', body)
            if not m:
                break
            cursor = m.group(1).decode()
        return cursor


def pages_for(c):
    patient = c.first_id("patients")
    plan = c.first_id("plans")
    visit = c.first_id("visits")
    out = ["/", "/patients", "/patients/new", "/plans", "/deadlines"]
    deep = c.deep_cursor("/patients")
    if deep:
        out.append(f"/patients?cursor={deep}")
    # The list ordered by a column, and narrowed through the enrolments.
    out += ["/patients?sort=birth_year_month", "/patients?arm=control"]
    if plan:
        out.append(f"/patients?plan_id={plan}&arm=treated")
    if patient:
        out += [f"/patients/{patient}", f"/patients/{patient}/treatments/new",
                f"/patients/{patient}/adverse-events/new"]
    if visit:
        out.append(f"/visits/{visit}")
    if plan:
        out += [f"/plans/{plan}", f"/plans/{plan}/periodic-reports/1"]
    return out


def label(path):
    path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", path)
    return path


def main():
    rows = []
    for role, token in users().items():
        c = Client(token)
        for path in pages_for(c):
            if time.time() > DEADLINE:
                break
            status, _ = c.get(path)
            if status != 200:
                rows.append((role, label(path), status, None, None))
                continue
            times = []
            for _ in range(ROUNDS):
                t = time.perf_counter()
                c.get(path)
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p95 = times[int(len(times) * 0.95) - 1]
            rows.append((role, label(path), status, statistics.median(times), p95))
    worst = max((r[4] for r in rows if r[4] is not None), default=0)
    lines = [
        f"# Pages at {PATIENTS:,} patients (SQLite)",
        "",
        "Every page for every role, from one client on 127.0.0.1, "
        f"{ROUNDS} requests each after a warm-up; goal: p95 under {GOAL_MS:.0f} ms. "
        "Written by `bench/pages/run.sh`.",
        "",
        f"Slowest p95: **{worst:.1f} ms** ({worst / GOAL_MS:.2f} of the goal).",
        "",
        "| role | page | median ms | p95 ms | p95 / goal |",
        "|---|---|---:|---:|---:|",
    ]
    for role, path, status, med, p95 in rows:
        if med is None:
            lines.append(f"| {role} | `{path}` | — | — | not for this role ({status}) |")
        else:
            lines.append(f"| {role} | `{path}` | {med:.1f} | {p95:.1f} | {p95 / GOAL_MS:.2f} |")
    open(OUT, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
