-- The chain hashes get their own table: the sealer inserts narrow rows
-- instead of rewriting each audit row. On PostgreSQL that UPDATE wrote a
-- whole new row version and, three times in four, an entry in each of
-- audit_events' four indexes; under the verification load its bursts every
-- two seconds were the dips in throughput and the p99 misses (BENCHMARKS.md).
-- No foreign key: checking it would lock the audit row it points at.
CREATE TABLE audit_chain (
    id         BIGINT PRIMARY KEY,
    chain_hash TEXT   NOT NULL
);
INSERT INTO audit_chain (id, chain_hash)
    SELECT id, chain_hash FROM audit_events WHERE chain_hash IS NOT NULL;
ALTER TABLE audit_events DROP COLUMN chain_hash;
