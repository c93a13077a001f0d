-- One successful check-in per account and local day, enforced here: a
-- run claims (account, day) before it asks the site, so a manual run
-- racing the scheduled one, or a restart, cannot check in twice.
CREATE TABLE checkin_claims (
	account_id	BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
	day		TEXT NOT NULL,
	claimed_at	BIGINT NOT NULL,
	PRIMARY KEY (account_id, day)
);
