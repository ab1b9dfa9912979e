//! Practices, accounts and API keys.

use super::*;

#[async_trait::async_trait]
impl Practices for SqlStore {
    async fn ensure_practice(&self, name: &str, now: u64) -> Result<PracticeId, StoreError> {
        let id: (i64,) = on_pool!(self, pool => {
            sql::query(
                "INSERT INTO practices (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(to_i64(now))
            .execute(pool)
            .await
            .map_err(db)?;
            sql::query_as("SELECT id FROM practices WHERE name = $1")
                .bind(name)
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(PracticeId(id.0))
    }

    async fn first_practice(&self) -> Result<Option<PracticeId>, StoreError> {
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sql::query_as("SELECT id FROM practices ORDER BY id LIMIT 1")
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        Ok(row.map(|(id,)| PracticeId(id)))
    }

    async fn practice_policy(&self, practice: PracticeId) -> Result<PracticePolicy, StoreError> {
        let sql = format!("SELECT {PRACTICE_COLUMNS} FROM practices WHERE id = $1");
        let row: Option<PracticeRow> = on_pool!(self, pool => {
            sql::query_as(&sql)
            .bind(practice.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        practice_from_row(row)
    }

    async fn set_practice_policy(
        &self,
        practice: PracticeId,
        policy: &PracticePolicy,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE practices SET require_2fa = $1, allow_sms = $2, remember_days = $3, \
             idle_timeout_minutes = $4, password_min_length = $5, allow_passkey_sign_in = $7, \
             phishing_resistant_admins = $8 WHERE id = $6",
            policy.require_2fa,
            policy.allow_sms,
            i64::from(policy.remember_days),
            i64::from(policy.idle_timeout_minutes),
            i64::from(policy.password_min_length),
            practice.0,
            policy.allow_passkey_sign_in,
            policy.phishing_resistant_admins,
        );
        Ok(())
    }

    async fn practice_locale(&self, practice: PracticeId) -> Result<PracticeLocale, StoreError> {
        let row: Option<(String, String)> = on_pool!(self, pool => {
            sql::query_as("SELECT time_zone, language FROM practices WHERE id = $1")
            .bind(practice.0)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        let (time_zone, language) = row.unwrap_or_default();
        Ok(PracticeLocale {
            time_zone,
            language: i18n::Lang::from_tag(&language),
        })
    }

    async fn set_practice_locale(
        &self,
        practice: PracticeId,
        locale: &PracticeLocale,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE practices SET time_zone = $1, language = $2 WHERE id = $3",
            locale.time_zone.as_str(),
            locale.language.map_or("", i18n::Lang::tag),
            practice.0,
        );
        Ok(())
    }

    async fn staff_page(
        &self,
        practice: PracticeId,
        search: &str,
        only: Option<UserId>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<StaffRow>, u64), StoreError> {
        let pattern = like_pattern(search);
        let matches = "u.practice_id = $1 AND (LOWER(u.username) LIKE $2 ESCAPE '\\' \
                       OR LOWER(u.email) LIKE $2 ESCAPE '\\' OR LOWER(u.display_name) LIKE $2 ESCAPE '\\') \
                       AND ($5 < 0 OR u.id = $5)";
        let columns = user_columns_of("u");
        let sql = format!(
            "SELECT {columns}, u.display_name, u.last_login_at, \
             EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = u.id), \
             COALESCE((SELECT MAX(l.locked_until) FROM locks l \
                       WHERE l.key IN ('2fa:user:' || CAST(u.id AS TEXT), 'pw:user:' || CAST(u.id AS TEXT))), 0) \
             FROM users u WHERE {matches} ORDER BY u.username LIMIT $3 OFFSET $4"
        );
        let count_sql = format!(
            "SELECT COUNT(*) FROM users u WHERE {}",
            matches.replace("$5", "$3")
        );
        type StaffSql = (
            i64,
            i64,
            String,
            String,
            Option<String>,
            String,
            Option<String>,
            bool,
            bool,
            String,
            String,
            Option<i64>,
            bool,
            i64,
        );
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let (rows, (total,)): (Vec<StaffSql>, (i64,)) = on_pool!(self, pool => {
            let rows = sql::query_as(&sql)
                .bind(practice.0)
                .bind(&pattern)
                .bind(i64::from(limit))
                .bind(offset)
                .bind(only.map_or(-1, |u| u.0))
                .fetch_all(pool)
                .await
                .map_err(db)?;
            let total = sql::query_as(&count_sql)
                .bind(practice.0)
                .bind(&pattern)
                .bind(only.map_or(-1, |u| u.0))
                .fetch_one(pool)
                .await
                .map_err(db)?;
            (rows, total)
        });
        let staff = rows
            .into_iter()
            .map(|r| {
                let user = user_from((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9))?;
                staff_row(user, r.10, r.11, r.12, r.13)
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok((staff, to_u64(total, "count")?))
    }

    async fn practice_admins(&self, practice: PracticeId) -> Result<Vec<User>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users WHERE practice_id = $1 AND role = 'admin' \
             AND disabled = FALSE ORDER BY id"
        );
        let rows: Vec<UserRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(practice.0).fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter().map(user_from).collect()
    }
}

#[async_trait::async_trait]
impl Users for SqlStore {
    async fn create_user(&self, user: &NewUser, now: u64) -> Result<UserId, StoreError> {
        self.insert_user(user, None, now).await
    }

    async fn create_api_user(
        &self,
        user: &NewUser,
        external_id: Option<&str>,
        now: u64,
    ) -> Result<UserId, StoreError> {
        self.insert_user(user, external_id, now).await
    }

    async fn external_id(&self, user: UserId) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool => {
            sql::query_as("SELECT external_id FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        Ok(row.and_then(|(id,)| id))
    }

    async fn delete_user(&self, user: UserId) -> Result<(), StoreError> {
        execute!(self, "DELETE FROM users WHERE id = $1", user.0);
        Ok(())
    }

    async fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(sql_user_by_username);
        // The password step's first read (on SQLite on this thread).
        let row: Option<UserRow> = on_pool!(self, pool => {
            sql::query_as(&SQL).bind(username).fetch_optional(pool).await.map_err(db)?
        });
        row.map(user_from).transpose()
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<User>, StoreError> {
        let sql = sql_user_by_email();
        let row: Option<UserRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(email).fetch_optional(pool).await.map_err(db)?
        });
        row.map(user_from).transpose()
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = sql_user_by_id();
        let row: Option<UserRow> = on_pool!(self, pool => {
            sql::query_as(&sql).bind(id.0).fetch_optional(pool).await.map_err(db)?
        });
        row.map(user_from).transpose()
    }

    async fn set_user_language(
        &self,
        user: UserId,
        language: Option<i18n::Lang>,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE users SET language = $1 WHERE id = $2",
            language.map_or("", i18n::Lang::tag),
            user.0,
        );
        Ok(())
    }

    async fn set_user_require_2fa(&self, user: UserId, required: bool) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE users SET require_2fa = $1 WHERE id = $2",
            required,
            user.0
        );
        Ok(())
    }

    async fn set_user_disabled(&self, user: UserId, disabled: bool) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            sql::query("UPDATE users SET disabled = $1 WHERE id = $2")
                .bind(disabled)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            if disabled {
                for sql in [
                    "DELETE FROM sessions WHERE user_id = $1",
                    "DELETE FROM remembered_devices WHERE user_id = $1",
                    SQL_END_GRANTS,
                ] {
                    sql::query(sql).bind(user.0).execute(&mut *tx).await.map_err(db)?;
                }
            }
            tx.commit().await.map_err(db)?;
        });
        Ok(())
    }

    async fn set_last_login(&self, user: UserId, now: u64) -> Result<(), StoreError> {
        execute!(self, SQL_SET_LAST_LOGIN, to_i64(now), user.0);
        Ok(())
    }

    async fn set_password_hash(&self, user: UserId, hash: &str) -> Result<(), StoreError> {
        self.write_all(&[Write::PasswordHash { user, hash }]).await
    }
}

