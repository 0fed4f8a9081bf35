-- no-transaction
-- A treatment's unit becomes a foreign key, as it is on PostgreSQL. SQLite cannot add a
-- foreign key to an existing table, so the table is rebuilt (SQLite's documented
-- twelve-step procedure): foreign keys off, copy into a table with the constraint, drop
-- the old one, rename, recreate the indexes, check, foreign keys back on. The migration
-- runs outside sqlx's transaction because the pragma has no effect inside one; it opens
-- its own.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;
DROP TABLE IF EXISTS treatments_rebuilt;
CREATE TABLE treatments_rebuilt (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    patient_id TEXT NOT NULL REFERENCES patients (id),
    plan_id TEXT REFERENCES plans (id),
    product_id TEXT REFERENCES products (id),
    unit_id TEXT REFERENCES units (id),
    schedule_id TEXT REFERENCES follow_up_schedules (id),
    administered_on TEXT NOT NULL,
    dose REAL NOT NULL,
    dose_unit TEXT NOT NULL,
    route TEXT NOT NULL,
    site TEXT
);
INSERT INTO treatments_rebuilt (
    id, version, created_at, updated_at, withdrawn_at, withdrawal_reason, patient_id,
    plan_id, product_id, unit_id, schedule_id, administered_on, dose, dose_unit, route, site
)
SELECT
    id, version, created_at, updated_at, withdrawn_at, withdrawal_reason, patient_id,
    plan_id, product_id, unit_id, schedule_id, administered_on, dose, dose_unit, route, site
FROM treatments;
DROP TABLE treatments;
ALTER TABLE treatments_rebuilt RENAME TO treatments;
CREATE INDEX treatments_patient_id ON treatments (patient_id);
CREATE INDEX treatments_plan_id ON treatments (plan_id);
CREATE INDEX treatments_product_id ON treatments (product_id);
CREATE INDEX treatments_administered_on ON treatments (administered_on);
CREATE INDEX treatments_unit_id ON treatments (unit_id);
COMMIT;
PRAGMA foreign_keys = ON;
