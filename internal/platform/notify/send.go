package notify

import (
	"context"
	"database/sql"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
)

// Bounds of what a message stores.
const (
	maxTitle = 200
	maxBody  = 4000
	// inChunk bounds the ids of one IN (...) list.
	inChunk = 500
)

// recipient is a user a message may reach.
type recipient struct {
	id    int64
	name  string
	email string
	lang  i18n.Lang
}

// emailJob is the payload of a notify.email job: everything rendered at
// send time in the recipient's language, so a retry sends the same mail.
type emailJob struct {
	User         int64  `json:"user"`
	To           string `json:"to"`
	Name         string `json:"name,omitempty"`
	Subject      string `json:"subject"`
	Body         string `json:"body,omitempty"`
	Lang         string `json:"lang"`
	Kind         string `json:"kind"`
	Entity       string `json:"entity,omitempty"`
	RecordID     int64  `json:"record_id,omitempty"`
	Notification int64  `json:"notification,omitempty"`
	// External mail goes to an outside address (a customer) on a user's
	// behalf: no link into Tenon, no footer about notifications.
	External    bool         `json:"external,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
}

// ExternalEmail is a message a user sends to an outside address through
// Tenon (a quote to a customer), with files attached.
type ExternalEmail struct {
	To          string
	Subject     string
	Text        string
	Entity      string
	RecordID    int64
	Attachments []Attachment
}

// SendExternal queues an e-mail to an outside address for p, in the
// transaction carried by ctx. It is refused (409 notify_email_off) while
// e-mail is not enabled in the settings, and with a bad address (422).
func (s *Service) SendExternal(ctx context.Context, p *access.Principal, m ExternalEmail) error {
	addr, err := mail.ParseAddress(m.To)
	if err != nil {
		return apperr.Fields(apperr.Field("to", "invalid_email"))
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	if !st.emailReady() {
		return apperr.Conflict("notify_email_off")
	}
	job := emailJob{User: p.UserID, To: addr.Address, Name: addr.Name, Subject: m.Subject, Body: m.Text, Lang: string(p.Lang),
		Kind: "external", Entity: m.Entity, RecordID: m.RecordID, External: true, Attachments: m.Attachments}
	_, err = s.jobs.Enqueue(ctx, jobEmail, job, jobs.EnqueueOptions{})
	return err
}

// Send delivers m: one inbox row per recipient (duplicates, deleted and
// inactive users dropped) and, by each recipient's preferences for m.Kind,
// one e-mail job per recipient with an address (only while e-mail is
// enabled in the settings). It runs in the transaction carried by ctx when
// there is one, so a message exists exactly when the write that caused it
// commits; open event streams of the recipients are woken after the commit.
func (s *Service) Send(ctx context.Context, m Message) error {
	if err := checkMessage(&m); err != nil {
		return err
	}
	ids := uniqueIDs(m.To)
	if len(ids) == 0 {
		return nil
	}
	inApp, email := wants(m.Channels)
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		users, err := s.recipients(ctx, ids)
		if err != nil || len(users) == 0 {
			return err
		}
		prefs, err := s.preferencesFor(ctx, users, m.Kind)
		if err != nil {
			return err
		}
		mailOn := false
		if email {
			st, err := s.Settings(ctx)
			if err != nil {
				return err
			}
			mailOn = st.emailReady()
		}
		now := s.now().UnixMicro()
		var woken []int64
		for _, u := range users {
			p := prefs[u.id]
			title, body := render(m, u.lang)
			var nid int64
			if inApp && p.InApp {
				if err := s.db.QueryRow(ctx, `INSERT INTO notifications (recipient, kind, title, body, entity, record_id, actor, created_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
					u.id, m.Kind, title, body, nullText(m.Entity), nullID(m.RecordID), nullID(m.Actor), now).Scan(&nid); err != nil {
					return err
				}
				woken = append(woken, u.id)
			}
			if mailOn && p.Email && u.email != "" {
				job := emailJob{User: u.id, To: u.email, Name: u.name, Subject: title, Body: body, Lang: string(u.lang),
					Kind: m.Kind, Entity: m.Entity, RecordID: m.RecordID, Notification: nid}
				if _, err := s.jobs.Enqueue(ctx, jobEmail, job, jobs.EnqueueOptions{}); err != nil {
					return err
				}
			}
		}
		return s.wake(ctx, woken)
	})
}

