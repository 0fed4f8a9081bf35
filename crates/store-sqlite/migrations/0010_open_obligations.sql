-- The worklist of open obligations asks for adverse events not yet reported (or reported
-- after the day asked about); an index on the day reported finds them without reading
-- the registry's history.
CREATE INDEX adverse_events_reported_on ON adverse_events (reported_on);
