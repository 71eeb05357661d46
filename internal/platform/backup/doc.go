// Package backup writes and restores database-neutral snapshots of a whole
// Tenon: every system table, every record and sub-table row of every entity
// (custom ones included, with their metadata) and the bytes of every stored
// file. A backup of SQLite restores into PostgreSQL and the other way round.
//
// # Archive
//
// A zip file:
//
//	manifest.json          format and version, schema version, creation
//	                       time, source database kind, and for every table
//	                       its kind, row count, identity high-water mark and
//	                       columns with their logical types
//	tables/<table>.jsonl   one JSON object per row, keyed by column name
//	files/<storage_key>    file bytes, at the key the files table names
//
// Zip rather than tar lets the table files be streamed without knowing
// their size first, and lets restore read the manifest (written last)
// before anything else.
//
// Values are neutral: integers are JSON numbers (exact int64), booleans
// true/false, decimals strings with exactly the field's scale, datetimes of
// record tables RFC 3339 UTC with microseconds, dates YYYY-MM-DD, JSON
// columns the JSON itself and bytes base64. System timestamps are unix
// microseconds, as stored. The logical type of a column comes from
// metadata for record tables (meta.Types.ColumnOf) and from the explicit
// descriptors of systemTables for the tables of the numbered migrations;
// values are never guessed at. A backup refuses a database with a table or
// column it cannot place, so a migration that forgets to extend the
// descriptors fails its test instead of being left out of backups.
//
// Derived data is left out and rebuilt on restore from the stored search
// text: PostgreSQL's search_grams as rows are inserted (records.Grams), the
// SQLite FTS5 tables by the search indexer, which the restore command runs
// to completion. Columns and tables of deleted custom fields
// ("<name>__del<unix>") are left out with a warning in the manifest.
//
// # Consistency
//
// Backup reads everything in one read-only transaction on the read pool:
// one WAL snapshot on SQLite, REPEATABLE READ READ ONLY on PostgreSQL. The
// server keeps serving and writing meanwhile. Metadata is reloaded right
// before the snapshot and checked against meta_entities inside it. File
// bytes are immutable once written; a file purged after the snapshot is
// listed as missing in the manifest.
//
// # Restore
//
// Restore targets an empty database prepared with app.MigrateSchema (no
// bootstrap admin). It loads meta_entities, reloads metadata and syncs the
// schema so custom entity tables exist, then loads every table in
// transactions of Config.BatchSize rows, keeping ids, versions, audit
// history and the outbox exactly. Identities (record ids, outbox.seq,
// audit_log.id...) are then set past the source's high-water mark, so no
// id or outbox sequence number is ever handed out twice.
package backup
