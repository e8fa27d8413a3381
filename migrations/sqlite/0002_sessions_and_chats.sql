-- SQLite twin of migrations/postgres/0002_sessions_and_chats.sql (timestamps are bound by the code, never defaulted, so they all share one sortable text format).
-- Each customer's WhatsApp sessions and chat store, in the shared database (DESIGN.md
-- "Where state lives"): a session can move to another worker by a clean stop and start.
-- Every row is keyed by (customer_id, mode): `live` is the customer's real number, `test`
-- its sandbox session; every query is scoped by both.

CREATE TABLE wa_sessions (
    customer_id BLOB NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('live', 'test')),
    -- The worker that drives the session, and the fencing epoch of its lease: bumped at every
    -- take-over; a worker whose epoch is stale may no longer write session state.
    server_id BLOB REFERENCES servers(id) ON DELETE SET NULL,
    epoch INTEGER NOT NULL DEFAULT 0,
    driver TEXT NOT NULL, -- live | sandbox
    state TEXT NOT NULL DEFAULT 'disconnected', -- disconnected, scanning, pairing, connected, logged_out
    state_reason TEXT,
    -- Whether the session holds credentials (logged in at least once and not logged out).
    logged_in INTEGER NOT NULL DEFAULT 0,
    phone_number TEXT,
    jid TEXT,
    lid TEXT,
    push_name TEXT,
    connected_at TEXT,
    state_changed_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode)
);
CREATE INDEX idx_wa_sessions_server ON wa_sessions(server_id);

CREATE TABLE wa_chats (
    customer_id BLOB NOT NULL,
    mode TEXT NOT NULL,
    jid TEXT NOT NULL,
    kind TEXT NOT NULL, -- user, group, newsletter, broadcast
    name TEXT,
    unread_count INTEGER NOT NULL DEFAULT 0,
    archived INTEGER NOT NULL DEFAULT 0,
    pinned INTEGER NOT NULL DEFAULT 0,
    disappearing_secs INTEGER NOT NULL DEFAULT 0,
    has_media INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT,
    last_message_at TEXT,
    last_message_preview TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_chats_recent ON wa_chats(customer_id, mode, last_message_at DESC);

CREATE TABLE wa_messages (
    customer_id BLOB NOT NULL,
    mode TEXT NOT NULL,
    id TEXT NOT NULL, -- WhatsApp's message id
    chat_jid TEXT NOT NULL,
    sender_jid TEXT NOT NULL,
    from_me INTEGER NOT NULL,
    kind TEXT NOT NULL, -- text, image, video, audio, document, sticker, contact, location, poll, link
    body TEXT, -- text, or a media caption
    content TEXT NOT NULL DEFAULT '{}', -- kind-specific fields (media reference, location, …)
    status TEXT NOT NULL, -- pending, sent, delivered, read, played, failed (own); received (inbound)
    reply_to TEXT,
    is_forwarded INTEGER NOT NULL DEFAULT 0,
    starred INTEGER NOT NULL DEFAULT 0,
    edited_at TEXT,
    revoked_at TEXT,
    sent_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_messages_chat ON wa_messages(customer_id, mode, chat_jid, sent_at DESC);

-- Status history of a message: one row per status (per participant in groups).
CREATE TABLE wa_receipts (
    customer_id BLOB NOT NULL,
    mode TEXT NOT NULL,
    message_id TEXT NOT NULL,
    status TEXT NOT NULL,
    participant TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, message_id, status, participant),
    FOREIGN KEY (customer_id, mode, message_id) REFERENCES wa_messages(customer_id, mode, id) ON DELETE CASCADE
);
