//! The audit trail: appends, searches, the seal's hash chain and pruning.

use super::*;

/// Rows sealed per UPDATE statement on SQLite (two parameters each).
pub(crate) const SEAL_CHUNK: usize = 250;

/// Writes the sealer's chain hashes, `(id, hash)`, in a transaction.
pub(crate) trait WriteChainHashes {
    async fn write_chain_hashes(&mut self, hashes: &[(i64, String)]) -> Result<(), StoreError>;
}

impl WriteChainHashes for crate::lite::Tx {
    /// One statement per chunk of `VALUES` rather than one per row.
    async fn write_chain_hashes(&mut self, hashes: &[(i64, String)]) -> Result<(), StoreError> {
        for chunk in hashes.chunks(SEAL_CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql =
                format!("INSERT INTO audit_chain (id, chain_hash) VALUES {values} {CHAIN_UPSERT}");
            let mut query = crate::lite::query(&sql);
            for (id, next) in chunk {
                query = query.bind(*id).bind(next);
            }
            query.execute(&mut **self).await?;
        }
        Ok(())
    }
}

impl WriteChainHashes for sqlx::Transaction<'_, sqlx::Postgres> {
    /// One statement, one prepared text: the hashes as two arrays.
    async fn write_chain_hashes(&mut self, hashes: &[(i64, String)]) -> Result<(), StoreError> {
        let (ids, values): (Vec<i64>, Vec<&str>) =
            hashes.iter().map(|(id, hash)| (*id, hash.as_str())).unzip();
        let sql = format!(
            "INSERT INTO audit_chain (id, chain_hash) \
             SELECT * FROM unnest($1::bigint[], $2::text[]) {CHAIN_UPSERT}"
        );
        sql::query(&sql)
            .bind(ids)
            .bind(values)
            .execute(&mut **self)
            .await
            .map_err(db)?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl AuditTrail for SqlStore {
    async fn append_audit(&self, event: &AuditEvent) -> Result<(), StoreError> {
        on_pool!(self, pool => {
            insert_audit!(pool, event);
        });
        Ok(())
    }

    async fn append_audit_and_enqueue(
        &self,
        event: &AuditEvent,
        message: &NewMessage,
    ) -> Result<i64, StoreError> {
        Ok(on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            insert_audit!(&mut *tx, event);
            let id = insert_outbox!(&mut *tx, message);
            tx.commit().await.map_err(db)?;
            id
        }))
    }

    async fn audit_search(
        &self,
        filter: &AuditFilter,
        from_id: i64,
        newest_first: bool,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent)>, StoreError> {
        enum Param<'a> {
            Int(i64),
            Text(&'a str),
        }
        let mut params = vec![
            Param::Int(from_id),
            Param::Int(to_i64(filter.since)),
            Param::Int(to_i64(filter.until)),
        ];
        let sql = sql_audit_search(newest_first, filter);
        // In the order of sql_audit_search's placeholders.
        if let Some(practice) = filter.practice {
            params.push(Param::Int(practice.0));
        }
        if let Some(user) = filter.user {
            params.push(Param::Int(user.0));
        }
        if let Some(kind) = &filter.kind {
            params.push(Param::Text(kind));
        }
        if let Some(outcome) = &filter.outcome {
            params.push(Param::Text(outcome));
        }
        params.push(Param::Int(i64::from(limit)));
        let rows: Vec<ChainedAuditRow> = on_pool!(self, pool => {
            let mut query = sql::query_as(&sql);
            for param in &params {
                query = match param {
                    Param::Int(value) => query.bind(*value),
                    Param::Text(value) => query.bind(*value),
                };
            }
            query.fetch_all(pool).await.map_err(db)?
        });
        rows.into_iter()
            .map(|row| chained_audit_from(row).map(|(id, event, _)| (id, event)))
            .collect()
    }

    async fn seal_audit(
        &self,
        cutoff: u64,
        limit: u32,
        hash: &(dyn for<'a, 'b> Fn(&'a str, i64, &'b AuditEvent) -> String + Sync),
    ) -> Result<usize, StoreError> {
        on_pool!(self, pool => {
            // Read and hash outside the write transaction (on SQLite the
            // write lock stops every request's writes); then take the seal
            // and write only if no other sealer moved it meanwhile.
            let (start_id, start_hash): (i64, String) =
                sql::query_as("SELECT last_id, last_hash FROM audit_seal WHERE id = 1")
                    .fetch_one(pool)
                    .await
                    .map_err(db)?;
            let rows: Vec<ChainedAuditRow> = sql::query_as(&SQL_AUDIT_AFTER)
            .bind(start_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db)?;
            let (mut last_id, mut last_hash) = (start_id, start_hash.clone());
            let mut hashes: Vec<(i64, String)> = Vec::with_capacity(rows.len());
            for row in rows {
                let (id, event, _) = chained_audit_from(row)?;
                // Stop at the first row that is too young: sealing past it
                // would leave it behind the chain.
                if event.at > cutoff {
                    break;
                }
                let next = hash(&last_hash, id, &event);
                last_id = id;
                last_hash = next.clone();
                hashes.push((id, next));
            }
            if hashes.is_empty() {
                return Ok(0);
            }
            let mut tx = pool.begin().await.map_err(db)?;
            let taken = take_seal!(&mut *tx);
            if taken != (start_id, start_hash) {
                // Another sealer went first; the next pass continues from it.
                tx.rollback().await.map_err(db)?;
                return Ok(0);
            }
            tx.write_chain_hashes(&hashes).await.map_err(db)?;
            sql::query("UPDATE audit_seal SET last_id = $1, last_hash = $2 WHERE id = 1")
                .bind(last_id)
                .bind(&last_hash)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            Ok(hashes.len())
        })
    }

    async fn audit_seal_state(&self) -> Result<((i64, String), (i64, String)), StoreError> {
        let (base_id, base_hash, last_id, last_hash): (i64, String, i64, String) = on_pool!(self, pool => {
            sql::query_as("SELECT base_id, base_hash, last_id, last_hash FROM audit_seal WHERE id = 1")
                .fetch_one(pool)
                .await
                .map_err(db)?
        });
        Ok(((base_id, base_hash), (last_id, last_hash)))
    }

    async fn prune_audit(&self, before: u64) -> Result<u64, StoreError> {
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(db)?;
            let (last_id, _) = take_seal!(&mut *tx);
            // The prefix ends before the first sealed event that is young
            // enough to keep (or at the end of the sealed range).
            let (keep_from,): (Option<i64>,) = sql::query_as(
                "SELECT MIN(id) FROM audit_events WHERE id <= $1 AND at >= $2",
            )
            .bind(last_id)
            .bind(to_i64(before))
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
            let cut = keep_from.map_or(last_id, |id| id - 1);
            let row: Option<(i64, Option<String>)> = sql::query_as(
                concat!(
                    "SELECT e.id, ",
                    chain_hash_of_e!(),
                    " FROM audit_events e WHERE e.id <= $1 ORDER BY e.id DESC LIMIT 1"
                ),
            )
            .bind(cut)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db)?;
            let deleted = match row {
                Some((cut_id, Some(hash))) => {
                    let deleted = sql::query("DELETE FROM audit_events WHERE id <= $1")
                        .bind(cut_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?
                        .rows_affected();
                    sql::query("DELETE FROM audit_chain WHERE id <= $1")
                        .bind(cut_id)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sql::query("UPDATE audit_seal SET base_id = $1, base_hash = $2 WHERE id = 1")
                        .bind(cut_id)
                        .bind(&hash)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    deleted
                }
                _ => 0,
            };
            tx.commit().await.map_err(db)?;
            Ok(deleted)
        })
    }

    async fn audit_chain_page(
        &self,
        after_id: i64,
        limit: u32,
    ) -> Result<Vec<(i64, AuditEvent, Option<String>)>, StoreError> {
        let rows: Vec<ChainedAuditRow> = on_pool!(self, pool => {
            sql::query_as(&SQL_AUDIT_AFTER)
                .bind(after_id)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(db)?
        });
        rows.into_iter().map(chained_audit_from).collect()
    }

    async fn recent_audit(&self, limit: u32) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = on_pool!(self, pool => {
            sql::query_as(
                "SELECT at, user_id, username, kind, outcome, ip, user_agent, detail \
                 FROM audit_events ORDER BY id DESC LIMIT $1",
            )
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(db)?
        });
        rows.into_iter().map(audit_from).collect()
    }
}
