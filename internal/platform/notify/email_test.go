package notify_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/notify/notifytest"
)

// TestEmailOverSMTP sends notifications through a real SMTP server in each
// TLS mode with AUTH PLAIN, and checks the envelope, the MIME structure,
// the UTF-8 subject and body in each recipient's language, the Message-ID
// derived from the job, and that only a reader of the record gets its link.
func TestEmailOverSMTP(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		d := open(t, dsn, newClock(), notify.Options{})
		d.seed()
		ctx := context.Background()
		task, err := d.recs.Create(ctx, access.System(), "tasks", map[string]any{"title": "检查模具", "owner": fmt.Sprint(d.users["wang"]), "status": "done"})
		if err != nil {
			t.Fatal(err)
		}
		cert, caPEM := notifytest.Cert(t)
		tcfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		for _, mode := range []struct {
			name   string
			tls    string
			server notifytest.Options
		}{
			{"plain", notify.TLSNone, notifytest.Options{}},
			{"starttls", notify.TLSStartTLS, notifytest.Options{TLS: tcfg, StartTLS: true}},
			{"implicit", notify.TLSImplicit, notifytest.Options{TLS: tcfg, Implicit: true}},
		} {
			mode.server.Username, mode.server.Password = "crm@factory.cn", "s3cret-密码"
			srv := notifytest.StartSMTP(t, mode.server)
			d.settings(notify.SettingsInput{EmailEnabled: ptr(true), SMTPHost: ptr(srv.Host), SMTPPort: ptr(srv.Port),
				SMTPUsername: ptr("crm@factory.cn"), SMTPPassword: ptr("s3cret-密码"), SMTPTLS: ptr(mode.tls), SMTPCA: ptr(caPEM),
				FromAddress: ptr("crm@factory.cn"), FromName: ptr("苏州精密 CRM"), BaseURL: ptr("https://crm.factory.cn/")})
			u := d.users
			err := d.n.Send(ctx, notify.Message{Kind: "task.due", To: []int64{u["wang"], u["lucy"], u["li"], u["gone"], u["wang"]},
				Code: "notify_task_remind", Args: map[string]any{"title": "检查模具", "due": "2026-11-21 17:00", "description": "注塑模具 A-01 的保养"},
				Entity: "tasks", RecordID: task.ID()})
			if err != nil {
				t.Fatal(err)
			}
			emailJobs := d.jobsOf("notify.email")
			if n := d.runDue(); n != 2 {
				t.Fatalf("%s: ran %d jobs, want 2 e-mails (li has no address, gone is inactive)", mode.name, n)
			}
			mails := srv.Wait(2)
			if len(mails) != 2 {
				t.Fatalf("%s: %d mails", mode.name, len(mails))
			}
			byTo := map[string]notifytest.Mail{}
			for _, m := range mails {
				if m.From != "crm@factory.cn" || len(m.To) != 1 || m.User != "crm@factory.cn" || m.TLS != (mode.tls != notify.TLSNone) {
					t.Fatalf("%s: envelope %+v", mode.name, m)
				}
				for i, c := range m.Data {
					if c >= 0x80 {
						t.Fatalf("%s: raw byte %#x at %d: headers and bodies must be encoded", mode.name, c, i)
					}
				}
				byTo[m.To[0]] = m
			}
			wang, err := notifytest.Decode(byTo["wang@demo.tenon.local"])
			if err != nil {
				t.Fatalf("%s: %v", mode.name, err)
			}
			if wang.Subject != "任务提醒：检查模具" || wang.From.Name != "苏州精密 CRM" || wang.To.Name != "王总" {
				t.Fatalf("%s: wang's headers: %q %+v %+v", mode.name, wang.Subject, wang.From, wang.To)
			}
			link := "https://crm.factory.cn/e/tasks/" + strconv.FormatInt(task.ID(), 10)
			if !strings.Contains(wang.Text, "截止时间：2026-11-21 17:00\r\n注塑模具 A-01 的保养") || !strings.Contains(wang.Text, link) ||
				!strings.Contains(wang.HTML, `href="`+link+`"`) {
				t.Fatalf("%s: wang's body:\n%s\n%s", mode.name, wang.Text, wang.HTML)
			}
			if date, err := wang.Header.Date(); err != nil || !date.Equal(d.clock.Now()) || !strings.HasSuffix(wang.Header.Get("Date"), "+0800") {
				t.Fatalf("Date %q: %v", wang.Header.Get("Date"), err)
			}
			if got := wang.Header.Get("Auto-Submitted"); got != "auto-generated" {
				t.Fatalf("Auto-Submitted %q", got)
			}
			ids := map[string]bool{}
			for _, j := range emailJobs {
				ids[fmt.Sprintf("<tenon-%d@factory.cn>", j.ID)] = true
			}
			if !ids[wang.Header.Get("Message-ID")] {
				t.Fatalf("Message-ID %q is not derived from a job id (%v)", wang.Header.Get("Message-ID"), ids)
			}
			lucy, err := notifytest.Decode(byTo["lucy@demo.tenon.local"])
			if err != nil {
				t.Fatal(err)
			}
			if lucy.Subject != "Reminder: 检查模具" || !strings.Contains(lucy.Text, "Due: 2026-11-21 17:00") {
				t.Fatalf("%s: lucy's mail in English: %q\n%s", mode.name, lucy.Subject, lucy.Text)
			}
			if strings.Contains(lucy.Text, "/e/tasks/") || strings.Contains(lucy.HTML, "href") {
				t.Fatalf("%s: lucy may not read wang's task but got its link:\n%s", mode.name, lucy.Text)
			}
		}
		// One inbox row per active recipient per message, duplicates dropped.
		for login, want := range map[string]int{"wang": 3, "lucy": 3, "li": 3, "gone": 0} {
			if n := d.count(`SELECT COUNT(*) FROM notifications WHERE recipient = ?`, d.users[login]); n != want {
				t.Fatalf("%s has %d notifications, want %d", login, n, want)
			}
		}
	})
}

