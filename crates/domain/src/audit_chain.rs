//! Tamper evidence for the audit trail. After a row is committed, a sealer
//! gives it `chain_hash = SHA-256(previous hash ‖ row)`; `verify` walks the
//! trail in id order and names the first row whose hash does not follow.
//! A changed row breaks its own hash; a deleted row breaks the next one; a
//! row slipped in among sealed rows has no hash; a cut tail no longer ends
//! where the seal says.
//!
//! Sealing happens off the request path (no extra statement per event, no
//! lock on the hot path). Rows are sealed only once they are a few seconds
//! old, so a transaction still in flight on PostgreSQL does not leave a
//! gap behind a sealed row; if one ever does, `verify` reports it.

use sha2::{Digest, Sha256};

use crate::{AuditEvent, DomainError, LoginService};

/// Rows younger than this are left for the next pass.
pub const SEAL_AFTER_SECONDS: u64 = 5;
/// Rows sealed per pass.
const SEAL_BATCH: u32 = 500;
/// Rows read per page when verifying.
const VERIFY_PAGE: u32 = 1000;

/// The hash of row `id` following `previous`.
pub fn chain_hash(previous: &str, id: i64, event: &AuditEvent) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(previous.as_bytes());
    field(&id.to_be_bytes());
    field(&event.at.to_be_bytes());
    field(&event.user_id.map_or(-1, |u| u.0).to_be_bytes());
    for text in [
        &event.username,
        &event.kind,
        &event.outcome,
        &event.ip,
        &event.user_agent,
        &event.detail,
    ] {
        field(text.as_bytes());
    }
    crate::token::hex(&hasher.finalize())
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainReport {
    /// Every sealed row follows; `pending` rows are not sealed yet.
    Intact {
        /// Rows checked.
        sealed: u64,
        /// Newer rows waiting for the sealer.
        pending: u64,
    },
    /// The first row that does not follow, and why.
    Broken {
        /// The row's id (for a cut tail: the last row left).
        id: i64,
        /// What is wrong, in words.
        reason: String,
    },
}

impl LoginService {
    /// Seals the rows committed at least [`SEAL_AFTER_SECONDS`] before
    /// `now`; returns how many. Safe to run from several instances at once.
    pub async fn seal_audit(&self, now: u64) -> Result<usize, DomainError> {
        let cutoff = now.saturating_sub(SEAL_AFTER_SECONDS);
        let mut total = 0;
        loop {
            let n = self
                .store
                .seal_audit(cutoff, SEAL_BATCH, &chain_hash)
                .await?;
            total += n;
            if n < SEAL_BATCH as usize {
                return Ok(total);
            }
        }
    }

    /// Deletes the sealed events older than `before` (a whole prefix of the
    /// chain), leaving a checkpoint so the rest still verifies, and audits
    /// the pruning itself. Returns how many were deleted.
    pub async fn prune_audit(&self, before: u64, now: u64) -> Result<u64, DomainError> {
        self.seal_audit(now).await?;
        let deleted = self.store.prune_audit(before).await?;
        if deleted > 0 {
            self.audit(
                now,
                crate::AuditKind::AuditPruned,
                crate::Outcome::Success,
                None,
                "",
                &crate::RequestContext::admin_cli(),
                &format!("{deleted} events before {}", crate::time::rfc3339(before)),
            )
            .await?;
        }
        Ok(deleted)
    }

    /// Walks the whole trail and checks the chain.
    pub async fn verify_audit(&self) -> Result<ChainReport, DomainError> {
        let ((base_id, base_hash), (seal_id, seal_hash)) = self.store.audit_seal_state().await?;
        // Pruned events left a checkpoint: the chain goes on from there.
        let mut previous = base_hash;
        let mut last_sealed = base_id;
        let (mut sealed, mut pending) = (0u64, 0u64);
        let mut after = 0;
        loop {
            let page = self.store.audit_chain_page(after, VERIFY_PAGE).await?;
            let Some((last, _, _)) = page.last() else {
                break;
            };
            after = *last;
            for (id, event, hash) in &page {
                if *id <= base_id {
                    return Ok(ChainReport::Broken {
                        id: *id,
                        reason: "it lies inside the pruned range: added after pruning".into(),
                    });
                }
                match hash {
                    Some(stored) if pending == 0 => {
                        if *stored != chain_hash(&previous, *id, event) {
                            return Ok(ChainReport::Broken {
                                id: *id,
                                reason: "its hash does not follow: this row was changed, or the row before it was removed".into(),
                            });
                        }
                        previous.clone_from(stored);
                        last_sealed = *id;
                        sealed += 1;
                    }
                    Some(_) => {
                        return Ok(ChainReport::Broken {
                            id: *id,
                            reason: "a sealed row follows an unsealed one".into(),
                        });
                    }
                    None if *id <= seal_id => {
                        return Ok(ChainReport::Broken {
                            id: *id,
                            reason: "it has no hash but lies inside the sealed range: added afterwards, or its hash was removed".into(),
                        });
                    }
                    None => pending += 1,
                }
            }
        }
        if last_sealed != seal_id || previous != seal_hash {
            return Ok(ChainReport::Broken {
                id: last_sealed,
                reason: format!(
                    "the chain ends at row {last_sealed} but was sealed through row {seal_id}: rows were removed from the end"
                ),
            });
        }
        Ok(ChainReport::Intact { sealed, pending })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditKind, Outcome, RequestContext};

    fn event(detail: &str) -> AuditEvent {
        AuditEvent::new(
            1_800_000_000,
            AuditKind::Logout,
            Outcome::Success,
            None,
            "alice",
            &RequestContext::admin_cli(),
            detail,
        )
    }

    #[test]
    fn every_field_and_the_previous_hash_count() {
        let base = chain_hash("", 1, &event("x"));
        assert_eq!(base.len(), 64);
        assert_ne!(base, chain_hash("", 2, &event("x")));
        assert_ne!(base, chain_hash("", 1, &event("y")));
        assert_ne!(base, chain_hash("a", 1, &event("x")));
        // Length prefixes: moving text between fields changes the hash.
        let mut a = event("");
        a.username = "ab".into();
        let mut b = event("");
        b.username = "a".into();
        b.kind = format!("b{}", b.kind);
        assert_ne!(chain_hash("", 1, &a), chain_hash("", 1, &b));
    }
}
