package records

import (
	"context"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Checks a write makes of other entities' records (an option code exists, a
// linked record is visible) are remembered for the rest of the transaction
// once they pass: an import writes hundreds of rows naming the same few
// regions and accounts, and each check was a round trip to the database.
// Only passes are remembered, and a write to an entity forgets what was
// remembered of it (see forgetChecks), so a remembered pass is what the
// query would answer again. A rolled-back savepoint drops every value of
// the transaction (db.Savepoint).

// checkedKey is the transaction value holding the passes on one entity.
type checkedKey struct{ entity string }

type checked struct {
	codes map[string]bool
	ids   map[visibleKey]bool
}

// visibleKey is a record found visible to a principal (scopes are per
// principal; one import or request uses one principal value).
type visibleKey struct {
	p  *access.Principal
	id int64
}

func checksOn(ctx context.Context, entity string, create bool) *checked {
	c, _ := db.TxValue(ctx, checkedKey{entity}).(*checked)
	if c == nil && create && db.InTx(ctx) {
		c = &checked{codes: map[string]bool{}, ids: map[visibleKey]bool{}}
		db.SetTxValue(ctx, checkedKey{entity}, c)
	}
	return c
}

// forgetChecks drops what the transaction remembered of entity's records;
// every write to a record of entity calls it.
func forgetChecks(ctx context.Context, entity string) {
	if checksOn(ctx, entity, false) != nil {
		db.SetTxValue(ctx, checkedKey{entity}, nil)
	}
}

// codesKnown reports whether every code was found to exist in entity earlier
// in the transaction.
func codesKnown(ctx context.Context, entity string, codes []string) bool {
	c := checksOn(ctx, entity, false)
	if c == nil {
		return false
	}
	for _, code := range codes {
		if !c.codes[code] {
			return false
		}
	}
	return true
}

func rememberCodes(ctx context.Context, entity string, codes []string) {
	if c := checksOn(ctx, entity, true); c != nil {
		for _, code := range codes {
			c.codes[code] = true
		}
	}
}

// idsKnown reports whether every id of entity was found visible to p
// earlier in the transaction.
func idsKnown(ctx context.Context, p *access.Principal, entity string, ids []int64) bool {
	c := checksOn(ctx, entity, false)
	if c == nil {
		return false
	}
	for _, id := range ids {
		if !c.ids[visibleKey{p, id}] {
			return false
		}
	}
	return true
}

func rememberIDs(ctx context.Context, p *access.Principal, entity string, ids []int64) {
	if c := checksOn(ctx, entity, true); c != nil {
		for _, id := range ids {
			c.ids[visibleKey{p, id}] = true
		}
	}
}
