-- Webhooks: endpoints per customer and mode, a durable outbox of events, one delivery per
-- (endpoint, event) with its retry state, and every attempt logged.
ALTER TABLE webhooks ADD COLUMN mode VARCHAR(8) NOT NULL DEFAULT 'live';
ALTER TABLE webhooks ADD COLUMN description VARCHAR(255);
ALTER TABLE webhooks ADD COLUMN previous_secret VARCHAR(255);
ALTER TABLE webhooks ADD COLUMN previous_secret_expires_at TIMESTAMPTZ;
ALTER TABLE webhooks ADD COLUMN disabled_reason VARCHAR(255);
ALTER TABLE webhooks ADD COLUMN failing_since TIMESTAMPTZ;
CREATE INDEX idx_webhooks_customer_mode ON webhooks(customer_id, mode);

CREATE TABLE wa_events (
    id VARCHAR(40) PRIMARY KEY,            -- evt_<uuid v7>: the webhook-id
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    mode VARCHAR(8) NOT NULL,
    event_type VARCHAR(64) NOT NULL,
    payload JSONB NOT NULL,                -- the whole document delivered
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_wa_events_customer ON wa_events(customer_id, mode, created_at);

CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY,
    webhook_id UUID NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id VARCHAR(40) NOT NULL REFERENCES wa_events(id) ON DELETE CASCADE,
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    state VARCHAR(16) NOT NULL,            -- pending, delivered, failed (dead letter)
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_status_code INTEGER,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ,
    UNIQUE (webhook_id, event_id)
);
CREATE INDEX idx_webhook_deliveries_due ON webhook_deliveries(state, next_attempt_at);
CREATE INDEX idx_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at);

CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id UUID NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    webhook_id UUID NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    latency_ms INTEGER NOT NULL,
    response_body TEXT,                    -- the first 1 KiB
    attempted_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_webhook_attempts_delivery ON webhook_attempts(delivery_id, attempt);
CREATE INDEX idx_webhook_attempts_webhook ON webhook_attempts(webhook_id, attempted_at);
