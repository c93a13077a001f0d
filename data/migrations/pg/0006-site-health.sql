-- The runtime health of each site and of each (site, model): penalty,
-- recent successes and failures, latency, the transient-failure streak
-- and the breaker. Written with the channels' runtime state (once a
-- minute and at shutdown) so that a restart does not forget a site that
-- was failing. model '' is the site's own.
CREATE TABLE site_health (
	site_id		BIGINT NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
	model		TEXT NOT NULL DEFAULT '',
	state		TEXT NOT NULL,
	updated_at	BIGINT NOT NULL,
	PRIMARY KEY (site_id, model)
);
