package expr

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

func TestCompileSQL(t *testing.T) {
	sqlite := newFakeEnv(db.Dialect{Kind: db.SQLite}, "deals", "accounts")
	pg := newFakeEnv(db.Dialect{Kind: db.Postgres}, "deals", "accounts")
	acc := func(pred string) string {
		return `(t."account" IN (SELECT a1."id" FROM "accounts" a1 WHERE a1."tenant" = ? AND ` + pred + ` AND a1."deleted" = ?))`
	}
	cases := []struct {
		name string
		env  Env
		src  string
		sql  string
		args []any
	}{
		{"and", sqlite, `region == "华东" && amount >= 500000`, `((t."region" = ?) AND (t."amount" >= ?))`, []any{"华东", int64(50000000)}},
		{"and word", sqlite, `qty == 1 and region == "a" or qty == 3`, `(((t."qty" = ?) AND (t."region" = ?)) OR (t."qty" = ?))`, []any{int64(1), "a", int64(3)}},
		{"contains", sqlite, `name contains "精密"`, `(t."name" LIKE ? ESCAPE '\')`, []any{"%精密%"}},
		{"contains escapes", sqlite, `name contains "5%_\\"`, `(t."name" LIKE ? ESCAPE '\')`, []any{`%5\%\_\\%`}},
		{"contains pg", pg, `name contains "精密"`, `(t."name" ILIKE ? ESCAPE '\')`, []any{"%精密%"}},
		{"startsWith", sqlite, `name startsWith "苏州"`, `(t."name" LIKE ? ESCAPE '\')`, []any{"苏州%"}},
		{"endsWith", sqlite, `name endsWith "公%司"`, `(t."name" LIKE ? ESCAPE '\')`, []any{`%公\%司`}},
		{"not contains", sqlite, `name not contains "x"`, `(t."name" IS NULL OR NOT (t."name" LIKE ? ESCAPE '\'))`, []any{"%x%"}},
		{"in", sqlite, `region in ["报价", "商务谈判"]`, `(t."region" IN (?, ?))`, []any{"报价", "商务谈判"}},
		{"not in", sqlite, `amount not in [1, 2]`, `(t."amount" IS NULL OR t."amount" NOT IN (?, ?))`, []any{int64(100), int64(200)}},
		{"in empty", sqlite, `qty in []`, `(1=0)`, nil},
		{"not in empty", sqlite, `qty not in []`, `(1=1)`, nil},
		{"in with nil", sqlite, `region in ["a", nil]`, `(t."region" IS NULL OR t."region" IN (?))`, []any{"a"}},
		{"not in with nil", sqlite, `region not in ["a", nil]`, `(t."region" IS NOT NULL AND t."region" NOT IN (?))`, []any{"a"}},
		{"in only nil", sqlite, `region in [nil]`, `(t."region" IS NULL)`, nil},
		{"is nil", sqlite, `due == nil`, `(t."due" IS NULL)`, nil},
		{"nil flipped", sqlite, `nil != due`, `(t."due" IS NOT NULL)`, nil},
		{"json nil", sqlite, `meta != nil`, `(t."meta" IS NOT NULL)`, nil},
		{"list nil", sqlite, `tags == nil`, `(t."tags" IS NULL)`, nil},
		{"ne", sqlite, `region != "x"`, `(t."region" IS NULL OR t."region" <> ?)`, []any{"x"}},
		{"not", sqlite, `!(region == "won") || amount > 10`, `((t."region" IS NULL OR t."region" <> ?) OR (t."amount" > ?))`, []any{"won", int64(1000)}},
		{"not word", sqlite, `not (qty == 1)`, `(t."qty" IS NULL OR t."qty" <> ?)`, []any{int64(1)}},
		{"de morgan", sqlite, `!(qty > 1 && qty <= 5)`, `((t."qty" IS NULL OR t."qty" <= ?) OR (t."qty" IS NULL OR t."qty" > ?))`, []any{int64(1), int64(5)}},
		{"flip", sqlite, `5 < qty`, `(t."qty" > ?)`, []any{int64(5)}},
		{"flip eq", sqlite, `"华东" == region`, `(t."region" = ?)`, []any{"华东"}},
		{"bare bool", sqlite, `active`, `(t."active" = ?)`, []any{true}},
		{"not bool", sqlite, `!active`, `(t."active" IS NULL OR t."active" <> ?)`, []any{true}},
		{"constant", sqlite, `true`, `(1=1)`, nil},
		{"not constant", sqlite, `!true`, `(1=0)`, nil},
		{"func", sqlite, `owner == me()`, `(t."owner" = ?)`, []any{int64(7)}},
		{"func list", sqlite, `owner in my_team()`, `(t."owner" IN (?, ?))`, []any{int64(7), int64(8)}},
		{"func date", sqlite, `due >= today()`, `(t."due" >= ?)`, []any{"2026-03-10"}},
		{"func args", sqlite, `due > days_ago(3)`, `(t."due" > ?)`, []any{"2026-03-07"}},
		{"func bool", sqlite, `is_admin() || qty == 1`, `((1=1) OR (t."qty" = ?))`, []any{int64(1)}},
		{"id string", sqlite, `owner == "12"`, `(t."owner" = ?)`, []any{int64(12)}},
		{"datetime", sqlite, `created >= "2026-01-01T00:00:00+08:00"`, `(t."created" >= ?)`, []any{"2025-12-31T16:00:00.000000Z"}},
		{"datetime pg", pg, `created >= "2026-01-01T00:00:00+08:00"`, `(t."created" >= ?)`, []any{time.Date(2025, 12, 31, 16, 0, 0, 0, time.UTC)}},
		{"time", sqlite, `at >= "09:30"`, `(t."at" >= ?)`, []any{"09:30:00"}},
		{"decimal exact", sqlite, `amount == 12.35`, `(t."amount" = ?)`, []any{int64(1235)}},
		{"decimal negative", sqlite, `amount > -0.1`, `(t."amount" > ?)`, []any{int64(-10)}},
		{"decimal pg", pg, `amount == 1234567890123.45`, `(t."amount" = ?)`, []any{"1234567890123.45"}},
		{"int from float", sqlite, `qty == 2.0`, `(t."qty" = ?)`, []any{int64(2)}},
		{"list contains", sqlite, `tags contains "vip"`, `(EXISTS (SELECT 1 FROM json_each(t."tags") WHERE json_each.value = ?))`, []any{"vip"}},
		{"list in", sqlite, `"vip" in tags`, `(EXISTS (SELECT 1 FROM json_each(t."tags") WHERE json_each.value = ?))`, []any{"vip"}},
		{"list not in", sqlite, `"vip" not in tags`, `(t."tags" IS NULL OR NOT (EXISTS (SELECT 1 FROM json_each(t."tags") WHERE json_each.value = ?)))`, []any{"vip"}},
		{"list pg", pg, `tags contains "vip"`, `((t."tags" @> jsonb_build_array(?::text)))`, []any{"vip"}},
		{"id list", sqlite, `watchers contains "7"`, `(EXISTS (SELECT 1 FROM json_each(t."watchers") WHERE json_each.value = ?))`, []any{int64(7)}},
		{"id list pg", pg, `7 in watchers`, `((t."watchers" @> jsonb_build_array(?::bigint)))`, []any{int64(7)}},
		{"link", sqlite, `account.region == "华南"`, acc(`(a1."region" = ?)`), []any{int64(1), "华南", false}},
		{"link ne", sqlite, `account.region != "华南"`, `(NOT COALESCE(` + acc(`(a1."region" = ?)`) + `, FALSE))`, []any{int64(1), "华南", false}},
		{"link not", sqlite, `!(account.region == "华南")`, `(NOT COALESCE(` + acc(`(a1."region" = ?)`) + `, FALSE))`, []any{int64(1), "华南", false}},
		{"link nil", sqlite, `account.region == nil`, `(NOT COALESCE(` + acc(`(a1."region" IS NOT NULL)`) + `, FALSE))`, []any{int64(1), false}},
		{"link not nil", sqlite, `account.region != nil`, acc(`(a1."region" IS NOT NULL)`), []any{int64(1), false}},
		{"link twice", sqlite, `account.parent.region == "x"`,
			acc(`(a1."parent" IN (SELECT a2."id" FROM "accounts" a2 WHERE a2."tenant" = ? AND (a2."region" = ?) AND a2."deleted" = ?))`),
			[]any{int64(1), int64(1), "x", false, false}},
	}
	for _, tc := range cases {
		sql, args, err := Compile(tc.src, tc.env)
		if err != nil {
			t.Errorf("%s: %s: %v", tc.name, tc.src, err)
			continue
		}
		if sql != tc.sql {
			t.Errorf("%s: %s:\n got %s\nwant %s", tc.name, tc.src, sql, tc.sql)
		}
		if !reflect.DeepEqual(args, tc.args) {
			t.Errorf("%s: %s: args %#v, want %#v", tc.name, tc.src, args, tc.args)
		}
		if n := countPlaceholders(sql); n != len(args) {
			t.Errorf("%s: %d placeholders, %d args", tc.name, n, len(args))
		}
	}
}

