-- Quality and traceability: donors, collections and cell banks; lots with their QC
-- results, deviations, retained samples and status decisions; product units with their
-- append-only custody log, temperature logs, excursions and dispositions; products'
-- answers to guidance checklists. Same metadata columns and conventions as 0001; column
-- names equal the entities' field names.

CREATE TABLE donors (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    facility_id UUID NOT NULL REFERENCES organisations (id),
    pseudonym TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year_month TEXT,
    eligibility_tests JSONB NOT NULL,
    eligibility TEXT NOT NULL,
    eligibility_decided_on DATE
);
CREATE UNIQUE INDEX donors_facility_pseudonym_key ON donors (facility_id, pseudonym);
CREATE INDEX donors_eligibility ON donors (eligibility);

CREATE TABLE collections (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    donor_id UUID REFERENCES donors (id),
    patient_id UUID REFERENCES patients (id),
    collected_by_id UUID NOT NULL REFERENCES organisations (id),
    collected_on DATE NOT NULL,
    material TEXT NOT NULL,
    din TEXT,
    sec TEXT,
    volume_ml DOUBLE PRECISION
);
CREATE INDEX collections_donor_id ON collections (donor_id);
CREATE INDEX collections_patient_id ON collections (patient_id);
CREATE INDEX collections_din ON collections (din);

CREATE TABLE cell_banks (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    bank_code TEXT NOT NULL,
    tier TEXT NOT NULL,
    facility_id UUID NOT NULL REFERENCES organisations (id),
    collection_id UUID REFERENCES collections (id),
    parent_bank_id UUID REFERENCES cell_banks (id),
    cell_type TEXT NOT NULL,
    passage BIGINT NOT NULL,
    vials BIGINT NOT NULL,
    established_on DATE NOT NULL,
    storage_location TEXT
);
CREATE UNIQUE INDEX cell_banks_bank_code_key ON cell_banks (bank_code);
CREATE INDEX cell_banks_collection_id ON cell_banks (collection_id);
CREATE INDEX cell_banks_parent_bank_id ON cell_banks (parent_bank_id);

CREATE TABLE culture_media (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    name TEXT NOT NULL,
    manufacturer TEXT,
    medium_lot TEXT NOT NULL,
    xeno_free BOOLEAN NOT NULL,
    components JSONB NOT NULL,
    expires_on DATE
);
CREATE INDEX culture_media_medium_lot ON culture_media (medium_lot);

CREATE TABLE lots (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    lot_number TEXT NOT NULL,
    product_id UUID NOT NULL REFERENCES products (id),
    facility_id UUID NOT NULL REFERENCES organisations (id),
    cell_bank_id UUID REFERENCES cell_banks (id),
    collection_id UUID REFERENCES collections (id),
    culture_medium_ids JSONB NOT NULL,
    process_version TEXT NOT NULL,
    specification TEXT NOT NULL,
    evaluation_context JSONB NOT NULL,
    manufactured_on DATE NOT NULL,
    expires_on DATE,
    status TEXT NOT NULL,
    status_changed_on DATE,
    evidence_revision BIGINT NOT NULL
);
CREATE UNIQUE INDEX lots_lot_number_key ON lots (lot_number);
CREATE INDEX lots_product_id ON lots (product_id);
CREATE INDEX lots_cell_bank_id ON lots (cell_bank_id);
CREATE INDEX lots_collection_id ON lots (collection_id);
CREATE INDEX lots_status ON lots (status);

