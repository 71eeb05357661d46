-- 0005_notify (sqlite): tasks and notifications (internal/platform/notify); frozen once released.

-- The in-app inbox: one row per recipient of a message. entity/record_id
-- name the record it is about; the link is shown only to a reader of it.
CREATE TABLE notifications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient INTEGER NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL DEFAULT '',
  entity TEXT,
  record_id INTEGER,
  actor INTEGER,
  created_at INTEGER NOT NULL,
  read_at INTEGER
);
CREATE INDEX notifications_inbox ON notifications (recipient, id);
CREATE INDEX notifications_unread ON notifications (recipient, id) WHERE read_at IS NULL;
CREATE INDEX notifications_created ON notifications (created_at);

-- Per-user delivery preferences by event kind; a missing row means the
-- kind's defaults.
CREATE TABLE notify_preferences (
  user_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  in_app INTEGER NOT NULL,
  email INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, kind)
);

-- The one row of e-mail (SMTP) and delivery settings.
CREATE TABLE notify_settings (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  email_enabled INTEGER NOT NULL DEFAULT 0,
  smtp_host TEXT NOT NULL DEFAULT '',
  smtp_port INTEGER NOT NULL DEFAULT 0,
  smtp_username TEXT NOT NULL DEFAULT '',
  smtp_password TEXT NOT NULL DEFAULT '',
  smtp_tls TEXT NOT NULL DEFAULT 'starttls',
  smtp_ca TEXT NOT NULL DEFAULT '',
  from_address TEXT NOT NULL DEFAULT '',
  from_name TEXT NOT NULL DEFAULT '',
  base_url TEXT NOT NULL DEFAULT '',
  robots_allow_private INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL,
  updated_by INTEGER
);

-- Group-robot signing secrets, kept out of the notify_channels records so
-- that no API can read them back.
CREATE TABLE notify_channel_secrets (
  channel_id INTEGER PRIMARY KEY,
  secret TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