// checkMessage refuses a message no engine should build.
func checkMessage(m *Message) error {
	if !kindRe.MatchString(m.Kind) || len(m.Kind) > 64 {
		return apperr.Invalid("notify_bad_kind", "kind", m.Kind)
	}
	if strings.TrimSpace(m.Title) == "" && m.Code == "" {
		return apperr.Invalid("notify_empty_message")
	}
	if m.Entity != "" && (m.RecordID <= 0 || !entityRe.MatchString(m.Entity)) {
		return apperr.Invalid("notify_bad_record")
	}
	for _, c := range m.Channels {
		if c != ChannelInApp && c != ChannelEmail {
			return apperr.Invalid("notify_bad_channel", "channel", c)
		}
	}
	return nil
}

// wants reads Message.Channels.
func wants(channels []string) (inApp, email bool) {
	if channels == nil {
		return true, true
	}
	return slices.Contains(channels, ChannelInApp), slices.Contains(channels, ChannelEmail)
}

func uniqueIDs(in []int64) []int64 {
	seen := make(map[int64]bool, len(in))
	out := make([]int64, 0, len(in))
	for _, id := range in {
		if id > 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// render gives a message's title and body in a language.
func render(m Message, lang i18n.Lang) (string, string) {
	title, body := m.Title, m.Body
	if m.Code != "" {
		title = i18n.Message(lang, m.Code, m.Args)
		if i18n.Has(m.Code + ".body") {
			body = i18n.Message(lang, m.Code+".body", m.Args)
		}
	}
	title = strings.Join(strings.Fields(title), " ") // one line
	return clip(title, maxTitle), clip(strings.TrimSpace(body), maxBody)
}

// clip shortens s to at most n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// recipients loads the active users among ids, in the order of ids.
func (s *Service) recipients(ctx context.Context, ids []int64) ([]recipient, error) {
	found := map[int64]recipient{}
	for start := 0; start < len(ids); start += inChunk {
		part := ids[start:min(len(ids), start+inChunk)]
		rows, err := s.db.Query(ctx, `SELECT id, name, email, language, active FROM r_users
			WHERE deleted_at IS NULL AND id IN (`+marks(len(part))+`)`, idArgs(part)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var (
				r           recipient
				email, lang sql.NullString
				active      any
			)
			if err := rows.Scan(&r.id, &r.name, &email, &lang, &active); err != nil {
				rows.Close()
				return nil, err
			}
			if !db.Truthy(active) {
				continue
			}
			r.email, r.lang = email.String, langOf(lang.String)
			found[r.id] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]recipient, 0, len(found))
	for _, id := range ids {
		if r, ok := found[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// wake tells the recipients' open event streams, after the commit, that
// their inbox changed: in this process directly, and on PostgreSQL in
// every process through NOTIFY (delivered only if the transaction commits).
func (s *Service) wake(ctx context.Context, users []int64) error {
	if len(users) == 0 {
		return nil
	}
	users = slices.Clone(users)
	db.AfterCommit(ctx, func() { s.hub.publish(users) })
	if s.db.Kind != db.Postgres {
		return nil
	}
	for _, payload := range notifyPayloads(s.token, users) {
		if _, err := s.db.Exec(ctx, `SELECT pg_notify(?, ?)`, pgChannel, payload); err != nil {
			return err
		}
	}
	return nil
}

func langOf(s string) i18n.Lang {
	if s == string(i18n.EN) {
		return i18n.EN
	}
	return i18n.ZH
}

func marks(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

func idArgs(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// boolDB is the stored form of a boolean in this package's tables.
func (s *Service) boolDB(b bool) any {
	if s.db.Kind == db.SQLite {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return b
}
