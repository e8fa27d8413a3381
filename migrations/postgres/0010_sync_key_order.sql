-- The latest app-state sync key is the one with the highest key id (as in whatsapp-rust's
-- own SQLite store), not the one stored last: the storage order column goes.
DROP INDEX idx_wa_live_sync_keys_seq;
ALTER TABLE wa_live_app_state_sync_keys DROP COLUMN seq;
