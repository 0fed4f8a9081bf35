-- A user's saved language for the pages (none: the browser's).
ALTER TABLE users ADD COLUMN language TEXT;
