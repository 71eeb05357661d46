-- 0008_webhooks (postgres): the system tables of outbound calls
-- (internal/platform/netguard; the webhooks engine keeps its subscriptions
-- and deliveries as records); frozen once released.

-- The one row of outbound settings: allow is the JSON list of allow-list
-- entries in their canonical spelling ("erp.internal:8443", "10.0.0.5",
-- "10.20.0.0/16"), targets outbound calls may reach although they are
-- loopback, link-local or private.
CREATE TABLE outbound_settings (
  id BIGINT PRIMARY KEY CHECK (id = 1),
  allow JSONB NOT NULL,
  updated_at BIGINT NOT NULL,
  updated_by BIGINT
);
