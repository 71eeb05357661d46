package flow

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tenon-crm/tenon/internal/platform/db"
)

// resolve turns approver entries into users, in order and without
// repeats, keeping only active users. Org-relative entries are relative to
// the instance's submitter:
//
//   - manager: the submitter's manager;
//   - department_head: the head of the submitter's department, or, when
//     the submitter heads it (or it has no head), of the nearest
//     department above that has a head other than the submitter;
//   - manager_chain with N levels: the submitter's manager, that
//     manager's manager, and so on, N levels or up to the top;
//   - field: the user in the record's user field (or owner, created_by);
//   - role: every active user holding the role, by id.
func (r *run) resolve(ctx context.Context, specs []Approver) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{}
	add := func(ids ...int64) error {
		for _, id := range ids {
			if id == 0 || seen[id] {
				continue
			}
			seen[id] = true
			u, err := r.e.user(ctx, id)
			if err != nil {
				return err
			}
			if u.active {
				out = append(out, id)
			}
		}
		return nil
	}
	for _, a := range specs {
		var ids []int64
		var err error
		switch a.Kind {
		case ApproverUser:
			ids = a.Users
		case ApproverRole:
			ids, err = r.e.roleMembers(ctx, a.Role)
		case ApproverField:
			if id, ok := r.rec[a.Field].(int64); ok {
				ids = []int64{id}
			}
		case ApproverManager:
			ids, err = r.e.managerChain(ctx, r.in.Submitter, 1)
		case ApproverManagerChain:
			ids, err = r.e.managerChain(ctx, r.in.Submitter, a.Levels)
		case ApproverDeptHead:
			var id int64
			id, err = r.e.departmentHead(ctx, r.in.Submitter)
			ids = []int64{id}
		}
		if err != nil {
			return nil, err
		}
		if err := add(ids...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// userRow is what the engine needs to know about a user.
type userRow struct {
	id, manager, department int64
	name                    string
	active                  bool
}

// user reads a user; an unknown or deleted one is inactive.
func (e *Engine) user(ctx context.Context, id int64) (userRow, error) {
	var (
		name          string
		manager, dept sql.NullInt64
		active        any
	)
	err := e.db.QueryRow(ctx, `SELECT name, manager, department, active FROM r_users WHERE id = ? AND deleted_at IS NULL`, id).
		Scan(&name, &manager, &dept, &active)
	if errors.Is(err, sql.ErrNoRows) {
		return userRow{id: id}, nil
	}
	if err != nil {
		return userRow{}, err
	}
	return userRow{id: id, manager: manager.Int64, department: dept.Int64, name: name, active: db.Truthy(active)}, nil
}

// managerChain walks up the manager field: up to levels users above id
// (fewer at the top of the tree; a cycle in bad data stops the walk).
func (e *Engine) managerChain(ctx context.Context, id int64, levels int) ([]int64, error) {
	var out []int64
	seen := map[int64]bool{id: true}
	cur := id
	for len(out) < levels {
		u, err := e.user(ctx, cur)
		if err != nil {
			return nil, err
		}
		if u.manager == 0 || seen[u.manager] {
			break
		}
		seen[u.manager] = true
		out = append(out, u.manager)
		cur = u.manager
	}
	return out, nil
}

// departmentHead finds the head of id's department, going up the tree
// while the department has no head or is headed by id.
func (e *Engine) departmentHead(ctx context.Context, id int64) (int64, error) {
	u, err := e.user(ctx, id)
	if err != nil {
		return 0, err
	}
	seen := map[int64]bool{}
	for d := u.department; d != 0 && !seen[d]; {
		seen[d] = true
		var head, parent sql.NullInt64
		err := e.db.QueryRow(ctx, `SELECT head, parent FROM r_departments WHERE id = ? AND deleted_at IS NULL`, d).Scan(&head, &parent)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if head.Int64 != 0 && head.Int64 != id {
			return head.Int64, nil
		}
		d = parent.Int64
	}
	return 0, nil
}

// roleMembers lists the users holding a role (by the role's name), by id.
func (e *Engine) roleMembers(ctx context.Context, role string) ([]int64, error) {
	var roleID int64
	err := e.db.QueryRow(ctx, `SELECT id FROM r_roles WHERE name = ? AND deleted_at IS NULL`, role).Scan(&roleID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return e.db.Int64s(ctx, `SELECT id FROM r_users WHERE deleted_at IS NULL AND roles IS NOT NULL AND `+
		e.db.JSONArrayHasInt("roles")+` ORDER BY id`, roleID)
}

// roleExists reports whether a live role has the name.
func (e *Engine) roleExists(ctx context.Context, role string) (bool, error) {
	var n int
	err := e.db.QueryRow(ctx, `SELECT COUNT(*) FROM r_roles WHERE name = ? AND deleted_at IS NULL`, role).Scan(&n)
	return n > 0, err
}
