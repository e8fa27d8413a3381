-- wasp management schema (PRD §8.1), SQLite: the same tables and meaning as the PostgreSQL
-- migration. UUIDs are 16-byte BLOBs, timestamps RFC 3339 TEXT, JSON and INET are TEXT,
-- decimals TEXT (exact).

CREATE TABLE servers (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    api_url TEXT NOT NULL,
    api_key_hash TEXT NOT NULL UNIQUE,
    api_key_hint TEXT NOT NULL,
    max_capacity INTEGER NOT NULL DEFAULT 100 CHECK (max_capacity > 0),
    current_load INTEGER NOT NULL DEFAULT 0,
    cpu_cores INTEGER NOT NULL,
    ram_gb INTEGER NOT NULL,
    disk_gb INTEGER,
    status TEXT NOT NULL DEFAULT 'initializing',
    health_status TEXT NOT NULL DEFAULT 'unknown',
    last_heartbeat TEXT,
    region TEXT,
    datacenter TEXT,
    provider TEXT,
    cost_per_month TEXT,
    metadata TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE UNIQUE INDEX idx_servers_name_live ON servers(name) WHERE deleted_at IS NULL;
CREATE INDEX idx_servers_status ON servers(status) WHERE deleted_at IS NULL;
CREATE INDEX idx_servers_health ON servers(health_status);
CREATE INDEX idx_servers_region ON servers(region);

CREATE TABLE customers (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_verified_at TEXT,
    phone_number TEXT,
    whatsapp_jid TEXT,
    whatsapp_status TEXT NOT NULL DEFAULT 'disconnected',
    assigned_server_id BLOB REFERENCES servers(id) ON DELETE SET NULL,
    plan TEXT NOT NULL DEFAULT 'basic',
    status TEXT NOT NULL DEFAULT 'active',
    password_hash TEXT,
    password_must_change INTEGER NOT NULL DEFAULT 1,
    company_name TEXT,
    full_name TEXT,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    language TEXT NOT NULL DEFAULT 'en',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT,
    deleted_at TEXT,
    erased_at TEXT
);
CREATE UNIQUE INDEX idx_customers_email_live ON customers(LOWER(email)) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX idx_customers_phone_live ON customers(phone_number) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX idx_customers_jid_live ON customers(whatsapp_jid) WHERE deleted_at IS NULL;
CREATE INDEX idx_customers_server ON customers(assigned_server_id) WHERE deleted_at IS NULL;
CREATE INDEX idx_customers_status ON customers(status) WHERE deleted_at IS NULL;
CREATE INDEX idx_customers_plan ON customers(plan);

CREATE TABLE api_keys (
    id BLOB PRIMARY KEY NOT NULL,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    key_hint TEXT NOT NULL,
    name TEXT,
    permissions TEXT NOT NULL DEFAULT '["*"]',
    last_used_at TEXT,
    last_used_ip TEXT,
    request_count INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT
);
CREATE INDEX idx_api_keys_customer ON api_keys(customer_id);
CREATE INDEX idx_api_keys_prefix ON api_keys(prefix);

CREATE TABLE server_metrics (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id BLOB NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
    cpu_usage TEXT,
    ram_usage TEXT,
    disk_usage TEXT,
    network_in_mbps TEXT,
    network_out_mbps TEXT,
    active_connections INTEGER,
    total_instances INTEGER,
    messages_per_minute INTEGER,
    errors_per_minute INTEGER,
    avg_response_time_ms INTEGER,
    p95_response_time_ms INTEGER,
    p99_response_time_ms INTEGER,
    recorded_at TEXT NOT NULL
);
CREATE INDEX idx_server_metrics_server_time ON server_metrics(server_id, recorded_at DESC);
CREATE INDEX idx_server_metrics_time ON server_metrics(recorded_at DESC);

CREATE TABLE customer_usage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    api_requests INTEGER NOT NULL DEFAULT 0,
    messages_sent INTEGER NOT NULL DEFAULT 0,
    messages_received INTEGER NOT NULL DEFAULT 0,
    images_sent INTEGER NOT NULL DEFAULT 0,
    videos_sent INTEGER NOT NULL DEFAULT 0,
    files_sent INTEGER NOT NULL DEFAULT 0,
    bandwidth_in_mb TEXT NOT NULL DEFAULT '0',
    bandwidth_out_mb TEXT NOT NULL DEFAULT '0',
    estimated_cost TEXT NOT NULL DEFAULT '0',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (customer_id, date)
);
CREATE INDEX idx_customer_usage_date ON customer_usage(date DESC);

