-- The worklist of open obligations asks for adverse events not yet reported (or reported
-- after the day asked about); an index on the day reported finds them without reading
-- the registry's history.
CREATE INDEX adverse_events_reported_on ON adverse_events (reported_on);

-- A record's history is read through (entity, entity_id, seq); the older index on
-- (entity, entity_id) is its prefix and only costs space (about 1.4 KB per patient).
DROP INDEX audit_log_entity;
