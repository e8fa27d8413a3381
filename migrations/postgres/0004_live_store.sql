-- The live driver's session store (crates/worker/src/live/store.rs): everything the
-- whatsapp-rust library persists for a linked device, so a session survives restarts and
-- can move to another worker by a clean stop and start. One device per session: every row
-- is keyed first by (customer_id, mode) and deleted with its wa_sessions row.
--
-- Key material and library records are opaque bytes (BYTEA); serde values the library
-- hands us (the device, app-state hash states, device lists) are serde_json. Times the
-- library compares against its own cutoffs are unix seconds (BIGINT). u32 ids are BIGINT.
-- Writes are durable when they return: the library's Signal cache relies on it.

-- The linked device: identity, noise and prekey keys, account, push name (serde_json).
CREATE TABLE wa_live_device (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    device BYTEA NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (customer_id, mode),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Signal: remote identity keys (32 bytes), by Signal address (`user[:device]@server`).
CREATE TABLE wa_live_identities (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    address TEXT NOT NULL,
    identity_key BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, address),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Signal: session records, by address.
CREATE TABLE wa_live_sessions (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    address TEXT NOT NULL,
    record BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, address),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Signal: one-time prekeys, and whether the server has them.
CREATE TABLE wa_live_prekeys (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    id BIGINT NOT NULL,
    record BYTEA NOT NULL,
    uploaded BOOLEAN NOT NULL,
    PRIMARY KEY (customer_id, mode, id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Signal: signed prekeys.
CREATE TABLE wa_live_signed_prekeys (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    id BIGINT NOT NULL,
    record BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Signal: group sender-key records, by sender-key address (group + sender).
CREATE TABLE wa_live_sender_keys (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    address TEXT NOT NULL,
    record BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, address),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- App-state sync keys; `seq` orders them by when they were stored (the latest key id).
CREATE TABLE wa_live_app_state_sync_keys (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    key_id BYTEA NOT NULL,
    key_data BYTEA NOT NULL,
    fingerprint BYTEA NOT NULL,
    key_timestamp BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (customer_id, mode, key_id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_live_sync_keys_seq ON wa_live_app_state_sync_keys(customer_id, mode, seq);

-- App-state collections' versions and LT-hash states (serde_json of the HashState).
CREATE TABLE wa_live_app_state_versions (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    state BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, name),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- App-state mutation MACs: value MAC by collection and index MAC.
CREATE TABLE wa_live_app_state_mutation_macs (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    name TEXT NOT NULL,
    index_mac BYTEA NOT NULL,
    version BIGINT NOT NULL,
    value_mac BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, name, index_mac),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Which devices of a group hold our sender key (false: they need a fresh distribution).
CREATE TABLE wa_live_sender_key_devices (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    group_jid TEXT NOT NULL,
    device_jid TEXT NOT NULL,
    has_key BOOLEAN NOT NULL,
    PRIMARY KEY (customer_id, mode, group_jid, device_jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_live_skd_device ON wa_live_sender_key_devices(customer_id, mode, device_jid);

-- LID <-> phone number mappings (user parts), looked up both ways.
CREATE TABLE wa_live_lid_pn_mapping (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    lid TEXT NOT NULL,
    phone_number TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    learning_source TEXT NOT NULL,
    PRIMARY KEY (customer_id, mode, lid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_live_lid_pn_phone ON wa_live_lid_pn_mapping(customer_id, mode, phone_number, updated_at);

-- Base keys saved during retry collision detection.
CREATE TABLE wa_live_base_keys (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    address TEXT NOT NULL,
    message_id TEXT NOT NULL,
    base_key BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, address, message_id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Known device lists per user (phone number or LID user part); `devices` is serde_json.
CREATE TABLE wa_live_device_lists (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    jid_user TEXT NOT NULL,
    devices TEXT NOT NULL,
    list_timestamp BIGINT NOT NULL,
    phash TEXT,
    raw_id BIGINT,
    PRIMARY KEY (customer_id, mode, jid_user),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- The library's serialized group metadata snapshots (its participant-hash re-query skip).
CREATE TABLE wa_live_group_metadata (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    group_jid TEXT NOT NULL,
    metadata BYTEA NOT NULL,
    PRIMARY KEY (customer_id, mode, group_jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Trusted-contact privacy tokens: the token received from a contact (empty: none yet) and
-- when we last issued ours to them.
CREATE TABLE wa_live_tc_tokens (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    jid TEXT NOT NULL,
    token BYTEA NOT NULL,
    token_timestamp BIGINT NOT NULL,
    sender_timestamp BIGINT,
    PRIMARY KEY (customer_id, mode, jid),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);

-- Our sent messages (protobuf payloads), kept to answer retry receipts; taken once.
CREATE TABLE wa_live_sent_messages (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    chat_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    payload BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, mode, chat_jid, message_id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_live_sent_created ON wa_live_sent_messages(customer_id, mode, created_at);

-- Decrypted inbound messages awaiting the inbound durability hook's commit.
CREATE TABLE wa_live_pending_inbound (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    chat_jid TEXT NOT NULL,
    sender_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    message BYTEA NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (customer_id, mode, chat_jid, sender_jid, message_id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_live_pending_received ON wa_live_pending_inbound(customer_id, mode, received_at);

-- Message secrets (polls, reactions, edits); `expires_at` 0 = never, `message_ts` 0 = unknown.
CREATE TABLE wa_live_msg_secrets (
    customer_id UUID NOT NULL,
    mode VARCHAR(8) NOT NULL,
    chat_jid TEXT NOT NULL,
    sender_jid TEXT NOT NULL,
    message_id TEXT NOT NULL,
    secret BYTEA NOT NULL,
    expires_at BIGINT NOT NULL,
    message_ts BIGINT NOT NULL,
    PRIMARY KEY (customer_id, mode, chat_jid, sender_jid, message_id),
    FOREIGN KEY (customer_id, mode) REFERENCES wa_sessions(customer_id, mode) ON DELETE CASCADE
);
CREATE INDEX idx_wa_live_msg_secrets_expiry ON wa_live_msg_secrets(customer_id, mode, expires_at) WHERE expires_at <> 0;
