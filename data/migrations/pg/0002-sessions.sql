-- Sessions an adapter obtained for an account (cookie, access token,
-- refresh token, WAF cookie), sealed together as one JSON object, and an
-- index to find a token by the site's id.
ALTER TABLE accounts ADD COLUMN session_sealed BYTEA;
ALTER TABLE accounts ADD COLUMN session_updated_at BIGINT;
CREATE INDEX upstream_tokens_remote ON upstream_tokens(account_id, remote_id);
