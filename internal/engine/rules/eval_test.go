package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// dealsEntity is an entity definition for compiling without a database.
func dealsEntity() *meta.Entity {
	return &meta.Entity{Name: "deals", Fields: []meta.Field{
		{Name: "name", Type: "text"}, {Name: "amount", Type: "money"}, {Name: "region", Type: "select"},
		{Name: "note", Type: "long_text"}, {Name: "qty", Type: "integer"}, {Name: "tags", Type: "tags"},
		{Name: "closed_on", Type: "date"}, {Name: "extra", Type: "json"},
	}}
}

// testEngine is an engine that can compile and evaluate (no database).
func testEngine(l Limits) *Engine {
	return &Engine{limits: l.withDefaults(), now: func() time.Time { return time.Date(2026, 11, 20, 9, 0, 0, 0, meta.Shanghai) }}
}

func mustCompile(t testing.TB, e *Engine, src string) *program {
	t.Helper()
	c := &compiler{e: e, ent: dealsEntity(), limits: e.limits}
	p := c.compile("condition", src, nil)
	if p == nil {
		t.Fatalf("compile %q: %v", src, c.errs)
	}
	return p
}

func deal(amount string, region string) records.Record {
	return records.Record{"id": int64(7), "name": "五轴加工中心", "amount": decimal.RequireFromString(amount), "region": region,
		"qty": int64(3), "tags": []string{"重点", "华东"}, "closed_on": "2026-11-30"}
}

// TestConditions: the semantics conditions rely on, notably money (exact
// decimals) compared with integer literals, which has a fast path.
func TestConditions(t *testing.T) {
	e := testEngine(Limits{})
	cases := []struct {
		src    string
		amount string
		want   bool
	}{
		{`amount > 500000 && region == "华东"`, "600000.00", true},
		{`amount > 500000 && region == "华东"`, "500000.00", false},
		{`amount > 500000`, "500000.01", true},
		{`amount >= 500000`, "500000.00", true},
		{`amount < 500000`, "499999.99", true},
		{`amount == 500000`, "500000.00", true},
		{`amount != 500000`, "500000.10", true},
		{`amount > -2`, "-1.50", true},
		{`amount < -1`, "-1.50", true},
		{`amount < -2`, "-1.50", false},
		{`-1 > amount`, "-1.50", true},
		{`amount > 0.1 + 0.2 - 0.3`, "0.01", true},
		{`amount > 9223372036854775807`, "1.00", false},
		{`amount * qty > 1000`, "400.00", true},
		{`"重点" in tags && name contains "加工"`, "1.00", true},
		{`closed_on > today()`, "1.00", true},
		{`days_between(today(), closed_on) == 10`, "1.00", true},
		{`extra?.x == nil && !(region in ["华南", "华北"])`, "1.00", true},
		{`user?.login != "admin"`, "1.00", true},
	}
	for _, c := range cases {
		p := mustCompile(t, e, c.src)
		sc := &scope{e: e, ent: dealsEntity(), rec: deal(c.amount, "华东")}
		got, err := sc.evalBool(p)
		if err != nil || got != c.want {
			t.Errorf("%s with amount %s: %v, %v; want %v", c.src, c.amount, got, err, c.want)
		}
	}
}

// TestEvaluationCutOff: the VM's memory budget and the engine's step
// budget stop an evaluation, as a cut-off error.
func TestEvaluationCutOff(t *testing.T) {
	list := `["` + strings.Repeat(`a", "`, 40) + `b"]`
	e := testEngine(Limits{MemoryBudget: 20})
	p := mustCompile(t, e, `region in `+list)
	_, err := (&scope{e: e, ent: dealsEntity(), rec: deal("1", "x")}).evalBool(p)
	if !isCutOff(err) || !strings.Contains(err.Error(), "memory budget") {
		t.Fatalf("memory budget: %v", err)
	}

	e = testEngine(Limits{StepBudget: 200})
	p = mustCompile(t, e, `note contains "紧急"`)
	rec := deal("1", "x")
	rec["note"] = strings.Repeat("很长的备注", 100) // 1,500 bytes: fits
	if ok, err := (&scope{e: e, ent: dealsEntity(), rec: rec}).evalBool(p); err != nil || ok {
		t.Fatalf("short note: %v, %v", ok, err)
	}
	rec["note"] = strings.Repeat("很长的备注", 5000) // 75,000 bytes: over the budget
	_, err = (&scope{e: e, ent: dealsEntity(), rec: rec}).evalBool(p)
	if !isCutOff(err) || !strings.Contains(err.Error(), "step budget") {
		t.Fatalf("step budget: %v", err)
	}
	if ae, _ := apperr.As(err); ae == nil || ae.Kind != apperr.ErrUnprocessable {
		t.Fatalf("kind: %v", err)
	}
}

