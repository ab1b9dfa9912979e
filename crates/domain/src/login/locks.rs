//! Lifting locks and second factors (administrators, and the hourly sweep).

use super::*;

impl LoginService {
    /// Forgets locks and failures a day past (see `lockout`); the server
    /// runs it hourly. Returns how many rows went.
    pub async fn sweep_locks(&self, now: u64) -> Result<u64, DomainError> {
        let before = now.saturating_sub(lockout::FORGET_AFTER_SECONDS);
        Ok(self.store.sweep_locks(before).await?)
    }

    /// Clears every lock and failure count of a user (admin `unlock`).
    pub async fn unlock(&self, user: &User, now: u64) -> Result<(), DomainError> {
        self.clear_user_locks(user.id).await?;
        self.record(now, AuditKind::Unlock, user, "by administrator")
            .await
    }

    /// Clears the second-factor and password locks (and their failure
    /// counts) of a user.
    pub(crate) async fn clear_user_locks(&self, user: UserId) -> Result<(), DomainError> {
        self.store.clear_locks(&key_2fa(user)).await?;
        self.store
            .clear_locks(&LockKey::Account(user).key())
            .await?;
        Ok(())
    }

    /// Removes every second factor and session of a user (admin reset).
    pub async fn reset_2fa(&self, user: &User, now: u64) -> Result<(), DomainError> {
        self.store.reset_second_factors(user.id).await?;
        self.record(now, AuditKind::Reset2fa, user, "by administrator")
            .await
    }
}
