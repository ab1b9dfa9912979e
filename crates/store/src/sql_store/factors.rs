//! Second factors: the authenticator, its offer, recovery codes, the
//! phone, SMS codes, and the master keys that seal them.

use super::*;

#[async_trait::async_trait]
impl Factors for SqlStore {
    async fn set_totp(&self, factor: &TotpFactor, now: u64) -> Result<(), StoreError> {
        self.write_all(&[Write::Totp { factor, now }]).await
    }

    async fn totp(&self, user: UserId) -> Result<Option<TotpFactor>, StoreError> {
        let row: Option<TotpRow> = on_pool!(self, pool => {
            sql::query_as(
                "SELECT user_id, key_id, sealed_secret, algorithm, digits, period, last_step, clock_offset_steps \
                 FROM totp_factors WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        row.map(totp_from).transpose()
    }

    async fn claim_totp_step(
        &self,
        user: UserId,
        step: u64,
        clock_offset_steps: i64,
    ) -> Result<bool, StoreError> {
        // One statement: the WHERE clause is the compare, the SET the swap.
        // Of N parallel requests with the same step exactly one changes a row.
        let done = on_pool!(self, pool => {
            sql::query(SQL_CLAIM_TOTP_STEP)
            .bind(user.0)
            .bind(to_i64(step))
            .bind(clock_offset_steps)
            .execute(pool)
            .await
            .map_err(db)?
            .rows_affected()
        });
        Ok(done == 1)
    }

    async fn claim_totp_step_recorded(
        &self,
        user: UserId,
        step: u64,
        clock_offset_steps: i64,
        event: &AuditEvent,
        clear: Option<&LimitKey>,
    ) -> Result<bool, StoreError> {
        let clear = clear.map(LimitKey::as_str);
        let hot = match &self.pool {
            // In the writer's transaction: the audit row and the cleared
            // failures only if the compare-and-set took the step.
            Pool::Sqlite(direct) => {
                let (user, step, event) = (user.0, to_i64(step), event.clone());
                let clear = clear.map(str::to_owned);
                return direct
                    .write(move |conn| {
                        let claimed = execute_named(
                            conn,
                            SQL_CLAIM_TOTP_STEP,
                            &[&user, &step, &clock_offset_steps],
                        )? == 1;
                        if claimed {
                            insert_audit(conn, &event)?;
                            if let Some(key) = &clear {
                                execute_named(conn, SQL_CLEAR_FAILURES, &[key])?;
                            }
                        }
                        Ok(claimed)
                    })
                    .await;
            }
            Pool::Postgres(_, hot) => hot,
        };
        hot.claim(user.0, to_i64(step), clock_offset_steps, event, clear)
            .await
    }

    async fn remove_second_factors(&self, user: UserId) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM totp_factors WHERE user_id = $1", user.0);
        Ok(())
    }

    async fn reset_second_factors(&self, user: UserId) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            for sql in [
                "DELETE FROM totp_factors WHERE user_id = $1",
                "DELETE FROM passkeys WHERE user_id = $1",
                "DELETE FROM webauthn_ceremonies WHERE user_id = $1",
                "DELETE FROM recovery_codes WHERE user_id = $1",
                "DELETE FROM pending_enrollments WHERE user_id = $1",
                "DELETE FROM pending_phones WHERE user_id = $1",
                "DELETE FROM sms_codes WHERE user_id = $1",
                "DELETE FROM remembered_devices WHERE user_id = $1",
                "DELETE FROM sessions WHERE user_id = $1",
                SQL_END_GRANTS,
                // The user links a factor again at the next login.
                "UPDATE users SET phone = NULL, require_2fa = TRUE WHERE id = $1",
            ] {
                sql::query(sql).bind(user.0).execute(&mut *tx).await.map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }

    async fn put_pending_enrollment(
        &self,
        user: UserId,
        key_id: &str,
        sealed: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "INSERT INTO pending_enrollments (user_id, key_id, sealed_secret, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, sealed_secret = excluded.sealed_secret, \
             created_at = excluded.created_at",
            user.0,
            key_id,
            sealed,
            to_i64(now)
        );
        Ok(())
    }

    async fn pending_enrollment(
        &self,
        user: UserId,
    ) -> Result<Option<(String, Vec<u8>, u64)>, StoreError> {
        let row: Option<(String, Vec<u8>, i64)> = on_pool!(self, pool => {
            sql::query_as("SELECT key_id, sealed_secret, created_at FROM pending_enrollments WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|(key_id, sealed, at)| Ok((key_id, sealed, to_u64(at, "time")?)))
            .transpose()
    }

    async fn delete_pending_enrollment(&self, user: UserId) -> Result<(), StoreError> {
        self.write_all(&[Write::DropPendingEnrollment(user)]).await
    }

    async fn put_pending_phone(
        &self,
        user: UserId,
        phone: &str,
        code_hash: &str,
        now: u64,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            sql::query(
                "INSERT INTO pending_phones (user_id, phone, code_hash, created_at, tries) VALUES ($1, $2, $3, $4, 0) \
                 ON CONFLICT (user_id) DO UPDATE SET phone = excluded.phone, code_hash = excluded.code_hash, \
                 created_at = excluded.created_at, tries = 0",
            )
            .bind(user.0)
            .bind(phone)
            .bind(code_hash)
            .bind(to_i64(now))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            insert_sms_send!(&mut *tx, user, phone, now);
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn pending_phone(
        &self,
        user: UserId,
    ) -> Result<Option<(String, String, u64, u32)>, StoreError> {
        let row: Option<(String, String, i64, i64)> = on_pool!(self, pool => {
            sql::query_as("SELECT phone, code_hash, created_at, tries FROM pending_phones WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(|(phone, hash, at, tries)| {
            Ok((
                phone,
                hash,
                to_u64(at, "time")?,
                u32::try_from(tries).unwrap_or(u32::MAX),
            ))
        })
        .transpose()
    }

    async fn add_pending_phone_try(&self, user: UserId) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE pending_phones SET tries = tries + 1 WHERE user_id = $1",
            user.0
        );
        Ok(())
    }

    async fn activate_pending_phone(&self, user: UserId, phone: &str) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            let removed = sql::query("DELETE FROM pending_phones WHERE user_id = $1 AND phone = $2")
                .bind(user.0)
                .bind(phone)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            if removed == 1 {
                sql::query("UPDATE users SET phone = $2 WHERE id = $1")
                    .bind(user.0)
                    .bind(phone)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
            removed == 1
        });
        Ok(done)
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[(String, String)],
        now: u64,
    ) -> Result<(), StoreError> {
        self.write_all(&[Write::RecoveryCodes { user, codes, now }])
            .await
    }

    async fn recovery_code(
        &self,
        user: UserId,
        lookup: &str,
    ) -> Result<Option<(i64, String)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sql::query_as(
                "SELECT id, code_hash FROM recovery_codes WHERE user_id = $1 AND lookup = $2 AND used_at IS NULL",
            )
            .bind(user.0)
            .bind(lookup)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        }))
    }

    async fn use_recovery_code(&self, id: i64, now: u64) -> Result<bool, StoreError> {
        let done = execute!(
            self,
            "UPDATE recovery_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
            id,
            to_i64(now)
        );
        Ok(done == 1)
    }

    async fn unused_recovery_codes(&self, user: UserId) -> Result<u32, StoreError> {
        let (n,): (i64,) = on_pool!(self, pool => {
            sql::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                .bind(user.0)
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }
}

#[async_trait::async_trait]
impl SmsCodes for SqlStore {
    async fn put_sms_code(
        &self,
        user: UserId,
        code: &SmsCode,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            sql::query(
                "INSERT INTO sms_codes (user_id, code_hash, phone, created_at, expires_at, tries) \
                 VALUES ($1, $2, $3, $4, $5, 0) \
                 ON CONFLICT (user_id) DO UPDATE SET code_hash = excluded.code_hash, phone = excluded.phone, \
                 created_at = excluded.created_at, expires_at = excluded.expires_at, tries = 0",
            )
            .bind(user.0)
            .bind(&code.code_hash)
            .bind(&code.phone)
            .bind(to_i64(code.created_at))
            .bind(to_i64(code.expires_at))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
            insert_sms_send!(&mut *tx, user, &code.phone, code.created_at);
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn sms_code(&self, user: UserId) -> Result<Option<SmsCode>, StoreError> {
        let row: Option<(String, String, i64, i64, i64)> = on_pool!(self, pool => {
            sql::query_as(
                "SELECT code_hash, phone, created_at, expires_at, tries FROM sms_codes WHERE user_id = $1",
            )
            .bind(user.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        row.map(|(code_hash, phone, created_at, expires_at, tries)| {
            Ok(SmsCode {
                code_hash,
                phone,
                created_at: to_u64(created_at, "time")?,
                expires_at: to_u64(expires_at, "time")?,
                tries: u32::try_from(tries).unwrap_or(u32::MAX),
            })
        })
        .transpose()
    }

    async fn add_sms_try(&self, user: UserId) -> Result<u32, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sql::query_as("UPDATE sms_codes SET tries = tries + 1 WHERE user_id = $1 RETURNING tries")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        Ok(row.map_or(u32::MAX, |(n,)| u32::try_from(n).unwrap_or(u32::MAX)))
    }

    async fn consume_sms_code(&self, user: UserId, code_hash: &str) -> Result<bool, StoreError> {
        let done = on_pool!(self, pool => {
            sql::query("DELETE FROM sms_codes WHERE user_id = $1 AND code_hash = $2")
                .bind(user.0)
                .bind(code_hash)
                .execute(pool)
                .await
                .map_err(db)?
                .rows_affected()
        });
        Ok(done == 1)
    }

    async fn delete_sms_code(&self, user: UserId) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM sms_codes WHERE user_id = $1", user.0);
        Ok(())
    }

    async fn sms_sends_for_user(
        &self,
        user: UserId,
        since: u64,
    ) -> Result<(u32, Option<u64>), StoreError> {
        let (count, latest): (i64, Option<i64>) = on_pool!(self, pool => {
            sql::query_as("SELECT COUNT(*), MAX(at) FROM sms_sends WHERE user_id = $1 AND at >= $2")
                .bind(user.0)
                .bind(to_i64(since))
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok((
            u32::try_from(count).unwrap_or(u32::MAX),
            latest.map(|t| to_u64(t, "time")).transpose()?,
        ))
    }

    async fn sms_sends_to_phone(&self, phone: &str, since: u64) -> Result<u32, StoreError> {
        let (count,): (i64,) = on_pool!(self, pool => {
            sql::query_as("SELECT COUNT(*) FROM sms_sends WHERE phone = $1 AND at >= $2")
                .bind(phone)
                .bind(to_i64(since))
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }
}

#[async_trait::async_trait]
impl Sealing for SqlStore {
    async fn sealed_key_usage(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        Ok(on_pool!(self, pool => {
            sql::query_as(
                "SELECT 'authenticators', key_id, COUNT(*) FROM totp_factors GROUP BY key_id \
                 UNION ALL SELECT 'offered authenticators', key_id, COUNT(*) FROM pending_enrollments GROUP BY key_id \
                 UNION ALL SELECT 'unsent messages', key_id, COUNT(*) FROM outbox WHERE status IN ('pending', 'sending') GROUP BY key_id \
                 UNION ALL SELECT 'signing keys', key_id, COUNT(*) FROM oidc_keys GROUP BY key_id \
                 ORDER BY 1, 2",
            )
            .fetch_all(pool)
            .await
            .map_err(db)?
        }))
    }

    async fn sealed_with_other_key(
        &self,
        what: Sealed,
        key_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<SealedRow>, StoreError> {
        let sql = match what {
            Sealed::Authenticators => {
                "SELECT user_id, key_id, CAST(user_id AS TEXT), sealed_secret FROM totp_factors \
                 WHERE key_id <> $1 AND user_id > $2 ORDER BY 1 LIMIT $3"
            }
            Sealed::OfferedAuthenticators => {
                "SELECT user_id, key_id, CAST(user_id AS TEXT), sealed_secret FROM pending_enrollments \
                 WHERE key_id <> $1 AND user_id > $2 ORDER BY 1 LIMIT $3"
            }
            Sealed::UnsentMessages => {
                "SELECT id, key_id, idempotency_key, sealed_body FROM outbox \
                 WHERE key_id <> $1 AND id > $2 AND status IN ('pending', 'sending') ORDER BY 1 LIMIT $3"
            }
        };
        let rows: Vec<(i64, String, String, Vec<u8>)> = on_pool!(self, pool => {
            sql::query_as(sql)
                .bind(key_id)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db)?
        });
        Ok(rows
            .into_iter()
            .map(|(id, key_id, bound_to, sealed)| SealedRow {
                id,
                key_id,
                bound_to,
                sealed,
            })
            .collect())
    }

    async fn reseal(
        &self,
        what: Sealed,
        id: i64,
        old_key_id: &str,
        key_id: &str,
        sealed: &[u8],
    ) -> Result<bool, StoreError> {
        let sql = match what {
            Sealed::Authenticators => {
                "UPDATE totp_factors SET key_id = $3, sealed_secret = $4 WHERE user_id = $1 AND key_id = $2"
            }
            Sealed::OfferedAuthenticators => {
                "UPDATE pending_enrollments SET key_id = $3, sealed_secret = $4 WHERE user_id = $1 AND key_id = $2"
            }
            Sealed::UnsentMessages => {
                "UPDATE outbox SET key_id = $3, sealed_body = $4 WHERE id = $1 AND key_id = $2"
            }
        };
        Ok(execute!(self, sql, id, old_key_id, key_id, sealed) == 1)
    }
}
