-- Filed periodic reports (定期報告): the compiled content frozen with its hash.
CREATE TABLE periodic_reports (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    plan_id TEXT NOT NULL REFERENCES plans (id),
    period_number INTEGER NOT NULL CHECK (period_number >= 1),
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    due_on TEXT NOT NULL,
    submitted_on TEXT NOT NULL,
    rule_set TEXT NOT NULL,
    content TEXT NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX periodic_reports_plan_period_key ON periodic_reports (plan_id, period_number);
