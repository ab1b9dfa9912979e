-- Tamper evidence for the audit trail: each sealed row carries
-- SHA-256(previous row's hash, this row), computed by a sealer after commit;
-- audit_seal remembers where the chain ends (and serialises sealers).
ALTER TABLE audit_events ADD COLUMN chain_hash TEXT;
CREATE TABLE audit_seal (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT    NOT NULL
);
INSERT INTO audit_seal (id, last_id, last_hash) VALUES (1, 0, '');
