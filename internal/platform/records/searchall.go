package records

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// SearchHit is one record found by SearchAll: its id and title.
type SearchHit struct {
	ID    string `json:"id"`
	Title any    `json:"title"`
}

// SearchGroup is what SearchAll found in one entity.
type SearchGroup struct {
	Entity string      `json:"entity"`
	Label  meta.Label  `json:"label"`
	Items  []SearchHit `json:"items"`
	More   bool        `json:"has_more"`
	order  int
}

// searchAllWorkers bounds the entities searched at once.
const searchAllWorkers = 4

// SearchAll looks for q in every entity p may read that has searchable
// fields (P11: one box over everything), up to per records each, with the
// same scope and field rights as a list. Entities with no match are left out.
func (s *Service) SearchAll(ctx context.Context, p *access.Principal, q string, per int) ([]SearchGroup, error) {
	if per <= 0 || per > 20 {
		per = 5
	}
	var todo []*meta.Entity
	for _, e := range s.reg.All() {
		if e.HasSearch() && p.RightsOn(e.Name).Can(access.Read) {
			todo = append(todo, e)
		}
	}
	var (
		mu    sync.Mutex
		out   []SearchGroup
		first error
		wg    sync.WaitGroup
		next  = make(chan int)
	)
	for w := 0; w < min(searchAllWorkers, len(todo)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				g, err := s.searchOne(ctx, p, todo[i], q, per)
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				if err == nil && len(g.Items) > 0 {
					g.order = i
					out = append(out, g)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range todo {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return nil, first
	}
	sort.Slice(out, func(i, j int) bool { return out[i].order < out[j].order })
	return out, nil
}

func (s *Service) searchOne(ctx context.Context, p *access.Principal, e *meta.Entity, q string, per int) (SearchGroup, error) {
	g := SearchGroup{Entity: e.Name, Label: e.Label, Items: []SearchHit{}}
	title := e.TitleField
	fields := []string{}
	if title != "" && !p.RightsOn(e.Name).Hidden(title) {
		fields = append(fields, title)
	}
	res, err := s.List(ctx, p, e.Name, ListOptions{Q: q, PerPage: per + 1, Fields: fields, Count: CountNone})
	if err != nil {
		if errors.Is(err, apperr.ErrForbidden) || errors.Is(err, apperr.ErrNotFound) {
			return g, nil
		}
		return g, err
	}
	items := res.Items
	if len(items) > per {
		items, g.More = items[:per], true
	}
	for _, rec := range s.PublicAll(p, e.Name, items, fields) {
		h := SearchHit{ID: rec["id"].(string)}
		if title != "" {
			h.Title = rec[title]
		}
		g.Items = append(g.Items, h)
	}
	return g, nil
}
