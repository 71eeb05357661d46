package expr

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

var testClock = Options{Now: func() time.Time { return time.Date(2026, 3, 9, 20, 30, 0, 0, time.UTC) }} // 2026-03-10 04:30 in UTC+8

var progVars = []string{"amount", "a", "b", "qty", "big", "name", "tags", "stage", "account", "user", "due", "created", "missing", "year", "f", "items"}

func progEnv() map[string]any {
	return map[string]any{
		"amount":  dec("100.10"),
		"a":       dec("0.1"),
		"b":       dec("0.2"),
		"qty":     int64(3),
		"big":     int64(9223372036854775807),
		"name":    "  Acme 精密机械 ",
		"tags":    []any{"vip", "new"},
		"stage":   "报价",
		"account": map[string]any{"region": "华南", "owner": map[string]any{"name": "王"}},
		"user":    map[string]any{"id": int64(7), "department": "sales"},
		"due":     time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC), // a date given at UTC midnight
		"created": time.Date(2026, 3, 9, 17, 0, 0, 0, time.UTC), // 2026-03-10 01:00 in UTC+8
		"year":    int64(2020),
		"f":       2.5,
		"items":   []any{map[string]any{"price": dec("9.99")}},
	}
}

func TestProgramRun(t *testing.T) {
	cases := []struct {
		src  string
		want any
	}{
		// decimals are exact
		{`a + b == 0.3`, true},
		{`a + b`, dec("0.3")},
		{`0.1 + 0.2 == 0.3`, true},
		{`0.1 + 0.2`, dec("0.3")},
		{`amount * 1.13`, dec("113.113")},
		{`amount * 2`, dec("200.2")},
		{`amount - 0.1 == 100`, true},
		{`amount > 100`, true},
		{`amount >= 100.1`, true},
		{`amount == 100.1`, true},
		{`amount < f`, false},
		{`amount / 4`, dec("25.025")},
		{`1 / 3`, dec("0.3333333333333333")},
		{`6 / 3`, int64(2)},
		{`7 % 3`, int64(1)},
		{`amount % 3`, dec("1.1")},
		{`-amount`, dec("-100.1")},
		{`-qty`, int64(-3)},
		{`+qty`, int64(3)},
		{`big + 1`, dec("9223372036854775808")},
		{`big * 2 > big`, true},
		{`f * 2`, 5.0},
		{`f + 0.5`, dec("3")},
		{`qty * 2 + 1`, int64(7)},
		{`round(2.345, 2)`, dec("2.35")},
		{`round(-2.345, 2)`, dec("-2.35")},
		{`round(amount)`, dec("100")},
		{`round(1234, -2)`, int64(1200)},
		{`round(f)`, 3.0},
		{`floor(amount)`, dec("100")},
		{`ceil(amount)`, dec("101")},
		{`abs(-5)`, int64(5)},
		{`abs(-amount)`, dec("100.1")},
		{`min(3, 1.5, missing)`, dec("1.5")},
		{`max(qty, 2, 10)`, int64(10)},
		{`max(tags)`, "vip"},
		{`min(missing)`, nil},
		// nil safety
		{`missing + 1`, nil},
		{`missing * amount`, nil},
		{`-missing`, nil},
		{`missing > 5`, false},
		{`!(missing > 5)`, true},
		{`missing == nil`, true},
		{`missing != nil`, false},
		{`missing == 0`, false},
		{`missing ?? 0`, int64(0)},
		{`(missing ?? 2) * qty`, int64(6)},
		{`missing.region`, nil},
		{`missing.region == "x"`, false},
		{`account.nope`, nil},
		{`account.owner.name`, "王"},
		{`account?.region`, "华南"},
		{`items[0].price * 2`, dec("19.98")},
		{`items[5].price`, nil},
		{`len(missing)`, int64(0)},
		{`upper(missing)`, nil},
		{`missing && true`, false},
		{`missing || qty > 1`, true},
		{`missing contains "a"`, false},
		{`"a" in missing`, false},
		{`round(missing, 2)`, nil},
		{`days_between(missing, due)`, nil},
		// text
		{`trim(name) + "!"`, "Acme 精密机械!"},
		{`upper(trim(name))`, "ACME 精密机械"},
		{`name | trim() | upper()`, "ACME 精密机械"}, // a pipe is only call syntax
		{`lower("ABC")`, "abc"},
		{`len("精密")`, int64(2)},
		{`name contains "acme"`, true},
		{`name contains "精密"`, true},
		{`trim(name) startsWith "ACME"`, true},
		{`trim(name) endsWith "机械"`, true},
		{`name not contains "x"`, true},
		{`"a" < "b"`, true},
		{`string(amount) + "元"`, "100.1元"},
		{`string(qty)`, "3"},
		{`string(due)`, "2026-03-10"},
		// lists
		{`"vip" in tags`, true},
		{`"old" not in tags`, true},
		{`tags contains "new"`, true},
		{`stage in ["报价", "商务谈判"]`, true},
		{`qty in [1, 2, 3.0]`, true},
		{`amount in [100.1]`, true},
		{`len(tags)`, int64(2)},
		{`"region" in account`, true},
		// conditions
		{`amount > 100 ? "big" : "small"`, "big"},
		{`missing ? 1 : 2`, int64(2)},
		{`if qty > 5 { "many" } else { "few" }`, "few"},
		{`qty > 1 and stage == "报价" or false`, true},
		{`not (qty > 1)`, false},
		{`user.department == "sales" && user.id == 7`, true},
		{`1 < qty < 5`, true},
		// dates (clock: 2026-03-10 04:30 UTC+8)
		{`today()`, time.Date(2026, 3, 10, 0, 0, 0, 0, DefaultLocation())},
		{`now()`, time.Date(2026, 3, 10, 4, 30, 0, 0, DefaultLocation())},
		{`due == today()`, true},
		{`due >= today() && due <= today()`, true},
		{`due == "2026-03-10"`, true},
		{`due < "2026-03-11"`, true},
		{`created >= today()`, true},
		{`created < "2026-03-10T01:00:01+08:00"`, true},
		{`days_between("2026-03-01", today())`, int64(9)},
		{`days_between(today(), due)`, int64(0)},
		{`days_between(created, "2026-04-10")`, int64(31)},
		{`add_days(today(), 30)`, time.Date(2026, 4, 9, 0, 0, 0, 0, DefaultLocation())},
		{`add_days(due, -10) < today()`, true},
		{`year(due)`, int64(2026)},
		{`month(created)`, int64(3)},
		{`year(today()) - year`, int64(6)},
		{`year(due) == 2026 && year == 2020`, true},
	}
	for _, tc := range cases {
		p, err := CompileProgramWith(tc.src, progVars, testClock)
		if err != nil {
			t.Errorf("%s: compile: %v", tc.src, err)
			continue
		}
		got, err := p.Run(progEnv())
		if err != nil {
			t.Errorf("%s: run: %v", tc.src, err)
			continue
		}
		if !sameValue(got, tc.want) {
			t.Errorf("%s = %#v (%T), want %#v (%T)", tc.src, fmt.Sprint(got), got, fmt.Sprint(tc.want), tc.want)
		}
	}
}