#[async_trait::async_trait]
impl ApiKeys for SqlStore {
    async fn create_api_key(
        &self,
        practice: PracticeId,
        name: &str,
        prefix: &str,
        key_hash: &str,
        scopes: &str,
        now: u64,
    ) -> Result<i64, StoreError> {
        let (id,): (i64,) = on_pool!(self, pool => {
            sql::query_as(
                "INSERT INTO api_keys (practice_id, name, prefix, key_hash, created_at, scopes) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(practice.0)
            .bind(name)
            .bind(prefix)
            .bind(key_hash)
            .bind(to_i64(now))
            .bind(scopes)
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(id)
    }

    async fn api_key_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<ApiKeyRow> = on_pool!(self, pool => {
            sql::query_as(&sql_api_key_by_hash())
                .bind(key_hash)
                .fetch_optional(pool)
                .await
                .map_err(db)?
        });
        row.map(api_key_from).transpose()
    }

    async fn api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows: Vec<ApiKeyRow> = on_pool!(self, pool => {
            sql::query_as(&format!("SELECT {API_KEY_COLUMNS} FROM api_keys ORDER BY id"))
                .fetch_all(pool)
                .await
                .map_err(db)?
        });
        rows.into_iter().map(api_key_from).collect()
    }

    async fn revoke_api_key(&self, id_or_prefix: &str, now: u64) -> Result<bool, StoreError> {
        let id: i64 = id_or_prefix.parse().unwrap_or(0);
        let changed = execute!(
            self,
            "UPDATE api_keys SET revoked_at = $3 WHERE (id = $1 OR prefix = $2) AND revoked_at IS NULL",
            id,
            id_or_prefix,
            to_i64(now)
        );
        Ok(changed > 0)
    }

    async fn idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
    ) -> Result<Option<(String, u16, String)>, StoreError> {
        let row: Option<(String, i64, String)> = on_pool!(self, pool => {
            sql::query_as(
                "SELECT request, status, body FROM api_idempotency WHERE api_key_id = $1 AND idem_key = $2",
            )
            .bind(api_key)
            .bind(idem_key)
            .fetch_optional(pool)
            .await
            .map_err(db)?
        });
        Ok(
            row.map(|(request, status, body)| {
                (request, u16::try_from(status).unwrap_or(500), body)
            }),
        )
    }

