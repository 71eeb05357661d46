-- 0010_inbound (sqlite): the system tables of internal/engine/inbound; frozen once released.

-- inbound_calls is the log of calls to inbound endpoints: one row per call
-- to an existing endpoint, accepted or refused (status is the HTTP status
-- answered; error is NULL or an object: code, args, reason, field errors,
-- rendered in the reader's language). Rows older than 30 days are pruned.
CREATE TABLE inbound_calls (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER NOT NULL,
  items INTEGER NOT NULL DEFAULT 0,
  created INTEGER NOT NULL DEFAULT 0,
  updated INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  remote_addr TEXT NOT NULL DEFAULT '',
  body_bytes INTEGER NOT NULL DEFAULT 0,
  duration_us INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX inbound_calls_endpoint ON inbound_calls (endpoint_id, id);
CREATE INDEX inbound_calls_at ON inbound_calls (at);

-- inbound_signatures holds the signatures (the v1 HMAC) of verified calls
-- until their timestamp leaves the tolerance window (expires_at, unix
-- seconds), so a replayed request is refused; pruned by inbound.purge.
CREATE TABLE inbound_signatures (
  endpoint_id INTEGER NOT NULL,
  signature TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (endpoint_id, signature)
);
CREATE INDEX inbound_signatures_expires ON inbound_signatures (expires_at);

-- inbound_hits counts calls per bucket and minute (the rate limits, shared
-- by every process): "e:<endpoint id>" counts an endpoint's verified calls,
-- "f:<address>" the refused calls from one remote address.
CREATE TABLE inbound_hits (
  bucket TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  PRIMARY KEY (bucket, window_start)
);
