-- Metadata of custom entities, and custom fields of built-in ones.
CREATE TABLE meta_entities (
  name TEXT PRIMARY KEY,
  custom INTEGER NOT NULL DEFAULT 1,
  doc TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);

-- Numbering rules: one counter per entity, field and period.
CREATE TABLE sequences (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);

-- Append-only audit trail of record changes.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  version INTEGER NOT NULL,
  actor INTEGER,
  token_id INTEGER,
  source TEXT NOT NULL,
  at INTEGER NOT NULL,
  changes TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (entity, record_id, id);
CREATE INDEX audit_log_actor ON audit_log (actor, at);

-- Logins, failed logins, logouts, token use.
CREATE TABLE auth_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  login TEXT NOT NULL DEFAULT '',
  user_id INTEGER,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_events_at ON auth_events (at);

-- Transactional outbox; seq is commit order.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  event TEXT NOT NULL,
  version INTEGER NOT NULL,
  actor INTEGER,
  at INTEGER NOT NULL,
  changes TEXT NOT NULL
);
CREATE INDEX outbox_entity ON outbox (entity, seq);

CREATE TABLE idempotency_keys (
  user_id INTEGER NOT NULL,
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  status INTEGER NOT NULL,
  headers TEXT NOT NULL,
  body BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_created ON idempotency_keys (created_at);

CREATE TABLE user_passwords (
  user_id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL,
  changed_at INTEGER NOT NULL
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  ip TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  scopes TEXT NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE login_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);

CREATE TABLE files (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  storage_key TEXT NOT NULL,
  created_by INTEGER,
  created_at INTEGER NOT NULL
);

CREATE TABLE file_refs (
  file_id TEXT NOT NULL,
  entity TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  field TEXT NOT NULL,
  PRIMARY KEY (file_id, entity, record_id, field)
);
CREATE INDEX file_refs_record ON file_refs (entity, record_id);

CREATE TABLE record_shares (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  entity TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  user_id INTEGER,
  department_id INTEGER,
  access TEXT NOT NULL DEFAULT 'read',
  created_by INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX record_shares_user ON record_shares (entity, user_id, record_id);
CREATE INDEX record_shares_dept ON record_shares (entity, department_id, record_id);
CREATE INDEX record_shares_record ON record_shares (entity, record_id);

CREATE TABLE external_ids (
  entity TEXT NOT NULL,
  source TEXT NOT NULL,
  external_id TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  PRIMARY KEY (entity, source, external_id)
);
