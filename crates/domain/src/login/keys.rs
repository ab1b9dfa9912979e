//! The master keys that seal authenticator seeds, and moving to a new one.

use super::*;

impl LoginService {
    /// Seals a TOTP seed for `user` with the master key.
    pub fn seal_totp_seed(&self, user: UserId, seed: &otp::Secret) -> Result<Vec<u8>, DomainError> {
        let context = format!("totp:{user}");
        Ok(self.seal.seal(seed.expose_bytes(), context.as_bytes())?)
    }

    /// The id of the master key in use.
    pub fn key_id(&self) -> &str {
        self.seal.key_id()
    }

    /// The ids of earlier master keys still configured for opening.
    pub fn previous_key_ids(&self) -> Vec<&str> {
        self.seal.previous_key_ids()
    }

    /// How many sealed values each master key id holds: (what, id, count).
    pub async fn sealed_key_usage(&self) -> Result<Vec<(String, String, i64)>, DomainError> {
        Ok(self.store.sealed_key_usage().await?)
    }

    /// Re-seals every value sealed under an earlier master key (linked and
    /// offered authenticators, unsent messages, OpenID Connect signing
    /// keys) with the current one, a
    /// page at a time; `progress` hears the running count. Returns
    /// (re-sealed, left because no configured key opens them). Safe to run
    /// while serving and to run again.
    pub async fn reseal_all(
        &self,
        mut progress: impl FnMut(u64) + Send,
    ) -> Result<(u64, u64), DomainError> {
        let (mut resealed, mut unopenable) = (0, 0);
        for what in [
            Sealed::Authenticators,
            Sealed::OfferedAuthenticators,
            Sealed::UnsentMessages,
        ] {
            let mut after = 0;
            loop {
                let page = self
                    .store
                    .sealed_with_other_key(what, self.key_id(), after, 500)
                    .await?;
                let Some(last) = page.last() else {
                    break;
                };
                after = last.id;
                for row in &page {
                    let context = match what {
                        Sealed::UnsentMessages => row.bound_to.clone(),
                        _ => format!("totp:{}", row.bound_to),
                    };
                    let Ok(plain) = self.seal.open(&row.key_id, &row.sealed, context.as_bytes())
                    else {
                        unopenable += 1;
                        continue;
                    };
                    let sealed = self.seal.seal(&plain, context.as_bytes())?;
                    if self
                        .store
                        .reseal(what, row.id, &row.key_id, self.key_id(), &sealed)
                        .await?
                    {
                        resealed += 1;
                    }
                }
                progress(resealed);
            }
        }
        // A handful of rows, keyed by their JWK id: read whole.
        for key in self.store.signing_keys().await? {
            if key.key_id == self.key_id() {
                continue;
            }
            let Ok(sealed) = crate::oidc::keys::resealed(&key, &self.seal) else {
                unopenable += 1;
                continue;
            };
            if self
                .store
                .reseal_signing_key(&key.kid, &key.key_id, self.key_id(), &sealed)
                .await?
            {
                resealed += 1;
            }
        }
        progress(resealed);
        Ok((resealed, unopenable))
    }
}
