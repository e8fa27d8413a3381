-- Refresh tokens rotate: each refresh token names the session's generation, and a refresh
-- moves it on; a token of an older generation presented again means it was copied, and the
-- session ends (reuse detection).
ALTER TABLE admin_sessions ADD COLUMN refresh_generation INTEGER NOT NULL DEFAULT 0;
