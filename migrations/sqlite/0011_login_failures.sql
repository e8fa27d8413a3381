-- Operator sign-in failures counted per e-mail and client address (known or unknown
-- e-mail alike): five in a row lock that e-mail for that address only, so the answer does
-- not tell whether an operator exists and a stranger cannot lock an operator out. The
-- account-wide counters go. Rows older than a day are purged as new failures arrive.
CREATE TABLE admin_login_failures (
    email TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    failures INTEGER NOT NULL,
    locked_until TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (email, ip_address)
);
CREATE INDEX idx_admin_login_failures_updated ON admin_login_failures(updated_at);
ALTER TABLE admin_users DROP COLUMN failed_login_count;
ALTER TABLE admin_users DROP COLUMN locked_until;
