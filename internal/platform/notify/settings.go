package notify

import (
	"context"
	"crypto/x509"
	"database/sql"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/audit"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/meta"
)

// TLS modes of the SMTP connection.
const (
	TLSNone     = "none"     // plain text (only for a relay on a trusted network)
	TLSStartTLS = "starttls" // upgrade with STARTTLS (port 587, 25); refused if the server does not offer it
	TLSImplicit = "tls"      // TLS from the first byte (port 465)
)

// Settings are the instance-wide e-mail and delivery settings, kept in the
// one row of notify_settings (so that backups carry them).
type Settings struct {
	EmailEnabled bool
	Host         string
	Port         int
	Username     string
	Password     string
	TLS          string
	// CA is optional PEM: certificates trusted for the SMTP server besides
	// the system's (an internal mail relay with a company CA).
	CA       string
	From     string
	FromName string
	// BaseURL is Tenon's address as users reach it, for links in e-mails
	// and robot messages ("" leaves links out).
	BaseURL string
	// RobotsAllowPrivate lets robot webhooks reach loopback, link-local and
	// private addresses (refused by default, as for outbound webhooks).
	RobotsAllowPrivate bool
	UpdatedAt          time.Time
	UpdatedBy          int64
}

// emailReady reports whether e-mail is switched on and complete.
func (st Settings) emailReady() bool {
	return st.EmailEnabled && st.Host != "" && st.From != ""
}

// port returns the configured port or the mode's usual one.
func (st Settings) port() int {
	switch {
	case st.Port > 0:
		return st.Port
	case st.TLS == TLSImplicit:
		return 465
	case st.TLS == TLSNone:
		return 25
	}
	return 587
}

// Settings reads the settings (defaults when never saved).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	st := Settings{TLS: TLSStartTLS}
	var (
		enabled, private any
		updated          int64
		by               sql.NullInt64
	)
	err := s.db.QueryRow(ctx, `SELECT email_enabled, smtp_host, smtp_port, smtp_username, smtp_password, smtp_tls, smtp_ca,
		from_address, from_name, base_url, robots_allow_private, updated_at, updated_by FROM notify_settings WHERE id = 1`).
		Scan(&enabled, &st.Host, &st.Port, &st.Username, &st.Password, &st.TLS, &st.CA, &st.From, &st.FromName, &st.BaseURL,
			&private, &updated, &by)
	if isNoRows(err) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	st.EmailEnabled, st.RobotsAllowPrivate = db.Truthy(enabled), db.Truthy(private)
	st.UpdatedAt, st.UpdatedBy = time.UnixMicro(updated), by.Int64
	return st, nil
}

// SettingsView is the settings as the API shows them: never the password.
type SettingsView struct {
	EmailEnabled       bool    `json:"email_enabled"`
	SMTPHost           string  `json:"smtp_host"`
	SMTPPort           int     `json:"smtp_port"`
	SMTPUsername       string  `json:"smtp_username"`
	SMTPPasswordSet    bool    `json:"smtp_password_set"`
	SMTPTLS            string  `json:"smtp_tls"`
	SMTPCA             string  `json:"smtp_ca"`
	FromAddress        string  `json:"from_address"`
	FromName           string  `json:"from_name"`
	BaseURL            string  `json:"base_url"`
	RobotsAllowPrivate bool    `json:"robots_allow_private"`
	UpdatedAt          *string `json:"updated_at"`
}

// View returns the API form of the settings.
func (st Settings) View() SettingsView {
	v := SettingsView{EmailEnabled: st.EmailEnabled, SMTPHost: st.Host, SMTPPort: st.Port, SMTPUsername: st.Username,
		SMTPPasswordSet: st.Password != "", SMTPTLS: st.TLS, SMTPCA: st.CA, FromAddress: st.From, FromName: st.FromName,
		BaseURL: st.BaseURL, RobotsAllowPrivate: st.RobotsAllowPrivate}
	if !st.UpdatedAt.IsZero() {
		u := meta.FormatTime(st.UpdatedAt)
		v.UpdatedAt = &u
	}
	return v
}

