-- Recovery probes: a cooling channel of a site is asked a one-token
-- question now and then, and answers end its cooldown. Some sites forbid
-- such traffic (or bill it): probe = 0 keeps them out of it.
ALTER TABLE sites ADD COLUMN probe BIGINT NOT NULL DEFAULT 1;
