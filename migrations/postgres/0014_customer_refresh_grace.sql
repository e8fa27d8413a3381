-- When the session's refresh token last rotated. A refresh token of the generation just
-- before the current one is accepted again for a few seconds after that (two tabs of the
-- dashboard refreshing at once with the same cookie), answered with the same successor;
-- after that window it is reuse, and the session ends.
ALTER TABLE customer_sessions ADD COLUMN refresh_rotated_at TIMESTAMPTZ;
