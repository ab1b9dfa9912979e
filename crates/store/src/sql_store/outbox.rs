//! The outbox: messages committed with the change that calls for them.

use super::*;

#[async_trait::async_trait]
impl OutboxQueue for SqlStore {
    async fn enqueue(&self, message: &NewMessage) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => insert_outbox!(pool, message)))
    }

    async fn claim_outbox(
        &self,
        now: u64,
        lease_until: u64,
        limit: u32,
        only: Option<i64>,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        // One statement: the rows are chosen and marked together, and on
        // PostgreSQL rows another worker is claiming are skipped, not waited on.
        let lock = match self.pool {
            Pool::Sqlite(..) => "",
            Pool::Postgres(..) => " FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE outbox SET status = 'sending', attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM outbox WHERE status IN ('pending', 'sending') \
             AND next_attempt_at <= $1 AND ($4 = 0 OR id = $4) ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        on_pool!(self, pool => {
            let rows = sql::query(&sql)
                .bind(to_i64(now))
                .bind(to_i64(lease_until))
                .bind(i64::from(limit))
                .bind(only.unwrap_or(0))
                .fetch_all(pool)
                .await
                .map_err(db)?;
            rows.iter().map(|row| Ok(outbox_from_row!(row))).collect()
        })
    }

    async fn finish_outbox(&self, id: i64, update: &OutboxUpdate) -> Result<(), StoreError> {
        match update {
            OutboxUpdate::Sent { provider_id, at } => execute!(
                self,
                "UPDATE outbox SET status = 'sent', provider_id = $2, sent_at = $3, last_error = NULL \
                 WHERE id = $1 AND status = 'sending'",
                id,
                provider_id.as_deref(),
                to_i64(*at)
            ),
            OutboxUpdate::Retry { at, error } => execute!(
                self,
                "UPDATE outbox SET status = 'pending', next_attempt_at = $2, last_error = $3 \
                 WHERE id = $1 AND status = 'sending'",
                id,
                to_i64(*at),
                error.as_str()
            ),
            OutboxUpdate::Failed { error } => execute!(
                self,
                "UPDATE outbox SET status = 'failed', last_error = $2 WHERE id = $1 AND status = 'sending'",
                id,
                error.as_str()
            ),
        };
        Ok(())
    }

    async fn outbox_messages(
        &self,
        status: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let sql = format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT $2"
        );
        on_pool!(self, pool => {
            let rows = sql::query(&sql)
                .bind(status.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db)?;
            rows.iter().map(|row| Ok(outbox_from_row!(row))).collect()
        })
    }

    async fn outbox_message(&self, id: i64) -> Result<Option<OutboxMessage>, StoreError> {
        let sql = format!("SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1");
        on_pool!(self, pool => {
            let row = sql::query(&sql).bind(id).fetch_optional(pool).await.map_err(db)?;
            row.as_ref().map(|row| Ok(outbox_from_row!(row))).transpose()
        })
    }

    async fn retry_outbox(&self, id: i64, now: u64) -> Result<bool, StoreError> {
        let changed = execute!(
            self,
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $2 \
             WHERE id = $1 AND status IN ('failed', 'pending')",
            id,
            to_i64(now)
        );
        Ok(changed == 1)
    }

    async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        let (pending, failed, oldest): (i64, i64, Option<i64>) = on_pool!(self, pool => {
            sql::query_as(
                "SELECT \
                 COUNT(*) FILTER (WHERE status IN ('pending', 'sending')), \
                 COUNT(*) FILTER (WHERE status = 'failed'), \
                 MIN(created_at) FILTER (WHERE status IN ('pending', 'sending')) \
                 FROM outbox WHERE status <> 'sent'",
            )
            .fetch_one(pool)
            .await
            .map_err(db)?
        });
        Ok(OutboxCounts {
            pending: to_u64(pending, "count")?,
            failed: to_u64(failed, "count")?,
            oldest_pending_at: oldest.map(|t| to_u64(t, "time")).transpose()?,
        })
    }
}
