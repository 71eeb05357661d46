package auth

import (
	"context"
	"database/sql"
	"time"
)

// Event is one row of the sign-in trail (P8: logins and failed logins).
type Event struct {
	ID        int64     `json:"id,string"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"`
	Login     string    `json:"login"`
	UserID    int64     `json:"user_id,string,omitempty"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
}

// EventQuery selects events; zero fields do not filter.
type EventQuery struct {
	Kind     string
	Login    string
	UserID   int64
	From, To time.Time
	BeforeID int64
	Limit    int
}

// Events returns sign-in events newest first.
func (s *Service) Events(ctx context.Context, q EventQuery) ([]Event, error) {
	sqlq := `SELECT id, at, kind, login, user_id, ip, user_agent FROM auth_events WHERE 1=1`
	var args []any
	add := func(cond string, v any) {
		sqlq += " AND " + cond
		args = append(args, v)
	}
	if q.Kind != "" {
		add("kind = ?", q.Kind)
	}
	if q.Login != "" {
		add("login = ?", q.Login)
	}
	if q.UserID != 0 {
		add("user_id = ?", q.UserID)
	}
	if !q.From.IsZero() {
		add("at >= ?", q.From.UnixMicro())
	}
	if !q.To.IsZero() {
		add("at < ?", q.To.UnixMicro())
	}
	if q.BeforeID != 0 {
		add("id < ?", q.BeforeID)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 200
	}
	sqlq += " ORDER BY id DESC LIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.db.Query(ctx, sqlq, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Event{}
	for rows.Next() {
		var e Event
		var at int64
		var uid sql.NullInt64
		if err := rows.Scan(&e.ID, &at, &e.Kind, &e.Login, &uid, &e.IP, &e.UserAgent); err != nil {
			return nil, err
		}
		e.At, e.UserID = time.UnixMicro(at).UTC(), uid.Int64
		out = append(out, e)
	}
	return out, rows.Err()
}
