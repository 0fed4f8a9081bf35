"""Does the answer's timing tell a record out of reach from one that does not exist?

Against a running server, as a physician of a clinic with no records of its own, this
times (interleaved, many times) pairs of requests that must look the same:

- a read of another clinic's patient, and of a patient id that does not exist;
- a treatment whose plan_id is another clinic's plan, and one whose plan_id is nothing;
- a sign-in to a real account and to an unknown one (wrong password both times).

It prints the median of each and their ratio. Standard library only.
"""

import json
import statistics
import sys
import time
import urllib.error
import urllib.request
import uuid

base, token, foreign_patient, foreign_plan, own_patient, real_emails = sys.argv[1:7]
real_emails = real_emails.split(",")
rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 200


def call(method, path, body=None, auth=True):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if auth:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(req) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        e.read()
        status = e.code
    return status, time.perf_counter() - started


def treatment(plan):
    return {
        "patient_id": own_patient,
        "plan_id": plan,
        "administered_on": "2025-01-10",
        "dose": 5e7,
        "dose_unit": "cells",
        "route": "intra_articular",
    }


def sign_in(email):
    return {"email": email, "password": "not the password at all", "code": "000000"}


pairs = {
    "read a patient": (
        lambda: call("GET", f"/api/v1/patients/{foreign_patient}"),
        lambda: call("GET", f"/api/v1/patients/{uuid.uuid4()}"),
    ),
    "treatment under a plan": (
        lambda: call("POST", "/api/v1/treatments", treatment(foreign_plan)),
        lambda: call("POST", "/api/v1/treatments", treatment(str(uuid.uuid4()))),
    ),
}
results = {}
for name, (out_of_reach, missing) in pairs.items():
    a, b = [], []
    for _ in range(rounds):
        sa, ta = out_of_reach()
        sb, tb = missing()
        assert sa == sb, f"{name}: {sa} vs {sb}"
        a.append(ta)
        b.append(tb)
    results[name] = (statistics.median(a), statistics.median(b), sa)

# Sign-in: each attempt is the first for its account (real ones made for the bench,
# unknown ones made up), so the throttle never steps in; the address's own count stays
# under its free failures.
known, unknown = [], []
for email in real_emails:
    sa, t = call("POST", "/api/v1/auth/sign-in", sign_in(email), auth=False)
    known.append(t)
    sb, t = call("POST", "/api/v1/auth/sign-in", sign_in(f"nobody-{uuid.uuid4()}@x.example"), auth=False)
    unknown.append(t)
    assert sa == sb == 401, (sa, sb)
results["sign-in (wrong password)"] = (statistics.median(known), statistics.median(unknown), 401)

print(f"{'pair':<28} {'out of reach / real':>20} {'missing / unknown':>18} {'ratio':>7}  status")
for name, (a, b, status) in results.items():
    print(f"{name:<28} {a * 1000:>17.2f} ms {b * 1000:>15.2f} ms {a / b:>7.2f}  {status}")
