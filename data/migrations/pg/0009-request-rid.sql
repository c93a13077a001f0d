-- Each request row carries the request's id (X-Request-Id to the client,
-- the key of its lines in the request journal). Unique, so that replaying
-- the journal after a crash adds a row only where the database has none.
-- NULL for rows older than this migration.
ALTER TABLE request_logs ADD COLUMN rid TEXT;
CREATE UNIQUE INDEX request_logs_rid ON request_logs(rid);
