"""The raw engine's durable commit rate: one thread commits N transactions of one row and
one audit-sized row each, to SQLite in WAL mode with synchronous=FULL, on the same disk
as the registry. Prints transactions per second."""

import os
import sqlite3
import sys
import time
import uuid

path, n = sys.argv[1], int(sys.argv[2])
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE records (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
db.execute("CREATE TABLE audit (seq INTEGER PRIMARY KEY, entity_id TEXT, after_data TEXT, hash TEXT)")
record = "x" * 300
entry = "y" * 900
start = time.perf_counter()
for i in range(n):
    db.execute("BEGIN IMMEDIATE")
    rid = str(uuid.uuid4())
    db.execute("INSERT INTO records VALUES (?, ?)", (rid, record))
    db.execute("INSERT INTO audit (entity_id, after_data, hash) VALUES (?, ?, ?)", (rid, entry, "h" * 64))
    db.execute("COMMIT")
elapsed = time.perf_counter() - start
db.close()
for suffix in ("", "-wal", "-shm"):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
print(round(n / elapsed, 1))
