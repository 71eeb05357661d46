-- 0007_rules (sqlite): the system tables of internal/engine/rules; frozen once released.

-- rule_runs is the run log: one row per run of a rule on a record (or per
-- scheduled scan / inbound call without a record). job_id is the rules.run
-- job that ran it: unique, so a job's run is logged, and its actions
-- applied, once. actions lists what each action did; error is NULL or an
-- object (code, args, action index) rendered in the reader's language.
CREATE TABLE rule_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  rule_id INTEGER NOT NULL,
  entity TEXT NOT NULL,
  record_id INTEGER,
  trigger_type TEXT NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('matched', 'skipped', 'failed', 'loop_stopped')),
  actions TEXT NOT NULL,
  error TEXT,
  duration_us INTEGER NOT NULL,
  depth INTEGER NOT NULL DEFAULT 0,
  job_id INTEGER,
  at INTEGER NOT NULL
);
CREATE INDEX rule_runs_rule ON rule_runs (rule_id, id);
CREATE INDEX rule_runs_at ON rule_runs (at);
CREATE UNIQUE INDEX rule_runs_job ON rule_runs (job_id) WHERE job_id IS NOT NULL;

-- rule_counters keeps the state of owner assignment (the round-robin
-- position of an action); the row is also what serialises concurrent
-- least-loaded picks.
CREATE TABLE rule_counters (
  rule_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY (rule_id, name)
);

-- rule_marks remembers which records a date-relative rule has fired for on
-- which date, and which records a scheduled run has queued, so each fires
-- once however often the scan runs.
CREATE TABLE rule_marks (
  rule_id INTEGER NOT NULL,
  record_id INTEGER NOT NULL,
  mark TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (rule_id, record_id, mark)
);
CREATE INDEX rule_marks_at ON rule_marks (at);

-- rule_hook_hits counts inbound webhook calls per rule id and minute (the
-- rate limit; shared by every process).
CREATE TABLE rule_hook_hits (
  rule_id INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  hits INTEGER NOT NULL,
  PRIMARY KEY (rule_id, window_start)
);
