-- Passkeys and security keys (WebAuthn). A user's handle is random and
-- made at the first registration, never the username. The credential is
-- webauthn-rs's own record (JSON: public key, counter, backup state).
ALTER TABLE users ADD COLUMN webauthn_handle TEXT;
CREATE UNIQUE INDEX users_webauthn_handle ON users(webauthn_handle);

CREATE TABLE passkeys (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    credential    TEXT    NOT NULL,
    backed_up     BOOLEAN NOT NULL,
    created_at    BIGINT  NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys(user_id);

-- A ceremony's server half, single use: keyed by the hash of the session
-- (or of the sign-in cookie) and what it is for; gone after 5 minutes.
CREATE TABLE webauthn_ceremonies (
    key        TEXT    PRIMARY KEY,
    user_id    BIGINT  REFERENCES users(id) ON DELETE CASCADE,
    state      TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL
);

-- The practice's passkey settings (/admin/policy).
ALTER TABLE practices ADD COLUMN allow_passkey_sign_in BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE practices ADD COLUMN phishing_resistant_admins BOOLEAN NOT NULL DEFAULT FALSE;
