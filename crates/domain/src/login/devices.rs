//! Remembered devices: saving one, signing in with one, and forgetting them.

use super::*;

impl LoginService {
    /// Remembers this browser for `user`; returns the cookie value.
    pub(super) async fn remember_device(
        &self,
        user: &User,
        remember_seconds: u64,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<String, DomainError> {
        let value = token::generate()?;
        let label = crate::device::label_from_user_agent(&ctx.user_agent);
        let expires = now.saturating_add(remember_seconds);
        self.store
            .create_device(user.id, &token::digest(&value), &label, now, expires)
            .await?;
        self.audit_success(user, AuditKind::DeviceRemembered, ctx, &label, now)
            .await?;
        Ok(value)
    }

    /// Uses a remember cookie for `user` after a correct password: the
    /// rotated cookie value if `device` (the password step found it valid
    /// for this user) still holds that cookie. A cookie already rotated away
    /// (stolen and used, or replayed) revokes the device.
    pub(super) async fn use_device(
        &self,
        user: &User,
        device: Option<&RememberedDevice>,
        presented: &str,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<Option<String>, DomainError> {
        let hash = token::digest(presented);
        if let Some(device) = device {
            let rotated = token::generate()?;
            if self
                .store
                .rotate_device(device.id, &hash, &token::digest(&rotated), now)
                .await?
            {
                self.audit_success(
                    user,
                    AuditKind::RememberedDeviceUsed,
                    ctx,
                    &device.label,
                    now,
                )
                .await?;
                return Ok(Some(rotated));
            }
            return Ok(None);
        }
        let rotated_away = self.store.device_by_previous_token(&hash).await?;
        if let Some(id) = crate::device::stolen_cookie(rotated_away.as_ref(), user.id) {
            self.store.delete_device(id).await?;
            let detail = "an already-rotated remember cookie was presented; device revoked (possible cookie theft)";
            self.audit_user(
                user,
                AuditKind::RememberedDeviceTheft,
                Outcome::Blocked,
                ctx,
                detail,
                now,
            )
            .await?;
        }
        Ok(None)
    }

    /// The user's remembered devices that still work, newest first.
    pub async fn devices(
        &self,
        user: &User,
        now: u64,
    ) -> Result<Vec<crate::RememberedDevice>, DomainError> {
        let mut devices = self.store.user_devices(user.id).await?;
        devices.retain(|d| d.expires_at > now);
        Ok(devices)
    }

    /// Revokes one of the user's own remembered devices; false if `id` is
    /// not one of theirs.
    pub async fn revoke_device(
        &self,
        user: &User,
        id: i64,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<bool, DomainError> {
        let done = self.store.delete_user_device(user.id, id).await?;
        if done {
            self.audit_success(user, AuditKind::DeviceRevoked, ctx, "by the user", now)
                .await?;
        }
        Ok(done)
    }

    /// Revokes every remembered device of the user.
    pub async fn revoke_all_devices(
        &self,
        user: &User,
        ctx: &RequestContext,
        now: u64,
    ) -> Result<(), DomainError> {
        self.store.delete_user_devices(user.id).await?;
        self.audit_success(user, AuditKind::DeviceRevoked, ctx, "all, by the user", now)
            .await
    }
}
