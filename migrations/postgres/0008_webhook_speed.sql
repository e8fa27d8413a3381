-- The Deliverer's pick reads the pending deliveries in next_attempt_at order: an index of
-- those alone (delivered and failed rows, the vast majority, leave it), which it can walk
-- in order and stop after a page, also before the planner has statistics on the table.
-- It replaces the (state, next_attempt_at) index, which only that pick used.
DROP INDEX IF EXISTS idx_webhook_deliveries_due;
CREATE INDEX idx_webhook_deliveries_pending ON webhook_deliveries (next_attempt_at)
    WHERE state = 'pending';