// TestEmailRetries: a 4xx answer is retried with back-off until the server
// accepts; a 5xx answer fails the job at once; nothing is queued while
// e-mail is disabled; the test e-mail reports the server's refusal.
func TestEmailRetries(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		d := open(t, dsn, newClock(), notify.Options{})
		d.seed()
		ctx := context.Background()
		busy := notifytest.StartSMTP(t, notifytest.Options{Reply: func(session int, step string) (int, string) {
			if session == 1 && step == "RCPT" {
				return 451, "greylisted, try again later"
			}
			return 0, ""
		}})
		send := func() {
			t.Helper()
			if err := d.n.Send(ctx, notify.Message{Kind: "rule", To: []int64{d.users["wang"]}, Title: "库存低于安全库存", Body: "物料 M-100 仅剩 3 件"}); err != nil {
				t.Fatal(err)
			}
		}
		send() // e-mail is not enabled yet: in-app only
		if js := d.jobsOf("notify.email"); len(js) != 0 {
			t.Fatalf("e-mail queued while disabled: %v", js)
		}
		d.settings(notify.SettingsInput{EmailEnabled: ptr(true), SMTPHost: ptr(busy.Host), SMTPPort: ptr(busy.Port),
			SMTPTLS: ptr(notify.TLSNone), FromAddress: ptr("crm@factory.cn")})
		send()
		d.runDue()
		js := d.jobsOf("notify.email")
		if len(js) != 1 || js[0].Status != jobs.StatusQueued || js[0].Attempts != 1 || !strings.Contains(js[0].LastError, "451") {
			t.Fatalf("after a 451: %+v", js)
		}
		if len(busy.Mails()) != 0 {
			t.Fatal("a refused mail was recorded")
		}
		d.clock.Advance(time.Hour)
		d.runDue()
		if js := d.jobsOf("notify.email"); js[0].Status != jobs.StatusDone {
			t.Fatalf("retry: %+v", js[0])
		}
		if m := busy.Wait(1); len(m) != 1 || busy.Sessions() != 2 {
			t.Fatalf("want one mail after two sessions, got %d in %d", len(m), busy.Sessions())
		}

		refuse := notifytest.StartSMTP(t, notifytest.Options{Reply: func(int, string) (int, string) { return 550, "mailbox unavailable" }})
		d.settings(notify.SettingsInput{SMTPHost: ptr(refuse.Host), SMTPPort: ptr(refuse.Port)})
		send()
		d.runDue()
		if js := d.jobsOf("notify.email"); js[0].Status != jobs.StatusFailed || !strings.Contains(js[0].LastError, "550") {
			t.Fatalf("after a 550: %+v", js[0])
		}
		_, err := d.n.SendTestEmail(ctx, d.admin(), "")
		if ae, ok := apperr.As(err); !ok || ae.Code != "notify_smtp_failed" || !strings.Contains(fmt.Sprint(ae.Args["reason"]), "550") {
			t.Fatalf("test e-mail against a refusing server: %v", err)
		}
		if _, err := d.n.SendTestEmail(ctx, d.principal("wang"), "x@y.cn"); err == nil {
			t.Fatal("a non-admin sent a test e-mail")
		}
		// The view says a password is stored, never which.
		d.settings(notify.SettingsInput{SMTPHost: ptr("localhost.invalid"), SMTPUsername: ptr("u"), SMTPPassword: ptr("p")})
		if v, err := d.n.Settings(ctx); err != nil || v.View().SMTPPasswordSet != true {
			t.Fatalf("settings view: %+v %v", v.View(), err)
		}
	})
}

