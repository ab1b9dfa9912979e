//! Rows as the database returns them, the column lists that select them,
//! and their conversion into the domain's types.

use super::*;

pub(crate) fn to_i64(value: u64) -> i64 {
    // Times and steps are far below i64::MAX; saturate rather than wrap.
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}")))
}

pub(crate) type UserRow = (
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
);

pub(crate) const USER_COLUMNS: &str =
    "id, practice_id, username, email, phone, role, password_hash, disabled, require_2fa, language";

/// How many [`USER_COLUMNS`] there are ([`UserRow`]'s fields): where a
/// row's columns after them start.
pub(crate) const USER_COLUMN_COUNT: usize = 10;

/// [`USER_COLUMNS`] of the table aliased `alias`.
pub(crate) fn user_columns_of(alias: &str) -> String {
    USER_COLUMNS
        .split(", ")
        .map(|c| format!("{alias}.{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn user_from(row: UserRow) -> Result<User, StoreError> {
    let (
        id,
        practice_id,
        username,
        email,
        phone,
        role,
        password_hash,
        disabled,
        require_2fa,
        language,
    ) = row;
    Ok(User {
        id: UserId(id),
        practice_id: PracticeId(practice_id),
        username,
        email,
        phone,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role:?}")))?,
        password_hash,
        disabled,
        require_2fa,
        // A tag no longer spoken is as if none was chosen.
        language: i18n::Lang::from_tag(&language),
    })
}

pub(crate) type ApiKeyRow = (i64, i64, String, String, i64, Option<i64>, String);

pub(crate) const API_KEY_COLUMNS: &str =
    "id, practice_id, name, prefix, created_at, revoked_at, scopes";

pub(crate) fn api_key_from(row: ApiKeyRow) -> Result<ApiKey, StoreError> {
    let (id, practice_id, name, prefix, created_at, revoked_at, scopes) = row;
    Ok(ApiKey {
        scopes: domain::api::Scopes::parse(&scopes)
            .map_err(|e| StoreError::Corrupt(format!("api key scopes: {e}")))?,
        id,
        practice_id: PracticeId(practice_id),
        name,
        prefix,
        created_at: to_u64(created_at, "time")?,
        revoked_at: revoked_at.map(|t| to_u64(t, "time")).transpose()?,
    })
}

/// The hot path's read: user, authenticator, lock and whether failures
/// exist, in one statement.
pub(crate) const SQL_SECOND_FACTOR_STATE: &str = "SELECT u.id, u.practice_id, u.username, u.email, u.phone, u.role, u.password_hash, \
                   u.disabled, u.require_2fa, u.language, t.key_id, t.sealed_secret, t.algorithm, t.digits, t.period, \
                   t.last_step, t.clock_offset_steps, l.locked_until, l.lock_count, \
                   EXISTS (SELECT 1 FROM failures f WHERE f.key = $2) AS has_failures \
                   FROM users u LEFT JOIN totp_factors t ON t.user_id = u.id \
                   LEFT JOIN locks l ON l.key = $2 WHERE u.id = $1";
pub(crate) const SQL_SESSION: &str = "SELECT token_hash, user_id, stage, created_at, last_seen_at, failures, amr \
                           FROM sessions WHERE token_hash = $1";
/// [`SQL_SECOND_FACTOR_STATE`] for the user and lock key given as SQL
/// expressions instead of its two parameters (it has no others, so `$1`
/// and `$2` are never part of a longer placeholder).
pub(crate) fn sql_second_factor_state_of(user: &str, lock_key: &str) -> String {
    SQL_SECOND_FACTOR_STATE
        .replace("$2", lock_key)
        .replace("$1", user)
}
/// [`SQL_SESSION`] and [`SQL_SECOND_FACTOR_STATE`] of the session's user in
/// one statement (PostgreSQL): the lock key is `$2` followed by the user id.
pub(crate) static SQL_SESSION_STATE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let state = sql_second_factor_state_of("s.user_id", "k.lock_key");
    format!(
        "SELECT s.token_hash, s.user_id, s.stage, s.created_at, s.last_seen_at, s.failures, s.amr, st.* \
         FROM sessions s CROSS JOIN LATERAL (SELECT $2 || s.user_id::text AS lock_key) k \
         CROSS JOIN LATERAL ({state}) st WHERE s.token_hash = $1"
    )
});
pub(crate) const SQL_INSERT_FAILURE: &str = "INSERT INTO failures (key, at) VALUES ($1, $2)";
pub(crate) const SQL_FAILURES_SINCE: &str =
    "SELECT COUNT(*) FROM failures WHERE key = $1 AND at >= $2";