// SettingsInput changes the settings; nil fields keep their value. An
// empty smtp_password removes the stored one.
type SettingsInput struct {
	EmailEnabled       *bool   `json:"email_enabled"`
	SMTPHost           *string `json:"smtp_host"`
	SMTPPort           *int    `json:"smtp_port"`
	SMTPUsername       *string `json:"smtp_username"`
	SMTPPassword       *string `json:"smtp_password"`
	SMTPTLS            *string `json:"smtp_tls"`
	SMTPCA             *string `json:"smtp_ca"`
	FromAddress        *string `json:"from_address"`
	FromName           *string `json:"from_name"`
	BaseURL            *string `json:"base_url"`
	RobotsAllowPrivate *bool   `json:"robots_allow_private"`
}

// apply returns st changed by in, with every problem found.
func (in SettingsInput) apply(st Settings) (Settings, []apperr.FieldError) {
	var errs []apperr.FieldError
	add := func(field, code string, kv ...any) { errs = append(errs, apperr.Field(field, code, kv...)) }
	line := func(field string, p *string, max int, dst *string) {
		if p == nil {
			return
		}
		v := strings.TrimSpace(*p)
		switch {
		case strings.ContainsAny(v, "\r\n\x00"):
			add(field, "single_line")
		case utf8.RuneCountInString(v) > max:
			add(field, "too_long", "max", max)
		default:
			*dst = v
		}
	}
	if in.EmailEnabled != nil {
		st.EmailEnabled = *in.EmailEnabled
	}
	line("smtp_host", in.SMTPHost, 253, &st.Host)
	if in.SMTPHost != nil && st.Host != "" && !validHost(st.Host) {
		add("smtp_host", "notify_bad_host")
	}
	if in.SMTPPort != nil {
		if *in.SMTPPort < 0 || *in.SMTPPort > 65535 {
			add("smtp_port", "out_of_range")
		} else {
			st.Port = *in.SMTPPort
		}
	}
	line("smtp_username", in.SMTPUsername, 254, &st.Username)
	if in.SMTPPassword != nil {
		if strings.ContainsAny(*in.SMTPPassword, "\r\n\x00") || len(*in.SMTPPassword) > 512 {
			add("smtp_password", "invalid_text")
		} else {
			st.Password = *in.SMTPPassword
		}
	}
	if in.SMTPTLS != nil {
		switch *in.SMTPTLS {
		case TLSNone, TLSStartTLS, TLSImplicit:
			st.TLS = *in.SMTPTLS
		default:
			add("smtp_tls", "invalid_option", "value", *in.SMTPTLS)
		}
	}
	if in.SMTPCA != nil {
		ca := strings.TrimSpace(*in.SMTPCA)
		if ca != "" && (len(ca) > 64<<10 || !x509.NewCertPool().AppendCertsFromPEM([]byte(ca))) {
			add("smtp_ca", "notify_bad_ca")
		} else {
			st.CA = ca
		}
	}
	line("from_address", in.FromAddress, 254, &st.From)
	if in.FromAddress != nil && st.From != "" {
		if a, err := mail.ParseAddress(st.From); err != nil || a.Address != st.From {
			add("from_address", "invalid_email")
		}
	}
	line("from_name", in.FromName, 100, &st.FromName)
	line("base_url", in.BaseURL, 500, &st.BaseURL)
	if in.BaseURL != nil && st.BaseURL != "" {
		u, err := url.Parse(st.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			add("base_url", "invalid_url")
		}
		st.BaseURL = strings.TrimRight(st.BaseURL, "/")
	}
	if in.RobotsAllowPrivate != nil {
		st.RobotsAllowPrivate = *in.RobotsAllowPrivate
	}
	if st.EmailEnabled && len(errs) == 0 {
		if st.Host == "" {
			add("smtp_host", "required")
		}
		if st.From == "" {
			add("from_address", "required")
		}
	}
	return st, errs
}