func sameValue(got, want any) bool {
	switch w := want.(type) {
	case decimal.Decimal:
		g, ok := got.(decimal.Decimal)
		return ok && g.Equal(w)
	case time.Time:
		g, ok := got.(time.Time)
		return ok && g.Equal(w) && g.Location().String() == w.Location().String()
	}
	return reflect.DeepEqual(got, want)
}

func TestProgramRunErrors(t *testing.T) {
	for _, src := range []string{
		`amount / 0`, `qty / 0`, `qty % 0`, `amount % 0`, `f / 0`,
		`name + 1`, `name * 2`, `qty > "a"`, `tags > 1`, `-name`,
		`qty && true`, `!name`, `name ? 1 : 2`, `qty in 5`, `qty contains "a"`,
		`abs("x")`, `round(amount, 100)`, `upper(1)`, `days_between("x", due)`,
		`created.Year`, `account[1]`, `1e99 * 1e99 * 1e99`,
	} {
		p, err := CompileProgramWith(src, progVars, testClock)
		if err != nil {
			t.Errorf("%s: compile: %v", src, err)
			continue
		}
		got, err := p.Run(progEnv())
		if err == nil {
			t.Errorf("%s = %v, want an error", src, got)
			continue
		}
		ae, ok := apperr.As(err)
		if !ok || ae.Code != "expression_failed" || !errors.Is(err, apperr.ErrUnprocessable) {
			t.Errorf("%s: %v is not expression_failed", src, err)
		}
	}
}

