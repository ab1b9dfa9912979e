-- A phone number being added: active only once the code sent to it is typed.
CREATE TABLE pending_phones (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    phone      TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    tries      INTEGER NOT NULL DEFAULT 0
);
