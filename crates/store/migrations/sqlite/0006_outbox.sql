-- The durable outbox (see domain::outbox). Bodies are sealed with the master
-- key: codes and links never sit here in clear text.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    topic           TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    sealed_body     BLOB    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    expires_at      INTEGER,
    cancel_key      TEXT,
    last_error      TEXT,
    provider_id     TEXT,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_user_topic ON outbox(user_id, topic, created_at);
CREATE INDEX outbox_cancel ON outbox(cancel_key);
