package notify

import (
	"context"
	"fmt"
	"regexp"

	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
)

var entityRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Pref is one user's delivery choice for one event kind.
type Pref struct {
	InApp bool
	Email bool
}

// defaults returns the preference of a kind nobody has changed.
func (s *Service) defaults(kind string) Pref {
	k, ok := s.kind(kind)
	return Pref{InApp: true, Email: ok && k.Email}
}

// preferencesFor returns every user's preference for kind.
func (s *Service) preferencesFor(ctx context.Context, users []recipient, kind string) (map[int64]Pref, error) {
	def := s.defaults(kind)
	out := make(map[int64]Pref, len(users))
	ids := make([]int64, len(users))
	for i, u := range users {
		out[u.id] = def
		ids[i] = u.id
	}
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(len(ids), start+inChunk)]
		rows, err := s.db.Query(ctx, `SELECT user_id, in_app, email FROM notify_preferences WHERE kind = ? AND user_id IN (`+marks(len(part))+`)`,
			append([]any{kind}, idArgs(part)...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var p Pref
			if err := rows.Scan(&id, &p.InApp, &p.Email); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PrefItem is one line of the preferences API.
type PrefItem struct {
	Kind  string `json:"kind"`
	Label string `json:"label"`
	InApp bool   `json:"in_app"`
	Email bool   `json:"email"`
	// Defaults, so a screen can offer "reset".
	DefaultInApp bool `json:"default_in_app"`
	DefaultEmail bool `json:"default_email"`
}

// PrefsView is a user's preferences for every declared kind.
type PrefsView struct {
	Items []PrefItem `json:"items"`
	// EmailAvailable says whether e-mail can reach this user at all: e-mail
	// is enabled by an administrator and the user has an address.
	EmailAvailable bool `json:"email_available"`
}

// PrefInput changes one kind; a nil field keeps its current value.
type PrefInput struct {
	Kind  string `json:"kind"`
	InApp *bool  `json:"in_app"`
	Email *bool  `json:"email"`
}

// Preferences returns a user's preferences for every declared kind.
func (s *Service) Preferences(ctx context.Context, userID int64, lang i18n.Lang) (PrefsView, error) {
	kinds := s.Kinds()
	stored := map[string]Pref{}
	rows, err := s.db.Query(ctx, `SELECT kind, in_app, email FROM notify_preferences WHERE user_id = ?`, userID)
	if err != nil {
		return PrefsView{}, err
	}
	for rows.Next() {
		var k string
		var p Pref
		if err := rows.Scan(&k, &p.InApp, &p.Email); err != nil {
			rows.Close()
			return PrefsView{}, err
		}
		stored[k] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return PrefsView{}, err
	}
	v := PrefsView{Items: make([]PrefItem, 0, len(kinds))}
	for _, k := range kinds {
		def := Pref{InApp: true, Email: k.Email}
		p, ok := stored[k.Name]
		if !ok {
			p = def
		}
		v.Items = append(v.Items, PrefItem{Kind: k.Name, Label: k.Label.Get(string(lang), k.Name), InApp: p.InApp, Email: p.Email,
			DefaultInApp: def.InApp, DefaultEmail: def.Email})
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return PrefsView{}, err
	}
	if st.emailReady() {
		us, err := s.recipients(ctx, []int64{userID})
		if err != nil {
			return PrefsView{}, err
		}
		v.EmailAvailable = len(us) == 1 && us[0].email != ""
	}
	return v, nil
}

// SetPreferences changes some of a user's preferences in one transaction;
// an unknown kind refuses the whole change.
func (s *Service) SetPreferences(ctx context.Context, userID int64, in []PrefInput) error {
	var errs []apperr.FieldError
	seen := map[string]bool{}
	for i, p := range in {
		path := fmt.Sprintf("items[%d]", i)
		if _, ok := s.kind(p.Kind); !ok {
			errs = append(errs, apperr.Field(path+".kind", "notify_unknown_kind", "kind", p.Kind))
		} else if seen[p.Kind] {
			errs = append(errs, apperr.Field(path+".kind", "duplicate_name", "name", p.Kind))
		}
		seen[p.Kind] = true
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		now := s.now().UnixMicro()
		for _, p := range in {
			cur := s.defaults(p.Kind)
			row := s.db.QueryRow(ctx, `SELECT in_app, email FROM notify_preferences WHERE user_id = ? AND kind = ?`, userID, p.Kind)
			if err := row.Scan(&cur.InApp, &cur.Email); err != nil && !isNoRows(err) {
				return err
			}
			if p.InApp != nil {
				cur.InApp = *p.InApp
			}
			if p.Email != nil {
				cur.Email = *p.Email
			}
			if _, err := s.db.Exec(ctx, `INSERT INTO notify_preferences (user_id, kind, in_app, email, updated_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (user_id, kind) DO UPDATE SET in_app = excluded.in_app, email = excluded.email, updated_at = excluded.updated_at`,
				userID, p.Kind, s.boolDB(cur.InApp), s.boolDB(cur.Email), now); err != nil {
				return err
			}
		}
		return nil
	})
}
