-- OpenID Connect: the practice's applications that sign their users in
-- here, the keys that sign ID tokens, and what each sign-in granted.

-- How a full login was made (RFC 8176 names, space-separated): the ID
-- token's `amr`.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT '';

-- A registered application. Only the SHA-256 of a confidential client's
-- secret is kept (the secret is 256 random bits); a public client has none.
CREATE TABLE oidc_clients (
    client_id                 TEXT    PRIMARY KEY,
    name                      TEXT    NOT NULL,
    practice_id               BIGINT  NOT NULL REFERENCES practices(id) ON DELETE CASCADE,
    secret_hash               TEXT,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    id_token_alg              TEXT    NOT NULL,
    created_at                BIGINT  NOT NULL
);

-- A signing key: the private half sealed under the master key (like the
-- authenticators' seeds), the public half as its JWK. A retired key stays
-- in the JWKS until every token it signed has expired.
CREATE TABLE oidc_keys (
    kid        TEXT    PRIMARY KEY,
    alg        TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    sealed     BYTEA   NOT NULL,
    public_jwk TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    retired_at BIGINT
);

-- One sign-in to one client: its single-use code (hashed) and what the
-- tokens issued from it may say. Deleting it (a reused code or refresh
-- token, a 2FA reset, a new password, a disabled account) ends every token
-- issued from it.
CREATE TABLE oidc_grants (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash      TEXT    NOT NULL UNIQUE,
    client_id      TEXT    NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    user_id        BIGINT  NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    redirect_uri   TEXT    NOT NULL,
    scope          TEXT    NOT NULL,
    nonce          TEXT,
    code_challenge TEXT,
    auth_time      BIGINT  NOT NULL,
    amr            TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    code_used_at   BIGINT
);
CREATE INDEX oidc_grants_user ON oidc_grants(user_id);

-- The user's stable, opaque `sub` (random, made at the first sign-in to
-- an application; never the username).
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users(oidc_subject);

-- Access and refresh tokens (hashed). A refresh token is used once: its
-- second use revokes the grant.
CREATE TABLE oidc_tokens (
    token_hash TEXT    PRIMARY KEY,
    grant_id   BIGINT  NOT NULL REFERENCES oidc_grants(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    used_at    BIGINT
);
CREATE INDEX oidc_tokens_grant ON oidc_tokens(grant_id);