CREATE TABLE audit_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TEXT NOT NULL,
    event_type TEXT NOT NULL,
    severity TEXT NOT NULL DEFAULT 'info',
    actor_type TEXT NOT NULL,
    actor_id BLOB,
    action TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    ip_address TEXT,
    user_agent TEXT,
    request_id TEXT,
    metadata TEXT,
    status TEXT,
    error_message TEXT,
    duration_ms INTEGER
);
CREATE INDEX idx_audit_timestamp ON audit_logs(timestamp DESC);
CREATE INDEX idx_audit_actor ON audit_logs(actor_type, actor_id, timestamp DESC);
CREATE INDEX idx_audit_event ON audit_logs(event_type, timestamp DESC);
CREATE INDEX idx_audit_resource ON audit_logs(resource_type, resource_id, timestamp DESC);

-- Append-only: UPDATE is refused, DELETE only of rows older than 90 days (retention job).
CREATE TRIGGER audit_logs_no_update BEFORE UPDATE ON audit_logs
BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (UPDATE refused)');
END;
CREATE TRIGGER audit_logs_no_early_delete BEFORE DELETE ON audit_logs
    WHEN OLD.timestamp >= strftime('%Y-%m-%dT%H:%M:%S', 'now', '-90 days')
BEGIN
    SELECT RAISE(ABORT, 'audit_logs is append-only (DELETE refused)');
END;

CREATE TABLE webhooks (
    id BLOB PRIMARY KEY NOT NULL,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    url TEXT NOT NULL,
    secret TEXT,
    events TEXT NOT NULL DEFAULT '["*"]',
    is_active INTEGER NOT NULL DEFAULT 1,
    max_retries INTEGER NOT NULL DEFAULT 5,
    retry_backoff_ms INTEGER NOT NULL DEFAULT 1000,
    last_triggered_at TEXT,
    success_count INTEGER NOT NULL DEFAULT 0,
    failure_count INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_webhooks_customer ON webhooks(customer_id);

CREATE TABLE alerts (
    id BLOB PRIMARY KEY NOT NULL,
    type TEXT NOT NULL,
    severity TEXT NOT NULL,
    title TEXT NOT NULL,
    message TEXT NOT NULL,
    server_id BLOB REFERENCES servers(id) ON DELETE CASCADE,
    customer_id BLOB REFERENCES customers(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'active',
    acknowledged_by BLOB,
    acknowledged_at TEXT,
    resolved_at TEXT,
    metadata TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_alerts_status ON alerts(status, severity, created_at DESC);

CREATE TABLE admin_users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    full_name TEXT,
    role TEXT NOT NULL DEFAULT 'admin',
    mfa_enabled INTEGER NOT NULL DEFAULT 0,
    mfa_secret TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    failed_login_count INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    password_changed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_login_at TEXT
);
CREATE UNIQUE INDEX idx_admin_users_email ON admin_users(LOWER(email));

CREATE TABLE admin_sessions (
    id BLOB PRIMARY KEY NOT NULL,
    admin_id BLOB NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    ip_address TEXT,
    user_agent TEXT
);
CREATE INDEX idx_admin_sessions_admin ON admin_sessions(admin_id);
