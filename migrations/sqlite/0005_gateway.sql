-- Gateway: exact byte counts behind the rounded bandwidth columns of customer_usage, and
-- the responses of idempotent requests (Idempotency-Key on sends, kept 24 hours).
ALTER TABLE customer_usage ADD COLUMN bandwidth_in_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE customer_usage ADD COLUMN bandwidth_out_bytes INTEGER NOT NULL DEFAULT 0;

CREATE TABLE idempotency_keys (
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    state TEXT NOT NULL,
    response_status INTEGER,
    response_headers TEXT,
    response_body BLOB,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, key)
);
CREATE INDEX idx_idempotency_keys_expires ON idempotency_keys(expires_at);
