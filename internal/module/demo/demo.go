// Package demo loads the demo company. Load creates the organisation:
// regions, departments, roles with their permission matrix and a dozen
// users (every demo user's password is "demo1234", see README); the
// scenario tests start from it. LoadCompany adds the business of a
// believable manufacturer (company.go): accounts with contacts, leads
// across channels and the pools, opportunities across the stages,
// campaigns, a year of activities, lead pools and assignment rules.
//
// The permission matrix: reps read and work the leads, accounts, contacts,
// activities and opportunities of their regions (and those they own), and
// never see an account's credit data (credit_limit, credit_rating,
// receivables); the sales manager sees the team's records (the sales
// department's tree) and the regions they cover, credit data read-only;
// finance reads every account with its credit data and maintains it;
// marketing runs campaigns and web forms and reads every lead and deal but
// not the deals' amounts; the general manager reads everything.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Password is every demo user's password.
const Password = "demo1234"

// Load creates the demo organisation in one transaction. It refuses a
// database that already holds users other than admin.
func Load(ctx context.Context, recs *records.Service, au *auth.Service) error {
	sys := access.System()
	return recs.DB().WithTx(ctx, func(ctx context.Context) error {
		n, err := recs.Count(ctx, sys, "users", `login != "admin"`)
		if err != nil {
			return err
		}
		if n > 0 {
			return apperr.Conflict("demo_not_empty")
		}
		mk := func(entity string, in map[string]any) (string, error) {
			r, err := recs.Create(ctx, sys, entity, in)
			if err != nil {
				return "", fmt.Errorf("demo %s: %w", entity, err)
			}
			return fmt.Sprint(r.ID()), nil
		}
		for _, r := range [][3]string{{"华东", "华东区", `["上海","江苏","浙江","安徽"]`}, {"华南", "华南区", `["广东","福建","广西","海南"]`},
			{"华北", "华北区", `["北京","天津","河北","山东"]`}, {"西南", "西南区", `["四川","重庆","云南","贵州"]`}} {
			var prov []any
			_ = json.Unmarshal([]byte(r[2]), &prov)
			if _, err := mk("regions", map[string]any{"code": r[0], "name": r[1], "provinces": prov}); err != nil {
				return err
			}
		}
		top, err := mk("departments", map[string]any{"name": "总经办", "code": "GM"})
		if err != nil {
			return err
		}
		sales, err := mk("departments", map[string]any{"name": "销售部", "code": "SALES", "parent": top})
		if err != nil {
			return err
		}
		north, err := mk("departments", map[string]any{"name": "华北销售组", "code": "SALES-N", "parent": sales})
		if err != nil {
			return err
		}
		east, err := mk("departments", map[string]any{"name": "华东销售组", "code": "SALES-E", "parent": sales})
		if err != nil {
			return err
		}
		south, err := mk("departments", map[string]any{"name": "华南销售组", "code": "SALES-S", "parent": sales})
		if err != nil {
			return err
		}
		depts := map[string]string{"GM": top, "SALES": sales, "SALES-E": east, "SALES-S": south, "SALES-N": north}
		for _, d := range [][2]string{{"生产部", "PROD"}, {"质量部", "QA"}, {"采购部", "PURCH"}, {"财务部", "FIN"}, {"售后服务部", "SVC"}, {"市场部", "MKT"}, {"法务部", "LEGAL"}} {
			id, err := mk("departments", map[string]any{"name": d[0], "code": d[1], "parent": top})
			if err != nil {
				return err
			}
			depts[d[1]] = id
		}
		org := func(actions ...string) []any {
			var out []any
			for _, e := range []string{"users", "departments", "regions"} {
				out = append(out, map[string]any{"entity": e, "actions": toAny(actions), "scope": "all"})
			}
			return out
		}
		// Every user sees the directory and keeps their own profile
		// (org.Grants); the general manager and finance also export it.
		matrix := permissions(recs)
		roles := map[string]string{}
		for _, r := range []struct {
			name, title string
			perms       []any
		}{
			{"general_manager", "总经理 / General manager", append(org("read", "export"), matrix["general_manager"]...)},
			{"sales_manager", "销售经理 / Sales manager", matrix["sales_manager"]},
			{"sales_rep", "销售代表 / Sales rep", matrix["sales_rep"]},
			{"production", "生产 / Production", matrix["production"]},
			{"legal", "法务 / Legal", matrix["legal"]},
			{"quality", "质量 / Quality", []any{}},
			{"purchasing", "采购 / Purchasing", []any{}},
			{"finance", "财务 / Finance", append(org("read", "export"), matrix["finance"]...)},
			{"service", "售后 / Service", matrix["service"]},
			{"marketing", "市场 / Marketing", matrix["marketing"]},
		} {
			if r.perms == nil {
				r.perms = []any{}
			}
			id, err := mk("roles", map[string]any{"name": r.name, "title": r.title, "permissions": r.perms})
			if err != nil {
				return err
			}
			roles[r.name] = id
		}
		type u struct {
			login, name, dept, role, manager string
			regions                          []any
		}
		ids := map[string]string{}
		for _, x := range []u{
			{"gm", "王总", "GM", "general_manager", "", nil},
			{"sales.manager", "李经理", "SALES", "sales_manager", "gm", []any{"华东", "华南", "华北", "西南"}},
			{"rep.east", "张伟", "SALES-E", "sales_rep", "sales.manager", []any{"华东"}},
			{"rep.east2", "陈静", "SALES-E", "sales_rep", "sales.manager", []any{"华东"}},
			{"rep.south", "刘洋", "SALES-S", "sales_rep", "sales.manager", []any{"华南"}},
			{"rep.north", "王磊", "SALES-N", "sales_rep", "sales.manager", []any{"华北"}},
			{"prod.lead", "赵强", "PROD", "production", "gm", nil},
			{"qa.lead", "孙丽", "QA", "quality", "gm", nil},
			{"buyer", "周敏", "PURCH", "purchasing", "gm", nil},
			{"finance", "吴芳", "FIN", "finance", "gm", nil},
			{"service.eng", "郑磊", "SVC", "service", "gm", []any{"华东", "华南"}},
			{"marketing", "林晓", "MKT", "marketing", "gm", nil},
			{"legal", "周律师", "LEGAL", "legal", "gm", nil},
		} {
			in := map[string]any{"login": x.login, "name": x.name, "active": true, "department": depts[x.dept],
				"roles": []any{roles[x.role]}, "email": x.login + "@demo.tenon.local"}
			if x.manager != "" {
				in["manager"] = ids[x.manager]
			}
			if x.regions != nil {
				in["regions"] = x.regions
			}
			id, err := mk("users", in)
			if err != nil {
				return err
			}
			ids[x.login] = id
			var uid int64
			fmt.Sscan(id, &uid)
			if err := au.SetPassword(ctx, uid, Password); err != nil {
				return err
			}
		}
		for code, head := range map[string]string{"GM": "gm", "SALES": "sales.manager", "SALES-E": "rep.east", "SALES-N": "rep.north", "MKT": "marketing"} {
			var did int64
			fmt.Sscan(depts[code], &did)
			if _, err := recs.Update(ctx, sys, "departments", did, map[string]any{"head": ids[head]}, 0); err != nil {
				return err
			}
		}
		return nil
	})
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, x := range s {
		out[i] = x
	}
	return out
}

