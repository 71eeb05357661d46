package importer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Every record an import looks up (duplicates, linked records, users) is
// read through the records service as the importing user: their data
// scope and field rights decide what can match.

// maxFilterLen keeps generated filters under the expression language's
// source limit (4,096 bytes), maxInItems under its list limit.
const (
	maxFilterLen = 3600
	maxInItems   = 500
)

// listAll calls each for every record of entity that p may read and that
// filter ("" for all) selects, in the order of sort (records.Each: keyset
// paging). A lookup by a field sorts by that field, so that the database
// reads the field's index for both rather than walking every record in
// id order looking for the few that match.
func (e *Engine) listAll(ctx context.Context, p *access.Principal, entity, filter, sort string, each func(records.Record)) error {
	return e.recs.Each(ctx, p, entity, records.EachOptions{ListOptions: records.ListOptions{Filter: filter, Sort: sort,
		PerPage: records.DefaultEachBatch}}, func(recs []records.Record) error {
		for _, r := range recs {
			each(r)
		}
		return nil
	})
}

// inFilters builds filters "f1 in [...] || f2 in [...]" (and "|| id in
// [...]" for ids) over the literals, as many as needed to keep each one
// within the limits.
func inFilters(fields []string, lits []string, ids []string) []string {
	var out []string
	build := func(ls, is []string) string {
		var parts []string
		if len(ls) > 0 {
			list := "[" + strings.Join(ls, ", ") + "]"
			for _, f := range fields {
				parts = append(parts, f+" in "+list)
			}
		}
		if len(is) > 0 {
			parts = append(parts, "id in ["+strings.Join(is, ", ")+"]")
		}
		return strings.Join(parts, " || ")
	}
	per := max(len(fields), 1)
	var ls, is []string
	size := 0
	flush := func() {
		if len(ls)+len(is) > 0 {
			out = append(out, build(ls, is))
		}
		ls, is, size = nil, nil, 0
	}
	for _, l := range lits {
		if size+(len(l)+2)*per > maxFilterLen || len(ls) >= maxInItems {
			flush()
		}
		ls = append(ls, l)
		size += (len(l) + 2) * per
	}
	for _, id := range ids {
		if size+len(id)+2 > maxFilterLen || len(is) >= maxInItems {
			flush()
		}
		is = append(is, id)
		size += len(id) + 2
	}
	flush()
	return out
}

// quote writes s as a string literal of the expression language.
func quote(s string) string { return strconv.Quote(s) }

// resolved is what a cell naming a linked record resolves to: the value to
// import (an id, or an option code) or the code of the problem.
type resolved struct {
	value string
	code  string
}

// resolver finds the records that cells of a link, multi_link, user or
// department field (or a select drawn from another entity) name. A cell
// may hold the linked record's title, its login or code or name where the
// entity has such fields (users: login or name; departments: name or
// code), or its id. A name that several visible records share is
// ambiguous; a title match wins over an id. Answers are cached for the
// run.
type resolver struct {
	entity string
	fields []string // text fields a cell may match
	code   bool     // options_from: the answer is the record's code
	mu     sync.Mutex
	cache  map[string]resolved
}

// get returns the cached answer for a value (resolve first).
func (r *resolver) get(v string) resolved {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cache[v]
}

func (e *Engine) newResolver(p *access.Principal, f *meta.Field, typ string) *resolver {
	entity := ""
	code := false
	switch {
	case typ == "user":
		entity = "users"
	case typ == "department":
		entity = "departments"
	case typ == "link" || typ == "multi_link":
		entity = f.Target
	case f != nil && f.OptionsFrom != "":
		entity, code = f.OptionsFrom, true
	default:
		return nil
	}
	r := &resolver{entity: entity, code: code, cache: map[string]resolved{}}
	te, ok := e.reg.Get(entity)
	if !ok {
		return r
	}
	rights := p.RightsOn(entity)
	seen := map[string]bool{}
	for _, name := range []string{te.TitleField, "code", "login", "name"} {
		tf := te.Field(name)
		if name == "" || seen[name] || tf == nil || rights.Hidden(name) || e.types.KindOf(tf) != meta.KText {
			continue
		}
		seen[name] = true
		r.fields = append(r.fields, name)
	}
	return r
}

// resolve looks up the values not yet in the cache (one batch at a time:
// batches running at once share the cache).
func (r *resolver) resolve(ctx context.Context, e *Engine, p *access.Principal, values []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lits, ids []string
	var todo []string
	seen := map[string]bool{}
	for _, v := range values {
		if _, ok := r.cache[v]; ok || seen[v] {
			continue
		}
		seen[v] = true
		todo = append(todo, v)
		lits = append(lits, quote(v))
		if !r.code {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
				ids = append(ids, strconv.FormatInt(n, 10))
			}
		}
	}
	if len(todo) == 0 {
		return nil
	}
	byName := map[string]map[int64]string{} // value → record id → answer
	byID := map[string]string{}
	if len(r.fields) > 0 || len(ids) > 0 {
		fields := r.fields
		if len(fields) == 0 {
			lits = nil
		}
		sort := "id"
		if len(fields) == 1 && len(ids) == 0 {
			sort = fields[0]
		}
		for _, filter := range inFilters(fields, lits, ids) {
			err := e.listAll(ctx, p, r.entity, filter, sort, func(rec records.Record) {
				answer := strconv.FormatInt(rec.ID(), 10)
				if r.code {
					answer, _ = rec["code"].(string)
				}
				for _, f := range r.fields {
					if s, ok := rec[f].(string); ok && seen[s] {
						if byName[s] == nil {
							byName[s] = map[int64]string{}
						}
						byName[s][rec.ID()] = answer
					}
				}
				byID[strconv.FormatInt(rec.ID(), 10)] = answer
			})
			if err != nil {
				var ae *apperr.Error
				if errors.As(err, &ae) && (errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrNotFound)) {
					break // the linked entity is not readable: nothing resolves
				}
				return err
			}
		}
	}
	for _, v := range todo {
		switch m := byName[v]; {
		case len(m) == 1:
			for _, a := range m {
				r.cache[v] = resolved{value: a}
			}
		case len(m) > 1:
			r.cache[v] = resolved{code: "import_link_ambiguous"}
		case byID[v] != "" && !r.code:
			r.cache[v] = resolved{value: byID[v]}
		case r.code:
			r.cache[v] = resolved{value: v} // not a name: the records service checks the code
		default:
			r.cache[v] = resolved{code: "import_link_unknown"}
		}
	}
	return nil
}

// keyLiteral writes a canonical value of a de-duplication field as a
// filter literal.
func keyLiteral(v any) string {
	switch t := v.(type) {
	case string:
		return quote(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return quote(fmt.Sprint(v))
}
