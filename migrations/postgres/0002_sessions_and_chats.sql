-- Each customer's WhatsApp sessions and chat store, in the shared database (DESIGN.md
-- "Where state lives"): a session can move to another worker by a clean stop and start.
-- Every row is keyed by (customer_id, mode): `live` is the customer's real number, `test`
-- its sandbox session; every query is scoped by both.

CREATE TABLE wa_sessions (
    customer_id UUID NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    mode VARCHAR(8) NOT NULL CHECK (mode IN ('live', 'test')),
    -- The worker that drives the session, and the fencing epoch of its lease: bumped at every
    -- take-over; a worker whose epoch is stale may no longer write session state.
    server_id UUID REFERENCES servers(id) ON DELETE SET NULL,
    epoch BIGINT NOT NULL DEFAULT 0,
    driver VARCHAR(10) NOT NULL, -- live | sandbox
    state VARCHAR(20) NOT NULL DEFAULT 'disconnected', -- disconnected, scanning, pairing, connected, logged_out
    state_reason VARCHAR(100),
    -- Whether the session holds credentials (logged in at least once and not logged out).
    logged_in BOOLEAN NOT NULL DEFAULT FALSE,
    phone_number VARCHAR(20),
    jid VARCHAR(100),
    lid VARCHAR(100),
    push_name VARCHAR(100),
    connected_at TIMESTAMPTZ,
    state_changed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (customer_id, mode)
);
CREATE INDEX idx_wa_sessions_server ON wa_sessions(server_id);

CREATE TABLE wa_chats (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    jid VARCHAR(100) NOT NULL,
    kind VARCHAR(12) NOT NULL, -- user, group, newsletter, broadcast
    name VARCHAR(255),
    unread_count INTEGER NOT NULL DEFAULT 0,
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    disappearing_secs INTEGER NOT NULL DEFAULT 0,
    has_media BOOLEAN NOT NULL DEFAULT FALSE,
    last_message_id VARCHAR(64),
    last_message_at TIMESTAMPTZ,
    last_message_preview VARCHAR(200),
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (customer_id, mode, jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_chats_recent ON wa_chats(customer_id, mode, last_message_at DESC);

CREATE TABLE wa_messages (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    id VARCHAR(64) NOT NULL, -- WhatsApp's message id
    chat_jid VARCHAR(100) NOT NULL,
    sender_jid VARCHAR(100) NOT NULL,
    from_me BOOLEAN NOT NULL,
    kind VARCHAR(20) NOT NULL, -- text, image, video, audio, document, sticker, contact, location, poll, link
    body TEXT, -- text, or a media caption
    content JSONB NOT NULL DEFAULT '{}'::jsonb, -- kind-specific fields (media reference, location, …)
    status VARCHAR(12) NOT NULL, -- pending, sent, delivered, read, played, failed (own); received (inbound)
    reply_to VARCHAR(64),
    is_forwarded BOOLEAN NOT NULL DEFAULT FALSE,
    starred BOOLEAN NOT NULL DEFAULT FALSE,
    edited_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (customer_id, mode, id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_messages_chat ON wa_messages(customer_id, mode, chat_jid, sent_at DESC);

-- Status history of a message: one row per status (per participant in groups).
CREATE TABLE wa_receipts (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    message_id VARCHAR(64) NOT NULL,
    status VARCHAR(12) NOT NULL,
    participant VARCHAR(100) NOT NULL DEFAULT '',
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, mode, message_id, status, participant),
    FOREIGN KEY (customer_id, mode, message_id) REFERENCES wa_messages(customer_id, mode, id) ON DELETE CASCADE
);
