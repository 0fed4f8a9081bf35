-- Filed periodic reports (定期報告): the compiled content frozen with its hash.
CREATE TABLE periodic_reports (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    plan_id UUID NOT NULL REFERENCES plans (id),
    period_number BIGINT NOT NULL CHECK (period_number >= 1),
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    due_on DATE NOT NULL,
    submitted_on DATE NOT NULL,
    rule_set TEXT NOT NULL,
    content JSONB NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE UNIQUE INDEX periodic_reports_plan_period_key ON periodic_reports (plan_id, period_number);
