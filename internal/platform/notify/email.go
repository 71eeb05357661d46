package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/meta"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Email is one composed e-mail.
type Email struct {
	From     string // envelope and header address
	FromName string
	To       string
	ToName   string
	Subject  string
	Text     string // plain-text body
	Link     string // optional link to a record
	LinkText string
	Footer   string
	// MessageID makes a delivery recognisable: a retry of the same job
	// carries the same id, so mail clients show it once.
	MessageID string
	Date      time.Time
	Kind      string
	// Attachments are sent as parts of a multipart/mixed message after
	// the text.
	Attachments []Attachment
}

// Attachment is a file attached to an e-mail.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// Compose renders the e-mail as an RFC 5322 message: UTF-8 throughout,
// encoded-word headers (RFC 2047), a multipart/alternative body with a
// plain-text and an HTML part, each base64 encoded, CRLF line ends.
func (e Email) Compose() ([]byte, error) {
	var b bytes.Buffer
	hdr := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	hdr("From", (&mail.Address{Name: e.FromName, Address: e.From}).String())
	hdr("To", (&mail.Address{Name: e.ToName, Address: e.To}).String())
	hdr("Subject", encodeHeader(e.Subject))
	hdr("Date", e.Date.In(meta.Shanghai).Format(time.RFC1123Z))
	hdr("Message-ID", "<"+e.MessageID+">")
	hdr("MIME-Version", "1.0")
	// An automatic message: vacation responders must not answer it (RFC 3834).
	hdr("Auto-Submitted", "auto-generated")
	if e.Kind != "" {
		hdr("X-Tenon-Kind", e.Kind)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var mixedBody bytes.Buffer
	var mixed *multipart.Writer
	if len(e.Attachments) > 0 {
		// multipart/mixed: the text (multipart/alternative), then the
		// files (composeMixed).
		mixed = multipart.NewWriter(&mixedBody)
		hdr("Content-Type", `multipart/mixed; boundary="`+mixed.Boundary()+`"`)
		b.WriteString("\r\n")
	} else {
		hdr("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
		b.WriteString("\r\n")
	}
	text := e.Text
	if e.Link != "" {
		text += "\n\n" + e.LinkText + ": " + e.Link
	}
	if e.Footer != "" {
		text += "\n\n-- \n" + e.Footer
	}
	for _, part := range []struct{ ctype, content string }{
		{"text/plain; charset=UTF-8", crlf(text)},
		{"text/html; charset=UTF-8", e.html()},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"base64"}})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(base64Lines([]byte(part.content))); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	if mixed == nil {
		b.Write(body.Bytes())
		return b.Bytes(), nil
	}
	if err := e.composeMixed(mixed, mw.Boundary(), body.Bytes()); err != nil {
		return nil, err
	}
	b.Write(mixedBody.Bytes())
	return b.Bytes(), nil
}

// composeMixed ends a message with attachments: the alternative text part,
// then each file base64 encoded, with its name RFC 2231/2047 encoded.
func (e Email) composeMixed(mw *multipart.Writer, altBoundary string, alt []byte) error {
	w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {`multipart/alternative; boundary="` + altBoundary + `"`}})
	if err != nil {
		return err
	}
	if _, err := w.Write(alt); err != nil {
		return err
	}
	for _, a := range e.Attachments {
		ctype := a.ContentType
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		name := mime.BEncoding.Encode("UTF-8", a.Name)
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(ctype, map[string]string{"name": a.Name})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Description":       {name},
		})
		if err != nil {
			return err
		}
		if _, err := w.Write(base64Lines(a.Data)); err != nil {
			return err
		}
	}
	return mw.Close()
}

// html is the HTML part: the same text, escaped, and the link as a link.
func (e Email) html() string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(html.EscapeString(e.Subject))
	b.WriteString("</title></head><body style=\"font-family: sans-serif; line-height: 1.5\">\r\n<h3>")
	b.WriteString(html.EscapeString(e.Subject))
	b.WriteString("</h3>\r\n")
	for _, para := range strings.Split(strings.TrimSpace(e.Text), "\n\n") {
		if strings.TrimSpace(para) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>\r\n")
	}
	if e.Link != "" {
		b.WriteString(`<p><a href="` + html.EscapeString(e.Link) + `">` + html.EscapeString(e.LinkText) + "</a></p>\r\n")
	}
	if e.Footer != "" {
		b.WriteString(`<p style="color: #888; font-size: 12px">` + html.EscapeString(e.Footer) + "</p>\r\n")
	}
	b.WriteString("</body></html>\r\n")
	return b.String()
}

