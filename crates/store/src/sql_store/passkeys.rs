//! Passkeys and security keys, WebAuthn handles and ceremonies.

use super::*;

use domain::passkey::StoredPasskey;

const PASSKEY_COLUMNS: &str =
    "id, user_id, credential_id, name, credential, backed_up, created_at, last_used_at";

type PasskeyRow = (i64, i64, String, String, String, bool, i64, Option<i64>);

fn passkey_from(row: PasskeyRow) -> Result<StoredPasskey, StoreError> {
    let (id, user_id, credential_id, name, record, backed_up, created_at, last_used_at) = row;
    Ok(StoredPasskey {
        id,
        user_id: UserId(user_id),
        credential_id,
        name,
        record,
        backed_up,
        created_at: to_u64(created_at, "time")?,
        last_used_at: last_used_at.map(|t| to_u64(t, "time")).transpose()?,
    })
}

#[async_trait::async_trait]
impl Passkeys for SqlStore {
    async fn passkeys(&self, user: UserId) -> Result<Vec<StoredPasskey>, StoreError> {
        let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY id");
        let rows: Vec<PasskeyRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(user.0).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(passkey_from).collect()
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, StoreError> {
        let sql = format!("SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE credential_id = $1");
        let row: Option<PasskeyRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(credential_id).fetch_optional(pool).await.map_err(db)?
        });
        row.map(passkey_from).transpose()
    }

    async fn add_passkey(
        &self,
        passkey: &StoredPasskey,
        limit: usize,
    ) -> Result<Option<i64>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // The count and the insert in one statement: two tabs adding at
        // once cannot pass the limit together.
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sql::query_as(
                "INSERT INTO passkeys (user_id, credential_id, name, credential, backed_up, created_at) \
                 SELECT $1, $2, $3, $4, $5, $6 \
                 WHERE (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) < $7 RETURNING id",
            )
            .bind(passkey.user_id.0)
            .bind(&passkey.credential_id)
            .bind(&passkey.name)
            .bind(&passkey.record)
            .bind(passkey.backed_up)
            .bind(to_i64(passkey.created_at))
            .bind(limit)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        Ok(row.map(|(id,)| id))
    }

    async fn passkey_used(
        &self,
        id: i64,
        record: &str,
        backed_up: bool,
        now: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE passkeys SET credential = $2, backed_up = $3, last_used_at = $4 WHERE id = $1",
            id,
            record,
            backed_up,
            to_i64(now)
        );
        Ok(())
    }

    async fn delete_passkey(&self, user: UserId, id: i64) -> Result<bool, StoreError> {
        let done = execute!(
            self,
            "DELETE FROM passkeys WHERE id = $1 AND user_id = $2",
            id,
            user.0
        );
        Ok(done == 1)
    }

    async fn webauthn_handle(&self, user: UserId, candidate: &str) -> Result<String, StoreError> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool => {
            sql::query_as(
                "UPDATE users SET webauthn_handle = COALESCE(webauthn_handle, $2) WHERE id = $1 \
                 RETURNING webauthn_handle",
            )
            .bind(user.0)
            .bind(candidate)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        row.and_then(|(handle,)| handle)
            .ok_or_else(|| StoreError::Corrupt("no such user for a WebAuthn handle".into()))
    }

    async fn user_by_webauthn_handle(&self, handle: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE webauthn_handle = $1");
        let row: Option<UserRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(handle).fetch_optional(pool).await.map_err(db)?
        });
        row.map(user_from).transpose()
    }

    async fn put_ceremony(
        &self,
        key: &str,
        user: Option<UserId>,
        state: &str,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO webauthn_ceremonies (key, user_id, state, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key) DO UPDATE SET user_id = excluded.user_id, state = excluded.state, \
             expires_at = excluded.expires_at",
            key,
            user.map(|u| u.0),
            state,
            to_i64(expires_at)
        );
        Ok(())
    }

    async fn take_ceremony(
        &self,
        key: &str,
        now: u64,
    ) -> Result<Option<(Option<UserId>, String)>, StoreError> {
        // Taken once: the delete is the claim, an expired one is gone too.
        let row: Option<(Option<i64>, String, i64)> = on_pool!(self, pool => {
            sql::query_as(
                "DELETE FROM webauthn_ceremonies WHERE key = $1 RETURNING user_id, state, expires_at",
            )
            .bind(key)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        Ok(row
            .filter(|(_, _, expires_at)| *expires_at > to_i64(now))
            .map(|(user, state, _)| (user.map(UserId), state)))
    }
}
