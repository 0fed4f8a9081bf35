-- Quality and traceability: donors, collections and cell banks; lots with their QC
-- results, deviations, retained samples and status decisions; product units with their
-- append-only custody log, temperature logs, excursions and dispositions; products'
-- answers to guidance checklists. Same metadata columns and conventions as 0001; column
-- names equal the entities' field names.

CREATE TABLE donors (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    facility_id TEXT NOT NULL REFERENCES organisations (id),
    pseudonym TEXT NOT NULL,
    sex TEXT NOT NULL,
    birth_year_month TEXT,
    eligibility_tests TEXT NOT NULL,
    eligibility TEXT NOT NULL,
    eligibility_decided_on TEXT
);
CREATE UNIQUE INDEX donors_facility_pseudonym_key ON donors (facility_id, pseudonym);
CREATE INDEX donors_eligibility ON donors (eligibility);

CREATE TABLE collections (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    donor_id TEXT REFERENCES donors (id),
    patient_id TEXT REFERENCES patients (id),
    collected_by_id TEXT NOT NULL REFERENCES organisations (id),
    collected_on TEXT NOT NULL,
    material TEXT NOT NULL,
    din TEXT,
    sec TEXT,
    volume_ml REAL
);
CREATE INDEX collections_donor_id ON collections (donor_id);
CREATE INDEX collections_patient_id ON collections (patient_id);
CREATE INDEX collections_din ON collections (din);

CREATE TABLE cell_banks (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    bank_code TEXT NOT NULL,
    tier TEXT NOT NULL,
    facility_id TEXT NOT NULL REFERENCES organisations (id),
    collection_id TEXT REFERENCES collections (id),
    parent_bank_id TEXT REFERENCES cell_banks (id),
    cell_type TEXT NOT NULL,
    passage INTEGER NOT NULL,
    vials INTEGER NOT NULL,
    established_on TEXT NOT NULL,
    storage_location TEXT
);
CREATE UNIQUE INDEX cell_banks_bank_code_key ON cell_banks (bank_code);
CREATE INDEX cell_banks_collection_id ON cell_banks (collection_id);
CREATE INDEX cell_banks_parent_bank_id ON cell_banks (parent_bank_id);

CREATE TABLE culture_media (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    name TEXT NOT NULL,
    manufacturer TEXT,
    medium_lot TEXT NOT NULL,
    xeno_free INTEGER NOT NULL,
    components TEXT NOT NULL,
    expires_on TEXT
);
CREATE INDEX culture_media_medium_lot ON culture_media (medium_lot);

CREATE TABLE lots (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    lot_number TEXT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    facility_id TEXT NOT NULL REFERENCES organisations (id),
    cell_bank_id TEXT REFERENCES cell_banks (id),
    collection_id TEXT REFERENCES collections (id),
    culture_medium_ids TEXT NOT NULL,
    process_version TEXT NOT NULL,
    specification TEXT NOT NULL,
    evaluation_context TEXT NOT NULL,
    manufactured_on TEXT NOT NULL,
    expires_on TEXT,
    status TEXT NOT NULL,
    status_changed_on TEXT,
    evidence_revision INTEGER NOT NULL
);
CREATE UNIQUE INDEX lots_lot_number_key ON lots (lot_number);
CREATE INDEX lots_product_id ON lots (product_id);
CREATE INDEX lots_cell_bank_id ON lots (cell_bank_id);
CREATE INDEX lots_collection_id ON lots (collection_id);
CREATE INDEX lots_status ON lots (status);

CREATE TABLE lot_status_changes (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    "on" TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    reason TEXT,
    evaluation_outcome TEXT,
    covered TEXT NOT NULL
);
CREATE INDEX lot_status_changes_lot_id ON lot_status_changes (lot_id);

CREATE TABLE units (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    unit_number TEXT NOT NULL,
    container TEXT NOT NULL,
    dose REAL NOT NULL,
    dose_unit TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    storage TEXT NOT NULL,
    recipient TEXT NOT NULL
);
CREATE UNIQUE INDEX units_unit_number_key ON units (unit_number);
CREATE INDEX units_lot_id ON units (lot_id);

