-- Disabling a site disables its accounts; enabling it again must give
-- back what each account was (active or expired), and must leave alone
-- an account the user had disabled on its own. The status before the
-- site took it away is kept here (NULL: the site did not).
ALTER TABLE accounts ADD COLUMN status_before_site TEXT;