// TestCompileLimits: size and cost are refused at compile time with the
// field and the problem.
func TestCompileLimits(t *testing.T) {
	e := testEngine(Limits{MaxExprCost: 50})
	c := &compiler{e: e, ent: dealsEntity(), limits: e.limits}
	if c.compile("actions[1].expressions.note", `upper(name) contains "A" || upper(note) contains "B" || lower(region) == "c"`, nil) != nil {
		t.Fatal("a costly expression compiled")
	}
	if len(c.errs) != 1 || c.errs[0].Field != "actions[1].expressions.note" || c.errs[0].Code != "rule_expression_too_costly" {
		t.Fatalf("errors: %v", c.errs)
	}
	c = &compiler{e: e, ent: dealsEntity(), limits: e.limits}
	if c.compile("condition", strings.Repeat("qty + ", 400)+"1 > 0", nil) != nil || c.errs[0].Code != "rule_expression_too_large" {
		t.Fatalf("large: %v", c.errs)
	}
}

// TestTemplatesAndInputs: templates render values readably; computed
// values become the input form of their field.
func TestTemplatesAndInputs(t *testing.T) {
	e := testEngine(Limits{})
	c := &compiler{e: e, ent: dealsEntity(), limits: e.limits}
	tpl := c.compileTemplate("title", "{{name}}：{{amount}} 元，{{tags}}，{{ add_days(closed_on, 1) }}")
	if tpl == nil {
		t.Fatal(c.errs)
	}
	got, err := (&scope{e: e, ent: dealsEntity(), rec: deal("1234.50", "华东")}).render(tpl)
	if err != nil || got != "五轴加工中心：1234.5 元，重点、华东，2026-12-01" {
		t.Fatalf("render: %q, %v", got, err)
	}
	if c.compileTemplate("title", "{{name") != nil {
		t.Fatal("an unclosed template compiled")
	}
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, meta.Shanghai)
	for _, tc := range []struct {
		typ  string
		in   any
		want any
	}{
		{"date", day, "2026-12-01"},
		{"datetime", "2026-12-01", "2026-12-01T00:00:00+08:00"},
		{"money", decimal.RequireFromString("1.50"), "1.5"},
		{"integer", int64(3), "3"},
		{"link", int64(42), "42"},
		{"text", int64(42), "42"},
		{"tags", "x", []any{"x"}},
	} {
		got := records.InputValue(&meta.Field{Name: "f", Type: tc.typ}, tc.in)
		if s, ok := got.(interface{ String() string }); ok {
			got = s.String()
		}
		if strings.TrimSpace(formatValue(got)) != strings.TrimSpace(formatValue(tc.want)) {
			t.Errorf("%s %v: %v, want %v", tc.typ, tc.in, got, tc.want)
		}
	}
}

// BenchmarkConditionEval measures one rule-condition evaluation the way
// the records hook does it: a compiled program reused, the variables it
// reads taken from a prepared canonical record, metered. Run with -cpu 1
// for the per-core figure (bench/README.md): evals/cpu-s is per second of
// CPU the process used, which a busy machine does not inflate.
func BenchmarkConditionEval(b *testing.B) {
	e := testEngine(Limits{})
	p := mustCompile(b, e, `amount > 500000 && region == "华东"`)
	sc := &scope{e: e, ent: dealsEntity(), rec: deal("600000.00", "华东")}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		ok, err := sc.evalBool(p)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
	// On a shared machine the wall clock counts time the benchmark waited
	// for a core; CPU time (the whole process, the collector included)
	// is the per-core figure.
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(b.N)/cpu.Seconds(), "evals/cpu-s")
	}
}

// BenchmarkConditionEvalParallel is the same on every core at once.
func BenchmarkConditionEvalParallel(b *testing.B) {
	e := testEngine(Limits{})
	p := mustCompile(b, e, `amount > 500000 && region == "华东" && user.login != "admin"`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		sc := &scope{e: e, ent: dealsEntity(), rec: deal("600000.00", "华东"), user: map[string]any{"login": "rep.east"}}
		for pb.Next() {
			if ok, err := sc.evalBool(p); err != nil || !ok {
				b.Fatal(ok, err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
