// Package schema holds the numbered migrations of Tenon's system tables
// (everything that is not a record table; record tables are created from
// metadata by meta's schema sync). Released migrations are frozen.
//
// Conventions: timestamps in system tables are BIGINT unix microseconds
// (UTC); booleans are INTEGER 0/1 on SQLite and BOOLEAN on PostgreSQL; JSON
// is TEXT on SQLite and JSONB on PostgreSQL.
package schema

import (
	_ "embed"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

//go:embed 0001_core.sqlite.sql
var core1SQLite string

//go:embed 0001_core.postgres.sql
var core1Postgres string

// The engines' system tables: tasks and notifications
// (internal/platform/notify), approval flows (internal/engine/flow) and
// rules (internal/engine/rules).
var (
	//go:embed 0005_notify.sqlite.sql
	notify5SQLite string
	//go:embed 0005_notify.postgres.sql
	notify5Postgres string
	//go:embed 0006_flow.sqlite.sql
	flow6SQLite string
	//go:embed 0006_flow.postgres.sql
	flow6Postgres string
	//go:embed 0007_rules.sqlite.sql
	rules7SQLite string
	//go:embed 0007_rules.postgres.sql
	rules7Postgres string
)

// The outbound allow-list (internal/platform/netguard; webhooks are records).
var (
	//go:embed 0008_webhooks.sqlite.sql
	webhooks8SQLite string
	//go:embed 0008_webhooks.postgres.sql
	webhooks8Postgres string
)

// The imports of internal/engine/importer.
var (
	//go:embed 0009_imports.sqlite.sql
	imports9SQLite string
	//go:embed 0009_imports.postgres.sql
	imports9Postgres string
)

// The call log, seen signatures and rate limits of internal/engine/inbound.
var (
	//go:embed 0010_inbound.sqlite.sql
	inbound10SQLite string
	//go:embed 0010_inbound.postgres.sql
	inbound10Postgres string
)

// settings: instance-wide values (such as the version of the search index).
const settings2 = `CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);`

// outboxTx3 records, on PostgreSQL, the id of the transaction that wrote
// each outbox row, so the feed can follow commit order without a lock (see
// package events). Rows written before are transaction 0. SQLite has one
// writer: its column stays 0.
const outboxTx3SQLite = `ALTER TABLE outbox ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;`

const outboxTx3Postgres = `ALTER TABLE outbox ADD COLUMN tx BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ALTER COLUMN tx SET DEFAULT (pg_current_xact_id()::text::bigint);
CREATE INDEX outbox_tx ON outbox (tx, seq);`

// Migrations returns every migration in order.
func Migrations() []db.Migration {
	return []db.Migration{
		{Version: 1, Name: "core", SQLite: core1SQLite, Postgres: core1Postgres},
		{Version: 2, Name: "settings", SQLite: settings2, Postgres: settings2},
		{Version: 3, Name: "outbox commit order", SQLite: outboxTx3SQLite, Postgres: outboxTx3Postgres},
		{Version: 4, Name: "jobs", SQLite: jobs.SQLiteDDL, Postgres: jobs.PostgresDDL},
		{Version: 5, Name: "notifications", SQLite: notify5SQLite, Postgres: notify5Postgres},
		{Version: 6, Name: "approval flows", SQLite: flow6SQLite, Postgres: flow6Postgres},
		{Version: 7, Name: "rules", SQLite: rules7SQLite, Postgres: rules7Postgres},
		{Version: 8, Name: "webhooks", SQLite: webhooks8SQLite, Postgres: webhooks8Postgres},
		{Version: 9, Name: "imports", SQLite: imports9SQLite, Postgres: imports9Postgres},
		{Version: 10, Name: "inbound", SQLite: inbound10SQLite, Postgres: inbound10Postgres},
	}
}