/// Compare-and-set of the last used step: the WHERE clause is the compare.
pub(crate) const SQL_CLAIM_TOTP_STEP: &str = claim_totp_step!();

/// [`SQL_CLAIM_TOTP_STEP`] with a [`ClaimGuard`]: the seed still `$4`, the
/// pending session `$5` of the user still there, the user not disabled, no
/// lock under `$6` in force at `$7`.
pub(crate) const SQL_CLAIM_GUARDED_STEP: &str = concat!(
    claim_totp_step!(),
    " AND sealed_secret = $4 \
     AND EXISTS (SELECT 1 FROM sessions WHERE token_hash = $5 AND user_id = $1 AND stage = 'pending') \
     AND EXISTS (SELECT 1 FROM users WHERE id = $1 AND NOT disabled) \
     AND NOT EXISTS (SELECT 1 FROM locks WHERE key = $6 AND locked_until > $7)"
);

/// A [`Write::ClaimStep`]'s statement: guarded or not.
pub(crate) fn claim_sql(guard: Option<&ClaimGuard<'_>>) -> &'static str {
    if guard.is_some() {
        SQL_CLAIM_GUARDED_STEP
    } else {
        SQL_CLAIM_TOTP_STEP
    }
}

/// [`SQL_CLAIM_TOTP_STEP`] as the first part of a [`pg_one_statement`].
pub(crate) static SQL_CLAIM_STEP_PART: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("WITH claimed AS ({SQL_CLAIM_TOTP_STEP} RETURNING 1)"));

/// [`SQL_CLAIM_GUARDED_STEP`] as the first part of a [`pg_one_statement`].
pub(crate) static SQL_CLAIM_GUARDED_PART: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("WITH claimed AS ({SQL_CLAIM_GUARDED_STEP} RETURNING 1)"));

/// [`SQL_PASSWORD_GUARD`] as the first part of a [`pg_one_statement`].
pub(crate) static SQL_PASSWORD_GUARD_PART: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("WITH claimed AS ({SQL_PASSWORD_GUARD})"));

/// [`Write::ClaimStep`] lost: another request took the step (or a later one).
pub(crate) fn step_taken() -> StoreError {
    StoreError::Conflict("authenticator step already used".into())
}

/// The columns of [`PasswordStepRow`] for the user `user` and the lock key
/// `lock` (SQL expressions), over `users u`, `practices p` and the user's
/// `totp_factors t` (the lock's columns are subqueries: as a join on a key
/// computed from `u.id`, PostgreSQL planned a filter over every lock; and
/// whether failures exist a scalar subquery, not `EXISTS`, which
/// PostgreSQL may run as a hashed scan of every failure when it expects
/// more than one row);
/// `$1` is the address's failure key, `$2` the window's start, `$5` the
/// notice topic.
pub(crate) fn sql_password_step_columns(user: &str, lock: &str) -> String {
    format!(
        "(SELECT COUNT(*) FROM failures WHERE key = $1 AND at >= $2) AS ip_failures, \
         (SELECT locked_until FROM locks WHERE key = {lock}) AS locked_until, \
         (SELECT lock_count FROM locks WHERE key = {lock}) AS lock_count, \
         (SELECT true FROM failures WHERE key = {lock} LIMIT 1) IS NOT NULL AS has_failures, \
         p.require_2fa AS practice_require_2fa, p.allow_sms, p.remember_days, p.idle_timeout_minutes, p.password_min_length, \
         (SELECT MAX(created_at) FROM outbox WHERE user_id = {user} AND topic = $5) AS last_message_at, \
         t.key_id, t.sealed_secret, t.algorithm, t.digits, t.period, t.last_step, \
         t.clock_offset_steps, p.allow_passkey_sign_in, p.phishing_resistant_admins, \
         (SELECT true FROM passkeys WHERE user_id = {user} LIMIT 1) IS NOT NULL AS has_passkey, \
         p.time_zone AS practice_time_zone, p.language AS practice_language \
         FROM users u LEFT JOIN practices p ON p.id = u.practice_id \
         LEFT JOIN totp_factors t ON t.user_id = {user}"
    )
}

