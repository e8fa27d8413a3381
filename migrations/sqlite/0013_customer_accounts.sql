-- Customer accounts for the dashboard: customers sign in with their e-mail and password.
-- A sign-in is a customer_sessions row that its access and refresh tokens name (refresh
-- tokens rotate by generation, as the operators' do); revoking the row ends them at once.
CREATE TABLE customer_sessions (
    id BLOB PRIMARY KEY NOT NULL,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    refresh_generation INTEGER NOT NULL DEFAULT 0,
    ip_address TEXT,
    user_agent TEXT
);
CREATE INDEX idx_customer_sessions_customer ON customer_sessions(customer_id);

-- One-time tokens mailed to a customer (verify_email: 24 h, reset_password: 1 h), stored
-- only as an HMAC under the server secret; used_at makes each work once.
CREATE TABLE customer_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
);
CREATE INDEX idx_customer_tokens_customer ON customer_tokens(customer_id);

-- Customer sign-in failures per e-mail and client address, as admin_login_failures for
-- operators (known and unknown e-mails alike; rows older than a day purged).
CREATE TABLE customer_login_failures (
    email TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (email, ip_address)
);
CREATE INDEX idx_customer_login_failures_updated ON customer_login_failures(updated_at);

-- email_verified_at says whether the address is verified. Customers created by an operator
-- count as verified (the operator vouches for the address); until now every customer was.
UPDATE customers SET email_verified_at = created_at
    WHERE email_verified_at IS NULL AND erased_at IS NULL;