func TestRunBool(t *testing.T) {
	cases := []struct {
		src     string
		want    bool
		wantErr bool
	}{
		{`qty > 1`, true, false},
		{`missing`, false, false},
		{`missing == nil`, true, false},
		{`qty`, false, true},
		{`name`, false, true},
	}
	for _, tc := range cases {
		p, err := CompileProgram(tc.src, progVars)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.RunBool(progEnv())
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("%s: %v, %v", tc.src, got, err)
		}
	}
	// Missing variables and a nil map are nil.
	p, _ := CompileProgram(`qty == nil`, progVars)
	if ok, err := p.RunBool(nil); !ok || err != nil {
		t.Errorf("nil vars: %v %v", ok, err)
	}
}

func TestProgramRefused(t *testing.T) {
	huge := "qty" + strings.Repeat(" + 1", 600)
	cases := []string{
		``, `qty +`, `"abc`,
		strings.Repeat("1+", 5000) + "1", huge,
		`nope + 1`, `$env`, `$env.qty`,
		`map(tags, # + "x")`, `filter(tags, # == "a")`, `all(tags, # != "")`, `any(tags, true)`,
		`reduce(tags, #acc + 1, 0)`, `sortBy(tags, #)`, `groupBy(tags, #)`, `count(tags)`, `sum([1])`,
		`repeat("x", 1000000)`, `1..1000000`, `let x = qty; x * x`, `qty; qty`,
		`name matches "a+"`, `qty ** 2`, `qty ^ 2`, `tags | map(# + "x")`, `{"a": 1}`, `tags[0:1]`,
		`created.Year()`, `amount.Mul(amount)`, `date("2026-01-01")`, `env()`, `len()`, `len(1, 2)`,
		`round()`, `round(1, 2, 3)`, `today(1)`, `__add(1, 2)`, `fromJSON("1")`, `type(qty)`,
	}
	for _, src := range cases {
		err := Validate(src, progVars)
		ae, ok := apperr.As(err)
		if !ok || ae.Code != "bad_expression" || !errors.Is(err, apperr.ErrInvalid) {
			t.Errorf("%.60s: got %v, want bad_expression", src, err)
		}
	}
	if err := Validate(`qty + 1`, progVars); err != nil {
		t.Errorf("valid: %v", err)
	}
}

func TestProgramMemoryBudget(t *testing.T) {
	src := "len([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) > 0"
	p, err := CompileProgramWith(src, nil, Options{MemoryBudget: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Run(nil); err == nil {
		t.Error("the memory budget was not enforced")
	}
	p, _ = CompileProgram(src, nil)
	if ok, err := p.RunBool(nil); !ok || err != nil {
		t.Errorf("default budget: %v %v", ok, err)
	}
}

func TestProgramRefs(t *testing.T) {
	p, err := CompileProgram(`amount * qty + len(account.owner.name) + (user?.id ?? 0) > year(due)`, progVars)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"account", "amount", "due", "qty", "user"}; !reflect.DeepEqual(p.Refs(), want) {
		t.Errorf("refs %v, want %v", p.Refs(), want)
	}
	if want := []string{"account.owner", "account.owner.name", "user.id"}; !reflect.DeepEqual(p.Paths(), want) {
		t.Errorf("paths %v, want %v", p.Paths(), want)
	}
}

func TestProgramConcurrent(t *testing.T) {
	p, err := CompileProgram(`amount * qty`, progVars)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 200 {
				n := int64(i*1000 + j)
				got, err := p.Run(map[string]any{"amount": dec("1.5"), "qty": n})
				if err != nil || !got.(decimal.Decimal).Equal(dec("1.5").Mul(decimal.NewFromInt(n))) {
					t.Errorf("%d: %v %v", n, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
