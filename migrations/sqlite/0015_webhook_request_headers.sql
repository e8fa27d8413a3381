-- The headers each webhook attempt was sent with (a JSON object; the signature headers,
-- which derive from the endpoint's secret, are left out). NULL for attempts made before.
ALTER TABLE webhook_attempts ADD COLUMN request_headers TEXT;
