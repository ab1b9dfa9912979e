-- Retention: pruned events leave a checkpoint (the last pruned id and its
-- chain hash) so the remaining chain still verifies from there.
ALTER TABLE audit_seal ADD COLUMN base_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_seal ADD COLUMN base_hash TEXT NOT NULL DEFAULT '';
