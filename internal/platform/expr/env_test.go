package expr

import (
	"errors"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// fakeEnv is a records-service stand-in: a "deals" entity with a field of
// every kind and a link "account" to "accounts", which links to itself
// through "parent". Linked accounts are scoped by tenant and soft delete.
type fakeEnv struct {
	d        db.Dialect
	entity   string // "deals" or "accounts"
	alias    string
	level    int
	deals    string // table names
	accounts string
}

func newFakeEnv(d db.Dialect, deals, accounts string) *fakeEnv {
	return &fakeEnv{d: d, entity: "deals", alias: "t", deals: deals, accounts: accounts}
}

var _ Env = (*fakeEnv)(nil)

func (e *fakeEnv) Dialect() db.Dialect { return e.d }

func (e *fakeEnv) kinds() map[string]ValueKind {
	if e.entity == "accounts" {
		return map[string]ValueKind{"id": KID, "name": KText, "region": KText, "tier": KInt, "parent": KID}
	}
	return map[string]ValueKind{
		"id": KID, "name": KText, "region": KText, "amount": KDecimal, "qty": KInt,
		"active": KBool, "due": KDate, "created": KDateTime, "at": KTime, "owner": KID,
		"tags": KTextList, "watchers": KIDList, "meta": KJSON, "account": KID,
		"secret": KText, // exists, but the caller may not read it
	}
}

func (e *fakeEnv) Column(name string) (Column, error) {
	k, ok := e.kinds()[name]
	if !ok || name == "secret" {
		return Column{}, apperr.Invalid("unknown_field", "field", name)
	}
	col := Column{SQL: e.alias + "." + e.d.Ident(name), Kind: k}
	if name == "amount" {
		col.Param = e.moneyParam
	}
	return col, nil
}

// moneyParam stores money as NUMERIC on PostgreSQL and as scaled (x100)
// integers on SQLite.
func (e *fakeEnv) moneyParam(v any) (any, error) {
	var dec decimal.Decimal
	switch x := v.(type) {
	case int:
		dec = decimal.NewFromInt(int64(x))
	case decimal.Decimal:
		dec = x
	case string:
		var err error
		if dec, err = decimal.NewFromString(x); err != nil {
			return nil, errors.New("not a number")
		}
	default:
		return nil, fmt.Errorf("the field expects a number")
	}
	if e.d.Kind == db.Postgres {
		return dec.String(), nil
	}
	scaled := dec.Shift(2)
	if scaled.IsInteger() {
		return scaled.IntPart(), nil
	}
	return scaled.String(), nil
}

func (e *fakeEnv) Link(name string) (Env, func(string) (string, []any), error) {
	if !(e.entity == "deals" && name == "account") && !(e.entity == "accounts" && name == "parent") {
		if _, ok := e.kinds()[name]; ok && name != "secret" {
			return nil, nil, apperr.Invalid("bad_filter", "reason", "not a link", "field", name)
		}
		return nil, nil, apperr.Invalid("unknown_field", "field", name)
	}
	target := &fakeEnv{d: e.d, entity: "accounts", alias: fmt.Sprintf("a%d", e.level+1), level: e.level + 1, deals: e.deals, accounts: e.accounts}
	wrap := func(pred string) (string, []any) {
		return e.alias + "." + e.d.Ident(name) + " IN (SELECT " + target.alias + `."id" FROM ` + e.d.Ident(e.accounts) + " " + target.alias +
			" WHERE " + target.alias + `."tenant" = ? AND ` + pred + " AND " + target.alias + `."deleted" = ?)`, []any{int64(1), false}
	}
	return target, wrap, nil
}

func (e *fakeEnv) Func(name string, args []any) (any, error) {
	switch name {
	case "me":
		return int64(7), nil
	case "my_team":
		return []int64{7, 8}, nil
	case "nobody":
		return []int64{}, nil
	case "today":
		return time.Date(2026, 3, 10, 0, 0, 0, 0, DefaultLocation()), nil
	case "is_admin":
		return true, nil
	case "days_ago":
		if len(args) != 1 {
			return nil, apperr.Invalid("bad_filter", "reason", "days_ago takes one number")
		}
		n, ok := args[0].(int)
		if !ok {
			return nil, apperr.Invalid("bad_filter", "reason", "days_ago takes one number")
		}
		return time.Date(2026, 3, 10-n, 0, 0, 0, 0, DefaultLocation()), nil
	case "broken":
		return nil, errors.New("database is down")
	}
	return nil, apperr.Invalid("unknown_function", "function", name)
}
