"""Reads and writes against a running Saisei, measured from one process on 127.0.0.1.

Usage: load.py BASE USERS_FILE RAW_RATE OUT_JSON

USERS_FILE holds lines "role token" (from the demo's output). For each role it asks the
lists that role reads (a first page and a page deep into the list, reached by following
cursors) and the deadlines, ROUNDS times each, one client; then durable writes (adverse
events) from 1, 8 and 32 clients through curl's parallel mode, a bounded count each.
Every request has a timeout; the whole run stops by itself.
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse

ROUNDS = 40
DEEP_PAGES = 20
WRITES_PER_CLIENT = {1: 500, 8: 250, 32: 100}
WRITE_SECONDS = 60

LISTS = {
    "regulator": ["patients", "visits", "treatments", "adverse-events", "observations", "units"],
    "institution_staff": ["patients", "visits", "treatments", "adverse-events", "observations", "consents"],
    "physician": ["patients", "visits", "adverse-events"],
    "facility_staff": ["lots", "units", "qc-results", "custody-events"],
    "qa_manager": ["lots", "units", "qc-results"],
    "committee_member": ["plans", "periodic-reports"],
    "mah_analyst": ["patients", "treatments", "adverse-events", "lots"],
}
DEADLINES = {"regulator", "institution_staff", "physician"}


class Client:
    def __init__(self, base, token):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.token = token
        self.conn = None

    def request(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        start = time.perf_counter()
        try:
            self.conn.request(method, path, body=data, headers=headers)
            r = self.conn.getresponse()
            raw = r.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            raise
        elapsed = (time.perf_counter() - start) * 1000
        return r.status, raw, elapsed


def pct(values, p):
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100 * len(v) + 0.5)) - 1))
    return v[k]


def timed(client, path):
    times = []
    for _ in range(ROUNDS):
        status, raw, ms = client.request("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {raw[:300]!r}")
        times.append(ms)
    return {"median_ms": statistics.median(times), "p95_ms": pct(times, 95), "n": len(times)}


def deep_cursor(client, resource):
    cursor = None
    for _ in range(DEEP_PAGES):
        q = f"/api/v1/{resource}?limit=50" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, raw, _ = client.request("GET", q)
        if status != 200:
            return None
        nxt = json.loads(raw).get("next_cursor")
        if not nxt:
            break
        cursor = nxt
    return cursor


def reads(base, users):
    out = []
    for role, token in users.items():
        c = Client(base, token)
        for resource in LISTS.get(role, []):
            first = timed(c, f"/api/v1/{resource}?limit=50")
            out.append({"role": role, "request": f"GET /api/v1/{resource}?limit=50", **first})
            cursor = deep_cursor(c, resource)
            if cursor:
                deep = timed(c, f"/api/v1/{resource}?limit=50&cursor={urllib.parse.quote(cursor)}")
                out.append({"role": role, "request": f"GET /api/v1/{resource} (page {DEEP_PAGES + 1})", **deep})
        if role in DEADLINES:
            out.append({"role": role, "request": "GET /api/v1/deadlines", **timed(c, "/api/v1/deadlines")})
            for status in ("overdue", "due"):
                q = f"/api/v1/deadlines?status={status}"
                out.append({"role": role, "request": f"GET {q}", **timed(c, q)})
        print(f"reads done for {role}", file=sys.stderr)
    return out


def writes(base, token, patient_ids):
    """Durable writes through curl's parallel mode (a C client, so the load generator is
    not what limits the rate): per client count, a bounded number of POSTs, each timed."""
    results = []
    for clients, per_client in WRITES_PER_CLIENT.items():
        total = clients * per_client
        with tempfile.TemporaryDirectory() as tmp:
            body = os.path.join(tmp, "ae.json")
            with open(body, "w") as f:
                json.dump({
                    "patient_id": patient_ids[clients % len(patient_ids)],
                    "verbatim_term": "bench headache", "ctcae_term": "Headache",
                    "grade": 1, "seriousness": [], "causality": "unlikely",
                    "onset_on": "2025-01-10", "known_on": "2025-01-11", "outcome": "recovered",
                }, f)
            config = os.path.join(tmp, "urls")
            with open(config, "w") as f:
                for _ in range(total):
                    f.write(f'url = "{base}/api/v1/adverse-events"\noutput = "/dev/null"\n')
            start = time.perf_counter()
            out = subprocess.run(
                ["curl", "-s", "-Z", "--parallel-max", str(clients), "--max-time", "30",
                 "-X", "POST", "-H", f"Authorization: Bearer {token}",
                 "-H", "Content-Type: application/json", "--data-binary", f"@{body}",
                 "-w", "%{http_code} %{time_total}\n", "-K", config],
                capture_output=True, text=True, timeout=WRITE_SECONDS * 5,
            ).stdout
            wall = time.perf_counter() - start
        times, errors = [], []
        for line in out.splitlines():
            code, seconds = line.split()
            if code == "201":
                times.append(float(seconds) * 1000)
            else:
                errors.append(code)
        results.append({
            "clients": clients, "acknowledged": len(times), "errors": len(errors),
            "first_error": errors[0] if errors else None,
            "per_second": len(times) / wall if wall else 0.0,
            "p50_ms": statistics.median(times) if times else None,
            "p99_ms": pct(times, 99) if times else None,
        })
        print(f"writes done for {clients} clients", file=sys.stderr)
    return results


def main():
    base, users_file, raw_rate, out = sys.argv[1:5]
    users = {}
    for line in open(users_file):
        role, token = line.split()
        users.setdefault(role, token)
    staff = Client(base, users["institution_staff"])
    status, raw, _ = staff.request("GET", "/api/v1/patients?limit=200")
    patient_ids = [p["id"] for p in json.loads(raw)["items"]]
    result = {
        "reads": reads(base, users),
        "writes": writes(base, users["physician"], patient_ids),
        "raw_rate": float(raw_rate),
    }
    json.dump(result, open(out, "w"), indent=1)


if __name__ == "__main__":
    main()
