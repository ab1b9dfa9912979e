-- Practice administration (issue #7).
-- The practice's 2FA policy, set on /admin/policy and read at every request
-- (so a change applies at the next request on every instance).
ALTER TABLE practices ADD COLUMN require_2fa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE practices ADD COLUMN allow_sms BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE practices ADD COLUMN remember_days BIGINT NOT NULL DEFAULT 30;
ALTER TABLE practices ADD COLUMN idle_timeout_minutes BIGINT NOT NULL DEFAULT 30;
ALTER TABLE practices ADD COLUMN password_min_length BIGINT NOT NULL DEFAULT 12;
-- Per-user: a name to show, "2FA required for this user", the last login.
ALTER TABLE users ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN require_2fa BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN last_login_at BIGINT;
CREATE INDEX users_practice_username ON users(practice_id, username);
-- Audit rows carry their practice (set from the user at insert), so a
-- practice's trail survives the deletion of a user; the admin page filters
-- by practice, user, kind and outcome, newest first.
ALTER TABLE audit_events ADD COLUMN practice_id BIGINT;
UPDATE audit_events SET practice_id = (SELECT practice_id FROM users WHERE users.id = audit_events.user_id);
CREATE INDEX audit_events_practice ON audit_events(practice_id, id);
CREATE INDEX audit_events_user ON audit_events(user_id, id);