/// The password step's reads ([`Limits::password_step_state`]) as one
/// statement, anchored on the user's row (`$4`, lock key `$3`); the
/// practice and lock may be missing (defaults then).
pub(crate) static SQL_PASSWORD_STEP_STATE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        format!(
            "SELECT {} WHERE u.id = $4",
            sql_password_step_columns("$4", "$3")
        )
    });

/// [`Limits::user_for_password_step`]: the user named `$4` ([`USER_COLUMNS`])
/// and then [`PasswordStepRow`]'s columns, its lock key `$3` and its id.
pub(crate) static SQL_USER_FOR_PASSWORD_STEP: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| {
        format!(
            "SELECT {}, {} WHERE u.username = $4",
            user_columns_of("u"),
            sql_password_step_columns("u.id", "$3 || CAST(u.id AS TEXT)")
        )
    });

/// [`Write::PasswordGuard`]: one row if the step may still write (lock key
/// `$1`, now `$2`, user `$3`), none if not.
pub(crate) const SQL_PASSWORD_GUARD: &str = "SELECT 1 FROM totp_factors WHERE user_id = $3 \
     AND NOT EXISTS (SELECT 1 FROM locks WHERE key = $1 AND locked_until > $2)";

/// [`Limits::book_slot`]: key `$1`, now `$2`, pace `$3`, longest wait `$4`.
/// `CASE` rather than `MAX`/`GREATEST`, which the two dialects spell apart.
pub(crate) const SQL_BOOK_SLOT: &str = "INSERT INTO locks (key, locked_until, lock_count) VALUES ($1, $2 + $3, 0) \
     ON CONFLICT (key) DO UPDATE SET locked_until = \
     CASE WHEN locks.locked_until > $2 THEN locks.locked_until ELSE $2 END + $3 \
     WHERE locks.locked_until - $2 <= $4 \
     RETURNING locked_until - $3";

/// Voids user `$1`'s unused single-use links at `$2`.
pub(crate) const SQL_VOID_LINKS: &str =
    "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL";

/// [`Write::PasswordGuard`] failed: a lock, throttle or unlinked
/// authenticator came between the step's read and its write.
pub(crate) fn guard_failed() -> StoreError {
    StoreError::Conflict("the password step is no longer allowed".into())
}

/// [`SQL_PASSWORD_STEP_STATE`]'s row.
#[derive(sqlx::FromRow)]
pub(crate) struct PasswordStepRow {
    pub(crate) ip_failures: i64,
    pub(crate) locked_until: Option<i64>,
    pub(crate) lock_count: Option<i64>,
    pub(crate) has_failures: bool,
    /// The practice's (named apart from the user's own, read beside it).
    #[sqlx(rename = "practice_require_2fa")]
    pub(crate) require_2fa: Option<bool>,
    pub(crate) allow_sms: Option<bool>,
    pub(crate) remember_days: Option<i64>,
    pub(crate) idle_timeout_minutes: Option<i64>,
    pub(crate) password_min_length: Option<i64>,
    pub(crate) last_message_at: Option<i64>,
    #[sqlx(flatten)]
    pub(crate) totp: TotpColumns,
    pub(crate) allow_passkey_sign_in: Option<bool>,
    pub(crate) phishing_resistant_admins: Option<bool>,
    pub(crate) has_passkey: bool,
    pub(crate) practice_time_zone: Option<String>,
    pub(crate) practice_language: Option<String>,
}

