// Package db owns the connection to SQLite or PostgreSQL: opening pools,
// the dialect differences every query goes through, transactions that travel
// in a context.Context, SQLite group commit, and numbered migrations.
//
// All SQL in Tenon is written with '?' placeholders; Rebind turns them into
// '$n' for PostgreSQL.
package db
