-- metapi schema, version 1: every noun the daemon keeps.
-- Times are Unix seconds (UTC) unless a column says _ms. Sealed columns
-- (BLOB, name ending in _sealed) hold libsodium ciphertext from the vault;
-- nothing secret is stored in the clear. Later migrations add columns.

CREATE TABLE meta (
	key		TEXT PRIMARY KEY,
	value		BLOB
);

CREATE TABLE settings (
	key		TEXT PRIMARY KEY,
	value		TEXT NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE sites (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	url		TEXT NOT NULL,
	platform	TEXT NOT NULL,
	proxy_url	TEXT,
	weight		REAL NOT NULL DEFAULT 1,
	headers_sealed	BLOB,
	header_names	TEXT NOT NULL DEFAULT '[]',
	enabled		INTEGER NOT NULL DEFAULT 1,
	quota_per_unit	REAL,
	detected_at	INTEGER,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE accounts (
	id		INTEGER PRIMARY KEY,
	site_id		INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
	label		TEXT,
	username	TEXT,
	user_id		TEXT,
	credential_kind	TEXT NOT NULL
	    CHECK (credential_kind IN ('password', 'access_token', 'cookie', 'api_key')),
	credential_sealed BLOB,
	credential_mask	TEXT NOT NULL DEFAULT '',
	password_sealed	BLOB,
	status		TEXT NOT NULL DEFAULT 'active'
	    CHECK (status IN ('active', 'disabled', 'expired')),
	checkin_enabled	INTEGER NOT NULL DEFAULT 1,
	balance_usd	REAL,
	used_usd	REAL,
	today_income_usd REAL,
	request_count	INTEGER,
	user_group	TEXT,
	health_state	TEXT NOT NULL DEFAULT 'unknown',
	health_reason	TEXT,
	health_source	TEXT,
	health_checked_at INTEGER,
	last_checkin_at	INTEGER,
	last_refresh_at	INTEGER,
	extra		TEXT NOT NULL DEFAULT '{}',
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX accounts_site ON accounts(site_id);

CREATE TABLE upstream_tokens (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	remote_id	TEXT,
	name		TEXT NOT NULL DEFAULT '',
	token_sealed	BLOB,
	token_mask	TEXT NOT NULL DEFAULT '',
	token_group	TEXT,
	value_status	TEXT NOT NULL DEFAULT 'ready'
	    CHECK (value_status IN ('ready', 'masked_pending')),
	source		TEXT NOT NULL DEFAULT 'sync',
	enabled		INTEGER NOT NULL DEFAULT 1,
	is_default	INTEGER NOT NULL DEFAULT 0,
	remain_quota_usd REAL,
	unlimited	INTEGER NOT NULL DEFAULT 0,
	expires_at	INTEGER,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX upstream_tokens_account ON upstream_tokens(account_id);

CREATE TABLE model_availability (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	token_id	INTEGER REFERENCES upstream_tokens(id) ON DELETE CASCADE,
	model		TEXT NOT NULL,
	available	INTEGER NOT NULL DEFAULT 1,
	is_manual	INTEGER NOT NULL DEFAULT 0,
	latency_ms	INTEGER,
	checked_at	INTEGER NOT NULL
);
CREATE UNIQUE INDEX model_availability_key
    ON model_availability(account_id, COALESCE(token_id, 0), model);

CREATE TABLE model_prices (
	id		INTEGER PRIMARY KEY,
	site_id		INTEGER NOT NULL REFERENCES sites(id) ON DELETE CASCADE,
	model		TEXT NOT NULL,
	price_group	TEXT NOT NULL DEFAULT '',
	input_per_m	REAL,
	output_per_m	REAL,
	cache_read_per_m REAL,
	cache_write_per_m REAL,
	per_call	REAL,
	updated_at	INTEGER NOT NULL,
	UNIQUE (site_id, model, price_group)
);

CREATE TABLE routes (
	id		INTEGER PRIMARY KEY,
	pattern		TEXT NOT NULL UNIQUE,
	alias		TEXT,
	strategy	TEXT NOT NULL DEFAULT 'weighted'
	    CHECK (strategy IN ('weighted', 'round_robin', 'stable_first')),
	model_map	TEXT NOT NULL DEFAULT '{}',
	enabled		INTEGER NOT NULL DEFAULT 1,
	manual		INTEGER NOT NULL DEFAULT 0,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE channels (
	id		INTEGER PRIMARY KEY,
	route_id	INTEGER NOT NULL REFERENCES routes(id) ON DELETE CASCADE,
	account_id	INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	token_id	INTEGER REFERENCES upstream_tokens(id) ON DELETE SET NULL,
	source_model	TEXT,
	priority	INTEGER NOT NULL DEFAULT 0,
	weight		INTEGER NOT NULL DEFAULT 10,
	enabled		INTEGER NOT NULL DEFAULT 1,
	manual		INTEGER NOT NULL DEFAULT 0,
	success_count	INTEGER NOT NULL DEFAULT 0,
	fail_count	INTEGER NOT NULL DEFAULT 0,
	total_latency_ms INTEGER NOT NULL DEFAULT 0,
	total_cost_usd	REAL NOT NULL DEFAULT 0,
	consecutive_fails INTEGER NOT NULL DEFAULT 0,
	cooldown_level	INTEGER NOT NULL DEFAULT 0,
	cooldown_until	INTEGER,
	last_used_at	INTEGER,
	last_fail_at	INTEGER,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);
CREATE INDEX channels_route ON channels(route_id);

CREATE TABLE api_keys (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	key_hash	BLOB NOT NULL UNIQUE,
	key_sealed	BLOB,
	key_mask	TEXT NOT NULL,
	models		TEXT NOT NULL DEFAULT '["*"]',
	expires_at	INTEGER,
	max_cost_usd	REAL,
	max_requests	INTEGER,
	used_cost_usd	REAL NOT NULL DEFAULT 0,
	used_requests	INTEGER NOT NULL DEFAULT 0,
	enabled		INTEGER NOT NULL DEFAULT 1,
	last_used_at	INTEGER,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE request_logs (
	id		INTEGER PRIMARY KEY,
	time		INTEGER NOT NULL,
	key_id		INTEGER,
	model_requested	TEXT,
	model		TEXT,
	route_id	INTEGER,
	channel_id	INTEGER,
	site_id		INTEGER,
	account_id	INTEGER,
	downstream_path	TEXT,
	client		TEXT,
	status		TEXT NOT NULL
	    CHECK (status IN ('ok', 'failed', 'client_closed')),
	http_status	INTEGER,
	stream		INTEGER NOT NULL DEFAULT 0,
	attempt_count	INTEGER NOT NULL DEFAULT 0,
	ttfb_ms		INTEGER,
	latency_ms	INTEGER,
	prompt_tokens	INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	cache_read_tokens INTEGER NOT NULL DEFAULT 0,
	cache_write_tokens INTEGER NOT NULL DEFAULT 0,
	cost_usd	REAL NOT NULL DEFAULT 0,
	usage_source	TEXT NOT NULL DEFAULT 'none'
	    CHECK (usage_source IN ('upstream', 'estimated', 'none')),
	error		TEXT
);
CREATE INDEX request_logs_time ON request_logs(time);
CREATE INDEX request_logs_key ON request_logs(key_id, time);

CREATE TABLE request_attempts (
	id		INTEGER PRIMARY KEY,
	log_id		INTEGER NOT NULL REFERENCES request_logs(id) ON DELETE CASCADE,
	n		INTEGER NOT NULL,
	channel_id	INTEGER,
	site_id		INTEGER,
	account_id	INTEGER,
	upstream_path	TEXT,
	http_status	INTEGER,
	error		TEXT,
	retryable	INTEGER NOT NULL DEFAULT 0,
	latency_ms	INTEGER,
	started_at	INTEGER NOT NULL
);
CREATE INDEX request_attempts_log ON request_attempts(log_id);

CREATE TABLE checkin_logs (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	time		INTEGER NOT NULL,
	outcome		TEXT NOT NULL
	    CHECK (outcome IN ('success', 'already', 'skipped', 'failed')),
	reward_usd	REAL,
	message		TEXT
);
CREATE INDEX checkin_logs_account ON checkin_logs(account_id, time);

CREATE TABLE balance_snapshots (
	id		INTEGER PRIMARY KEY,
	account_id	INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	time		INTEGER NOT NULL,
	day		TEXT NOT NULL,
	balance_usd	REAL,
	used_usd	REAL,
	today_income_usd REAL
);
CREATE INDEX balance_snapshots_account ON balance_snapshots(account_id, time);

CREATE TABLE events (
	id		INTEGER PRIMARY KEY,
	time		INTEGER NOT NULL,
	type		TEXT NOT NULL,
	level		TEXT NOT NULL DEFAULT 'info'
	    CHECK (level IN ('info', 'warning', 'error')),
	title		TEXT NOT NULL,
	message		TEXT,
	related_type	TEXT,
	related_id	INTEGER,
	is_read		INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX events_time ON events(time);

CREATE TABLE notify_channels (
	id		INTEGER PRIMARY KEY,
	kind		TEXT NOT NULL
	    CHECK (kind IN ('webhook', 'bark', 'serverchan', 'telegram', 'smtp')),
	config		TEXT NOT NULL DEFAULT '{}',
	secret_sealed	BLOB,
	secret_mask	TEXT NOT NULL DEFAULT '',
	enabled		INTEGER NOT NULL DEFAULT 1,
	last_sent_at	INTEGER,
	last_error	TEXT,
	created_at	INTEGER NOT NULL,
	updated_at	INTEGER NOT NULL
);

CREATE TABLE job_runs (
	id		INTEGER PRIMARY KEY,
	job		TEXT NOT NULL,
	started_at	INTEGER NOT NULL,
	ended_at	INTEGER,
	outcome		TEXT NOT NULL DEFAULT 'running'
	    CHECK (outcome IN ('running', 'ok', 'failed', 'skipped')),
	message		TEXT
);
CREATE INDEX job_runs_job ON job_runs(job, started_at);