impl crate::lite::FromRow for PasswordStepRow {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Self::from_sqlite_at(row, 0)
    }
}

/// [`SQL_USER_FOR_PASSWORD_STEP`]'s row: the user's columns, then the
/// step's.
pub(crate) struct UserAndPasswordStep(pub(crate) UserRow, pub(crate) PasswordStepRow);

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for UserAndPasswordStep {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> Result<Self, sqlx::Error> {
        // The user's by position (the first columns), the step's by name.
        Ok(UserAndPasswordStep(
            sqlx::FromRow::from_row(row)?,
            sqlx::FromRow::from_row(row)?,
        ))
    }
}

impl crate::lite::FromRow for UserAndPasswordStep {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(UserAndPasswordStep(
            crate::lite::FromRow::from_row(row)?,
            PasswordStepRow::from_sqlite_at(row, USER_COLUMN_COUNT)?,
        ))
    }
}

impl PasswordStepRow {
    /// Reads the row in [`sql_password_step_columns`]' order, its first
    /// column at `first`.
    fn from_sqlite_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(PasswordStepRow {
            ip_failures: row.get(first)?,
            locked_until: row.get(first + 1)?,
            lock_count: row.get(first + 2)?,
            has_failures: row.get(first + 3)?,
            require_2fa: row.get(first + 4)?,
            allow_sms: row.get(first + 5)?,
            remember_days: row.get(first + 6)?,
            idle_timeout_minutes: row.get(first + 7)?,
            password_min_length: row.get(first + 8)?,
            last_message_at: row.get(first + 9)?,
            totp: TotpColumns::from_sqlite_at(row, first + 10)?,
            allow_passkey_sign_in: row.get(first + 17)?,
            phishing_resistant_admins: row.get(first + 18)?,
            has_passkey: row.get(first + 19)?,
            practice_time_zone: row.get(first + 20)?,
            practice_language: row.get(first + 21)?,
        })
    }
}

/// [`PasswordStepState`] of user `user` from its row.
pub(crate) fn password_step_from(
    user: i64,
    row: PasswordStepRow,
) -> Result<PasswordStepState, StoreError> {
    let practice = match (
        row.require_2fa,
        row.allow_sms,
        row.remember_days,
        row.idle_timeout_minutes,
        row.password_min_length,
        row.allow_passkey_sign_in,
        row.phishing_resistant_admins,
    ) {
        (Some(a), Some(b), Some(c), Some(d), Some(e), Some(f), Some(g)) => {
            Some((a, b, c, d, e, f, g))
        }
        _ => None,
    };
    Ok(PasswordStepState {
        ip_failures: u32::try_from(row.ip_failures).unwrap_or(u32::MAX),
        lock: lock_from_row(row.locked_until.zip(row.lock_count))?,
        has_failures: row.has_failures,
        practice: practice_from_row(practice)?,
        totp: row.totp.of(user)?,
        has_passkey: row.has_passkey,
        last_message_at: row.last_message_at.map(|t| to_u64(t, "time")).transpose()?,
        locale: domain::PracticeLocale {
            time_zone: row.practice_time_zone.unwrap_or_default(),
            language: row
                .practice_language
                .as_deref()
                .and_then(i18n::Lang::from_tag),
        },
    })
}

/// A practice's settings as stored ([`PRACTICE_COLUMNS`]).
pub(crate) type PracticeRow = (bool, bool, i64, i64, i64, bool, bool);

/// The columns of [`PracticeRow`].
pub(crate) const PRACTICE_COLUMNS: &str = "require_2fa, allow_sms, remember_days, idle_timeout_minutes, \
     password_min_length, allow_passkey_sign_in, phishing_resistant_admins";

