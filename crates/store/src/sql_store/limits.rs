//! Failures, locks and paced queues, and the password step's one read.

use super::*;

#[async_trait::async_trait]
impl Limits for SqlStore {
    async fn record_failure_with_audit(
        &self,
        key: &LimitKey,
        now: u64,
        since: u64,
        event: &AuditEvent,
    ) -> Result<u32, StoreError> {
        let key = key.as_str();
        let hot = match &self.pool {
            Pool::Sqlite(direct) => {
                let (key, event) = (key.to_owned(), event.clone());
                let (now, since) = (to_i64(now), to_i64(since));
                let count = direct
                    .write(move |conn| {
                        insert_audit(conn, &event)?;
                        execute_named(conn, SQL_INSERT_FAILURE, &[&key, &now])?;
                        crate::lite::query_row_named(
                            conn,
                            SQL_FAILURES_SINCE,
                            &[&key, &since],
                            <(i64,) as crate::lite::FromRow>::from_row,
                        )
                    })
                    .await?
                    .map_or(0, |(count,)| count);
                return Ok(u32::try_from(count).unwrap_or(u32::MAX));
            }
            Pool::Postgres(_, hot) => hot,
        };
        hot.failure(key, to_i64(now), to_i64(since), event).await
    }

    async fn record_failure(&self, key: &LimitKey, now: u64) -> Result<(), StoreError> {
        let key = key.as_str();
        on_pool!(self, pool => {
            // Rows older than a day no longer count toward any window.
            sql::query("DELETE FROM failures WHERE key = $1 AND at < $2")
                .bind(key)
                .bind(to_i64(now.saturating_sub(86_400)))
                .execute(pool)
                .await
                .map_err(db)?;
            sql::query(SQL_INSERT_FAILURE)
                .bind(key)
                .bind(to_i64(now))
                .execute(pool)
                .await
                .map_err(db)?;
        });
        Ok(())
    }

    async fn failures_since(&self, key: &LimitKey, since: u64) -> Result<u32, StoreError> {
        let key = key.as_str();
        let (n,): (i64,) = on_pool!(self, pool => {
            sql::query_as(SQL_FAILURES_SINCE)
                .bind(key)
                .bind(to_i64(since))
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    async fn password_step_state(
        &self,
        user: &User,
        ip_key: &LimitKey,
        since: u64,
        lock_key: &LimitKey,
        topic: Topic,
    ) -> Result<Option<PasswordStepState>, StoreError> {
        let (ip_key, lock_key) = (ip_key.as_str(), lock_key.as_str());
        let topic = topic.as_str();
        let row: Option<PasswordStepRow> = on_pool!(self, pool => {
            sql::query_as(SQL_PASSWORD_STEP_STATE.as_str())
                .bind(ip_key)
                .bind(to_i64(since))
                .bind(lock_key)
                .bind(user.id.0)
                .bind(topic)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|row| password_step_from(user.id.0, row))
            .transpose()
    }

    async fn user_for_password_step(
        &self,
        username: &str,
        ip_key: &LimitKey,
        since: u64,
        lock: UserLimit,
        topic: Topic,
    ) -> Result<Option<(User, PasswordStepState)>, StoreError> {
        let lock_prefix = lock.prefix();
        let ip_key = ip_key.as_str();
        let topic = topic.as_str();
        let row: Option<UserAndPasswordStep> = on_pool!(self, pool => {
            sql::query_as(SQL_USER_FOR_PASSWORD_STEP.as_str())
                .bind(ip_key)
                .bind(to_i64(since))
                .bind(lock_prefix)
                .bind(username)
                .bind(topic)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        let Some(UserAndPasswordStep(user, state)) = row else {
            return Ok(None);
        };
        let id = user.0;
        Ok(Some((user_from(user)?, password_step_from(id, state)?)))
    }

    async fn clear_failures(&self, key: &LimitKey) -> Result<(), StoreError> {
        let key = key.as_str();
        execute!(self, SQL_CLEAR_FAILURES, key);
        Ok(())
    }

    async fn lock_state(&self, key: &LimitKey) -> Result<LockState, StoreError> {
        let key = key.as_str();
        let row: Option<(i64, i64)> = on_pool!(self, pool => {
            sql::query_as("SELECT locked_until, lock_count FROM locks WHERE key = $1")
                .bind(key)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        lock_from_row(row)
    }

    async fn set_lock(&self, key: &LimitKey, state: LockState) -> Result<(), StoreError> {
        let key = key.as_str();
        on_pool!(self, pool => {
            sql::query(
                "INSERT INTO locks (key, locked_until, lock_count) VALUES ($1, $2, $3) \
                 ON CONFLICT (key) DO UPDATE SET locked_until = excluded.locked_until, lock_count = excluded.lock_count",
            )
            .bind(key)
            .bind(to_i64(state.locked_until))
            .bind(i64::from(state.lock_count))
            .execute(pool)
            .await
            .map_err(db)?;
        });
        Ok(())
    }

    async fn clear_locks(&self, key: &LimitKey) -> Result<(), StoreError> {
        let key = key.as_str();
        on_pool!(self, pool => {
            sql::query("DELETE FROM locks WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db)?;
            sql::query("DELETE FROM failures WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await
                .map_err(db)?;
        });
        Ok(())
    }

    async fn sweep_locks(&self, before: u64) -> Result<u64, StoreError> {
        let before = to_i64(before);
        let locks = execute!(self, "DELETE FROM locks WHERE locked_until < $1", before);
        let failures = execute!(self, "DELETE FROM failures WHERE at < $1", before);
        // Ceremonies live minutes; a day past they are long gone.
        let ceremonies = execute!(
            self,
            "DELETE FROM webauthn_ceremonies WHERE expires_at < $1",
            before
        );
        Ok(locks + failures + ceremonies)
    }

    async fn book_slot(
        &self,
        key: &LimitKey,
        now: u64,
        pace: u64,
        max_wait: u64,
    ) -> Result<Option<u64>, StoreError> {
        let key = key.as_str();
        let start: Option<(i64,)> = on_pool!(self, pool => {
            sql::query_as(SQL_BOOK_SLOT)
                .bind(key)
                .bind(to_i64(now))
                .bind(to_i64(pace))
                .bind(to_i64(max_wait))
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        start.map(|(start,)| to_u64(start, "slot")).transpose()
    }
}
