-- 0006_flow (sqlite): approval flows (internal/engine/flow); frozen once released.
-- flow_versions: each published version of a definition, frozen.
CREATE TABLE flow_versions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  definition_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  entity TEXT NOT NULL,
  name TEXT NOT NULL,
  trigger_kind TEXT NOT NULL,
  condition_src TEXT NOT NULL DEFAULT '',
  graph TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  published_by INTEGER
);
CREATE UNIQUE INDEX flow_versions_def ON flow_versions (definition_id, version);
CREATE INDEX flow_versions_entity ON flow_versions (entity);

-- flow_instances: one run of a version on one record; at most one open
-- (running or returned) per record.
CREATE TABLE flow_instances (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  definition_id INTEGER NOT NULL,
  version_id INTEGER NOT NULL,
  version INTEGER NOT NULL,
  name TEXT NOT NULL,
  entity TEXT NOT NULL,
  record_id INTEGER NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('running', 'approved', 'rejected', 'withdrawn', 'returned')),
  submitter INTEGER,
  state TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  ended_at INTEGER
);
CREATE UNIQUE INDEX flow_instances_open ON flow_instances (entity, record_id) WHERE status IN ('running', 'returned');
CREATE INDEX flow_instances_record ON flow_instances (entity, record_id, id);
CREATE INDEX flow_instances_submitter ON flow_instances (submitter, id);

-- flow_tasks: one approver's part in one activation of an approval node,
-- or one CC.
CREATE TABLE flow_tasks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id INTEGER NOT NULL,
  token INTEGER NOT NULL,
  node_id TEXT NOT NULL,
  node_name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('approval', 'cc')),
  assignee INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'pending', 'waiting', 'approved', 'rejected', 'returned', 'delegated', 'escalated', 'cancelled', 'cc')),
  seq INTEGER NOT NULL DEFAULT 0,
  origin TEXT NOT NULL DEFAULT 'base' CHECK (origin IN ('base', 'before', 'after')),
  added_by INTEGER,
  from_task INTEGER,
  created_at INTEGER NOT NULL,
  due_at INTEGER,
  acted_at INTEGER,
  comment TEXT NOT NULL DEFAULT '',
  attachments TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX flow_tasks_assignee ON flow_tasks (assignee, status, id);
CREATE INDEX flow_tasks_instance ON flow_tasks (instance_id, token, id);

-- flow_steps: the timeline of an instance.
CREATE TABLE flow_steps (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  instance_id INTEGER NOT NULL,
  task_id INTEGER,
  node_id TEXT NOT NULL DEFAULT '',
  node_name TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL,
  actor INTEGER,
  comment TEXT NOT NULL DEFAULT '',
  attachments TEXT NOT NULL DEFAULT '[]',
  data TEXT NOT NULL DEFAULT '{}',
  at INTEGER NOT NULL
);
CREATE INDEX flow_steps_instance ON flow_steps (instance_id, id);
