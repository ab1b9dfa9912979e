-- twofactor schema, PostgreSQL. Times are Unix seconds (BIGINT); secrets are
-- stored only as hashes or sealed (see DESIGN.md, Storage).
CREATE TABLE practices (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    practice_id   BIGINT  NOT NULL REFERENCES practices(id),
    username      TEXT    NOT NULL UNIQUE,
    email         TEXT    NOT NULL,
    phone         TEXT,
    role          TEXT    NOT NULL CHECK (role IN ('staff', 'admin')),
    password_hash TEXT,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE totp_factors (
    user_id            BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    key_id             TEXT    NOT NULL,
    sealed_secret      BYTEA   NOT NULL,
    algorithm          TEXT    NOT NULL,
    digits             BIGINT  NOT NULL,
    period             BIGINT  NOT NULL,
    last_step          BIGINT,
    clock_offset_steps BIGINT  NOT NULL DEFAULT 0,
    created_at         BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    stage        TEXT    NOT NULL CHECK (stage IN ('pending', 'enrolling', 'full')),
    created_at   BIGINT  NOT NULL,
    last_seen_at BIGINT  NOT NULL,
    failures     BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE failures (
    id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key  TEXT    NOT NULL,
    at   BIGINT  NOT NULL
);
CREATE INDEX failures_key_at ON failures(key, at);

CREATE TABLE locks (
    key          TEXT    PRIMARY KEY,
    locked_until BIGINT  NOT NULL,
    lock_count   BIGINT  NOT NULL
);

CREATE TABLE audit_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         BIGINT  NOT NULL,
    user_id    BIGINT,
    username   TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    ip         TEXT    NOT NULL,
    user_agent TEXT    NOT NULL,
    detail     TEXT    NOT NULL
);
CREATE INDEX audit_events_at ON audit_events(at);

CREATE TABLE remembered_devices (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash          TEXT    NOT NULL UNIQUE,
    previous_token_hash TEXT,
    label               TEXT    NOT NULL,
    created_at          BIGINT  NOT NULL,
    last_used_at        BIGINT  NOT NULL,
    expires_at          BIGINT  NOT NULL
);
CREATE INDEX remembered_devices_user ON remembered_devices(user_id);
CREATE INDEX remembered_devices_previous ON remembered_devices(previous_token_hash);

-- One live SMS code per user: a new one replaces (voids) the previous.
CREATE TABLE sms_codes (
    user_id    BIGINT  PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    phone      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL,
    tries      BIGINT  NOT NULL DEFAULT 0
);

CREATE TABLE sms_sends (
    id      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    phone   TEXT    NOT NULL,
    at      BIGINT  NOT NULL
);
CREATE INDEX sms_sends_user_at ON sms_sends(user_id, at);
CREATE INDEX sms_sends_phone_at ON sms_sends(phone, at);
