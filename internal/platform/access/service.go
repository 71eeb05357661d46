package access

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
)

// Service loads principals from the organisation tables. Loaded principals
// are cached briefly; Invalidate drops the cache when users, roles or
// departments change in this process, and the short TTL bounds staleness
// across instances. Deactivation needs no cache: authentication checks the
// account on every request.
type Service struct {
	db  *db.DB
	ttl time.Duration

	mu       sync.Mutex
	cache    map[int64]cached
	baseline []Grant
}

type cached struct {
	p  *Principal
	at time.Time
}

// New builds the service.
func New(d *db.DB) *Service {
	return &Service{db: d, ttl: 2 * time.Second, cache: map[int64]cached{}}
}

// AddBaseline adds grants that every signed-in user holds whatever their
// roles, for personal things such as saved views. Call it while wiring the
// application, before serving.
func (s *Service) AddBaseline(gs ...Grant) {
	s.mu.Lock()
	s.baseline = append(s.baseline, gs...)
	s.mu.Unlock()
	s.Invalidate()
}

// Invalidate drops every cached principal.
func (s *Service) Invalidate() {
	s.mu.Lock()
	s.cache = map[int64]cached{}
	s.mu.Unlock()
}

// Principal returns the principal of a user, as of now. The result is
// shared: callers copy it (WithSource) before changing per-request fields.
func (s *Service) Principal(ctx context.Context, userID int64) (*Principal, error) {
	s.mu.Lock()
	c, ok := s.cache[userID]
	s.mu.Unlock()
	if ok && time.Since(c.at) < s.ttl {
		return c.p, nil
	}
	p, err := s.load(ctx, userID)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if len(s.cache) > 10000 {
		s.cache = map[int64]cached{}
	}
	s.cache[userID] = cached{p: p, at: time.Now()}
	s.mu.Unlock()
	return p, nil
}

func (s *Service) load(ctx context.Context, userID int64) (*Principal, error) {
	var (
		login, name      string
		dept             sql.NullInt64
		regions, roleIDs sql.NullString
	)
	err := s.db.QueryRow(ctx, `SELECT login, name, department, regions, roles FROM r_users WHERE id = ? AND deleted_at IS NULL`, userID).
		Scan(&login, &name, &dept, &regions, &roleIDs)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.ErrUnauthenticated, "unknown_user")
	}
	if err != nil {
		return nil, err
	}
	p := &Principal{UserID: userID, Login: login, Name: name, DepartmentID: dept.Int64, Lang: "zh-CN"}
	s.mu.Lock()
	p.AddGrants(s.baseline...)
	s.mu.Unlock()
	if regions.Valid {
		_ = json.Unmarshal([]byte(regions.String), &p.Regions)
	}
	var ids []int64
	if roleIDs.Valid {
		_ = json.Unmarshal([]byte(roleIDs.String), &ids)
	}
	if len(ids) > 0 {
		q := `SELECT name, permissions FROM r_roles WHERE deleted_at IS NULL AND id IN (` + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + `)`
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := s.db.Query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var rn string
			var perms sql.NullString
			if err := rows.Scan(&rn, &perms); err != nil {
				rows.Close()
				return nil, err
			}
			p.Roles = append(p.Roles, rn)
			if rn == "admin" {
				p.Admin = true
			}
			gs, err := ParseGrants([]byte(perms.String))
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("role %s: %w", rn, err)
			}
			p.AddGrants(gs...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if p.DepartmentID != 0 {
		tree, err := s.subtree(ctx, p.DepartmentID)
		if err != nil {
			return nil, err
		}
		p.DeptTree = tree
	}
	return p, nil
}

// subtree returns a department and all departments below it.
func (s *Service) subtree(ctx context.Context, root int64) ([]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT id, parent FROM r_departments WHERE deleted_at IS NULL`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	children := map[int64][]int64{}
	for rows.Next() {
		var id int64
		var parent sql.NullInt64
		if err := rows.Scan(&id, &parent); err != nil {
			return nil, err
		}
		children[parent.Int64] = append(children[parent.Int64], id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := []int64{root}
	seen := map[int64]bool{root: true}
	for i := 0; i < len(out); i++ {
		for _, c := range children[out[i]] {
			if !seen[c] { // a cycle in bad data must not loop forever
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	return out, nil
}
