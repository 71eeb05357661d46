package records

import (
	"context"
	"strconv"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Share is one grant of read access to a record beyond the data scope.
type Share struct {
	ID         int64 `json:"id,string"`
	User       int64 `json:"user,string,omitempty"`
	Department int64 `json:"department,string,omitempty"`
}

// shareTarget reads {"user": id} or {"department": id}.
func shareTarget(input map[string]any) (user, dept int64, err error) {
	for k := range input {
		if k != "user" && k != "department" {
			return 0, 0, apperr.Invalid("unknown_field", "field", k)
		}
	}
	if v, ok := input["user"]; ok {
		if user, ok = meta.ParseID(v); !ok {
			return 0, 0, apperr.Fields(apperr.Field("user", "invalid_id"))
		}
	}
	if v, ok := input["department"]; ok {
		if dept, ok = meta.ParseID(v); !ok {
			return 0, 0, apperr.Fields(apperr.Field("department", "invalid_id"))
		}
	}
	if (user == 0) == (dept == 0) {
		return 0, 0, apperr.Fields(apperr.Field("user", "required"))
	}
	return user, dept, nil
}

// shareTx runs fn in a transaction on a record the principal may update,
// locked, after parsing the share target.
func (s *Service) shareTx(ctx context.Context, p *access.Principal, entity string, id int64, input map[string]any,
	fn func(ctx context.Context, v *view, rec Record, user, dept int64) error) ([]Share, error) {
	user, dept, err := shareTarget(input)
	if err != nil {
		return nil, err
	}
	var out []Share
	err = s.db.WithTx(ctx, func(ctx context.Context) error {
		v, err := s.viewFor(p, entity, access.Update, "t")
		if err != nil {
			return err
		}
		rec, err := v.loadForUpdate(ctx, id, false)
		if err != nil {
			return err
		}
		if err := fn(ctx, v, rec, user, dept); err != nil {
			return err
		}
		out, err = s.shares(ctx, entity, id)
		return err
	})
	return out, err
}

// ShareRecord lets a user or a department read one record. Whoever may
// update the record may share it; the grant is audited on the record.
func (s *Service) ShareRecord(ctx context.Context, p *access.Principal, entity string, id int64, input map[string]any) ([]Share, error) {
	return s.shareTx(ctx, p, entity, id, input, func(ctx context.Context, v *view, rec Record, user, dept int64) error {
		target, tid := "users", user
		if dept != 0 {
			target, tid = "departments", dept
		}
		if ok, err := s.visible(ctx, access.System(), target, []int64{tid}); err != nil {
			return err
		} else if !ok {
			return apperr.Fields(apperr.Field(map[bool]string{true: "user", false: "department"}[user != 0], "link_not_found"))
		}
		var n int
		if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM record_shares WHERE entity = ? AND record_id = ? AND COALESCE(user_id, 0) = ? AND COALESCE(department_id, 0) = ?`,
			entity, id, user, dept).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO record_shares (entity, record_id, user_id, department_id, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			entity, id, nullID(user), nullID(dept), nullID(p.UserID), s.now().UnixMicro()); err != nil {
			return err
		}
		return s.auditShare(ctx, v, p, rec, "share", user, dept)
	})
}

// UnshareRecord removes a share.
func (s *Service) UnshareRecord(ctx context.Context, p *access.Principal, entity string, id int64, input map[string]any) ([]Share, error) {
	return s.shareTx(ctx, p, entity, id, input, func(ctx context.Context, v *view, rec Record, user, dept int64) error {
		res, err := s.db.Exec(ctx, `DELETE FROM record_shares WHERE entity = ? AND record_id = ? AND COALESCE(user_id, 0) = ? AND COALESCE(department_id, 0) = ?`,
			entity, id, user, dept)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return s.auditShare(ctx, v, p, rec, "unshare", user, dept)
		}
		return nil
	})
}

func (s *Service) auditShare(ctx context.Context, v *view, p *access.Principal, rec Record, action string, user, dept int64) error {
	key, val := "shared_with_user", user
	if dept != 0 {
		key, val = "shared_with_department", dept
	}
	ch := audit.Change{New: strconv.FormatInt(val, 10)}
	if action == "unshare" {
		ch = audit.Change{Old: strconv.FormatInt(val, 10)}
	}
	return audit.Write(ctx, s.db, audit.Entry{Entity: v.e.Name, RecordID: rec.ID(), Action: action, Version: rec.Version(),
		Actor: p.UserID, TokenID: p.TokenID, Source: sourceOf(p), At: s.now().UTC(), Changes: map[string]audit.Change{key: ch}})
}

func (s *Service) shares(ctx context.Context, entity string, id int64) ([]Share, error) {
	rows, err := s.db.Query(ctx, `SELECT id, COALESCE(user_id, 0), COALESCE(department_id, 0) FROM record_shares WHERE entity = ? AND record_id = ? ORDER BY id`, entity, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Share{}
	for rows.Next() {
		var sh Share
		if err := rows.Scan(&sh.ID, &sh.User, &sh.Department); err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// Shares lists a record's shares for whoever may read the record.
func (s *Service) Shares(ctx context.Context, p *access.Principal, entity string, id int64) ([]Share, error) {
	if _, err := s.Get(ctx, p, entity, id, GetOptions{}); err != nil {
		return nil, err
	}
	return s.shares(ctx, entity, id)
}
