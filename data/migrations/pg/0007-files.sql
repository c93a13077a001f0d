-- Files uploaded through /v1/files: one row per upload, its bytes in
-- DATA_DIR/files/ under the row's id (never a name the client chose).
-- A downstream key sees only its own files, and they go with it. The
-- log-cleanup job deletes the rows past expires_at (NULL: kept) and
-- their bytes. seq orders the uploads (many share a second).
CREATE TABLE files (
	id		TEXT PRIMARY KEY,
	seq		BIGINT NOT NULL UNIQUE,
	key_id		BIGINT NOT NULL REFERENCES api_keys(id)
			    ON DELETE CASCADE,
	filename	TEXT NOT NULL,
	purpose		TEXT NOT NULL,
	bytes		BIGINT NOT NULL,
	mime		TEXT NOT NULL,
	created_at	BIGINT NOT NULL,
	expires_at	BIGINT
);
CREATE INDEX files_key ON files(key_id, seq);
CREATE INDEX files_expires ON files(expires_at);
