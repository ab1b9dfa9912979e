-- Recovery codes: a short public lookup part and an argon2 hash of the rest.
CREATE TABLE recovery_codes (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    lookup     TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    used_at    BIGINT,
    UNIQUE (user_id, lookup)
);
