// Package demo loads the demo company: an organisation of departments,
// regions, roles and users that the business modules extend with their own
// demo records. Every demo user's password is "demo1234" (see README).
package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/auth"
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
		east, err := mk("departments", map[string]any{"name": "华东销售组", "code": "SALES-E", "parent": sales})
		if err != nil {
			return err
		}
		south, err := mk("departments", map[string]any{"name": "华南销售组", "code": "SALES-S", "parent": sales})
		if err != nil {
			return err
		}
		depts := map[string]string{"GM": top, "SALES": sales, "SALES-E": east, "SALES-S": south}
		for _, d := range [][2]string{{"生产部", "PROD"}, {"质量部", "QA"}, {"采购部", "PURCH"}, {"财务部", "FIN"}, {"售后服务部", "SVC"}} {
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
		roles := map[string]string{}
		for _, r := range []struct {
			name, title string
			perms       []any
		}{
			{"general_manager", "总经理 / General manager", org("read", "export")},
			{"sales_manager", "销售经理 / Sales manager", []any{}},
			{"sales_rep", "销售代表 / Sales rep", []any{}},
			{"production", "生产 / Production", []any{}},
			{"quality", "质量 / Quality", []any{}},
			{"purchasing", "采购 / Purchasing", []any{}},
			{"finance", "财务 / Finance", org("read", "export")},
			{"service", "售后 / Service", []any{}},
		} {
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
			{"prod.lead", "赵强", "PROD", "production", "gm", nil},
			{"qa.lead", "孙丽", "QA", "quality", "gm", nil},
			{"buyer", "周敏", "PURCH", "purchasing", "gm", nil},
			{"finance", "吴芳", "FIN", "finance", "gm", nil},
			{"service.eng", "郑磊", "SVC", "service", "gm", []any{"华东", "华南"}},
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
		for code, head := range map[string]string{"GM": "gm", "SALES": "sales.manager", "SALES-E": "rep.east"} {
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