CREATE TABLE retained_samples (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    sample_code TEXT NOT NULL,
    material TEXT NOT NULL,
    location TEXT NOT NULL,
    quantity REAL NOT NULL,
    quantity_unit TEXT NOT NULL,
    retained_on TEXT NOT NULL,
    retain_until TEXT,
    storage TEXT
);
CREATE UNIQUE INDEX retained_samples_sample_code_key ON retained_samples (sample_code);
CREATE INDEX retained_samples_lot_id ON retained_samples (lot_id);

CREATE TABLE qc_results (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    attribute TEXT NOT NULL,
    "value" TEXT NOT NULL,
    method TEXT NOT NULL,
    instrument TEXT,
    tested_on TEXT NOT NULL,
    sample_id TEXT
);
CREATE INDEX qc_results_lot_id ON qc_results (lot_id);
CREATE INDEX qc_results_attribute ON qc_results (attribute);

CREATE TABLE deviations (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    lot_id TEXT NOT NULL REFERENCES lots (id),
    reference TEXT NOT NULL,
    rule_ids TEXT NOT NULL,
    reason TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_on TEXT NOT NULL
);
CREATE UNIQUE INDEX deviations_reference_key ON deviations (reference);
CREATE INDEX deviations_lot_id ON deviations (lot_id);

CREATE TABLE custody_events (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    unit_id TEXT NOT NULL REFERENCES units (id),
    seq INTEGER NOT NULL CHECK (seq >= 0),
    event_type TEXT NOT NULL,
    "at" TEXT NOT NULL,
    "by" TEXT NOT NULL,
    action TEXT NOT NULL
);
CREATE UNIQUE INDEX custody_events_unit_seq_key ON custody_events (unit_id, seq);
CREATE INDEX custody_events_event_type ON custody_events (event_type);

CREATE TABLE temperature_logs (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    unit_id TEXT NOT NULL REFERENCES units (id),
    also_unit_ids TEXT NOT NULL,
    "range" TEXT NOT NULL,
    readings TEXT NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    within_range INTEGER NOT NULL,
    excursion_count INTEGER NOT NULL
);
CREATE INDEX temperature_logs_unit_id ON temperature_logs (unit_id);

CREATE TABLE temperature_excursions (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    log_id TEXT NOT NULL REFERENCES temperature_logs (id),
    unit_id TEXT NOT NULL REFERENCES units (id),
    unit_ids TEXT NOT NULL,
    hold TEXT NOT NULL,
    start_at TEXT NOT NULL,
    end_at TEXT NOT NULL,
    duration_seconds INTEGER NOT NULL,
    min_celsius REAL NOT NULL,
    max_celsius REAL NOT NULL,
    direction TEXT NOT NULL,
    readings INTEGER NOT NULL,
    open_at_end_of_log INTEGER NOT NULL,
    "range" TEXT NOT NULL
);
CREATE INDEX temperature_excursions_log_id ON temperature_excursions (log_id);
CREATE INDEX temperature_excursions_unit_id ON temperature_excursions (unit_id);

CREATE TABLE dispositions (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    excursion_id TEXT NOT NULL REFERENCES temperature_excursions (id),
    hold TEXT NOT NULL,
    decision TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    unit_ids TEXT NOT NULL
);
CREATE UNIQUE INDEX dispositions_excursion_id_key ON dispositions (excursion_id);

CREATE TABLE checklist_answers (
    id TEXT PRIMARY KEY NOT NULL,
    version INTEGER NOT NULL CHECK (version >= 1),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawal_reason TEXT,
    product_id TEXT NOT NULL REFERENCES products (id),
    checklist TEXT NOT NULL,
    checklist_version INTEGER NOT NULL,
    item TEXT NOT NULL,
    response TEXT NOT NULL,
    answered_on TEXT NOT NULL
);
CREATE UNIQUE INDEX checklist_answers_item_key ON checklist_answers (product_id, checklist, checklist_version, item);

-- Look-back walks from a unit to the treatments that used it.
CREATE INDEX treatments_unit_id ON treatments (unit_id);
-- SQLite cannot add a foreign key to an existing table: the store's check of the
-- treatment workflow (the unit must exist) stands in for it.

-- The custody log is append-only: the database itself refuses changes and deletions.
CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only');
END;
CREATE TRIGGER custody_events_no_delete BEFORE DELETE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only');
END;
