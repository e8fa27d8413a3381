-- The audit table's indexes, rebuilt for what nearly all of its rows are: API call rows
-- (event_type 'api_call', one per customer call), written in time order.
--
-- * In ascending order. Rows arrive newest last, so an ascending index grows at its right
--   edge (PostgreSQL's fast path for the rightmost leaf, and its splits there leave pages
--   full); a descending one took every new row at its left edge and split pages in half.
--   `ORDER BY timestamp DESC` reads an ascending index backwards just as fast.
-- * API call rows are found by time and by customer (the timestamp and actor indexes); the
--   event and resource indexes leave them out. The audit viewer's queries by another event
--   type, or by a resource other than an API key (an api_call row's resource is always its
--   key), say `event_type <> 'api_call'` and stay on these two.
DROP INDEX IF EXISTS idx_audit_timestamp;
DROP INDEX IF EXISTS idx_audit_actor;
DROP INDEX IF EXISTS idx_audit_event;
DROP INDEX IF EXISTS idx_audit_resource;
DROP INDEX IF EXISTS idx_audit_logs_actor_action;
CREATE INDEX idx_audit_timestamp ON audit_logs(timestamp);
CREATE INDEX idx_audit_actor ON audit_logs(actor_type, actor_id, timestamp);
CREATE INDEX idx_audit_event ON audit_logs(event_type, timestamp)
    WHERE event_type <> 'api_call';
CREATE INDEX idx_audit_resource ON audit_logs(resource_type, resource_id, timestamp)
    WHERE event_type <> 'api_call';
CREATE INDEX idx_audit_logs_actor_action ON audit_logs(actor_type, actor_id, action, timestamp);
