-- Custody and temperature times were kept as the text a client sent (with its offset),
-- which compares wrongly across offsets. They are instants like every other time.
ALTER TABLE custody_events ALTER COLUMN "at" TYPE TIMESTAMPTZ USING "at"::timestamptz;
ALTER TABLE temperature_logs
    ALTER COLUMN first_at TYPE TIMESTAMPTZ USING first_at::timestamptz,
    ALTER COLUMN last_at TYPE TIMESTAMPTZ USING last_at::timestamptz;
ALTER TABLE temperature_excursions
    ALTER COLUMN start_at TYPE TIMESTAMPTZ USING start_at::timestamptz,
    ALTER COLUMN end_at TYPE TIMESTAMPTZ USING end_at::timestamptz;
