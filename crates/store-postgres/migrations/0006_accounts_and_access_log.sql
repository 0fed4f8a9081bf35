-- Accounts: sign-in throttling replaces the lock-out; TOTP secrets are sealed with the
-- server's secret key (checked against key_checks); recovery codes; one-time enrolment
-- links for resets. And the access log: who read which patient-level record.
ALTER TABLE users DROP COLUMN failed_attempts;
ALTER TABLE users DROP COLUMN locked_until;
ALTER TABLE users ADD COLUMN recovery_codes JSONB NOT NULL DEFAULT '[]';
ALTER TABLE users ADD COLUMN throttle_cleared_at TIMESTAMPTZ;

CREATE TABLE enrolments (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    user_id UUID NOT NULL REFERENCES users (id),
    token_hash TEXT NOT NULL,
    password BOOLEAN NOT NULL,
    second_factor BOOLEAN NOT NULL,
    pending_totp_secret TEXT,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    issued_by UUID NOT NULL REFERENCES users (id),
    reason TEXT NOT NULL
);
CREATE UNIQUE INDEX enrolments_token_hash_key ON enrolments (token_hash);
CREATE INDEX enrolments_user ON enrolments (user_id);

CREATE TABLE key_checks (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    purpose TEXT NOT NULL,
    check_value TEXT NOT NULL
);
CREATE UNIQUE INDEX key_checks_purpose_key ON key_checks (purpose);

CREATE INDEX sessions_user ON sessions (user_id);

-- One row per patient-level record a request disclosed.
CREATE TABLE access_log (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at TIMESTAMPTZ NOT NULL,
    request_id UUID NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id UUID,
    action TEXT NOT NULL,
    path TEXT NOT NULL,
    entity TEXT NOT NULL,
    record_id UUID NOT NULL,
    patient_id UUID
);
CREATE INDEX access_log_at ON access_log (at);
CREATE INDEX access_log_actor ON access_log (actor, seq);
CREATE INDEX access_log_record ON access_log (record_id, seq);
CREATE INDEX access_log_patient ON access_log (patient_id, seq);

CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access_log is append-only';
END;
$$;
CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION access_log_append_only();
CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only();

-- Every record's audit entries in order, for verifying rows against their history.
CREATE INDEX audit_log_record_history ON audit_log (entity, entity_id, seq);