func TestCompileErrors(t *testing.T) {
	env := newFakeEnv(db.Dialect{Kind: db.SQLite}, "deals", "accounts")
	long := "qty == 1" + strings.Repeat(" || qty == 1", 400)
	many := "qty == 1" + strings.Repeat(" || qty == 1", 60)
	bigList := "qty in [" + strings.TrimSuffix(strings.Repeat("1,", 1001), ",") + "]"
	okList := "qty in [" + strings.TrimSuffix(strings.Repeat("1,", 1000), ",") + "]"
	if _, _, err := Compile(okList, env); err != nil {
		t.Errorf("a list of 1000: %v", err)
	}
	cases := []struct {
		src, code, reason string
	}{
		{`nope == 1`, "unknown_field", ""},
		{`secret == "x"`, "unknown_field", ""},
		{`account.secret == "x"`, "unknown_field", ""},
		{`nope.region == "x"`, "unknown_field", ""},
		{`status == "won"`, "unknown_field", ""},
		{long, "filter_too_complex", ""},
		{many, "filter_too_complex", ""},
		{bigList, "filter_too_complex", ""},
		{`account.parent.parent.parent.region == "x"`, "filter_too_complex", ""},
		{`qty ==`, "bad_filter", "syntax error"},
		{`qty == "a`, "bad_filter", "syntax error"},
		{`(qty == 1`, "bad_filter", "syntax error"},
		{``, "bad_filter", ""},
		{`qty > 1 ? true : false`, "bad_filter", "conditional"},
		{`qty | abs() == 1`, "bad_filter", ""},
		{`map(tags, # == "a")`, "bad_filter", "map"},
		{`all(tags, {# == "a"})`, "bad_filter", ""},
		{`name matches "^a"`, "bad_filter", "regular"},
		{`qty + 1 > 2`, "bad_filter", "arithmetic"},
		{`qty == 1 + 1`, "bad_filter", ""},
		{`qty == amount`, "bad_filter", "two fields"},
		{`1 == 1`, "bad_filter", "field"},
		{`qty`, "bad_filter", "condition"},
		{`nil`, "bad_filter", ""},
		{`"a"`, "bad_filter", ""},
		{`let x = 1; qty == x`, "bad_filter", ""},
		{`qty == 1; qty == 2`, "bad_filter", ""},
		{`account?.region == "x"`, "bad_filter", "optional"},
		{`name.upper() == "X"`, "bad_filter", ""},
		{`tags[0] == "x"`, "bad_filter", ""},
		{`{"a": 1} == qty`, "bad_filter", ""},
		{`qty == "abc"`, "bad_filter", "whole number"},
		{`qty == 1.5`, "bad_filter", "whole number"},
		{`active == 1`, "bad_filter", "true or false"},
		{`due == "tomorrow"`, "bad_filter", "date"},
		{`created > "2026-13-01T00:00:00Z"`, "bad_filter", ""},
		{`at == "25:00"`, "bad_filter", "time"},
		{`owner == "abc"`, "bad_filter", "id"},
		{`amount == "x"`, "bad_filter", ""},
		{`name == 5`, "bad_filter", "text"},
		{`active > true`, "bad_filter", ""},
		{`owner > 5`, "bad_filter", ""},
		{`tags > "a"`, "bad_filter", ""},
		{`meta > 1`, "bad_filter", ""},
		{`tags == "a"`, "bad_filter", ""},
		{`meta == "a"`, "bad_filter", ""},
		{`tags in ["a"]`, "bad_filter", ""},
		{`"a" in name`, "bad_filter", ""},
		{`qty contains 1`, "bad_filter", ""},
		{`tags startsWith "a"`, "bad_filter", ""},
		{`"a" contains name`, "bad_filter", ""},
		{`name contains 5`, "bad_filter", ""},
		{`qty < nil`, "bad_filter", "nil"},
		{`qty == [1]`, "bad_filter", ""},
		{`qty in 1`, "bad_filter", ""},
		{`qty in [1, [2]]`, "bad_filter", ""},
		{`qty in [qty]`, "bad_filter", ""},
		{`qty == nobody_knows()`, "unknown_function", ""},
		{`qty == me(me())`, "bad_filter", ""},
		{`qty.region == 1`, "bad_filter", "not a link"},
		{`$env == 1`, "bad_filter", ""},
		{`-qty == 1`, "bad_filter", ""},
		{`qty == -"a"`, "bad_filter", ""},
		{`b"x" == name`, "bad_filter", ""},
		{`qty == 1..3`, "bad_filter", ""},
		{`name ?? "x" == "x"`, "bad_filter", ""},
	}
	for _, tc := range cases {
		sql, _, err := Compile(tc.src, env)
		ae, ok := apperr.As(err)
		if !ok {
			t.Errorf("%q: got %q, %v; want an apperr %s", tc.src, sql, err, tc.code)
			continue
		}
		if !errors.Is(err, apperr.ErrInvalid) || ae.Code != tc.code {
			t.Errorf("%q: got %v, want %s", tc.src, err, tc.code)
			continue
		}
		if tc.reason != "" && !strings.Contains(ae.Error(), tc.reason) {
			t.Errorf("%q: %v should mention %q", tc.src, err, tc.reason)
		}
		for _, bad := range []string{`t."`, "SELECT", "LIKE", "IS NULL", "a1."} {
			if strings.Contains(err.Error(), bad) {
				t.Errorf("%q: error %v contains SQL", tc.src, err)
			}
		}
	}

	// A hidden field is indistinguishable from an unknown one.
	_, _, e1 := Compile(`secret == "x"`, env)
	_, _, e2 := Compile(`nope == "x"`, env)
	a1, _ := apperr.As(e1)
	a2, _ := apperr.As(e2)
	if a1.Code != a2.Code || len(a1.Args) != len(a2.Args) || reflect.TypeOf(a1.Args["field"]) != reflect.TypeOf(a2.Args["field"]) {
		t.Errorf("hidden %v and unknown %v differ", e1, e2)
	}

	// A function failing for an internal reason is not a 400.
	_, _, err := Compile(`owner == broken()`, env)
	if err == nil || errors.Is(err, apperr.ErrInvalid) {
		t.Errorf("broken(): %v", err)
	}
}

// A wrapper may put its own placeholders anywhere around the predicate.
func TestWrapLinkArgsOrder(t *testing.T) {
	inner := fragment{sql: "(x = ?)", args: []any{"in"}}
	got, err := wrapLink(func(p string) (string, []any) {
		return `a = ? AND b = '?' AND "c?" = ? AND ` + p + ` AND d = ?`, []any{1, 2, 3}
	}, inner)
	if err != nil {
		t.Fatal(err)
	}
	if want := []any{1, 2, "in", 3}; !reflect.DeepEqual(got.args, want) {
		t.Errorf("args %v, want %v", got.args, want)
	}
	if _, err := wrapLink(func(p string) (string, []any) { return p + " AND x = ?", nil }, inner); err == nil {
		t.Error("a wrapper with too few args must fail")
	}
	if _, err := wrapLink(func(string) (string, []any) { return "1=1", nil }, inner); err == nil {
		t.Error("a wrapper dropping the predicate must fail")
	}
}
