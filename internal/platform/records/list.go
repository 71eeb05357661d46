package records

import (
	"context"
	"strconv"
	"strings"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/expr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Count modes of a list.
const (
	CountDefault = ""      // exact up to CountCap, then capped
	CountExact   = "exact" // always exact
	CountNone    = "none"  // no total
)

// CountCap is where default totals stop counting: a total above it is
// reported as CountCap with total_exact false ("at least"). A search (q)
// stops at SearchCountCap: each of its matches costs a row read to confirm,
// and with the default newest-first order a page of a search then stops
// after about that many rows instead of checking every match.
const (
	CountCap       = 1000
	SearchCountCap = 100
)

// countCap is the cap of the default total for o.
func countCap(o ListOptions) int {
	if o.Q != "" {
		return SearchCountCap
	}
	return CountCap
}

// MaxPerPage bounds a page.
const MaxPerPage = 500

// PageLimit is a log's page size: limit, 50 when not given, refused
// (bad_paging) above MaxPerPage. The run log of rules and the call log of
// inbound endpoints page with it.
func PageLimit(limit int) (int, error) {
	if limit <= 0 {
		return 50, nil
	}
	if limit > MaxPerPage {
		return 0, apperr.Invalid("bad_paging", "max", MaxPerPage)
	}
	return limit, nil
}

// ListOptions are the list parameters of API.md.
type ListOptions struct {
	Filter  string
	Sort    string
	Page    int
	PerPage int
	Fields  []string
	Q       string
	Expand  []string
	Count   string
	Deleted bool // the recycle bin
}

// ListResult is one page.
type ListResult struct {
	Items      []Record
	Page       int
	PerPage    int
	Total      int64
	TotalExact bool
	HasTotal   bool
}

// List returns a page of the records the principal may see.
func (s *Service) List(ctx context.Context, p *access.Principal, entity string, o ListOptions) (*ListResult, error) {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return nil, err
	}
	where, args, err := v.where(o)
	if err != nil {
		return nil, err
	}
	order, err := v.orderBy(o.Sort)
	if err != nil {
		return nil, err
	}
	if o.Page < 1 {
		o.Page = 1
	}
	if o.PerPage <= 0 {
		o.PerPage = 50
	}
	if o.PerPage > MaxPerPage {
		return nil, apperr.Invalid("bad_paging", "max", MaxPerPage)
	}
	if o.Page > 1_000_000 {
		return nil, apperr.Invalid("bad_paging")
	}
	from := " FROM " + s.db.Ident(v.e.Table()) + " t WHERE " + where
	res := &ListResult{Page: o.Page, PerPage: o.PerPage, Items: []Record{}}
	if o.Q != "" && o.Count == CountDefault && o.Page*o.PerPage <= SearchCountCap {
		// A search's cost is checking its candidates (a row read and a LIKE
		// each), which the page and the capped count would both do: one
		// pass collects the ordered ids of up to SearchCountCap+1 matches, which
		// give the total, and the page is read by id.
		if err := v.searchPage(ctx, from, order, args, o, res); err != nil {
			return nil, err
		}
		o.Count = CountNone // the total is known
	} else if err := v.page(ctx, "SELECT "+v.selectList()+from+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, o.PerPage, (o.Page-1)*o.PerPage), res); err != nil {
		return nil, err
	}
	// Sub-tables are included in lists only when asked for by name.
	if len(o.Fields) > 0 {
		if err := v.loadChildren(ctx, res.Items, o.Fields); err != nil {
			return nil, err
		}
	}
	if err := v.expand(ctx, res.Items, o.Expand); err != nil {
		return nil, err
	}
	switch o.Count {
	case CountNone:
	case CountExact:
		if err := s.db.QueryRow(ctx, "SELECT COUNT(*)"+from, args...).Scan(&res.Total); err != nil {
			return nil, err
		}
		res.TotalExact, res.HasTotal = true, true
	case CountDefault:
		res.HasTotal = true
		n := int64(len(res.Items))
		if o.Page == 1 && n < int64(o.PerPage) {
			res.Total, res.TotalExact = n, true // the whole result is on this page
			break
		}
		limit := countCap(o)
		q := "SELECT COUNT(*) FROM (SELECT 1" + from + " LIMIT " + strconv.Itoa(limit+1) + ") c"
		if err := s.db.QueryRow(ctx, q, args...).Scan(&res.Total); err != nil {
			return nil, err
		}
		res.TotalExact = res.Total <= int64(limit)
		if !res.TotalExact {
			res.Total = int64(limit)
		}
	default:
		return nil, apperr.Invalid("bad_count")
	}
	return res, nil
}