CREATE TABLE lot_status_changes (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    lot_id UUID NOT NULL REFERENCES lots (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    "on" DATE NOT NULL,
    decided_by JSONB NOT NULL,
    reason TEXT,
    evaluation_outcome TEXT,
    covered JSONB NOT NULL
);
CREATE INDEX lot_status_changes_lot_id ON lot_status_changes (lot_id);

CREATE TABLE units (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    lot_id UUID NOT NULL REFERENCES lots (id),
    unit_number TEXT NOT NULL,
    container TEXT NOT NULL,
    dose DOUBLE PRECISION NOT NULL,
    dose_unit TEXT NOT NULL,
    expires_on DATE NOT NULL,
    storage JSONB NOT NULL,
    recipient JSONB NOT NULL
);
CREATE UNIQUE INDEX units_unit_number_key ON units (unit_number);
CREATE INDEX units_lot_id ON units (lot_id);

CREATE TABLE retained_samples (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    lot_id UUID NOT NULL REFERENCES lots (id),
    sample_code TEXT NOT NULL,
    material TEXT NOT NULL,
    location TEXT NOT NULL,
    quantity DOUBLE PRECISION NOT NULL,
    quantity_unit TEXT NOT NULL,
    retained_on DATE NOT NULL,
    retain_until DATE,
    storage JSONB
);
CREATE UNIQUE INDEX retained_samples_sample_code_key ON retained_samples (sample_code);
CREATE INDEX retained_samples_lot_id ON retained_samples (lot_id);

CREATE TABLE qc_results (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    lot_id UUID NOT NULL REFERENCES lots (id),
    attribute TEXT NOT NULL,
    "value" JSONB NOT NULL,
    method TEXT NOT NULL,
    instrument TEXT,
    tested_on DATE NOT NULL,
    sample_id TEXT
);
CREATE INDEX qc_results_lot_id ON qc_results (lot_id);
CREATE INDEX qc_results_attribute ON qc_results (attribute);

CREATE TABLE deviations (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    lot_id UUID NOT NULL REFERENCES lots (id),
    reference TEXT NOT NULL,
    rule_ids JSONB NOT NULL,
    reason TEXT NOT NULL,
    approved_by JSONB NOT NULL,
    approved_on DATE NOT NULL
);
CREATE UNIQUE INDEX deviations_reference_key ON deviations (reference);
CREATE INDEX deviations_lot_id ON deviations (lot_id);

CREATE TABLE custody_events (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    unit_id UUID NOT NULL REFERENCES units (id),
    seq BIGINT NOT NULL CHECK (seq >= 0),
    event_type TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "by" JSONB NOT NULL,
    action JSONB NOT NULL
);
CREATE UNIQUE INDEX custody_events_unit_seq_key ON custody_events (unit_id, seq);
CREATE INDEX custody_events_event_type ON custody_events (event_type);

CREATE TABLE temperature_logs (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    unit_id UUID NOT NULL REFERENCES units (id),
    also_unit_ids JSONB NOT NULL,
    "range" JSONB NOT NULL,
    readings JSONB NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    within_range BOOLEAN NOT NULL,
    excursion_count BIGINT NOT NULL
);
CREATE INDEX temperature_logs_unit_id ON temperature_logs (unit_id);

CREATE TABLE temperature_excursions (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    log_id UUID NOT NULL REFERENCES temperature_logs (id),
    unit_id UUID NOT NULL REFERENCES units (id),
    unit_ids JSONB NOT NULL,
    hold TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    duration_seconds BIGINT NOT NULL,
    min_celsius DOUBLE PRECISION NOT NULL,
    max_celsius DOUBLE PRECISION NOT NULL,
    direction TEXT NOT NULL,
    readings BIGINT NOT NULL,
    open_at_end_of_log BOOLEAN NOT NULL,
    "range" JSONB NOT NULL
);
CREATE INDEX temperature_excursions_log_id ON temperature_excursions (log_id);
CREATE INDEX temperature_excursions_unit_id ON temperature_excursions (unit_id);

CREATE TABLE dispositions (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    excursion_id UUID NOT NULL REFERENCES temperature_excursions (id),
    hold TEXT NOT NULL,
    decision JSONB NOT NULL,
    approved_by JSONB NOT NULL,
    decided_on DATE NOT NULL,
    unit_ids JSONB NOT NULL
);
CREATE UNIQUE INDEX dispositions_excursion_id_key ON dispositions (excursion_id);

CREATE TABLE checklist_answers (
    id UUID PRIMARY KEY NOT NULL,
    version BIGINT NOT NULL CHECK (version >= 1),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    withdrawn_at TIMESTAMPTZ,
    withdrawal_reason TEXT,
    product_id UUID NOT NULL REFERENCES products (id),
    checklist TEXT NOT NULL,
    checklist_version BIGINT NOT NULL,
    item TEXT NOT NULL,
    response JSONB NOT NULL,
    answered_on DATE NOT NULL
);
CREATE UNIQUE INDEX checklist_answers_item_key ON checklist_answers (product_id, checklist, checklist_version, item);

-- Look-back walks from a unit to the treatments that used it.
CREATE INDEX treatments_unit_id ON treatments (unit_id);
ALTER TABLE treatments ADD CONSTRAINT treatments_unit_id_fkey
    FOREIGN KEY (unit_id) REFERENCES units (id);

-- The custody log is append-only: the database itself refuses changes and deletions.
CREATE FUNCTION custody_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody_events is append-only';
END;
$$;
CREATE TRIGGER custody_events_no_update BEFORE UPDATE OR DELETE ON custody_events
    FOR EACH ROW EXECUTE FUNCTION custody_events_append_only();
CREATE TRIGGER custody_events_no_truncate BEFORE TRUNCATE ON custody_events
    FOR EACH STATEMENT EXECUTE FUNCTION custody_events_append_only();
