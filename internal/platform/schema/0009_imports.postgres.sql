-- 0009_imports (postgres): the system tables of internal/engine/importer; frozen once released.

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
  id BIGINT PRIMARY KEY,
  entity TEXT NOT NULL,
  file_id TEXT NOT NULL,
  file_name TEXT NOT NULL,
  file_format TEXT NOT NULL CHECK (file_format IN ('csv', 'xlsx')),
  file_encoding TEXT NOT NULL,
  csv_delimiter TEXT NOT NULL,
  headers JSONB NOT NULL,
  sample JSONB NOT NULL,
  row_count BIGINT NOT NULL,
  mapping JSONB NOT NULL,
  dedupe JSONB NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('uploaded', 'checked', 'queued', 'running', 'done', 'failed', 'cancelled')),
  total_rows BIGINT NOT NULL DEFAULT 0,
  processed_rows BIGINT NOT NULL DEFAULT 0,
  created_rows BIGINT NOT NULL DEFAULT 0,
  updated_rows BIGINT NOT NULL DEFAULT 0,
  skipped_rows BIGINT NOT NULL DEFAULT 0,
  failed_rows BIGINT NOT NULL DEFAULT 0,
  error JSONB,
  version BIGINT NOT NULL DEFAULT 1,
  job_id BIGINT,
  created_by BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT
);
CREATE INDEX imports_creator ON imports (created_by, id);
CREATE INDEX imports_entity ON imports (entity, id);
CREATE INDEX imports_status ON imports (status, updated_at);

-- import_batches is the run's checkpoint: one row per batch written. A
-- batch's records, its error rows, its row here and the counters commit in
-- one transaction, so a run resumed after a crash skips exactly the
-- batches that committed.
CREATE TABLE import_batches (
  import_id BIGINT NOT NULL,
  batch_no BIGINT NOT NULL,
  PRIMARY KEY (import_id, batch_no)
);

-- import_errors holds the failing rows of a run: their original cells and
-- their errors (a list of {column, field, code, args}), one row per
-- spreadsheet row, written in the transaction of the row's batch.
CREATE TABLE import_errors (
  import_id BIGINT NOT NULL,
  row_no BIGINT NOT NULL,
  cells JSONB NOT NULL,
  errors JSONB NOT NULL,
  PRIMARY KEY (import_id, row_no)
);
