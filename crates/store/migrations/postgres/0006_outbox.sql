-- The durable outbox (see domain::outbox). Bodies are sealed with the master
-- key: codes and links never sit here in clear text.
CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    channel         TEXT    NOT NULL CHECK (channel IN ('sms', 'email')),
    user_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    topic           TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    key_id          TEXT    NOT NULL,
    sealed_body     BYTEA   NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    expires_at      BIGINT,
    cancel_key      TEXT,
    last_error      TEXT,
    provider_id     TEXT,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_user_topic ON outbox(user_id, topic, created_at);
CREATE INDEX outbox_cancel ON outbox(cancel_key);