// TestPreferencesChangeDelivery: a user's choices per kind decide the
// inbox row and the e-mail; a sender may narrow the channels.
func TestPreferencesChangeDelivery(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		d := open(t, dsn, newClock(), notify.Options{})
		d.seed()
		ctx := context.Background()
		srv := notifytest.StartSMTP(t, notifytest.Options{})
		d.settings(notify.SettingsInput{EmailEnabled: ptr(true), SMTPHost: ptr(srv.Host), SMTPPort: ptr(srv.Port),
			SMTPTLS: ptr(notify.TLSNone), FromAddress: ptr("crm@factory.cn")})
		wang, lucy := d.users["wang"], d.users["lucy"]
		inbox := func(u int64) int {
			return d.count(`SELECT COUNT(*) FROM notifications WHERE recipient = ?`, u)
		}
		mailsTo := func(addr string) int {
			n := 0
			for _, m := range srv.Mails() {
				if m.To[0] == addr {
					n++
				}
			}
			return n
		}
		send := func(m notify.Message) {
			t.Helper()
			m.To = []int64{wang, lucy}
			if err := d.n.Send(ctx, m); err != nil {
				t.Fatal(err)
			}
			d.runDue()
		}
		// Defaults: approval.cc is in-app only, task.due also e-mails.
		send(notify.Message{Kind: "approval.cc", Title: "抄送：报价单 QT-0042"})
		send(notify.Message{Kind: "task.due", Title: "任务到期"})
		if inbox(wang) != 2 || mailsTo("wang@demo.tenon.local") != 1 {
			t.Fatalf("defaults: inbox %d, mails %d", inbox(wang), mailsTo("wang@demo.tenon.local"))
		}
		// Wang turns e-mail off and lucy the inbox off for task.due.
		if err := d.n.SetPreferences(ctx, wang, []notify.PrefInput{{Kind: "task.due", Email: ptr(false)}, {Kind: "approval.cc", Email: ptr(true)}}); err != nil {
			t.Fatal(err)
		}
		if err := d.n.SetPreferences(ctx, lucy, []notify.PrefInput{{Kind: "task.due", InApp: ptr(false)}}); err != nil {
			t.Fatal(err)
		}
		send(notify.Message{Kind: "task.due", Title: "任务到期 2"})
		send(notify.Message{Kind: "approval.cc", Title: "抄送 2"})
		if inbox(wang) != 4 || mailsTo("wang@demo.tenon.local") != 2 || inbox(lucy) != 3 || mailsTo("lucy@demo.tenon.local") != 2 {
			t.Fatalf("after preferences: wang inbox %d mails %d; lucy inbox %d mails %d",
				inbox(wang), mailsTo("wang@demo.tenon.local"), inbox(lucy), mailsTo("lucy@demo.tenon.local"))
		}
		// A sender that asks for e-mail only writes no inbox row.
		send(notify.Message{Kind: "rule", Title: "仅邮件", Channels: []string{notify.ChannelEmail}})
		if inbox(wang) != 4 || mailsTo("wang@demo.tenon.local") != 3 {
			t.Fatal("e-mail-only message")
		}
		v, err := d.n.Preferences(ctx, wang, "zh-CN")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range v.Items {
			if it.Kind == "task.due" {
				found = it.InApp && !it.Email && it.DefaultEmail && it.Label == "任务提醒与到期"
			}
		}
		if !found || !v.EmailAvailable {
			t.Fatalf("preferences view: %+v", v)
		}
		if v, _ := d.n.Preferences(ctx, d.users["li"], "en"); v.EmailAvailable {
			t.Fatal("li has no address")
		}
		err = d.n.SetPreferences(ctx, wang, []notify.PrefInput{{Kind: "task.due", Email: ptr(true)}, {Kind: "no.such", Email: ptr(true)}})
		if ae, ok := apperr.As(err); !ok || len(ae.Fields) != 1 || ae.Fields[0].Field != "items[1].kind" {
			t.Fatalf("unknown kind: %v", err)
		}
		if v, _ := d.n.Preferences(ctx, wang, "zh-CN"); v.Items[5].Email {
			t.Fatal("a refused change was partly applied")
		}
		// Bad messages are refused.
		for _, m := range []notify.Message{{Kind: "Bad Kind", Title: "x"}, {Kind: "rule"}, {Kind: "rule", Title: "x", Entity: "tasks"},
			{Kind: "rule", Title: "x", Channels: []string{"sms"}}} {
			if err := d.n.Send(ctx, m); err == nil {
				t.Fatalf("accepted %+v", m)
			}
		}
	})
}
