-- Groups a session belongs to (the sandbox network's group state, and a cache of live
-- WhatsApp's), their members, and the session's own profile photo.

CREATE TABLE wa_groups (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    jid VARCHAR(100) NOT NULL,
    subject VARCHAR(100) NOT NULL,
    topic TEXT,
    owner_jid VARCHAR(100),
    announce BOOLEAN NOT NULL DEFAULT FALSE, -- only admins send
    locked BOOLEAN NOT NULL DEFAULT FALSE,   -- only admins edit the group's info
    ephemeral_secs INTEGER NOT NULL DEFAULT 0,
    invite_code VARCHAR(40),
    photo_sha256 VARCHAR(64),
    is_member BOOLEAN NOT NULL DEFAULT TRUE, -- false once the session left
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, mode, jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE UNIQUE INDEX idx_wa_groups_invite ON wa_groups(customer_id, mode, invite_code);

CREATE TABLE wa_group_participants (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    group_jid VARCHAR(100) NOT NULL,
    jid VARCHAR(100) NOT NULL,
    role VARCHAR(12) NOT NULL DEFAULT 'member', -- member, admin, superadmin
    status VARCHAR(10) NOT NULL DEFAULT 'active', -- active, requested (waiting for approval)
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, mode, group_jid, jid),
    FOREIGN KEY (customer_id, mode, group_jid) REFERENCES wa_groups(customer_id, mode, jid) ON DELETE CASCADE
);

ALTER TABLE wa_sessions ADD COLUMN avatar_sha256 VARCHAR(64);
