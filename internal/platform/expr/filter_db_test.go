package expr

import (
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

// dbCases run on SQLite, and on PostgreSQL when TENON_TEST_POSTGRES is set;
// the matched ids must be the same on both. The rows are in seedFilterDB.
var dbCases = []struct {
	src  string
	want []int64
}{
	{`region == "华东"`, []int64{1, 2}},
	{`region != "华东"`, []int64{3, 4, 5}},
	{`!(region == "华东")`, []int64{3, 4, 5}},
	{`not (region != "华东")`, []int64{1, 2}},
	{`!!(region == "华东")`, []int64{1, 2}},
	{`region == "华东" && amount >= 500000`, []int64{1}},
	{`amount >= 500000`, []int64{1, 5}},
	{`!(amount >= 500000)`, []int64{2, 3, 4}},
	{`amount == 12.5`, []int64{2}},
	{`amount == 0.1`, []int64{4}},
	{`amount < 1`, []int64{4}},
	{`amount != 0.1`, []int64{1, 2, 3, 5}},
	{`amount in [12.5, 0.1]`, []int64{2, 4}},
	{`amount not in [1, 2]`, []int64{1, 2, 3, 4, 5}},
	{`name contains "精密"`, []int64{1, 4}},
	{`name contains "50%_"`, []int64{3}},
	{`name contains "%"`, []int64{3}},
	{`name contains "_"`, []int64{3}},
	{`name contains "acme"`, []int64{3}},
	{`!(name contains "精密")`, []int64{2, 3, 5}},
	{`name not contains "精密"`, []int64{2, 3, 5}},
	{`name startsWith "苏州"`, []int64{1}},
	{`name endsWith "公司"`, []int64{1, 2}},
	{`name == nil`, []int64{5}},
	{`tags contains "vip"`, []int64{1}},
	{`"vip" in tags`, []int64{1}},
	{`!(tags contains "vip")`, []int64{2, 3, 4, 5}},
	{`"vip" not in tags`, []int64{2, 3, 4, 5}},
	{`watchers contains 8`, []int64{1, 2}},
	{`watchers contains "8"`, []int64{1, 2}},
	{`!(8 in watchers)`, []int64{3, 4, 5}},
	{`owner == me()`, []int64{1}},
	{`owner in my_team()`, []int64{1, 2}},
	{`owner not in my_team()`, []int64{3, 4, 5}},
	{`owner in nobody()`, nil},
	{`owner == "7"`, []int64{1}},
	{`active`, []int64{1, 4}},
	{`!active`, []int64{2, 3, 5}},
	{`active == false`, []int64{2, 5}},
	{`active != true`, []int64{2, 3, 5}},
	{`due >= today()`, []int64{2, 4}},
	{`due < "2026-03-10"`, []int64{1, 5}},
	{`due > days_ago(10)`, []int64{1, 2, 4}},
	{`!(due < "2026-03-10")`, []int64{2, 3, 4}},
	{`created >= "2026-01-01T00:00:00+08:00"`, []int64{1, 4, 5}},
	{`created < "2026-01-01"`, []int64{2}},
	{`created > "2025-12-31T15:30:00Z" && created < "2025-12-31T15:30:01Z"`, nil},
	{`at >= "09:30"`, []int64{1, 2}},
	{`at < "09:30:00"`, []int64{4}},
	{`meta == nil`, []int64{2, 3, 4, 5}},
	{`meta != nil`, []int64{1}},
	{`qty in [1, 2]`, []int64{2, 5}},
	{`qty not in [1, 2]`, []int64{1, 3, 4}},
	{`qty in []`, nil},
	{`qty not in []`, []int64{1, 2, 3, 4, 5}},
	{`region in ["华南", nil]`, []int64{3, 4}},
	{`region not in ["华南", nil]`, []int64{1, 2, 5}},
	{`5 < qty`, []int64{4}},
	{`qty > 3 and region == "华东" or qty == 10`, []int64{1, 4}},
	{`!(qty > 3 && region == "华东")`, []int64{2, 3, 4, 5}},
	{`!(qty > 3 || region == "华东")`, []int64{3, 5}},
	{`!(region == "华东") || amount > 100000`, []int64{1, 3, 4, 5}},
	{`not (qty == 1)`, []int64{1, 3, 4, 5}},
	{`true`, []int64{1, 2, 3, 4, 5}},
	{`false`, nil},
	{`!is_admin()`, nil},
	{`account.region == "华南"`, []int64{1}},
	{`account.region != "华南"`, []int64{2, 3, 4, 5}},
	{`!(account.region == "华南")`, []int64{2, 3, 4, 5}},
	{`account.region == nil`, []int64{2, 3, 4}},
	{`account.region != nil`, []int64{1, 5}},
	{`account.name contains "a"`, []int64{1, 2, 5}},
	{`account.tier > 1`, []int64{5}},
	{`!(account.tier > 1)`, []int64{1, 2, 3, 4}},
	{`account.region in ["华北", nil]`, []int64{2, 3, 4, 5}},
	{`account.parent.region == "华南"`, []int64{5}},
	{`account.parent.region != "华南"`, []int64{1, 2, 3, 4}},
	{`account.parent.region == nil`, []int64{1, 2, 3, 4}},
	{`account == 1 || account.parent == 1`, []int64{1, 5}},
}

func TestFilterSQLite(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, "sqlite:"+t.TempDir()+"/t.db", db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	runFilterDB(t, d, "deals", "accounts")
}

func TestFilterPostgres(t *testing.T) {
	if dbtest.PostgresURL() == "" {
		t.Skip("TENON_TEST_POSTGRES not set")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, dbtest.Postgres(t, "tenon_expr"), db.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() }) // runs after the drops below
	suffix := fmt.Sprintf("%d_%d", time.Now().UnixNano(), os.Getpid())
	deals, accounts := "expr_deals_"+suffix, "expr_accounts_"+suffix
	t.Cleanup(func() {
		for _, tbl := range []string{deals, accounts} {
			if _, err := d.Exec(context.Background(), "DROP TABLE IF EXISTS "+d.Ident(tbl)); err != nil {
				t.Errorf("drop %s: %v", tbl, err)
			}
		}
	})
	runFilterDB(t, d, deals, accounts)
}

