-- The day provision under a plan stopped for good (ended, or withdrawn after filing):
-- periodic reports stop falling due after it. Plans ended before this column existed keep
-- it empty; the deadline report reads their end from their transitions.
ALTER TABLE plans ADD COLUMN ended_on DATE;
