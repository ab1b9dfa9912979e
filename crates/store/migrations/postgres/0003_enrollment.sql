-- A fresh password check on the session, for sensitive account changes.
ALTER TABLE sessions ADD COLUMN reauth_at BIGINT;

-- An authenticator offered but not yet confirmed: never a factor by itself.
CREATE TABLE pending_enrollments (
    user_id       BIGINT  PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    key_id        TEXT    NOT NULL,
    sealed_secret BYTEA   NOT NULL,
    created_at    BIGINT  NOT NULL
);
