-- Registry core. Every table carries the same metadata columns: id (UUIDv7), version
-- (optimistic concurrency), created/updated instants (UTC), and the withdrawal instant and
-- reason (records are never deleted). Column names equal the entities' field names.

CREATE TABLE organisations (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT,
    prefecture TEXT
);
CREATE INDEX organisations_kind ON organisations (kind);

CREATE TABLE practitioners (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    organisation_id UUID NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    profession TEXT NOT NULL,
    qualifications JSONB NOT NULL
);
CREATE INDEX practitioners_organisation_id ON practitioners (organisation_id);

CREATE TABLE products (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    name TEXT NOT NULL,
    modality TEXT NOT NULL,
    mah_id UUID REFERENCES organisations (id),
    description TEXT,
    approval JSONB
);
CREATE INDEX products_mah_id ON products (mah_id);

CREATE TABLE plans (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    plan_number TEXT NOT NULL,
    title TEXT NOT NULL,
    institution_id UUID NOT NULL REFERENCES organisations (id),
    responsible_physician_id UUID NOT NULL REFERENCES practitioners (id),
    risk_class TEXT NOT NULL,
    target_disease TEXT NOT NULL,
    material_description TEXT NOT NULL,
    therapy JSONB,
    committee_id UUID NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    submitted_on DATE,
    filed_on DATE,
    activated_on DATE,
    expected_efficacy TEXT,
    evaluation_method TEXT
);
CREATE UNIQUE INDEX plans_plan_number_key ON plans (plan_number);
CREATE INDEX plans_institution_id ON plans (institution_id);
CREATE INDEX plans_committee_id ON plans (committee_id);
CREATE INDEX plans_status ON plans (status);

CREATE TABLE plan_transitions (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    plan_id UUID NOT NULL REFERENCES plans (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    "on" DATE NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX plan_transitions_plan_id ON plan_transitions (plan_id);

CREATE TABLE patients (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    institution_id UUID NOT NULL REFERENCES organisations (id),
    pseudonym TEXT NOT NULL,
    birth_year_month TEXT NOT NULL,
    sex TEXT NOT NULL
);
CREATE UNIQUE INDEX patients_institution_pseudonym_key ON patients (institution_id, pseudonym);

CREATE TABLE enrollments (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    patient_id UUID NOT NULL REFERENCES patients (id),
    arm TEXT NOT NULL,
    plan_id UUID REFERENCES plans (id),
    product_id UUID REFERENCES products (id),
    control_source TEXT,
    enrolled_on DATE NOT NULL,
    index_date DATE
);
CREATE INDEX enrollments_patient_id ON enrollments (patient_id);
CREATE INDEX enrollments_plan_id ON enrollments (plan_id);
CREATE INDEX enrollments_product_id ON enrollments (product_id);

CREATE TABLE consents (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    patient_id UUID NOT NULL REFERENCES patients (id),
    scope TEXT NOT NULL,
    form_version TEXT NOT NULL,
    given_on DATE NOT NULL,
    withdrawn_on DATE,
    withdrawal_statement TEXT
);
CREATE INDEX consents_patient_id ON consents (patient_id);

CREATE TABLE follow_up_schedules (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    name TEXT NOT NULL,
    description TEXT,
    visits JSONB NOT NULL,
    "repeat" JSONB
);

CREATE TABLE treatments (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    patient_id UUID NOT NULL REFERENCES patients (id),
    plan_id UUID REFERENCES plans (id),
    product_id UUID REFERENCES products (id),
    unit_id UUID,
    schedule_id UUID REFERENCES follow_up_schedules (id),
    administered_on DATE NOT NULL,
    dose DOUBLE PRECISION NOT NULL,
    dose_unit TEXT NOT NULL,
    route TEXT NOT NULL,
    site TEXT
);
CREATE INDEX treatments_patient_id ON treatments (patient_id);
CREATE INDEX treatments_plan_id ON treatments (plan_id);
CREATE INDEX treatments_product_id ON treatments (product_id);
CREATE INDEX treatments_administered_on ON treatments (administered_on);

CREATE TABLE visits (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    patient_id UUID NOT NULL REFERENCES patients (id),
    treatment_id UUID REFERENCES treatments (id),
    label TEXT NOT NULL,
    due_on DATE NOT NULL,
    window_opens_on DATE NOT NULL,
    window_closes_on DATE NOT NULL,
    done_on DATE,
    not_done_reason TEXT
);
CREATE INDEX visits_patient_id ON visits (patient_id);
CREATE INDEX visits_treatment_id ON visits (treatment_id);
CREATE INDEX visits_window_closes_on ON visits (window_closes_on);

CREATE TABLE observations (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    patient_id UUID NOT NULL REFERENCES patients (id),
    visit_id UUID REFERENCES visits (id),
    code TEXT NOT NULL,
    system TEXT,
    value_number DOUBLE PRECISION,
    value_text TEXT,
    unit TEXT,
    observed_on DATE NOT NULL
);
CREATE INDEX observations_patient_id ON observations (patient_id);
CREATE INDEX observations_visit_id ON observations (visit_id);
CREATE INDEX observations_code ON observations (code);

CREATE TABLE adverse_events (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    patient_id UUID NOT NULL REFERENCES patients (id),
    treatment_id UUID REFERENCES treatments (id),
    verbatim_term TEXT NOT NULL,
    ctcae_term TEXT,
    grade BIGINT,
    seriousness JSONB NOT NULL,
    causality TEXT NOT NULL,
    onset_on DATE NOT NULL,
    known_on DATE NOT NULL,
    outcome TEXT NOT NULL,
    resolved_on DATE,
    description TEXT,
    reported_on DATE
);
CREATE INDEX adverse_events_patient_id ON adverse_events (patient_id);
CREATE INDEX adverse_events_treatment_id ON adverse_events (treatment_id);
CREATE INDEX adverse_events_known_on ON adverse_events (known_on);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id UUID,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id UUID,
    before_data JSONB,
    after_data JSONB,
    reason TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- The audit trail is append-only: the database itself refuses changes and deletions.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

