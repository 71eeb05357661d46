// Package meta owns entity metadata: entity and field definitions (built-in
// ones embedded as JSON beside their module, custom ones stored in the
// meta_entities table), the registry of field types, validation of
// definitions, and schema sync, which turns a definition into real tables
// and columns on SQLite or PostgreSQL.
//
// Record tables are named r_<entity>; a sub-table field gets a child table
// r_<entity>__<field>; full-text search uses r_<entity>__fts (SQLite FTS5)
// or a search_grams text[] column (PostgreSQL).
package meta
