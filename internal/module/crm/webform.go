package crm

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Honeypot is the name of the hidden input of a web form that people leave
// empty and form-filling robots fill in.
const Honeypot = "website_url"

// PublicLimits shape the public web-to-lead endpoint.
type PublicLimits struct {
	// Window is the period of the per-IP and per-form limits (default one
	// hour; the limits themselves are fields of each web form).
	Window time.Duration
	// MaxBody bounds a submission in bytes (default 16 KB).
	MaxBody int64
	// MaxKeys bounds the counters kept in memory (default 100,000); past
	// it the oldest windows are dropped first.
	MaxKeys int
}

func (l PublicLimits) withDefaults() PublicLimits {
	if l.Window <= 0 {
		l.Window = time.Hour
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 16 << 10
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = 100000
	}
	return l
}

// limiter counts submissions per key in fixed windows. It is in memory, per
// process: with several processes behind a load balancer each enforces the
// limit on its own share of the traffic, and a restart starts the counts
// afresh. That is enough against form spam; a shared limit would need a
// table.
type limiter struct {
	mu  sync.Mutex
	now func() time.Time
	n   map[string]*window
}

type window struct {
	start time.Time
	count int
}

func newLimiter(now func() time.Time) *limiter { return &limiter{now: now, n: map[string]*window{}} }

// allow counts one event on every key unless one of them has reached its
// limit within the current window (then nothing is counted).
func (l *limiter) allow(per time.Duration, maxKeys int, keys []string, limits []int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	ws := make([]*window, len(keys))
	for i, k := range keys {
		w := l.n[k]
		if w == nil || now.Sub(w.start) >= per || now.Before(w.start) {
			w = &window{start: now}
		}
		if w.count >= limits[i] {
			return false
		}
		ws[i] = w
	}
	if len(l.n)+len(keys) > maxKeys {
		for k, w := range l.n {
			if now.Sub(w.start) >= per {
				delete(l.n, k)
			}
		}
	}
	for i, k := range keys {
		ws[i].count++
		if len(l.n) < maxKeys || l.n[k] != nil {
			l.n[k] = ws[i]
		}
	}
	return true
}

// beforeWebForm generates a form's key when it has none.
func (m *Module) beforeWebForm(_ context.Context, c *records.Change) error {
	if c.New == nil || str(c.New, "key") != "" {
		return nil
	}
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	c.New["key"] = base64.RawURLEncoding.EncodeToString(b)
	return nil
}

// webFormFields are the lead fields a public submission may fill.
var webFormFields = []string{"company", "contact_name", "title", "phone", "email", "wechat", "requirement", "industry", "product_line"}

// PublicForm is what the public endpoint needs of a web form.
type PublicForm struct {
	ID       int64
	Key      string
	Name     string
	ThankYou string
}

// Form reads an active web form by its public key (404 otherwise).
func (m *Module) Form(ctx context.Context, key string) (PublicForm, records.Record, error) {
	if key == "" || len(key) > 40 {
		return PublicForm{}, nil, apperr.NotFound()
	}
	res, err := m.recs.List(ctx, system(), WebForms, records.ListOptions{Filter: "key == " + strconv.Quote(key) + " && active",
		PerPage: 1, Count: "none"})
	if err != nil {
		return PublicForm{}, nil, err
	}
	if len(res.Items) == 0 {
		return PublicForm{}, nil, apperr.NotFound()
	}
	f := res.Items[0]
	return PublicForm{ID: f.ID(), Key: key, Name: str(f, "name"), ThankYou: str(f, "thank_you")}, f, nil
}

// Submission is one public form post: its values and the sender's address.
type Submission struct {
	Values map[string]string
	IP     string
}

// SubmitResult says what became of a submission.
type SubmitResult struct {
	Form PublicForm
	// Lead is the lead created (0 when the honeypot caught a robot: the
	// robot is answered as if it succeeded).
	Lead int64
}

// Submit turns a public form post into a lead: the honeypot field must be
// empty (otherwise nothing is stored and the answer is the usual one); the
// sender's address and the form each have a submission limit per window
// (429 crm_form_rate_limited); the lead gets source (the form's, by
// default web_form), region and campaign from the form, links back to it
// and is owned by the form's lead_owner, or nobody (for the assignment
// rules and the pool). It is created by the system, audited with source
// "api".
func (m *Module) Submit(ctx context.Context, key string, s Submission) (SubmitResult, error) {
	pf, form, err := m.Form(ctx, key)
	if err != nil {
		return SubmitResult{}, err
	}
	res := SubmitResult{Form: pf}
	if strings.TrimSpace(s.Values[Honeypot]) != "" {
		return res, nil
	}
	perIP, perForm := intOr(form, "per_ip_per_hour", 5), intOr(form, "per_form_per_hour", 200)
	formKey := "form:" + strconv.FormatInt(pf.ID, 10)
	if !m.limits.allow(m.public.Window, m.public.MaxKeys, []string{formKey + ":ip:" + s.IP, formKey}, []int{perIP, perForm}) {
		return res, apperr.New(apperr.ErrThrottled, "crm_form_rate_limited")
	}
	in := map[string]any{}
	for _, f := range webFormFields {
		if v := strings.TrimSpace(s.Values[f]); v != "" {
			in[f] = v
		}
	}
	src := str(form, "source")
	if src == "" {
		src = "web_form"
	}
	in["source"], in["status"], in["web_form"] = src, StatusNew, strconv.FormatInt(pf.ID, 10)
	if r := str(form, "region"); r != "" {
		in["region"] = r
	}
	if c := idOf(form, "campaign"); c != 0 {
		in["campaign"] = strconv.FormatInt(c, 10)
	}
	if o := idOf(form, "lead_owner"); o != 0 {
		in["owner"] = strconv.FormatInt(o, 10)
	}
	lead, err := m.recs.Create(ctx, system().WithSource(access.SourceAPI), Leads, in)
	if err != nil {
		return res, err
	}
	res.Lead = lead.ID()
	return res, nil
}

func intOr(r records.Record, k string, def int) int {
	if n, ok := r[k].(int64); ok && n > 0 {
		return int(n)
	}
	return def
}