// encodeHeader encodes a header value as RFC 2047 words when it is not
// plain ASCII, folding between words so no line grows past 78 characters.
func encodeHeader(s string) string {
	enc := mime.BEncoding.Encode("UTF-8", s)
	return strings.ReplaceAll(enc, "?= =?", "?=\r\n =?")
}

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// base64Lines encodes b in lines of 76 characters (RFC 2045).
func base64Lines(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(enc) > 76 {
		out.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	out.WriteString(enc + "\r\n")
	return out.Bytes()
}

// smtpError is a failure of a delivery attempt; Permanent ones (a 5xx
// reply, a refused configuration) are not retried.
type smtpError struct {
	permanent bool
	err       error
}

func (e *smtpError) Error() string { return e.err.Error() }
func (e *smtpError) Unwrap() error { return e.err }

// sendMail delivers one composed message over SMTP with the settings.
func (s *Service) sendMail(ctx context.Context, st Settings, to string, msg []byte) error {
	addr := net.JoinHostPort(st.Host, strconv.Itoa(st.port()))
	tcfg := &tls.Config{ServerName: st.Host, MinVersion: tls.VersionTLS12}
	if st.CA != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(st.CA)) {
			return &smtpError{permanent: true, err: errors.New("the configured CA is not valid PEM")}
		}
		tcfg.RootCAs = pool
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	d := &net.Dialer{}
	conn, err := d.DialContext(dctx, "tcp", addr)
	if err != nil {
		return &smtpError{err: fmt.Errorf("connect to %s: %w", addr, err)}
	}
	if st.TLS == TLSImplicit {
		tc := tls.Client(conn, tcfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			conn.Close()
			return &smtpError{err: fmt.Errorf("TLS handshake: %w", err)}
		}
		conn = tc
	}
	// The whole conversation is bounded by ctx (the job's timeout).
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(2 * time.Minute)
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, st.Host)
	if err != nil {
		conn.Close()
		return classify("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(heloName(st.From)); err != nil {
		return classify("EHLO", err)
	}
	if st.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &smtpError{permanent: true, err: errors.New("the server does not offer STARTTLS")}
		}
		if err := c.StartTLS(tcfg); err != nil {
			return classify("STARTTLS", err)
		}
	}
	if st.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return &smtpError{permanent: true, err: errors.New("the server does not offer AUTH")}
		}
		// PlainAuth refuses to send the password without TLS, except to
		// localhost.
		if err := c.Auth(smtp.PlainAuth("", st.Username, st.Password, st.Host)); err != nil {
			return classify("AUTH", err)
		}
	}
	if err := c.Mail(st.From); err != nil {
		return classify("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return classify("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return classify("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return classify("DATA", err)
	}
	if err := w.Close(); err != nil {
		return classify("DATA", err)
	}
	if err := c.Quit(); err != nil {
		// The message was accepted at the end of DATA; a failing QUIT does
		// not make it undelivered.
		s.log.Warn("smtp quit", "err", err)
	}
	return nil
}

// classify makes a 5xx reply permanent and anything else (4xx, network)
// worth a retry.
func classify(step string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &smtpError{permanent: te.Code >= 500, err: fmt.Errorf("%s: %d %s", step, te.Code, te.Msg)}
	}
	if strings.Contains(err.Error(), "unencrypted connection") {
		return &smtpError{permanent: true, err: fmt.Errorf("%s: the password would be sent without TLS", step)}
	}
	return &smtpError{err: fmt.Errorf("%s: %w", step, err)}
}

// heloName is the name Tenon greets with: the sender's domain.
func heloName(from string) string {
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		return from[i+1:]
	}
	return "localhost"
}

// messageID derives a Message-ID from a job id (never reused) and the
// sender's domain.
func messageID(jobID int64, from string) string {
	return fmt.Sprintf("tenon-%d@%s", jobID, heloName(from))
}

