-- References are checked when a transaction commits, as on SQLite: a batch's inserts
-- are then gathered by table into a few multi-row statements whatever order the batch
-- added them in (a demo batch of 250 patients was thousands of round trips). Each
-- write still checks every reference before it is applied, so this only moves the
-- database's own check, the last line of defence, to the end of the transaction.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.conrelid::regclass AS tbl, c.conname
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('ALTER TABLE %s ALTER CONSTRAINT %I DEFERRABLE INITIALLY DEFERRED',
                       r.tbl, r.conname);
    END LOOP;
END $$;
