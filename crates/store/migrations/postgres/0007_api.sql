-- The verification API: keys (SHA-256 of a 256-bit value, shown once),
-- the caller's own id for its users, and replayed answers for
-- Idempotency-Key.
CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    practice_id  BIGINT NOT NULL REFERENCES practices(id),
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    key_hash     TEXT    NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_practice_external ON users(practice_id, external_id);

CREATE TABLE api_idempotency (
    api_key_id  BIGINT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
    idem_key    TEXT    NOT NULL,
    request     TEXT    NOT NULL,
    status      BIGINT  NOT NULL,
    body        TEXT    NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, idem_key)
);