// deliverEmailJob sends one queued e-mail. It runs outside any transaction
// (at least once: the job id in Message-ID lets mail clients drop a
// duplicate after a crash between the server's acceptance and "done").
func (s *Service) deliverEmailJob(ctx context.Context, j *jobs.Job) error {
	var m emailJob
	if err := j.Decode(&m); err != nil {
		return jobs.Permanent(err)
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	if !st.emailReady() {
		return jobs.Permanent(errors.New("e-mail is not enabled"))
	}
	lang := langOf(m.Lang)
	e := Email{From: st.From, FromName: fromName(st), To: m.To, ToName: m.Name, Subject: m.Subject, Text: m.Body,
		MessageID: messageID(j.ID, st.From), Date: s.now(), Kind: m.Kind, Attachments: m.Attachments}
	if e.Text == "" {
		e.Text = m.Subject
	}
	if !m.External {
		// A user deactivated since the message was sent gets no more mail.
		if us, err := s.recipients(ctx, []int64{m.User}); err != nil {
			return err
		} else if len(us) == 0 {
			return nil
		}
		e.Footer = i18n.Message(lang, "notify_email_footer", nil)
		if link, err := s.recordLink(ctx, st, m.User, m.Entity, m.RecordID); err != nil {
			return err
		} else if link != "" {
			e.Link, e.LinkText = link, i18n.Message(lang, "notify_email_open", nil)
		}
	}
	msg, err := e.Compose()
	if err != nil {
		return jobs.Permanent(err)
	}
	if err := s.sendMail(ctx, st, m.To, msg); err != nil {
		var se *smtpError
		if errors.As(err, &se) && se.permanent {
			return jobs.Permanent(err)
		}
		return err
	}
	return nil
}

func fromName(st Settings) string {
	if st.FromName != "" {
		return st.FromName
	}
	return "Tenon"
}

// recordLink is the web address of a record for a user who may read it
// now ("" without a base URL, a record, or the right to read it).
func (s *Service) recordLink(ctx context.Context, st Settings, user int64, entity string, id int64) (string, error) {
	if st.BaseURL == "" || entity == "" || id <= 0 || user <= 0 {
		return "", nil
	}
	p, err := s.access.Principal(ctx, user)
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return "", nil
		}
		return "", err
	}
	if _, err := s.records.Get(ctx, p, entity, id, records.GetOptions{}); err != nil {
		if _, ok := apperr.As(err); ok {
			return "", nil
		}
		return "", err
	}
	return st.BaseURL + "/e/" + entity + "/" + strconv.FormatInt(id, 10), nil
}

// SendTestEmail sends a test message to `to` (default: the caller's own
// address) at once, with the saved settings, and reports the server's
// answer as an error. Administrators only.
func (s *Service) SendTestEmail(ctx context.Context, p *access.Principal, to string) (string, error) {
	if p == nil || !p.Admin {
		return "", apperr.Forbidden("admin_only")
	}
	to = strings.TrimSpace(to)
	if to == "" && p.UserID != 0 {
		us, err := s.recipients(ctx, []int64{p.UserID})
		if err != nil {
			return "", err
		}
		if len(us) == 1 {
			to = us[0].email
		}
	}
	if to == "" {
		return "", apperr.Fields(apperr.Field("to", "required"))
	}
	if a, err := mail.ParseAddress(to); err != nil || a.Address != to {
		return "", apperr.Fields(apperr.Field("to", "invalid_email"))
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return "", err
	}
	if st.Host == "" || st.From == "" {
		return "", apperr.Conflict("notify_email_not_configured")
	}
	lang := i18n.Lang(p.Lang)
	if lang != i18n.EN {
		lang = i18n.ZH
	}
	now := s.now()
	e := Email{From: st.From, FromName: fromName(st), To: to, Subject: i18n.Message(lang, "notify_test_email", nil),
		Text: i18n.Message(lang, "notify_test_email.body", map[string]any{"user": p.Name}), Date: now,
		MessageID: fmt.Sprintf("tenon-test-%d@%s", now.UnixNano(), heloName(st.From)), Kind: "notify.test",
		Footer: i18n.Message(lang, "notify_email_footer", nil)}
	msg, err := e.Compose()
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := s.sendMail(cctx, st, to, msg); err != nil {
		return "", apperr.New(apperr.ErrUnprocessable, "notify_smtp_failed", "reason", clip(err.Error(), 300))
	}
	return to, nil
}