// Count returns the number of records matching a filter that the principal
// may see (exact; for reports and checks, not for list pages).
func (s *Service) Count(ctx context.Context, p *access.Principal, entity, filter string) (int64, error) {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return 0, err
	}
	where, args, err := v.where(ListOptions{Filter: filter})
	if err != nil {
		return 0, err
	}
	var n int64
	err = s.db.QueryRow(ctx, "SELECT COUNT(*) FROM "+s.db.Ident(v.e.Table())+" t WHERE "+where, args...).Scan(&n)
	return n, err
}

// where combines deletion state, scope, filter and search.
func (v *view) where(o ListOptions) (string, []any, error) {
	parts := []string{"t.deleted_at IS NULL"}
	if o.Deleted {
		parts[0] = "t.deleted_at IS NOT NULL"
	}
	var args []any
	if v.scoped {
		parts = append(parts, v.scope)
		args = append(args, v.sargs...)
	}
	if strings.TrimSpace(o.Filter) != "" {
		fs, fa, err := expr.Compile(o.Filter, &filterEnv{v: v})
		if err != nil {
			return "", nil, err
		}
		parts = append(parts, "("+fs+")")
		args = append(args, fa...)
	}
	if q := strings.TrimSpace(o.Q); q != "" {
		sp, sa, err := v.searchPredicate(q)
		if err != nil {
			return "", nil, err
		}
		parts = append(parts, sp)
		args = append(args, sa...)
	}
	return strings.Join(parts, " AND "), args, nil
}

// searchPredicate finds q as a substring of the searchable fields the
// principal may read. When one of them is hidden from the principal, the
// shared index would reveal it, so the search falls back to LIKE over the
// visible fields only.
func (v *view) searchPredicate(q string) (string, []any, error) {
	if len([]rune(q)) > 100 {
		return "", nil, apperr.Invalid("bad_search", "reason", "too long")
	}
	d := v.s.db
	var visible []*meta.Field
	leak := false
	for i := range v.e.Fields {
		f := &v.e.Fields[i]
		if !f.IsSearchable() {
			continue
		}
		if v.r.Hidden(f.Name) {
			leak = true
			continue
		}
		visible = append(visible, f)
	}
	if len(visible) == 0 {
		return "1=0", nil, nil
	}
	pattern := db.LikePattern(strings.ToLower(q))
	if leak {
		var ors []string
		var args []any
		for _, f := range visible {
			ors = append(ors, d.Like("LOWER(t."+d.Ident(f.Name)+")"))
			args = append(args, pattern)
		}
		return "(" + strings.Join(ors, " OR ") + ")", args, nil
	}
	terms := queryGrams(q)
	if len(terms) == 0 { // only punctuation: plain substring
		return d.Like("t.search"), []any{pattern}, nil
	}
	if d.Kind == db.Postgres {
		return "(t.search_grams @> ?::text[] AND " + d.Like("t.search") + ")", []any{terms, pattern}, nil
	}
	tail, key := v.s.unindexedTail(v.e)
	return "(t.id IN (SELECT rowid FROM " + d.Ident(v.e.FTSTable()) + " WHERE " + d.Ident(v.e.FTSTable()) + " MATCH ? UNION ALL " + tail + ") AND " +
		d.Like("t.search") + ")", []any{ftsQuery(terms), key, pattern}, nil
}