/// The settings in `row`, or the defaults when the practice has no row.
pub(crate) fn practice_from_row(row: Option<PracticeRow>) -> Result<PracticePolicy, StoreError> {
    let Some((
        require_2fa,
        allow_sms,
        remember,
        idle,
        min_length,
        passkey_sign_in,
        phishing_resistant,
    )) = row
    else {
        return Ok(PracticePolicy::default());
    };
    let number = |value: i64, what: &str| {
        u32::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} {value}")))
    };
    Ok(PracticePolicy {
        require_2fa,
        allow_sms,
        remember_days: number(remember, "remember_days")?,
        idle_timeout_minutes: number(idle, "idle_timeout_minutes")?,
        password_min_length: number(min_length, "password_min_length")?,
        allow_passkey_sign_in: passkey_sign_in,
        phishing_resistant_admins: phishing_resistant,
    })
}

/// A lock as stored, or none.
pub(crate) fn lock_from_row(row: Option<(i64, i64)>) -> Result<LockState, StoreError> {
    Ok(match row {
        Some((until, count)) => LockState {
            locked_until: to_u64(until, "lock time")?,
            lock_count: u32::try_from(count).unwrap_or(u32::MAX),
        },
        None => LockState::default(),
    })
}

pub(crate) fn sql_user_by_username() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1")
}
pub(crate) fn sql_user_by_email() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE LOWER(email) = LOWER($1) ORDER BY id LIMIT 1")
}
pub(crate) fn sql_user_by_id() -> String {
    format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")
}
pub(crate) fn sql_api_key_by_hash() -> String {
    format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE key_hash = $1")
}
pub(crate) fn sql_device_by_token() -> String {
    format!("SELECT {DEVICE_COLUMNS} FROM remembered_devices WHERE token_hash = $1")
}

/// One row of [`Sessions::second_factor_state`].
#[derive(sqlx::FromRow)]
pub(crate) struct SecondFactorRow {
    pub(crate) id: i64,
    pub(crate) practice_id: i64,
    pub(crate) username: String,
    pub(crate) email: String,
    pub(crate) phone: Option<String>,
    pub(crate) role: String,
    pub(crate) password_hash: Option<String>,
    pub(crate) disabled: bool,
    pub(crate) require_2fa: bool,
    pub(crate) language: String,
    #[sqlx(flatten)]
    pub(crate) totp: TotpColumns,
    pub(crate) locked_until: Option<i64>,
    pub(crate) lock_count: Option<i64>,
    pub(crate) has_failures: bool,
}

/// One row of [`SQL_SESSION_STATE`].
#[derive(sqlx::FromRow)]
pub(crate) struct SessionStateRow {
    pub(crate) token_hash: String,
    pub(crate) user_id: i64,
    pub(crate) stage: String,
    pub(crate) created_at: i64,
    pub(crate) last_seen_at: i64,
    pub(crate) failures: i64,
    pub(crate) amr: String,
    #[sqlx(flatten)]
    pub(crate) state: SecondFactorRow,
}

/// Reads the row in [`SQL_SECOND_FACTOR_STATE`]'s column order.
impl crate::lite::FromRow for SecondFactorRow {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(SecondFactorRow {
            id: row.get(0)?,
            practice_id: row.get(1)?,
            username: row.get(2)?,
            email: row.get(3)?,
            phone: row.get(4)?,
            role: row.get(5)?,
            password_hash: row.get(6)?,
            disabled: row.get(7)?,
            require_2fa: row.get(8)?,
            language: row.get(9)?,
            totp: TotpColumns::from_sqlite_at(row, 10)?,
            locked_until: row.get(17)?,
            lock_count: row.get(18)?,
            has_failures: row.get(19)?,
        })
    }
}

