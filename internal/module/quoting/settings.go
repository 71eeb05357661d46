package quoting

import (
	"context"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// setup is the module's settings (the one quoting_settings record).
type setup struct {
	orderFrom   string // "contract" or "quote"
	taxRate     decimal.Decimal
	taxIncluded bool
	validDays   int64
	reviewer    int64
}

func defaultSetup() setup {
	return setup{orderFrom: "contract", taxRate: decimal.NewFromInt(13), taxIncluded: true, validDays: 30}
}

// settings reads the settings record (the defaults when there is none).
func (m *Module) settings(ctx context.Context) (setup, error) {
	res, err := m.recs.List(ctx, access.System(), Settings, records.ListOptions{Sort: "id", PerPage: 1, Count: records.CountNone})
	if err != nil {
		return setup{}, err
	}
	st := defaultSetup()
	if len(res.Items) == 0 {
		return st, nil
	}
	r := res.Items[0]
	if v := str(r["order_from"]); v != "" {
		st.orderFrom = v
	}
	if d, ok := r["default_tax_rate"].(decimal.Decimal); ok {
		st.taxRate = d
	}
	st.taxIncluded = r["default_tax_included"] == true
	if n := num(r["quote_valid_days"]); n > 0 {
		st.validDays = n
	}
	st.reviewer = id(r["reviewer"])
	return st, nil
}

// ensureSettings creates the settings record when there is none.
func (m *Module) ensureSettings(ctx context.Context) error {
	n, err := m.recs.Count(ctx, access.System(), Settings, "")
	if err != nil || n > 0 {
		return err
	}
	_, err = m.recs.Create(ctx, access.System(), Settings, map[string]any{"name": "默认"})
	return err
}

// beforeSettings keeps the settings to one record.
func (m *Module) beforeSettings(ctx context.Context, c *records.Change) error {
	if c.Op != records.OpCreate && c.Op != records.OpRestore {
		return nil
	}
	n, err := m.recs.Count(ctx, access.System(), Settings, "")
	if err != nil {
		return err
	}
	if n > 0 {
		return apperr.Conflict("quoting_settings_one")
	}
	return nil
}
