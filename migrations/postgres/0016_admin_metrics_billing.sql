-- The admin panel's monitoring and the operators' temporary passwords.
--
-- Operators created by a super admin, or whose password a super admin reset, hold a
-- temporary password: until they choose their own, every admin call but their own
-- account's answers 403 PASSWORD_CHANGE_REQUIRED. Operators made at bootstrap choose theirs.
ALTER TABLE admin_users ADD COLUMN password_must_change BOOLEAN NOT NULL DEFAULT FALSE;

-- Heartbeats rolled up per server into minutes (resolution 60) and hours (3600) as they
-- arrive, so charts over a day or a month read a few thousand rows whatever the heartbeat
-- rate, and raw heartbeats can be kept only briefly. `bucket` is the bucket's start in
-- seconds since the Unix epoch. Each metric keeps a sum and the number of heartbeats that
-- reported it (a worker may leave one out), some also a maximum.
CREATE TABLE server_metrics_rollup (
    server_id UUID NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    resolution INTEGER NOT NULL,
    bucket BIGINT NOT NULL,
    samples INTEGER NOT NULL,
    cpu_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    cpu_n INTEGER NOT NULL DEFAULT 0,
    cpu_max DOUBLE PRECISION,
    ram_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    ram_n INTEGER NOT NULL DEFAULT 0,
    ram_max DOUBLE PRECISION,
    disk_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    disk_n INTEGER NOT NULL DEFAULT 0,
    sessions_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    sessions_n INTEGER NOT NULL DEFAULT 0,
    connections_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    connections_n INTEGER NOT NULL DEFAULT 0,
    messages_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    messages_n INTEGER NOT NULL DEFAULT 0,
    errors_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    errors_n INTEGER NOT NULL DEFAULT 0,
    response_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    response_n INTEGER NOT NULL DEFAULT 0,
    p95_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    p95_n INTEGER NOT NULL DEFAULT 0,
    p95_max DOUBLE PRECISION,
    net_in_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    net_in_n INTEGER NOT NULL DEFAULT 0,
    net_out_sum DOUBLE PRECISION NOT NULL DEFAULT 0,
    net_out_n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (server_id, resolution, bucket)
);
-- The fleet's charts read every server's buckets of a period.
CREATE INDEX idx_server_metrics_rollup_time ON server_metrics_rollup(resolution, bucket);

-- The customers list's WhatsApp-state filter and the overview's counts.
CREATE INDEX idx_customers_whatsapp_status ON customers(whatsapp_status) WHERE deleted_at IS NULL;

-- The usage per day of the fleet (the overview's chart) read from the index alone, in place
-- of the date index: a month is ~250,000 rows at 10,000 customers (bench/admin).
DROP INDEX IF EXISTS idx_customer_usage_date;
CREATE INDEX idx_customer_usage_date_totals
    ON customer_usage(date, api_requests, messages_sent, messages_received);

-- Finding a request by its id (the log viewer's search, support): without it the search
-- reads the whole audit log (seconds at a million rows, bench/admin). One more index entry
-- an API call row is the price.
CREATE INDEX idx_audit_request ON audit_logs(request_id);