func runFilterDB(t *testing.T, d *db.DB, deals, accounts string) {
	ctx := context.Background()
	seedFilterDB(t, d, deals, accounts)
	env := newFakeEnv(d.Dialect, deals, accounts)
	for _, tc := range dbCases {
		sql, args, err := Compile(tc.src, env)
		if err != nil {
			t.Errorf("%s: compile: %v", tc.src, err)
			continue
		}
		rows, err := d.Query(ctx, "SELECT id FROM "+d.Ident(deals)+" t WHERE "+sql+" ORDER BY id", args...)
		if err != nil {
			t.Errorf("%s: query %s %v: %v", tc.src, sql, args, err)
			continue
		}
		var got []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, id)
		}
		if err := rows.Err(); err != nil {
			t.Errorf("%s: %v", tc.src, err)
		}
		rows.Close()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s (%s): got ids %v, want %v", tc.src, d.Kind, got, tc.want)
		}
	}
}

func seedFilterDB(t *testing.T, d *db.DB, deals, accounts string) {
	t.Helper()
	ctx := context.Background()
	ty := func(c db.ColType) string { return d.Type(c, 2) }
	ddl := []string{
		"CREATE TABLE " + d.Ident(accounts) + " (" + d.IDColumn() + `, "name" ` + ty(db.TText) + `, "region" ` + ty(db.TText) +
			`, "tier" ` + ty(db.TBigInt) + `, "parent" ` + ty(db.TBigInt) + `, "tenant" ` + ty(db.TBigInt) + `, "deleted" ` + ty(db.TBool) + ")",
		"CREATE TABLE " + d.Ident(deals) + " (" + d.IDColumn() + `, "name" ` + ty(db.TText) + `, "region" ` + ty(db.TText) +
			`, "amount" ` + ty(db.TDecimal) + `, "qty" ` + ty(db.TBigInt) + `, "active" ` + ty(db.TBool) + `, "due" ` + ty(db.TDate) +
			`, "created" ` + ty(db.TDateTime) + `, "at" ` + ty(db.TTime) + `, "owner" ` + ty(db.TBigInt) + `, "tags" ` + ty(db.TJSON) +
			`, "watchers" ` + ty(db.TJSON) + `, "meta" ` + ty(db.TJSON) + `, "account" ` + ty(db.TBigInt) + `, "secret" ` + ty(db.TText) + ")",
	}
	for _, q := range ddl {
		if _, err := d.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	type acc struct {
		id           int64
		name, region any
		tier, parent any
		tenant       int64
		deleted      bool
	}
	for _, a := range []acc{
		{1, "Alpha", "华南", 1, nil, 1, false},
		{2, "Beta", nil, nil, nil, 1, false},
		{3, "Gamma", "华南", 1, nil, 1, true}, // deleted: invisible
		{4, "Delta", "华北", 2, 1, 1, false},
		{5, "Other", "华南", 9, nil, 2, false}, // another tenant: invisible
	} {
		if _, err := d.Exec(ctx, "INSERT INTO "+d.Ident(accounts)+` ("id", "name", "region", "tier", "parent", "tenant", "deleted") VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.id, a.name, a.region, a.tier, a.parent, a.tenant, a.deleted); err != nil {
			t.Fatal(err)
		}
	}
	money := func(s string) any {
		dec := decimal.RequireFromString(s)
		if d.Kind == db.Postgres {
			return s
		}
		return dec.Shift(2).IntPart()
	}
	moment := func(s string) any {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		if d.Kind == db.Postgres {
			return tm
		}
		return tm.UTC().Format(DateTimeLayout)
	}
	type deal struct {
		id                                    int64
		name, region, amount, qty, active     any
		due, created, at, owner               any
		tags, watchers, meta, account, secret any
	}
	cst := func(s string) string { return s + "+08:00" }
	for _, r := range []deal{
		{1, "苏州精密机械有限公司", "华东", money("600000.00"), 5, true, "2026-03-01", moment(cst("2026-01-02T10:00:00")), "09:30:00", 7, `["vip","new"]`, `[7,8]`, `{"a":1}`, 1, "s"},
		{2, "上海贸易公司", "华东", money("12.50"), 1, false, "2026-03-20", moment(cst("2025-12-31T23:00:00")), "14:00:00", 8, `["old"]`, `[8]`, nil, 2, nil},
		{3, "Acme 50%_off", nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{4, "广州精密", "华南", money("0.10"), 10, true, "2026-03-10", moment(cst("2026-03-10T00:00:00")), "08:00:00", 9, `[]`, `[]`, nil, 3, nil},
		{5, nil, "华北", money("500000"), 2, false, "2026-02-01", moment(cst("2026-01-01T00:00:00")), nil, 10, nil, nil, nil, 4, nil},
	} {
		j := d.JSONParam()
		if _, err := d.Exec(ctx, "INSERT INTO "+d.Ident(deals)+` ("id", "name", "region", "amount", "qty", "active", "due", "created", "at", "owner", "tags", "watchers", "meta", "account", "secret")`+
			` VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, `+j+`, `+j+`, `+j+`, ?, ?)`,
			r.id, r.name, r.region, r.amount, r.qty, r.active, r.due, r.created, r.at, r.owner, r.tags, r.watchers, r.meta, r.account, r.secret); err != nil {
			t.Fatal(err)
		}
	}
}
