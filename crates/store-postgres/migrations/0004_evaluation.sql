-- Post-marketing evaluation (製造販売後承認条件評価): plans structured on the MHLW
-- evaluation index, blinded central adjudication, and analysis runs frozen with the
-- data snapshot they came from.

CREATE TABLE evaluation_plans (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    product_id UUID NOT NULL REFERENCES products (id),
    title TEXT NOT NULL,
    data_cut DATE,
    sample_size JSONB NOT NULL,
    sites JSONB NOT NULL,
    endpoints JSONB NOT NULL,
    randomisation JSONB NOT NULL,
    blinding JSONB NOT NULL,
    control JSONB NOT NULL,
    use_results_rationale TEXT,
    interim JSONB,
    quality_efficacy JSONB
);
CREATE INDEX evaluation_plans_product_id ON evaluation_plans (product_id);

CREATE TABLE adjudication_tasks (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    plan_id UUID NOT NULL REFERENCES evaluation_plans (id),
    endpoint TEXT NOT NULL,
    patient_id UUID NOT NULL REFERENCES patients (id),
    source_kind TEXT NOT NULL,
    source_id UUID NOT NULL,
    task_code TEXT NOT NULL,
    event JSONB NOT NULL,
    status TEXT NOT NULL,
    decision TEXT,
    decided_by TEXT
);
CREATE UNIQUE INDEX adjudication_tasks_source_id_key ON adjudication_tasks (plan_id, endpoint, source_id);
CREATE UNIQUE INDEX adjudication_tasks_task_code_key ON adjudication_tasks (plan_id, task_code);
CREATE INDEX adjudication_tasks_status ON adjudication_tasks (plan_id, status);

CREATE TABLE adjudication_assessments (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    task_id UUID NOT NULL REFERENCES adjudication_tasks (id),
    adjudicator TEXT NOT NULL,
    round TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT
);
CREATE UNIQUE INDEX adjudication_assessments_once_key ON adjudication_assessments (task_id, adjudicator, round);

CREATE TABLE evaluation_runs (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    plan_id UUID NOT NULL REFERENCES evaluation_plans (id),
    plan_version BIGINT NOT NULL,
    as_of DATE NOT NULL,
    verdict TEXT NOT NULL,
    snapshot JSONB NOT NULL,
    results JSONB NOT NULL,
    results_hash TEXT NOT NULL
);
CREATE INDEX evaluation_runs_plan_id ON evaluation_runs (plan_id);
