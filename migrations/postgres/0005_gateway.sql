-- Gateway: exact byte counts behind the rounded bandwidth columns of customer_usage, and
-- the responses of idempotent requests (Idempotency-Key on sends, kept 24 hours).
ALTER TABLE customer_usage ADD COLUMN bandwidth_in_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_usage ADD COLUMN bandwidth_out_bytes BIGINT NOT NULL DEFAULT 0;

CREATE TABLE idempotency_keys (
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    mode VARCHAR(8) NOT NULL,              -- live or test: the key's session
    key VARCHAR(255) NOT NULL,
    request_hash VARCHAR(64) NOT NULL,     -- SHA-256 of method, path and body
    state VARCHAR(16) NOT NULL,            -- pending (being answered) or done
    response_status INTEGER,
    response_headers JSONB,
    response_body BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, mode, key)
);
CREATE INDEX idx_idempotency_keys_expires ON idempotency_keys(expires_at);
