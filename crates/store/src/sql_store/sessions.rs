//! Sessions, remembered devices and single-use links.

use super::*;

#[async_trait::async_trait]
impl Sessions for SqlStore {
    async fn create_session(&self, session: &Session) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            insert_session!(pool, session);
        });
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>, StoreError> {
        // Every page's first read (on SQLite on this thread).
        let row: Option<SessionRow> = on_pool!(self, pool => {
            sql::query_as(SQL_SESSION).bind(token_hash).fetch_optional(pool).await.map_err(db)?
        });
        row.map(session_from).transpose()
    }

    async fn touch_session(&self, token_hash: &str, now: u64) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1",
            token_hash,
            to_i64(now)
        );
        Ok(())
    }

    async fn set_session_reauth(&self, token_hash: &str, now: u64) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE sessions SET reauth_at = $2 WHERE token_hash = $1",
            token_hash,
            to_i64(now)
        );
        Ok(())
    }

    async fn session_reauth(&self, token_hash: &str) -> Result<Option<u64>, StoreError> {
        let row: Option<(Option<i64>,)> = on_pool!(self, pool => {
            sql::query_as("SELECT reauth_at FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.and_then(|(at,)| at)
            .map(|t| to_u64(t, "time"))
            .transpose()
    }

    async fn add_session_failure(&self, token_hash: &str) -> Result<u32, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sql::query_as(
                "UPDATE sessions SET failures = failures + 1 WHERE token_hash = $1 RETURNING failures",
            )
            .bind(token_hash)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        // A session deleted meanwhile counts as used up.
        Ok(row.map_or(u32::MAX, |(n,)| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        execute!(self, SQL_DELETE_SESSION, token_hash);
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> Result<(), StoreError> {
        self.write_all(&[Write::EndSessions(user)]).await
    }

    async fn second_factor_state(
        &self,
        user: UserId,
        lock_key: &LimitKey,
    ) -> Result<Option<SecondFactorState>, StoreError> {
        let lock_key = lock_key.as_str();
        let row: Option<SecondFactorRow> = match &self.pool {
            Pool::Sqlite(direct) => {
                crate::lite::query_as(SQL_SECOND_FACTOR_STATE)
                    .bind(user.0)
                    .bind(lock_key)
                    .fetch_optional(direct)
                    .await?
            }
            Pool::Postgres(_, hot) => hot.second_factor_state(user.0, lock_key).await?,
        };
        row.map(state_from).transpose()
    }

    async fn session_with_state(
        &self,
        token_hash: &str,
        lock: UserLimit,
    ) -> Result<Option<(Session, SecondFactorState)>, StoreError> {
        let lock_prefix = lock.prefix();
        let pool = match &self.pool {
            Pool::Postgres(pool, _) => pool,
            // In-process: two reads cost no round trip.
            Pool::Sqlite(..) => {
                let Some(session) = self.session(token_hash).await? else {
                    return Ok(None);
                };
                let lock_key = lock.of(session.user_id);
                let state = self.second_factor_state(session.user_id, &lock_key).await?;
                return Ok(state.map(|state| (session, state)));
            }
        };
        let row: Option<SessionStateRow> = sql::query_as(&SQL_SESSION_STATE)
            .bind(token_hash)
            .bind(lock_prefix)
            .fetch_optional(pool)
            .await
            .map_err(db)?;
        let Some(r) = row else { return Ok(None) };
        let session = session_from((
            r.token_hash,
            r.user_id,
            r.stage,
            r.created_at,
            r.last_seen_at,
            r.failures,
            r.amr,
        ))?;
        Ok(Some((session, state_from(r.state)?)))
    }
}

#[async_trait::async_trait]
impl Devices for SqlStore {
    async fn create_device(
        &self,
        user: UserId,
        token_hash: &str,
        label: &str,
        now: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            sql::query(
                "INSERT INTO remembered_devices (user_id, token_hash, label, created_at, last_used_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(user.0)
            .bind(token_hash)
            .bind(label)
            .bind(to_i64(now))
            .bind(to_i64(expires_at))
            .execute(pool)
            .await
            .map_err(db)?;
        });
        Ok(())
    }

    async fn device_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RememberedDevice>, StoreError> {
        let sql = sql_device_by_token();
        let row: Option<DeviceRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(token_hash).fetch_optional(pool).await.map_err(db)?
        });
        row.map(device_from).transpose()
    }

    async fn device_by_previous_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RememberedDevice>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM remembered_devices WHERE previous_token_hash = $1"
        );
        let row: Option<DeviceRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(token_hash).fetch_optional(pool).await.map_err(db)?
        });
        row.map(device_from).transpose()
    }

    async fn rotate_device(
        &self,
        id: i64,
        old_hash: &str,
        new_hash: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sql::query(
                "UPDATE remembered_devices SET previous_token_hash = token_hash, token_hash = $3, last_used_at = $4 \
                 WHERE id = $1 AND token_hash = $2",
            )
            .bind(id)
            .bind(old_hash)
            .bind(new_hash)
            .bind(to_i64(now))
            .execute(pool)
            .await
            .map_err(db)?
            .rows_affected()
        });
        Ok(done == 1)
    }

    async fn delete_device(&self, id: i64) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM remembered_devices WHERE id = $1", id);
        Ok(())
    }

    async fn user_devices(&self, user: UserId) -> Result<Vec<RememberedDevice>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM remembered_devices WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<DeviceRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(user.0).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(device_from).collect()
    }

    async fn delete_user_device(&self, user: UserId, id: i64) -> Result<bool, StoreError> {
        let done = execute!(
            self,
            "DELETE FROM remembered_devices WHERE id = $1 AND user_id = $2",
            id,
            user.0
        );
        Ok(done == 1)
    }

    async fn delete_user_devices(&self, user: UserId) -> Result<(), StoreError> {
        self.write_all(&[Write::ForgetDevices(user)]).await
    }
}

#[async_trait::async_trait]
impl Links for SqlStore {
    async fn create_link_token(
        &self,
        token_hash: &str,
        user: UserId,
        now: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            token_hash,
            user.0,
            to_i64(now),
            to_i64(expires_at),
        );
        Ok(())
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        now: u64,
        expires_at: u64,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            // One live link at a time: the new one voids the older ones.
            execute_on!(&mut *tx, SQL_VOID_LINKS, user.0, to_i64(now));
            sql::query(
                "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(user.0)
            .bind(to_i64(now))
            .bind(to_i64(expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn password_reset(&self, token_hash: &str) -> Result<Option<(UserId, u64)>, StoreError> {
        let row: Option<(i64, i64)> = on_pool!(self, pool => {
            sql::query_as("SELECT user_id, expires_at FROM password_resets WHERE token_hash = $1 AND used_at IS NULL")
                .bind(token_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|(user, expires)| Ok((UserId(user), to_u64(expires, "time")?)))
            .transpose()
    }
}
