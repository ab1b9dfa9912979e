-- "Forgot password?" looks accounts up by LOWER(email): index that
-- expression (the plain email index could not serve it; found by the
-- query-plan test).
CREATE INDEX users_email_lower ON users (LOWER(email));
DROP INDEX users_email;
