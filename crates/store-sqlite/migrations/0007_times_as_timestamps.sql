-- Custody and temperature times were kept as the text a client sent (with its offset),
-- which compares wrongly across offsets. They are instants like every other time: stored
-- as UTC RFC 3339 text. Whole-second values are rewritten here; values with fractional
-- seconds (rare: clients record events to the minute) keep their text, which reads the
-- same instant.
DROP TRIGGER custody_events_no_update;
UPDATE custody_events SET "at" = strftime('%Y-%m-%dT%H:%M:%SZ', "at")
    WHERE "at" NOT GLOB '*.*' AND strftime('%Y-%m-%dT%H:%M:%SZ', "at") IS NOT NULL;
CREATE TRIGGER custody_events_no_update BEFORE UPDATE ON custody_events
BEGIN
    SELECT RAISE(ABORT, 'custody_events is append-only');
END;
UPDATE temperature_logs SET
    first_at = CASE WHEN first_at GLOB '*.*' THEN first_at ELSE strftime('%Y-%m-%dT%H:%M:%SZ', first_at) END,
    last_at = CASE WHEN last_at GLOB '*.*' THEN last_at ELSE strftime('%Y-%m-%dT%H:%M:%SZ', last_at) END;
UPDATE temperature_excursions SET
    start_at = CASE WHEN start_at GLOB '*.*' THEN start_at ELSE strftime('%Y-%m-%dT%H:%M:%SZ', start_at) END,
    end_at = CASE WHEN end_at GLOB '*.*' THEN end_at ELSE strftime('%Y-%m-%dT%H:%M:%SZ', end_at) END;