/// [`SecondFactorState`] from its row.
pub(crate) fn state_from(r: SecondFactorRow) -> Result<SecondFactorState, StoreError> {
    let totp = r.totp.of(r.id)?;
    let user = user_from((
        r.id,
        r.practice_id,
        r.username,
        r.email,
        r.phone,
        r.role,
        r.password_hash,
        r.disabled,
        r.require_2fa,
        r.language,
    ))?;
    Ok(SecondFactorState {
        user,
        totp,
        lock: LockState {
            locked_until: to_u64(r.locked_until.unwrap_or(0), "lock time")?,
            lock_count: u32::try_from(r.lock_count.unwrap_or(0)).unwrap_or(u32::MAX),
        },
        has_failures: r.has_failures,
    })
}

pub(crate) type TotpRow = (i64, String, Vec<u8>, String, i64, i64, Option<i64>, i64);

/// An authenticator's columns from a left join (`t.key_id, t.sealed_secret,
/// t.algorithm, t.digits, t.period, t.last_step, t.clock_offset_steps`), all
/// `None` if none is linked.
#[derive(sqlx::FromRow)]
pub(crate) struct TotpColumns {
    pub(crate) key_id: Option<String>,
    pub(crate) sealed_secret: Option<Vec<u8>>,
    pub(crate) algorithm: Option<String>,
    pub(crate) digits: Option<i64>,
    pub(crate) period: Option<i64>,
    pub(crate) last_step: Option<i64>,
    pub(crate) clock_offset_steps: Option<i64>,
}

impl TotpColumns {
    /// Reads the columns in their order, the first at `first`.
    pub(crate) fn from_sqlite_at(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(TotpColumns {
            key_id: row.get(first)?,
            sealed_secret: row.get(first + 1)?,
            algorithm: row.get(first + 2)?,
            digits: row.get(first + 3)?,
            period: row.get(first + 4)?,
            last_step: row.get(first + 5)?,
            clock_offset_steps: row.get(first + 6)?,
        })
    }

    /// User `user`'s authenticator, if one is linked.
    pub(crate) fn of(self, user: i64) -> Result<Option<TotpFactor>, StoreError> {
        match (
            self.key_id,
            self.sealed_secret,
            self.algorithm,
            self.digits,
            self.period,
        ) {
            (Some(key_id), Some(sealed), Some(algorithm), Some(digits), Some(period)) => {
                Ok(Some(totp_from((
                    user,
                    key_id,
                    sealed,
                    algorithm,
                    digits,
                    period,
                    self.last_step,
                    self.clock_offset_steps.unwrap_or(0),
                ))?))
            }
            _ => Ok(None),
        }
    }
}

pub(crate) fn totp_from(row: TotpRow) -> Result<TotpFactor, StoreError> {
    let (user_id, key_id, sealed_secret, algorithm, digits, period, last_step, offset) = row;
    let corrupt = |e: &dyn std::fmt::Display| StoreError::Corrupt(e.to_string());
    Ok(TotpFactor {
        user_id: UserId(user_id),
        key_id,
        sealed_secret,
        algorithm: algorithm.parse().map_err(|e| corrupt(&e))?,
        digits: otp::Digits::new(to_u64(digits, "digits")?).map_err(|e| corrupt(&e))?,
        period: otp::Period::new(to_u64(period, "period")?).map_err(|e| corrupt(&e))?,
        last_step: last_step.map(|s| to_u64(s, "step")).transpose()?,
        clock_offset_steps: offset,
    })
}

pub(crate) type SessionRow = (String, i64, String, i64, i64, i64, String);

pub(crate) fn session_from(row: SessionRow) -> Result<Session, StoreError> {
    let (token_hash, user_id, stage, created_at, last_seen_at, failures, amr) = row;
    Ok(Session {
        token_hash,
        user_id: UserId(user_id),
        stage: SessionStage::parse(&stage)
            .ok_or_else(|| StoreError::Corrupt(format!("stage {stage:?}")))?,
        created_at: to_u64(created_at, "time")?,
        last_seen_at: to_u64(last_seen_at, "time")?,
        failures: u32::try_from(failures).unwrap_or(u32::MAX),
        amr: Amr::parse(&amr).ok_or_else(|| StoreError::Corrupt(format!("amr {amr:?}")))?,
    })
}

pub(crate) type DeviceRow = (i64, i64, String, i64, i64, i64);

