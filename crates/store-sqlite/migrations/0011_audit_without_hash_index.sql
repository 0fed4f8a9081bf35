-- The audit log keeps no unique index on its hashes: every entry names its
-- predecessor's hash and verification recomputes each one, so a duplicated, altered or
-- reordered entry is found without it, and the index cost about 80 bytes an entry (a
-- tenth of the database). SQLite cannot drop a constraint's index, so the table is
-- rebuilt with the same columns, index and append-only triggers.
DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;
CREATE TABLE audit_log_rebuilt (
    seq INTEGER PRIMARY KEY NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    before_data TEXT,
    after_data TEXT,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_log_rebuilt
    (seq, at, actor, role, organisation_id, action, entity, entity_id, before_data,
     after_data, reason, prev_hash, hash)
SELECT seq, at, actor, role, organisation_id, action, entity, entity_id, before_data,
       after_data, reason, prev_hash, hash
FROM audit_log ORDER BY seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_rebuilt RENAME TO audit_log;
CREATE INDEX audit_log_record_history ON audit_log (entity, entity_id, seq);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