// orderBy validates a sort like "-amount,name" and appends the id tiebreak.
func (v *view) orderBy(sortSpec string) (string, error) {
	if strings.TrimSpace(sortSpec) == "" {
		return "t.id DESC", nil
	}
	var parts []string
	keys := strings.Split(sortSpec, ",")
	if len(keys) > 5 {
		return "", apperr.Invalid("bad_sort", "reason", "at most 5 keys")
	}
	lastDesc := false
	for _, k := range keys {
		k = strings.TrimSpace(k)
		desc := strings.HasPrefix(k, "-")
		k = strings.TrimPrefix(strings.TrimPrefix(k, "-"), "+")
		if !v.sortable(k) {
			return "", apperr.Invalid("unknown_field", "field", k)
		}
		dir := " ASC"
		if desc {
			dir = " DESC"
		}
		lastDesc = desc
		parts = append(parts, "t."+v.s.db.Ident(k)+dir)
	}
	if lastDesc {
		parts = append(parts, "t.id DESC")
	} else {
		parts = append(parts, "t.id ASC")
	}
	return strings.Join(parts, ", "), nil
}

func (v *view) sortable(name string) bool {
	switch name {
	case "id", "version", "created_at", "updated_at", "owner", "created_by":
		return true
	}
	f := v.e.Field(name)
	if f == nil || v.r.Hidden(name) {
		return false
	}
	switch v.s.types.KindOf(f) {
	case meta.KNone, meta.KJSON, meta.KTextList, meta.KIDList:
		return false
	}
	return true
}

// CheckQuery reports whether filter and sort are valid on entity for p, as
// a list would use them, without running anything (saved views are checked
// with it when they are saved).
func (s *Service) CheckQuery(p *access.Principal, entity, filter, sort string) error {
	v, err := s.viewFor(p, entity, access.Read, "t")
	if err != nil {
		return err
	}
	if _, _, err := v.where(ListOptions{Filter: filter}); err != nil {
		return err
	}
	_, err = v.orderBy(sort)
	return err
}

// page appends the records a query returns to res.
func (v *view) page(ctx context.Context, q string, args []any, res *ListResult) error {
	rows, err := v.s.db.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := v.scan(rows)
		if err != nil {
			return err
		}
		res.Items = append(res.Items, rec)
	}
	return rows.Err()
}

// searchPage fills res with the page and the capped total of a search in
// one pass over the matches (see List).
func (v *view) searchPage(ctx context.Context, from, order string, args []any, o ListOptions, res *ListResult) error {
	d := v.s.db
	rows, err := d.Query(ctx, "SELECT t.id"+from+" ORDER BY "+order+" LIMIT "+strconv.Itoa(SearchCountCap+1), args...)
	if err != nil {
		return err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	res.HasTotal, res.Total, res.TotalExact = true, int64(min(len(ids), SearchCountCap)), len(ids) <= SearchCountCap
	lo := (o.Page - 1) * o.PerPage
	if lo >= len(ids) {
		return nil
	}
	ids = ids[lo:min(lo+o.PerPage, len(ids))]
	idArgs := make([]any, len(ids))
	for i, id := range ids {
		idArgs[i] = id
	}
	got := &ListResult{}
	if err := v.page(ctx, "SELECT "+v.selectList()+" FROM "+d.Ident(v.e.Table())+" t WHERE t.id IN ("+placeholders(len(ids))+")", idArgs, got); err != nil {
		return err
	}
	byID := make(map[int64]Record, len(got.Items))
	for _, r := range got.Items {
		byID[r.ID()] = r
	}
	for _, id := range ids {
		if r, ok := byID[id]; ok { // gone between the two reads: left out
			res.Items = append(res.Items, r)
		}
	}
	return nil
}
