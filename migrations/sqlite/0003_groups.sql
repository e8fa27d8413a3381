-- SQLite twin of migrations/postgres/0003_groups.sql.
-- Groups a session belongs to (the sandbox network's group state, and a cache of live
-- WhatsApp's), their members, and the session's own profile photo.

CREATE TABLE wa_groups (
    customer_id BLOB NOT NULL,
    mode TEXT NOT NULL,
    jid TEXT NOT NULL,
    subject TEXT NOT NULL,
    topic TEXT,
    owner_jid TEXT,
    announce INTEGER NOT NULL DEFAULT 0, -- only admins send
    locked INTEGER NOT NULL DEFAULT 0,   -- only admins edit the group's info
    ephemeral_secs INTEGER NOT NULL DEFAULT 0,
    invite_code TEXT,
    photo_sha256 TEXT,
    is_member INTEGER NOT NULL DEFAULT 1, -- false once the session left
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_wa_groups_invite ON wa_groups(customer_id, mode, invite_code);

CREATE TABLE wa_group_participants (
    customer_id BLOB NOT NULL,
    mode TEXT NOT NULL,
    group_jid TEXT NOT NULL,
    jid TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member', -- member, admin, superadmin
    status TEXT NOT NULL DEFAULT 'active', -- active, requested (waiting for approval)
    added_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, group_jid, jid),
    FOREIGN KEY (customer_id, mode, group_jid) REFERENCES wa_groups(customer_id, mode, jid) ON DELETE CASCADE
);

ALTER TABLE wa_sessions ADD COLUMN avatar_sha256 TEXT;