    async fn finish_idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        execute!(
            self,
            "UPDATE api_idempotency SET status = $3, body = $4 WHERE api_key_id = $1 AND idem_key = $2",
            api_key,
            idem_key,
            i64::from(status),
            body
        );
        Ok(())
    }

    async fn store_idempotent_answer(
        &self,
        api_key: i64,
        idem_key: &str,
        request: &str,
        status: u16,
        body: &str,
        now: u64,
    ) -> Result<bool, StoreError> {
        let changed = execute!(
            self,
            "INSERT INTO api_idempotency (api_key_id, idem_key, request, status, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (api_key_id, idem_key) DO NOTHING",
            api_key,
            idem_key,
            request,
            i64::from(status),
            body,
            to_i64(now)
        );
        Ok(changed == 1)
    }
}

/// A `LIKE` pattern that finds `search` anywhere, case-insensitively, its
/// own `%`, `_` and `\` taken literally.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::from("%");
    for c in search.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A staff line from its user and the columns the staff page adds.
fn staff_row(
    user: User,
    display_name: String,
    last_login_at: Option<i64>,
    has_totp: bool,
    locked_until: i64,
) -> Result<StaffRow, StoreError> {
    Ok(StaffRow {
        user,
        display_name,
        last_login_at: last_login_at.map(|t| to_u64(t, "time")).transpose()?,
        has_totp,
        locked_until: to_u64(locked_until, "time")?,
    })
}

impl SqlStore {
    /// Inserts an account; `external_id` is the API caller's own id.
    async fn insert_user(
        &self,
        user: &NewUser,
        external_id: Option<&str>,
        now: u64,
    ) -> Result<UserId, StoreError> {
        let id: (i64,) = on_pool!(self, pool => {
            sql::query_as(
                "INSERT INTO users (practice_id, username, email, phone, role, password_hash, disabled, created_at, display_name, external_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8, $9) RETURNING id",
            )
            .bind(user.practice_id.0)
            .bind(&user.username)
            .bind(&user.email)
            .bind(&user.phone)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(to_i64(now))
            .bind(&user.display_name)
            .bind(external_id)
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(UserId(id.0))
    }
}