// creditFields are the accounts' credit data, hidden from reps.
var creditFields = []string{"credit_limit", "credit_rating", "receivables"}

// marginFields are the cost and margin of quotes, contracts and orders
// (header and lines), which reps, legal and production never see.
var marginFields = []string{"unit_cost", "cost", "cost_total", "margin", "margin_pct"}

// dealAmounts are the opportunities' money fields, hidden from marketing.
var dealAmounts = []string{"amount", "bant_budget", "products"}

// permissions is the demo's permission matrix by role, limited to the
// entities this build defines (the business modules add them).
func permissions(recs *records.Service) map[string][]any {
	type grant struct {
		entity  string
		actions []string
		scope   string
		hidden  []string
		ro      []string
	}
	work := []string{"read", "create", "update", "export"}
	full := []string{"read", "create", "update", "delete", "import", "export"}
	sales := []string{"leads", "accounts", "contacts", "activities", "opportunities"}
	var rep, manager []grant
	for _, e := range sales {
		var hidden, ro []string
		if e == "accounts" {
			hidden, ro = creditFields, creditFields
		}
		rep = append(rep, grant{e, work, "regions", hidden, nil})
		manager = append(manager, grant{e, full, "department_tree", nil, ro}, grant{e, full, "regions", nil, ro})
	}
	rep = append(rep, grant{"activities", []string{"delete"}, "own", nil, nil},
		grant{"campaigns", []string{"read"}, "all", nil, nil}, grant{"pipelines", []string{"read"}, "all", nil, nil},
		grant{"lead_pools", []string{"read"}, "all", nil, nil}, grant{"grade_rules", []string{"read"}, "all", nil, nil},
		grant{"sales_targets", []string{"read"}, "own", nil, nil})
	manager = append(manager, grant{"campaigns", []string{"read", "create", "update", "export"}, "all", nil, nil},
		grant{"pipelines", []string{"read"}, "all", nil, nil}, grant{"lead_pools", []string{"read", "update"}, "all", nil, nil},
		grant{"lead_assignment_rules", []string{"read", "create", "update"}, "all", nil, nil},
		grant{"sales_targets", full, "all", nil, nil}, grant{"grade_rules", []string{"read"}, "all", nil, nil})
	var gm []grant
	for _, e := range append(sales, "campaigns", "pipelines", "sales_targets", "lead_pools", "lead_assignment_rules", "grade_rules", "web_forms") {
		gm = append(gm, grant{e, []string{"read", "export"}, "all", nil, nil})
	}
	finance := []grant{{"accounts", []string{"read", "update", "export"}, "all", nil, nil},
		{"contacts", []string{"read"}, "all", nil, nil}, {"opportunities", []string{"read", "export"}, "all", nil, nil},
		{"sales_targets", []string{"read"}, "all", nil, nil}, {"grade_rules", []string{"read"}, "all", nil, nil}}
	marketing := []grant{{"campaigns", full, "all", nil, nil}, {"web_forms", full, "all", nil, nil},
		{"leads", full, "all", nil, nil}, {"opportunities", []string{"read", "export"}, "all", dealAmounts, nil},
		{"accounts", []string{"read"}, "all", creditFields, nil}, {"lead_pools", []string{"read"}, "all", nil, nil}}
	service := []grant{{"accounts", []string{"read"}, "regions", creditFields, nil}, {"contacts", []string{"read"}, "regions", nil, nil},
		{"activities", []string{"read", "create", "update"}, "regions", nil, nil}}
	// Quote to order: reps work their regions' quotes and see no cost or
	// margin; managers approve; finance and legal review contracts;
	// production reviews orders; the catalog is everyone's to read.
	docs := []string{"quotes", "contracts", "sales_orders"}
	for _, e := range docs {
		acts := []string{"read", "create", "update", "export", "print"}
		if e == "sales_orders" {
			acts = []string{"read", "export", "print"}
		}
		rep = append(rep, grant{e, acts, "regions", marginFields, nil}, grant{e, acts, "own", marginFields, nil})
		manager = append(manager, grant{e, append(slices.Clone(full), "print", "approve"), "department_tree", nil, nil},
			grant{e, append(slices.Clone(full), "print", "approve"), "regions", nil, nil})
		gm = append(gm, grant{e, []string{"read", "export", "print", "approve"}, "all", nil, nil})
		finance = append(finance, grant{e, []string{"read", "update", "export", "print", "approve"}, "all", nil, nil})
	}
	rep = append(rep, grant{"products", []string{"read"}, "all", []string{"standard_cost"}, nil}, grant{"price_books", []string{"read"}, "all", nil, nil})
	manager = append(manager, grant{"products", []string{"read", "export"}, "all", nil, nil}, grant{"price_books", full, "all", nil, nil},
		grant{"currencies", []string{"read", "update"}, "all", nil, nil})
	gm = append(gm, grant{"products", []string{"read", "export"}, "all", nil, nil}, grant{"price_books", []string{"read", "export"}, "all", nil, nil})
	finance = append(finance, grant{"currencies", full, "all", nil, nil}, grant{"products", []string{"read"}, "all", nil, nil})
	legal := []grant{{"contracts", []string{"read", "print", "approve"}, "all", marginFields, nil}, {"quotes", []string{"read"}, "all", marginFields, nil},
		{"accounts", []string{"read"}, "all", nil, nil}}
	production := []grant{{"products", full, "all", nil, nil}, {"sales_orders", []string{"read", "print", "approve"}, "all", marginFields, nil},
		{"accounts", []string{"read"}, "all", creditFields, nil}}
	out := map[string][]any{}
	for role, gs := range map[string][]grant{"sales_rep": rep, "sales_manager": manager, "general_manager": gm,
		"finance": finance, "marketing": marketing, "service": service, "legal": legal, "production": production} {
		list := []any{}
		for _, g := range gs {
			e, ok := recs.Registry().Get(g.entity)
			if !ok {
				continue
			}
			m := map[string]any{"entity": g.entity, "actions": toAny(g.actions), "scope": g.scope}
			if h := known(e, g.hidden); len(h) > 0 {
				m["hidden_fields"] = toAny(h)
			}
			if r := known(e, g.ro); len(r) > 0 {
				m["readonly_fields"] = toAny(r)
			}
			list = append(list, m)
		}
		out[role] = list
	}
	return out
}

// known keeps the fields the entity defines (sub-table columns too: a
// hidden "unit_cost" hides the column of every sub-table that has one).
func known(e *meta.Entity, fields []string) []string {
	var out []string
	for _, f := range fields {
		if e.Field(f) != nil || subField(e, f) {
			out = append(out, f)
		}
	}
	return out
}

func subField(e *meta.Entity, name string) bool {
	for i := range e.Fields {
		if e.Fields[i].Type == "subtable" && e.Fields[i].SubField(name) != nil {
			return true
		}
	}
	return false
}