pub(crate) const DEVICE_COLUMNS: &str = "id, user_id, label, created_at, last_used_at, expires_at";

pub(crate) fn device_from(row: DeviceRow) -> Result<RememberedDevice, StoreError> {
    let (id, user_id, label, created_at, last_used_at, expires_at) = row;
    Ok(RememberedDevice {
        id,
        user_id: UserId(user_id),
        label,
        created_at: to_u64(created_at, "time")?,
        last_used_at: to_u64(last_used_at, "time")?,
        expires_at: to_u64(expires_at, "time")?,
    })
}

pub(crate) type AuditRow = (
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
);

pub(crate) fn audit_from(row: AuditRow) -> Result<AuditEvent, StoreError> {
    let (at, user_id, username, kind, outcome, ip, user_agent, detail) = row;
    Ok(AuditEvent {
        at: to_u64(at, "time")?,
        user_id: user_id.map(UserId),
        username,
        kind,
        outcome,
        ip,
        user_agent,
        detail,
    })
}

/// An audit row with its id and chain hash.
pub(crate) type ChainedAuditRow = (
    i64,
    i64,
    Option<i64>,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

/// An audit row with its chain hash, read from [`CHAINED_AUDIT_FROM`]
/// (`e` is the event).
pub(crate) const CHAINED_AUDIT_COLUMNS: &str = concat!(
    "e.id, e.at, e.user_id, e.username, e.kind, e.outcome, e.ip, e.user_agent, e.detail, ",
    chain_hash_of_e!(),
    " AS chain_hash"
);
pub(crate) const CHAINED_AUDIT_FROM: &str = "audit_events e";

/// A page of the audit search: `$1` the id to start after (or before,
/// newest first), `$2`/`$3` the time range, then one placeholder for each
/// filter given (practice, user, kind, outcome, in that order), then the
/// limit.
pub(crate) fn sql_audit_search(newest_first: bool, filter: &AuditFilter) -> String {
    let mut sql = format!(
        "SELECT {CHAINED_AUDIT_COLUMNS} FROM {CHAINED_AUDIT_FROM} WHERE e.id {} $1 AND at >= $2 AND at < $3",
        if newest_first { "<" } else { ">" }
    );
    let mut n = 3;
    for (given, column) in [
        (filter.practice.is_some(), "practice_id"),
        (filter.user.is_some(), "user_id"),
        (filter.kind.is_some(), "kind"),
        (filter.outcome.is_some(), "outcome"),
    ] {
        if given {
            n += 1;
            sql.push_str(&format!(" AND {column} = ${n}"));
        }
    }
    sql.push_str(&format!(
        " ORDER BY e.id {} LIMIT ${}",
        if newest_first { "DESC" } else { "ASC" },
        n + 1
    ));
    sql
}

/// The events after an id, oldest first, with their hashes: the sealer's
/// read (every 2 s, in service) and `audit verify`'s pages.
pub(crate) static SQL_AUDIT_AFTER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {CHAINED_AUDIT_COLUMNS} FROM {CHAINED_AUDIT_FROM} WHERE e.id > $1 ORDER BY e.id LIMIT $2"
    )
});

/// The sealer's hashes are inserted; an id already there takes the new
/// hash. Ids are never handed out twice (identity, AUTOINCREMENT), so that
/// happens only after tampering — rows deleted and the seal moved back over
/// their leftover hashes — which `verify` reports; it must not also stop
/// the sealer.
pub(crate) const CHAIN_UPSERT: &str =
    "ON CONFLICT (id) DO UPDATE SET chain_hash = excluded.chain_hash";

pub(crate) fn chained_audit_from(
    row: ChainedAuditRow,
) -> Result<(i64, AuditEvent, Option<String>), StoreError> {
    let (id, at, user_id, username, kind, outcome, ip, user_agent, detail, hash) = row;
    let event = audit_from((at, user_id, username, kind, outcome, ip, user_agent, detail))?;
    Ok((id, event, hash))
}
