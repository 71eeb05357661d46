-- 0009_imports (sqlite): the system tables of internal/engine/importer; frozen once released.

-- imports is the engine's state of one import of a CSV or XLSX file into
-- an entity, keyed by the id of its import_jobs record (which shows the
-- status, counters and error report to users and holds the file): the
-- stored file (files.id), what its analysis
-- found (format, encoding, delimiter, headers, sample, row_count), the
-- mapping and de-duplication chosen, the status, and the run's counters.
-- The counters move with each batch (see import_batches). version counts
-- mapping changes.
-- error is NULL or an object (code, args) rendered in the reader's language.
CREATE TABLE imports (
  id INTEGER PRIMARY KEY,
  entity TEXT NOT NULL,
  file_id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  file_format TEXT NOT NULL CHECK (file_format IN ('csv', 'xlsx')),
  file_encoding TEXT NOT NULL,
  csv_delimiter TEXT NOT NULL,
  headers TEXT NOT NULL,
  sample TEXT NOT NULL,
  row_count INTEGER NOT NULL,
  mapping TEXT NOT NULL,
  dedupe TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('uploaded', 'checked', 'queued', 'running', 'done', 'failed', 'cancelled')),
  total_rows INTEGER NOT NULL DEFAULT 0,
  processed_rows INTEGER NOT NULL DEFAULT 0,
  created_rows INTEGER NOT NULL DEFAULT 0,
  updated_rows INTEGER NOT NULL DEFAULT 0,
  skipped_rows INTEGER NOT NULL DEFAULT 0,
  failed_rows INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  version INTEGER NOT NULL DEFAULT 1,
  job_id INTEGER,
  created_by INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE INDEX imports_creator ON imports (created_by, id);
CREATE INDEX imports_entity ON imports (entity, id);
CREATE INDEX imports_status ON imports (status, updated_at);

-- import_batches is the run's checkpoint: one row per batch written. A
-- batch's records, its error rows, its row here and the counters commit in
-- one transaction, so a run resumed after a crash skips exactly the
-- batches that committed.
CREATE TABLE import_batches (
  import_id INTEGER NOT NULL,
  batch_no INTEGER NOT NULL,
  PRIMARY KEY (import_id, batch_no)
);

-- import_errors holds the failing rows of a run: their original cells and
-- their errors (a list of {column, field, code, args}), one row per
-- spreadsheet row, written in the transaction of the row's batch.
CREATE TABLE import_errors (
  import_id INTEGER NOT NULL,
  row_no INTEGER NOT NULL,
  cells TEXT NOT NULL,
  errors TEXT NOT NULL,
  PRIMARY KEY (import_id, row_no)
);
