-- The configuration's revision: a number every change made through a
-- daemon (sites, accounts, keys, routes, settings...) moves. Daemons that
-- share one PostgreSQL database poll it and rebuild their routing and
-- reload their settings when another moved it. One row.
CREATE TABLE config_revision (
	id		BIGINT PRIMARY KEY CHECK (id = 1),
	revision	BIGINT NOT NULL,
	changed_at	BIGINT NOT NULL
);
INSERT INTO config_revision (id, revision, changed_at) VALUES (1, 0, 0);
