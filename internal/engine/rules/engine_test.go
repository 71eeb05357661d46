package rules

import (
	"context"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
	"github.com/tenon-crm/tenon/internal/platform/schema"
)

// bare is the engine wired alone on a fresh database (SQLite, or
// PostgreSQL with TENON_TEST_POSTGRES), without a notifier or a flow
// engine, and with the custom entity "items".
type bare struct {
	e    *Engine
	recs *records.Service
	q    *jobs.Queue
	d    *db.DB
}

func newBare(t *testing.T) *bare {
	t.Helper()
	ctx := context.Background()
	dsn := dbtest.SQLite(t)
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(t, "tenon_rules_pkg")
	}
	d, err := db.Open(ctx, dsn, db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(ctx, schema.Migrations()); err != nil {
		t.Fatal(err)
	}
	reg := meta.NewRegistry(d, meta.DefaultTypes(), func(src string, vars []string) (meta.Evaluator, error) {
		return expr.CompileProgram(src, vars)
	})
	if err := reg.AddBuiltin(access.Entities, "entities"); err != nil {
		t.Fatal(err)
	}
	if err := reg.AddBuiltin(Entities, "entities"); err != nil {
		t.Fatal(err)
	}
	if err := reg.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.SyncAll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := reg.CreateEntity(ctx, &meta.Entity{Name: "items", Label: meta.Label{"zh-CN": "物品", "en": "Items"}, TitleField: "name",
		Fields: []meta.Field{{Name: "name", Type: "text", Label: meta.Label{"en": "Name"}}, {Name: "qty", Type: "integer", Label: meta.Label{"en": "Qty"}},
			{Name: "code", Type: "text", Unique: true, Label: meta.Label{"en": "Code"}}}}); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, meta.Shanghai) }
	rs := records.New(records.Config{DB: d, Registry: reg, Now: now})
	q, err := jobs.New(d, jobs.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return &bare{e: New(Config{DB: d, Records: rs, Jobs: q, Now: now}), recs: rs, q: q, d: d}
}

// TestWithoutNotifierOrFlows: notify and start_flow fail with a clear
// run-log error when the engine has no notifier or flow engine, and
// nothing of the run is applied (the set_fields before them is rolled
// back).
func TestWithoutNotifierOrFlows(t *testing.T) {
	b := newBare(t)
	ctx := context.Background()
	sys := access.System()
	mk := func(action map[string]any) int64 {
		r, err := b.recs.Create(ctx, sys, Entity, map[string]any{"name": "r", "entity": "items", "enabled": true,
			"trigger": map[string]any{"type": "created"},
			"actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"qty": "1"}}, action}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID()
	}
	notifyRule := mk(map[string]any{"type": "notify", "to": map[string]any{"owner": true}, "title": "x"})
	flowRule := mk(map[string]any{"type": "start_flow", "definition": "1"})
	item, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": "a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.q.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	for rule, code := range map[int64]string{notifyRule: "rule_no_notifier", flowRule: "rule_no_flows"} {
		page, err := b.e.Runs(ctx, sys, rule, RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 1 || page.Items[0].Outcome != outcomeFailed || page.Items[0].Error == nil ||
			page.Items[0].Error.Code != code || *page.Items[0].Error.Action != 1 {
			t.Fatalf("rule %d runs: %+v", rule, page.Items)
		}
		if page.Items[0].Actions[0].Type != ActionSetFields {
			t.Fatalf("actions: %+v", page.Items[0].Actions)
		}
	}
	got, err := b.recs.Get(ctx, sys, "items", item.ID(), records.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got["qty"] != nil {
		t.Fatalf("a failed run's set_fields was applied: %v", got)
	}
}

// TestIndexFollowsOtherProcesses: a rule saved by another process (here a
// direct table change the index did not see) is noticed by the index check.
func TestIndexFollowsOtherProcesses(t *testing.T) {
	b := newBare(t)
	ctx := context.Background()
	sys := access.System()
	r, err := b.recs.Create(ctx, sys, Entity, map[string]any{"name": "r", "entity": "items", "enabled": false,
		"trigger": map[string]any{"type": "created"}, "actions": []any{map[string]any{"type": "set_fields", "values": map[string]any{"qty": "7"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if rs, err := b.e.rulesFor(ctx, "items"); err != nil || len(rs) != 0 {
		t.Fatalf("index: %v %v", rs, err)
	}
	// Another process enables the rule: this one learns it only from the table.
	if _, err := b.d.Exec(ctx, `UPDATE r_rules SET enabled = ?, version = version + 1 WHERE id = ?`, meta.BoolToDB(b.d.Dialect, true), r.ID()); err != nil {
		t.Fatal(err)
	}
	if rs, _ := b.e.rulesFor(ctx, "items"); len(rs) != 0 {
		t.Fatal("the index changed without a check")
	}
	if err := b.e.idx.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, err := b.e.rulesFor(ctx, "items"); err != nil || len(rs) != 1 {
		t.Fatalf("after the check: %v %v", rs, err)
	}
}

// TestFailedStatementInRun: an action whose statement fails in the
// database (a unique value taken) fails the run alone: the savepoint
// clears the failed statement (PostgreSQL aborts the transaction
// otherwise) and the run is logged in the job's transaction.
func TestFailedStatementInRun(t *testing.T) {
	b := newBare(t)
	ctx := context.Background()
	sys := access.System()
	r, err := b.recs.Create(ctx, sys, Entity, map[string]any{"name": "copy", "entity": "items", "enabled": true,
		"trigger": map[string]any{"type": "created"}, "condition": `code == nil`,
		"actions": []any{map[string]any{"type": "create_record", "entity": "items", "values": map[string]any{"code": "COPY"},
			"expressions": map[string]any{"name": `"copy of " + name`}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := b.recs.Create(ctx, sys, "items", map[string]any{"name": n}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.q.RunDue(ctx); err != nil {
		t.Fatal(err)
	}
	page, err := b.e.Runs(ctx, sys, r.ID(), RunFilter{})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for _, run := range page.Items {
		outcomes[run.Outcome]++
		if run.Outcome == outcomeFailed && run.Error.Code != "unique_violation" {
			t.Fatalf("failed run: %+v", run.Error)
		}
	}
	// Two runs on a and b (one made COPY, one was refused), and the copy
	// itself skipped by the condition.
	if outcomes[outcomeMatched] != 1 || outcomes[outcomeFailed] != 1 || outcomes[outcomeSkipped] != 1 {
		t.Fatalf("outcomes %v", outcomes)
	}
	var jobsDone int
	if err := b.d.QueryRow(ctx, `SELECT COUNT(*) FROM jobs WHERE kind = 'rules.run' AND status = 'done'`).Scan(&jobsDone); err != nil || jobsDone != 2 {
		t.Fatalf("%d run jobs done (%v)", jobsDone, err)
	}
}
