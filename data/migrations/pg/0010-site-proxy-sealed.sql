-- A site's proxy URL may carry a password ("http://user:pass@proxy:3128").
-- Such a URL is kept sealed in proxy_sealed, like the site's headers, and
-- proxy_url holds it redacted ("http://user:…@proxy:3128") for display;
-- a proxy without a user part stays in proxy_url alone. Rows written
-- before this migration are sealed when the daemon starts, since sealing
-- needs the master key, which SQL does not have.
ALTER TABLE sites ADD COLUMN proxy_sealed BYTEA;
