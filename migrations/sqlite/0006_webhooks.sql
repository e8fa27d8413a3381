-- Webhooks: endpoints per customer and mode, a durable outbox of events, one delivery per
-- (endpoint, event) with its retry state, and every attempt logged.
ALTER TABLE webhooks ADD COLUMN mode TEXT NOT NULL DEFAULT 'live';
ALTER TABLE webhooks ADD COLUMN description TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret TEXT;
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at TEXT;
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT;
ALTER TABLE webhooks ADD COLUMN failing_since TEXT;
CREATE INDEX idx_webhooks_customer_mode ON webhooks(customer_id, mode);

CREATE TABLE wa_events (
    id TEXT PRIMARY KEY,            -- evt_<uuid v7>: the webhook-id
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,                -- the whole document delivered
    created_at TEXT NOT NULL
);
CREATE INDEX idx_wa_events_customer ON wa_events(customer_id, mode, created_at);

CREATE TABLE webhook_deliveries (
    id BLOB PRIMARY KEY,
    webhook_id BLOB NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL REFERENCES wa_events(id) ON DELETE CASCADE,
    customer_id BLOB NOT NULL,
    mode TEXT NOT NULL,
    state TEXT NOT NULL,            -- pending, delivered, failed (dead letter)
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    delivered_at TEXT,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX idx_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id BLOB NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    webhook_id BLOB NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms INTEGER NOT NULL,
    response_body TEXT,                    -- the first 1 KiB
    attempted_at TEXT NOT NULL
);
CREATE INDEX idx_webhook_attempts_delivery ON webhook_attempts(delivery_id, attempt);
CREATE INDEX idx_webhook_attempts_webhook ON webhook_attempts(webhook_id, attempted_at);
