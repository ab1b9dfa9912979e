//! OpenID Connect: clients, signing keys, grants and their tokens.

use super::*;

use domain::oidc::{Claimed, Grant, OidcClient, SigningAlg, StoredKey, TokenKind};

const CLIENT_COLUMNS: &str = "client_id, name, practice_id, secret_hash, redirect_uris, \
     post_logout_redirect_uris, id_token_alg, created_at";

type ClientRow = (
    String,
    String,
    i64,
    Option<String>,
    String,
    String,
    String,
    i64,
);

fn uris(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn client_from(row: ClientRow) -> Result<OidcClient, StoreError> {
    let (client_id, name, practice, secret_hash, redirect, post_logout, alg, created_at) = row;
    Ok(OidcClient {
        client_id,
        name,
        practice: PracticeId(practice),
        secret_hash,
        redirect_uris: uris(&redirect),
        post_logout_redirect_uris: uris(&post_logout),
        id_token_alg: SigningAlg::parse(&alg)
            .ok_or_else(|| StoreError::Corrupt(format!("id_token_alg {alg:?}")))?,
        created_at: to_u64(created_at, "time")?,
    })
}

const KEY_COLUMNS: &str = "kid, alg, key_id, sealed, public_jwk, created_at, retired_at";

type KeyRow = (String, String, String, Vec<u8>, String, i64, Option<i64>);

fn key_from(row: KeyRow) -> Result<StoredKey, StoreError> {
    let (kid, alg, key_id, sealed, public_jwk, created_at, retired_at) = row;
    Ok(StoredKey {
        kid,
        alg: SigningAlg::parse(&alg).ok_or_else(|| StoreError::Corrupt(format!("alg {alg:?}")))?,
        key_id,
        sealed,
        public_jwk,
        created_at: to_u64(created_at, "time")?,
        retired_at: retired_at.map(|t| to_u64(t, "time")).transpose()?,
    })
}

/// A grant's columns, as `g.…` (the reads join `oidc_tokens`).
const GRANT_COLUMNS: &str = "g.id, g.client_id, g.user_id, g.redirect_uri, g.scope, g.nonce, \
     g.code_challenge, g.auth_time, g.amr, g.created_at, g.code_used_at";
/// [`GRANT_COLUMNS`] unqualified, for `RETURNING`.
const GRANT_RETURNING: &str = "id, client_id, user_id, redirect_uri, scope, nonce, \
     code_challenge, auth_time, amr, created_at, code_used_at";

type GrantRow = (
    i64,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    i64,
    String,
    i64,
    Option<i64>,
);

/// The grant, and whether its code was used.
fn grant_from(row: GrantRow) -> Result<(Grant, bool), StoreError> {
    let (
        id,
        client_id,
        user,
        redirect_uri,
        scope,
        nonce,
        code_challenge,
        auth_time,
        amr,
        created_at,
        used,
    ) = row;
    Ok((
        Grant {
            id,
            client_id,
            user: UserId(user),
            redirect_uri,
            scope,
            nonce,
            code_challenge,
            auth_time: to_u64(auth_time, "time")?,
            amr: Amr::parse(&amr).ok_or_else(|| StoreError::Corrupt(format!("amr {amr:?}")))?,
            created_at: to_u64(created_at, "time")?,
        },
        used.is_some(),
    ))
}

/// How long an ended code's grant is kept for its reuse to be noticed.
const KEEP_USED_GRANT_SECONDS: i64 = 3600;

#[async_trait::async_trait]
impl Oidc for SqlStore {
    async fn add_oidc_client(&self, client: &OidcClient) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO oidc_clients (client_id, name, practice_id, secret_hash, redirect_uris, \
             post_logout_redirect_uris, id_token_alg, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &client.client_id,
            &client.name,
            client.practice.0,
            client.secret_hash.as_deref(),
            client.redirect_uris.join("\n"),
            client.post_logout_redirect_uris.join("\n"),
            client.id_token_alg.as_str(),
            to_i64(client.created_at)
        );
        Ok(())
    }

    async fn oidc_clients(
        &self,
        practice: Option<PracticeId>,
    ) -> Result<Vec<OidcClient>, StoreError> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE ($1 IS NULL OR practice_id = $1) \
             ORDER BY created_at, client_id"
        );
        let rows: Vec<ClientRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(practice.map(|p| p.0)).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(client_from).collect()
    }

    async fn oidc_client(&self, client_id: &str) -> Result<Option<OidcClient>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM oidc_clients WHERE client_id = $1");
        let row: Option<ClientRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(client_id).fetch_optional(pool).await.map_err(db)?
        });
        row.map(client_from).transpose()
    }

    async fn remove_oidc_client(
        &self,
        client_id: &str,
        practice: Option<PracticeId>,
    ) -> Result<bool, StoreError> {
        // Its grants and tokens go by the foreign keys' cascade.
        let done = execute!(
            self,
            "DELETE FROM oidc_clients WHERE client_id = $1 AND ($2 IS NULL OR practice_id = $2)",
            client_id,
            practice.map(|p| p.0)
        );
        Ok(done == 1)
    }

    async fn add_signing_key(
        &self,
        key: &StoredKey,
        retire_at: Option<u64>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            if let Some(at) = retire_at {
                sql::query("UPDATE oidc_keys SET retired_at = $1 WHERE alg = $2 AND retired_at IS NULL")
                    .bind(to_i64(at))
                    .bind(key.alg.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            sql::query(
                "INSERT INTO oidc_keys (kid, alg, key_id, sealed, public_jwk, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&key.kid)
            .bind(key.alg.as_str())
            .bind(&key.key_id)
            .bind(&key.sealed)
            .bind(&key.public_jwk)
            .bind(to_i64(key.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }

    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM oidc_keys ORDER BY created_at DESC, kid DESC");
        let rows: Vec<KeyRow> = on_pool!(self, pool => {
            sql::query_as(&sql).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(key_from).collect()
    }

    async fn reseal_signing_key(
        &self,
        kid: &str,
        old_key_id: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let done = execute!(
            self,
            "UPDATE oidc_keys SET key_id = $3, sealed = $4 WHERE kid = $1 AND key_id = $2",
            kid,
            old_key_id,
            key_id,
            sealed
        );
        Ok(done == 1)
    }

    async fn oidc_subject(&self, user: UserId, candidate: &str) -> Result<String, StoreError> {
        // Every token and userinfo answer names it: read it, and write
        // only the first time.
        let stored: Option<(Option<String>,)> = on_pool!(self, pool => {
            sql::query_as("SELECT oidc_subject FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        if let Some((Some(subject),)) = stored {
            return Ok(subject);
        }
        let row: Option<(Option<String>,)> = on_pool!(self, pool => {
            sql::query_as(
                "UPDATE users SET oidc_subject = COALESCE(oidc_subject, $2) WHERE id = $1 \
                 RETURNING oidc_subject",
            )
            .bind(user.0)
            .bind(candidate)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        row.and_then(|(subject,)| subject)
            .ok_or_else(|| StoreError::Corrupt("no such user for an OpenID subject".into()))
    }

    async fn add_grant(&self, grant: &Grant, code_hash: &str) -> Result<i64, StoreError> {
        let row: (i64,) = on_pool!(self, pool => {
            sql::query_as(
                "INSERT INTO oidc_grants (code_hash, client_id, user_id, redirect_uri, scope, nonce, \
                 code_challenge, auth_time, amr, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(code_hash)
            .bind(&grant.client_id)
            .bind(grant.user.0)
            .bind(&grant.redirect_uri)
            .bind(&grant.scope)
            .bind(grant.nonce.as_deref())
            .bind(grant.code_challenge.as_deref())
            .bind(to_i64(grant.auth_time))
            .bind(grant.amr.as_text())
            .bind(to_i64(grant.created_at))
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(row.0)
    }

    async fn claim_code(
        &self,
        code_hash: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Claimed, StoreError> {
        // The update is the claim: of two exchanges at once, one gets the row.
        let claim = format!(
            "UPDATE oidc_grants SET code_used_at = $3 \
             WHERE code_hash = $1 AND client_id = $2 AND code_used_at IS NULL \
             RETURNING {GRANT_RETURNING}"
        );
        let claimed: Option<GrantRow> = on_pool!(self, pool => {
            sql::query_as(&claim)
                .bind(code_hash)
                .bind(client_id)
                .bind(to_i64(now))
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        if let Some(row) = claimed {
            return Ok(Claimed::Fresh(grant_from(row)?.0));
        }
        let read = format!("SELECT {GRANT_COLUMNS} FROM oidc_grants g WHERE g.code_hash = $1");
        let found: Option<GrantRow> = on_pool!(self, pool => {
            sql::query_as(&read).bind(code_hash).fetch_optional(pool).await.map_err(db)?
        });
        Ok(match found.map(grant_from).transpose()? {
            None => Claimed::Unknown,
            Some((grant, _)) if grant.client_id != client_id => Claimed::OtherClient,
            Some((grant, _)) => Claimed::Reused(grant),
        })
    }

    async fn add_oidc_token(
        &self,
        token_hash: &str,
        grant: i64,
        kind: TokenKind,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO oidc_tokens (token_hash, grant_id, kind, expires_at) VALUES ($1, $2, $3, $4)",
            token_hash,
            grant,
            kind.as_str(),
            to_i64(expires_at)
        );
        Ok(())
    }

    async fn claim_refresh_token(
        &self,
        token_hash: &str,
        client_id: &str,
        now: u64,
    ) -> Result<Claimed, StoreError> {
        let token: Option<(Option<i64>, i64, i64)> = on_pool!(self, pool => {
            sql::query_as(
                "SELECT used_at, expires_at, grant_id FROM oidc_tokens \
                 WHERE token_hash = $1 AND kind = 'refresh'",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        let Some((used_at, expires_at, grant_id)) = token else {
            return Ok(Claimed::Unknown);
        };
        let read = format!("SELECT {GRANT_COLUMNS} FROM oidc_grants g WHERE g.id = $1");
        let grant: Option<GrantRow> = on_pool!(self, pool => {
            sql::query_as(&read).bind(grant_id).fetch_optional(pool).await.map_err(db)?
        });
        let Some((grant, _)) = grant.map(grant_from).transpose()? else {
            return Ok(Claimed::Unknown);
        };
        if grant.client_id != client_id {
            return Ok(Claimed::OtherClient);
        }
        if used_at.is_some() {
            return Ok(Claimed::Reused(grant));
        }
        let now = to_i64(now);
        if expires_at <= now {
            // Expired: not a reuse, just too late.
            return Ok(Claimed::Unknown);
        }
        // The update is the claim: of two refreshes at once, one gets the
        // row and the other is a reuse.
        let claimed = execute!(
            self,
            "UPDATE oidc_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
            token_hash,
            now
        );
        Ok(if claimed == 1 {
            Claimed::Fresh(grant)
        } else {
            Claimed::Reused(grant)
        })
    }

    async fn access_token_grant(
        &self,
        token_hash: &str,
        now: u64,
    ) -> Result<Option<Grant>, StoreError> {
        let read = format!(
            "SELECT {GRANT_COLUMNS} FROM oidc_tokens t JOIN oidc_grants g ON g.id = t.grant_id \
             WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2"
        );
        let row: Option<GrantRow> = on_pool!(self, pool => {
            sql::query_as(&read).bind(token_hash).bind(to_i64(now)).fetch_optional(pool).await.map_err(db)?
        });
        Ok(row.map(grant_from).transpose()?.map(|(grant, _)| grant))
    }

    async fn end_grant(&self, grant: i64) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM oidc_grants WHERE id = $1", grant);
        Ok(())
    }

    async fn sweep_oidc(&self, now: u64) -> Result<u64, StoreError> {
        let now = to_i64(now);
        execute!(self, "DELETE FROM oidc_tokens WHERE expires_at <= $1", now);
        let code_expired = now - to_i64(domain::oidc::CODE_SECONDS);
        let done = execute!(
            self,
            "DELETE FROM oidc_grants WHERE (code_used_at IS NULL AND created_at < $1) \
             OR (code_used_at IS NOT NULL AND code_used_at < $2 \
                 AND NOT EXISTS (SELECT 1 FROM oidc_tokens t WHERE t.grant_id = oidc_grants.id))",
            code_expired,
            now - KEEP_USED_GRANT_SECONDS
        );
        Ok(done)
    }
}
