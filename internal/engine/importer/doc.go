// Package importer imports CSV and XLSX files into any entity, built-in or
// custom (P9, issue 5): upload, column mapping, de-duplication, a dry run,
// a resumable batch job, a per-row error report and a template per entity.
//
// # Imports are import_jobs records
//
// An import is a record of the system entity import_jobs
// (entities/import_jobs.json): the target entity, the uploaded file (a file
// field, so its uploader may download it through /api/v1/files), its name,
// format and encoding, the status, the mapping and de-duplication (json),
// the number of data rows, the run's counters (total, processed, created,
// updated, skipped, failed), the code of what failed the import (error),
// the error report (a file field: see Reports), started_at and
// finished_at. Its owner and creator are the uploader. The engine's own
// state — the headers, the sample, the CSV delimiter, the mapping's
// version, the job — is the row of imports (migration 9) with the
// record's id, its checkpoint is in import_batches and its failing rows in
// import_errors.
//
// Every change of an import is written to the imports row and to the
// record in one transaction, the record through the records service as
// the system (audit trail, change feed, rules and webhooks see it); the
// record is created as the uploader. The counters move with each batch:
// one update of the record in the batch's transaction.
//
// Every user may read their own import_jobs and administrators all
// (baseline grant: read and create with scope own; see Grants). Nobody
// creates, changes or restores an import_jobs record through the records
// API (import_job_readonly, 403): only the routes below and the job do.
// Whoever may delete it (administrators) may delete one that is not queued
// or running (import_job_running, 409 otherwise); its engine state and
// error rows are deleted with it. The convenience routes below show the
// same imports under the same ids: administrators see every import,
// others their own (404 otherwise). Statuses: uploaded → checked (after a
// dry run) → queued → running → done | failed | cancelled. A daily
// importer.purge job deletes the records (to the trash, whose purge
// releases their files) of finished imports after Limits.Keep (90 days)
// and of imports never started after Limits.KeepUnstarted (7 days), with
// their state, batches and error rows.
//
// # Rights
//
// Rows are written through the records service as the importing user
// (source "import" in the audit trail): data scope, field rights,
// validation, hooks (rules, flows), numbering, audit and the change feed
// apply as to any API write. Uploading, the template, a dry run and
// starting need the right to create records of the entity; de-duplication
// mode update needs the right to update. The job acts with the user's
// rights at the time it runs; an import whose user is gone, or who lost
// the right, fails with that reason.
//
// # Files
//
// POST /api/v1/imports takes multipart/form-data with file (.csv, .txt
// or .xlsx; .xls is refused with advice to save as .xlsx) and entity. The
// file is checked before anything is stored, with limits in Limits: size
// (50 MB, 413), data rows (200,000, 413), columns (200, 413).
//
// Optional parts make it a one-shot call (see OneShot):
//   - mapping: a JSON object column → field name ("" ignores a column); it
//     is the whole mapping, columns it does not name are ignored
//     (import_mapping_invalid when it is not such an object);
//   - mode: skip, update or create, the de-duplication mode;
//   - dedupe: a JSON object with field, match (and mode) as in PATCH
//     (import_dedupe_invalid when it is not one);
//   - dry_run: true or false (import_dry_run_invalid otherwise).
//
// With none of them (or only dry_run=false) the call uploads and suggests
// (201, the import uploaded). With mapping, mode or dedupe and no dry run
// it uploads, sets the mapping and de-duplication and starts the import
// in one transaction (202, the import queued); a refusal (a column or
// field that cannot be mapped, a mode the caller lacks the right for)
// leaves nothing. With dry_run=true it uploads, sets what was given and
// dry-runs the import: 200 with the dry run's result (see Dry run) plus
// "import", the import, now checked, which may be started later.
//
// CSV: the encoding is detected — UTF-8 with a BOM, UTF-8, or GB18030 (a
// superset of GBK and GB2312, what Excel writes on a Chinese Windows) —
// and never guessed: UTF-16, binary content, bytes valid in neither, and
// text valid in both whose two readings are not clearly told apart by how
// common their characters are, are refused (422, naming the problem and
// advising "CSV UTF-8"). See detectEncoding. The delimiter (comma,
// semicolon or tab) is the most frequent one on the first line. Quotes
// follow RFC 4180, a bare quote inside a field is text (5" pipe). Row
// numbers are those a spreadsheet shows: blank lines count, a quoted cell
// with line breaks is one row.
//
// XLSX: the first sheet (tab order). Before anything is read, archive/zip
// checks the file is no zip bomb: at most Limits.MaxParts parts, at most
// Limits.MaxUnzipped bytes declared uncompressed in total, no part over a
// megabyte expanding more than Limits.MaxRatio times (413); archive/zip
// itself refuses to inflate a part beyond its declared size. The sheet's
// XML is then streamed a row at a time (xlsx.go, xmlscan.go), with the
// shared strings and the styles' number formats read first. Cells are
// read as text: cells formatted as dates (built-in or custom formats)
// give YYYY-MM-DD, date-times YYYY-MM-DD HH:MM:SS, times HH:MM:SS;
// percentages as shown (12.50%); other numbers in plain digits whatever
// their format, to the 15 significant digits a spreadsheet keeps (never
// 1.2E+07, no grouping, currency sign or rounding to the display); strings
// as they are, booleans TRUE and FALSE. Formulas are never evaluated: a formula cell gives the value
// stored with it (what Excel showed when the file was saved) and one
// without a stored value gives its formula text; a text cell such as
// "=1+1" is that text. All of this holds for CSV too, where every cell is
// text.
//
// The header is the first non-empty row; its cells name the columns
// (an empty header cell is "(C)" by its letter, a repeated name gets its
// letter added). Empty rows are skipped; cells beyond the header are
// ignored. The upload answers the columns, a sample of 5 rows, the number
// of data rows and a suggested mapping.
//
// # Mapping
//
// mapping maps each column to a field name ("" ignores the column). The
// fields an import may fill are the entity's stored fields that are not
// computed (formula, roll-up, autonumber), sub-tables or files, and that
// are neither hidden from nor read-only for the caller, plus owner. The
// suggestion matches a column header to a field's name, zh-CN label or
// English label, compared after folding full-width forms, case, spaces,
// punctuation and the "*" of required columns; each field once.
//
// Values: each cell becomes the records API's input form and is then
// normalised and validated by the records service exactly as any input
// (its errors are the row's errors). Read from spreadsheets: numbers with
// grouping separators, currency signs and full-width digits; 12.5% into a
// percent field as 12.5 (into a decimal or money field as 0.125); dates
// 2026-11-22, 2026/11/22, 2026.11.22, 2026年11月22日, 20261122; date-times
// as a date and a time of day in Asia/Shanghai (or RFC 3339); times 9:30,
// 09:30:15; booleans true/false, yes/no, 是/否, 1/0, √/×; select options by
// value or by zh-CN/English label; multi_select, tags and multi_link
// lists separated by , ， ; ； 、 or |; address as its detail line; geo as
// "lat,lng"; json as JSON text.
//
// Link, multi_link, user and department cells name a record the caller
// may read: by its title field or, where the linked entity has them, its
// login, code or name (users: login or name; departments: name or code),
// or by its id. A title (or login, code, name) match wins over an id; a
// name that several visible records share is refused as ambiguous
// (import_link_ambiguous: use the id); a name nothing visible matches is
// import_link_unknown. A select whose options come from another entity
// (options_from) takes the code or the name of a record there. Lookups go
// through the records service as the caller, a few hundred names per
// query, and are cached for the run.
//
// # De-duplication
//
// dedupe {"field", "match", "mode"}: with a field (which must be mapped),
// each row's value is looked up among the records the caller may read:
// match exact compares the value as stored (after the records service's
// normalisation; text-like, select and integer fields), match company
// compares normalised company names (text fields; see normalizeCompany:
// width, case, spaces and punctuation, a "(中国)" qualifier, and legal
// forms such as 有限公司, 有限责任公司, 股份有限公司, 集团, Co., Ltd., Inc.
// are ignored). Rows of the file itself are matched too: a row matching
// a record an earlier row created is a duplicate like any other. Mode
// skip skips matching rows; update updates the one matching record with
// the row's non-empty mapped cells (the de-duplication field is not
// rewritten; a row matching several records fails with
// import_dedupe_ambiguous); create creates anyway and is refused for a
// unique field. A row with an empty key is created.
//
// # Dry run
//
// POST /api/v1/imports/{id}/dry-run checks every row exactly as the run
// will: the same batches (deferred rows included) go through the same code
// and the records service (normalisation, validation, links, hooks,
// numbering, unique indexes), inside a savepoint that is rolled back, so
// nothing is written. What rolled-back batches would have left for later
// rows is remembered: the keys of the records they created (for duplicates
// within the file; in update mode with the input of keys that occur again,
// found by a first pass over the file) and the values of unique fields. It
// answers the counts and the first Limits.MaxErrors errors by row, with
// spreadsheet row numbers (the header is row 1), and marks the import
// checked. Changing the mapping makes it uploaded again.
//
// # The run
//
// POST /api/v1/imports/{id}/start queues an importer.run job in the
// transaction that marks the import queued. The job reads the file once,
// in order, and writes it in batches of Limits.BatchSize rows, each batch
// one transaction: it first inserts the batch's row in import_batches (the
// checkpoint; a batch already there is skipped), checks the import is
// still running, writes each row (a row the records service refuses is
// rolled back alone — a savepoint — and recorded in import_errors with its
// cells; the batch goes on), and adds to the counters. Records, error
// rows, checkpoint row and counters commit together, so a process that
// dies mid-batch loses the whole batch, and the next run of the job (once
// the lease has expired) writes exactly the batches that did not commit:
// every row is written exactly once. Linked records and duplicates are
// looked up before each batch's transaction, outside it.
//
// Rows depend on earlier rows only through their conflict keys: the
// de-duplication key and the values of unique fields. A row sharing a key
// with a row of an earlier batch is deferred; deferred rows are written
// after all other batches, in file order. The other batches are then
// independent of one another, and PostgreSQL writes Limits.Workers (4) of
// them at once (SQLite has one writer; a mapping with a link to the
// imported entity itself also writes one at a time, as rows may name
// records that earlier rows create). Which rows are deferred depends only
// on the file and the mapping, so a resumed run and the dry run defer the
// same rows. A batch after a batch without failures is first written
// without a savepoint per row, its creates batched (records.WithBatch:
// rows, audit entries and events go to the database a few hundred per
// statement), and written again row by row if one row is refused: the
// outcome is the same, the common case cheaper.
//
// Counters are readable while the import runs (GET
// /api/v1/records/import_jobs/{id} or /api/v1/imports/{id}).
// Cancel stops the import: batches under way commit, no other starts. A
// refusal no retry cures fails the import with its reason (for example
// import_user_gone, action_not_allowed, import_entity_gone); other errors
// are retried with back-off and fail the import after the last attempt
// (import_internal_error).
//
// # Reports
//
// When a run ends (done, failed, or cancelled once its last batches have
// committed) with failing rows, the error report is written as an XLSX
// file in the uploader's language and set as the record's error_report
// (for done and failed in the transaction that ends the import), so the
// uploader downloads it through /api/v1/files like any record's file and
// nobody who cannot read the record can.
//
// GET /api/v1/imports/{id}/errors?format=csv|xlsx: the failing rows with
// their original columns plus 行号/Row and 错误/Error (language of
// Accept-Language). GET /api/v1/imports/template/{entity}?format=xlsx|csv:
// one header row of the importable fields' labels in the caller's
// language, required ones marked "*". CSV is UTF-8 with a BOM and CRLF;
// its cells that Excel would take for formulas are prefixed with an
// apostrophe; XLSX cells are strings. Both downloads share one route
// pattern, /api/v1/imports/{id}/{part}: the two paths would otherwise
// overlap, which the router refuses.
package importer
