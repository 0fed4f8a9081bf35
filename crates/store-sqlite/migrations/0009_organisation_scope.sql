-- Lists scoped to an organisation cost what the page costs, not what the registry holds.
-- A record whose organisation sits a reference away (a visit's patient's institution, a
-- custody event's unit's lot's facility) keeps a copy of it, written by the store from
-- the parent at every write and never changed afterwards; each scope, and each
-- organisation column a list is scoped by, gets an index on (organisation, id), so a page
-- in id order is read straight off the index. Existing rows are filled from their parents,
-- parents before children.

ALTER TABLE enrollments ADD COLUMN scope_institution_id TEXT;
UPDATE enrollments SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = enrollments.patient_id);
CREATE INDEX enrollments_scope_institution_id ON enrollments (scope_institution_id, id);
ALTER TABLE consents ADD COLUMN scope_institution_id TEXT;
UPDATE consents SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = consents.patient_id);
CREATE INDEX consents_scope_institution_id ON consents (scope_institution_id, id);
ALTER TABLE treatments ADD COLUMN scope_institution_id TEXT;
UPDATE treatments SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = treatments.patient_id);
CREATE INDEX treatments_scope_institution_id ON treatments (scope_institution_id, id);
ALTER TABLE visits ADD COLUMN scope_institution_id TEXT;
UPDATE visits SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = visits.patient_id);
CREATE INDEX visits_scope_institution_id ON visits (scope_institution_id, id);
ALTER TABLE observations ADD COLUMN scope_institution_id TEXT;
UPDATE observations SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = observations.patient_id);
CREATE INDEX observations_scope_institution_id ON observations (scope_institution_id, id);
ALTER TABLE adverse_events ADD COLUMN scope_institution_id TEXT;
UPDATE adverse_events SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = adverse_events.patient_id);
CREATE INDEX adverse_events_scope_institution_id ON adverse_events (scope_institution_id, id);
ALTER TABLE collections ADD COLUMN scope_institution_id TEXT;
UPDATE collections SET scope_institution_id = (SELECT p.institution_id FROM patients p WHERE p.id = collections.patient_id);
CREATE INDEX collections_scope_institution_id ON collections (scope_institution_id, id);
ALTER TABLE units ADD COLUMN scope_facility_id TEXT;
UPDATE units SET scope_facility_id = (SELECT p.facility_id FROM lots p WHERE p.id = units.lot_id);
CREATE INDEX units_scope_facility_id ON units (scope_facility_id, id);
ALTER TABLE lot_status_changes ADD COLUMN scope_facility_id TEXT;
UPDATE lot_status_changes SET scope_facility_id = (SELECT p.facility_id FROM lots p WHERE p.id = lot_status_changes.lot_id);
CREATE INDEX lot_status_changes_scope_facility_id ON lot_status_changes (scope_facility_id, id);
ALTER TABLE retained_samples ADD COLUMN scope_facility_id TEXT;
UPDATE retained_samples SET scope_facility_id = (SELECT p.facility_id FROM lots p WHERE p.id = retained_samples.lot_id);
CREATE INDEX retained_samples_scope_facility_id ON retained_samples (scope_facility_id, id);
ALTER TABLE qc_results ADD COLUMN scope_facility_id TEXT;
UPDATE qc_results SET scope_facility_id = (SELECT p.facility_id FROM lots p WHERE p.id = qc_results.lot_id);
CREATE INDEX qc_results_scope_facility_id ON qc_results (scope_facility_id, id);
ALTER TABLE deviations ADD COLUMN scope_facility_id TEXT;
UPDATE deviations SET scope_facility_id = (SELECT p.facility_id FROM lots p WHERE p.id = deviations.lot_id);
CREATE INDEX deviations_scope_facility_id ON deviations (scope_facility_id, id);
ALTER TABLE custody_events ADD COLUMN scope_facility_id TEXT;
UPDATE custody_events SET scope_facility_id = (SELECT p.scope_facility_id FROM units p WHERE p.id = custody_events.unit_id);
CREATE INDEX custody_events_scope_facility_id ON custody_events (scope_facility_id, id);
ALTER TABLE temperature_logs ADD COLUMN scope_facility_id TEXT;
UPDATE temperature_logs SET scope_facility_id = (SELECT p.scope_facility_id FROM units p WHERE p.id = temperature_logs.unit_id);
CREATE INDEX temperature_logs_scope_facility_id ON temperature_logs (scope_facility_id, id);
ALTER TABLE temperature_excursions ADD COLUMN scope_facility_id TEXT;
UPDATE temperature_excursions SET scope_facility_id = (SELECT p.scope_facility_id FROM units p WHERE p.id = temperature_excursions.unit_id);
CREATE INDEX temperature_excursions_scope_facility_id ON temperature_excursions (scope_facility_id, id);
ALTER TABLE dispositions ADD COLUMN scope_facility_id TEXT;
UPDATE dispositions SET scope_facility_id = (SELECT p.scope_facility_id FROM temperature_excursions p WHERE p.id = dispositions.excursion_id);
CREATE INDEX dispositions_scope_facility_id ON dispositions (scope_facility_id, id);
CREATE INDEX patients_institution_id_page ON patients (institution_id, id);
CREATE INDEX plans_institution_id_page ON plans (institution_id, id);
CREATE INDEX plans_committee_id_page ON plans (committee_id, id);
CREATE INDEX lots_facility_id_page ON lots (facility_id, id);
CREATE INDEX donors_facility_id_page ON donors (facility_id, id);
CREATE INDEX cell_banks_facility_id_page ON cell_banks (facility_id, id);
CREATE INDEX collections_collected_by_id_page ON collections (collected_by_id, id);
CREATE INDEX signatures_signer_id_page ON signatures (signer_id, id);
