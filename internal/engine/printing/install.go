package printing

import (
	"context"
	"embed"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

//go:embed defaults/*.tmpl
var defaultFiles embed.FS

// shipped are the default zh-CN templates.
var shipped = []struct {
	file, name, entity, description string
	isDefault                       bool
}{
	{"quote.tmpl", "报价单", "quotes", "默认报价单模板：明细、合计与大写金额、商务条款、双方签章。", true},
	{"contract.tmpl", "合同", "contracts", "默认销售合同模板：产品与价款、付款节点、交货与签章。", true},
	{"sales_order.tmpl", "销售订单", "sales_orders", "默认销售订单模板。", true},
	{"delivery_note.tmpl", "发货单", "sales_orders", "发货单（不含价格），随货签收。", false},
}

// Install creates the shipped templates whose entity exists and that are
// absent (by entity and name, the recycle bin included, so a template an
// administrator deleted stays deleted). It is idempotent; the app runs it
// after migrations.
func (s *Service) Install(ctx context.Context) error {
	sys := access.System()
	for _, t := range shipped {
		if _, ok := s.recs.Registry().Get(t.entity); !ok {
			continue
		}
		filter := "entity == " + strconv.Quote(t.entity) + " && name == " + strconv.Quote(t.name)
		found := false
		for _, deleted := range []bool{false, true} {
			res, err := s.recs.List(ctx, sys, Entity, records.ListOptions{Filter: filter, PerPage: 1, Count: records.CountNone, Deleted: deleted})
			if err != nil {
				return err
			}
			found = found || len(res.Items) > 0
		}
		if found {
			continue
		}
		body, err := defaultFiles.ReadFile("defaults/" + t.file)
		if err != nil {
			return err
		}
		if _, err := s.recs.Create(ctx, sys, Entity, map[string]any{"name": t.name, "entity": t.entity, "is_default": t.isDefault,
			"active": true, "paper": "A4", "lang": "zh-CN", "body": string(body), "description": t.description}); err != nil {
			return err
		}
	}
	return nil
}
