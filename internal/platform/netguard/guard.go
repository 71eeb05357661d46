package netguard

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// Config carries a Guard's collaborators.
type Config struct {
	DB *db.DB
	// Resolver looks names up (default net.DefaultResolver).
	Resolver Resolver
	Now      func() time.Time
}

// Guard is the outbound policy of one Tenon: the allow-list kept in the
// database (one row of outbound_settings, so every process and every
// backup has it), the URL check made when a target is saved, and guarded
// HTTP clients. It holds no state a second instance would need.
type Guard struct {
	db       *db.DB
	resolver Resolver
	now      func() time.Time
}

// New builds a guard.
func New(c Config) *Guard {
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Guard{db: c.DB, resolver: c.Resolver, now: c.Now}
}

// Settings is the stored allow-list.
type Settings struct {
	Allow     []Entry
	UpdatedAt time.Time
	UpdatedBy int64
}

// SettingsView is the API form of the settings.
type SettingsView struct {
	Allow     []string `json:"allow"`
	UpdatedAt *string  `json:"updated_at"`
	UpdatedBy *string  `json:"updated_by"`
}

// View returns the API form.
func (st Settings) View() SettingsView {
	v := SettingsView{Allow: entryStrings(st.Allow)}
	if !st.UpdatedAt.IsZero() {
		s := meta.FormatTime(st.UpdatedAt)
		v.UpdatedAt = &s
	}
	if st.UpdatedBy != 0 {
		s := strconv.FormatInt(st.UpdatedBy, 10)
		v.UpdatedBy = &s
	}
	return v
}

// SettingsInput replaces the allow-list.
type SettingsInput struct {
	Allow []string `json:"allow"`
}

func entryStrings(es []Entry) []string {
	out := make([]string, 0, len(es))
	for _, e := range es {
		out = append(out, e.String())
	}
	return out
}

// Settings reads the allow-list (empty when never saved). An entry that
// no longer parses (it cannot happen through SetSettings) is skipped.
func (g *Guard) Settings(ctx context.Context) (Settings, error) {
	var (
		raw []byte
		at  int64
		by  sql.NullInt64
	)
	err := g.db.QueryRow(ctx, `SELECT allow, updated_at, updated_by FROM outbound_settings WHERE id = 1`).Scan(&raw, &at, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, err
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return Settings{}, err
	}
	st := Settings{UpdatedAt: time.UnixMicro(at), UpdatedBy: by.Int64}
	for _, s := range list {
		if e, err := ParseEntry(s); err == nil {
			st.Allow = append(st.Allow, e)
		}
	}
	return st, nil
}

// Policy is the policy as stored now.
func (g *Guard) Policy(ctx context.Context) (Policy, error) {
	st, err := g.Settings(ctx)
	if err != nil {
		return Policy{}, err
	}
	return Policy{Allow: st.Allow}, nil
}

// policy is the policy of a client's call.
func (g *Guard) policy(ctx context.Context, o ClientOptions) (Policy, error) {
	if o.AllowPrivate {
		return Policy{AllowPrivate: true}, nil
	}
	return g.Policy(ctx)
}

// CheckURL checks a URL about to be saved against the current policy (see
// Policy.CheckURL). Refusals are *URLError or *RefusedError; FieldError
// turns them into a 422 on the caller's field.
func (g *Guard) CheckURL(ctx context.Context, raw string) error {
	if err := ValidURL(raw); err != nil {
		return err
	}
	pol, err := g.Policy(ctx)
	if err != nil {
		return err
	}
	return pol.CheckURL(raw)
}

// SetSettings replaces the allow-list (administrators only) in one
// transaction and audits the change (entity outbound_settings, record 1).
// Entries are stored in their canonical spelling, duplicates dropped; a
// bad entry is a 422 naming it (allow[2]).
func (g *Guard) SetSettings(ctx context.Context, p *access.Principal, in SettingsInput) (Settings, error) {
	if p == nil || !p.Admin {
		return Settings{}, apperr.Forbidden("admin_only")
	}
	if len(in.Allow) > MaxAllow {
		return Settings{}, apperr.Fields(apperr.Field("allow", CodeAllowTooMany, "max", MaxAllow))
	}
	var entries []Entry
	var errs []apperr.FieldError
	seen := map[string]bool{}
	for i, s := range in.Allow {
		e, err := ParseEntry(s)
		if err != nil {
			errs = append(errs, apperr.Field("allow["+strconv.Itoa(i)+"]", CodeAllowInvalid, "value", s))
			continue
		}
		if k := e.String(); !seen[k] {
			seen[k] = true
			entries = append(entries, e)
		}
	}
	if len(errs) > 0 {
		return Settings{}, apperr.Fields(errs...)
	}
	var out Settings
	err := g.db.WithTx(ctx, func(ctx context.Context) error {
		old, err := g.Settings(ctx)
		if err != nil {
			return err
		}
		now := g.now()
		list, _ := json.Marshal(entryStrings(entries))
		if _, err := g.db.Exec(ctx, `INSERT INTO outbound_settings (id, allow, updated_at, updated_by) VALUES (1, `+g.db.JSONParam()+`, ?, ?)
			ON CONFLICT (id) DO UPDATE SET allow = excluded.allow, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			string(list), now.UnixMicro(), nullID(p.UserID)); err != nil {
			return err
		}
		before, after := entryStrings(old.Allow), entryStrings(entries)
		if !slices.Equal(before, after) {
			src := p.Source
			if src == "" {
				src = access.SourceAPI
			}
			if err := audit.Write(ctx, g.db, audit.Entry{Entity: "outbound_settings", RecordID: 1, Action: "updated",
				Actor: p.UserID, TokenID: p.TokenID, Source: src, At: now,
				Changes: map[string]audit.Change{"allow": {Old: before, New: after}}}); err != nil {
				return err
			}
		}
		out = Settings{Allow: entries, UpdatedAt: now, UpdatedBy: p.UserID}
		return nil
	})
	return out, err
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