// validHost accepts a DNS name or an IP address.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// settingsAuditID is the record id the settings' audit entries carry.
const settingsAuditID = 1

// SetSettings changes the settings (administrators only) in one
// transaction and audits what changed, with the password and the CA shown
// only as changed.
func (s *Service) SetSettings(ctx context.Context, p *access.Principal, in SettingsInput) (Settings, error) {
	if p == nil || !p.Admin {
		return Settings{}, apperr.Forbidden("admin_only")
	}
	var out Settings
	err := s.db.WithTx(ctx, func(ctx context.Context) error {
		old, err := s.Settings(ctx)
		if err != nil {
			return err
		}
		st, errs := in.apply(old)
		if len(errs) > 0 {
			return apperr.Fields(errs...)
		}
		now := s.now()
		st.UpdatedAt, st.UpdatedBy = now, p.UserID
		if _, err := s.db.Exec(ctx, `INSERT INTO notify_settings (id, email_enabled, smtp_host, smtp_port, smtp_username, smtp_password,
			smtp_tls, smtp_ca, from_address, from_name, base_url, robots_allow_private, updated_at, updated_by)
			VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET email_enabled = excluded.email_enabled, smtp_host = excluded.smtp_host,
			smtp_port = excluded.smtp_port, smtp_username = excluded.smtp_username, smtp_password = excluded.smtp_password,
			smtp_tls = excluded.smtp_tls, smtp_ca = excluded.smtp_ca, from_address = excluded.from_address,
			from_name = excluded.from_name, base_url = excluded.base_url, robots_allow_private = excluded.robots_allow_private,
			updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			s.boolDB(st.EmailEnabled), st.Host, st.Port, st.Username, st.Password, st.TLS, st.CA, st.From, st.FromName,
			st.BaseURL, s.boolDB(st.RobotsAllowPrivate), now.UnixMicro(), nullID(p.UserID)); err != nil {
			return err
		}
		if ch := settingsChanges(old, st); len(ch) > 0 {
			if err := audit.Write(ctx, s.db, audit.Entry{Entity: "notify_settings", RecordID: settingsAuditID, Action: "updated",
				Actor: p.UserID, TokenID: p.TokenID, Source: sourceOf(p), At: now, Changes: ch}); err != nil {
				return err
			}
		}
		out = st
		return nil
	})
	return out, err
}

// settingsChanges lists what changed for the audit trail.
func settingsChanges(a, b Settings) map[string]audit.Change {
	ch := map[string]audit.Change{}
	put := func(k string, x, y any) {
		if x != y {
			ch[k] = audit.Change{Old: x, New: y}
		}
	}
	put("email_enabled", a.EmailEnabled, b.EmailEnabled)
	put("smtp_host", a.Host, b.Host)
	put("smtp_port", a.Port, b.Port)
	put("smtp_username", a.Username, b.Username)
	put("smtp_tls", a.TLS, b.TLS)
	put("from_address", a.From, b.From)
	put("from_name", a.FromName, b.FromName)
	put("base_url", a.BaseURL, b.BaseURL)
	put("robots_allow_private", a.RobotsAllowPrivate, b.RobotsAllowPrivate)
	if a.Password != b.Password {
		ch["smtp_password"] = audit.Change{Old: mask(a.Password), New: mask(b.Password)}
	}
	if a.CA != b.CA {
		ch["smtp_ca"] = audit.Change{Old: mask(a.CA), New: mask(b.CA)}
	}
	return ch
}

// mask shows whether a secret is set, never the secret.
func mask(s string) any {
	if s == "" {
		return nil
	}
	return "******"
}

func sourceOf(p *access.Principal) string {
	if p.Source != "" {
		return p.Source
	}
	return access.SourceSystem
}
