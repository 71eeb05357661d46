package notify_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/notify/notifytest"
)

// TestSendJoinsTheCallersTransaction: a message sent inside a transaction
// that rolls back leaves no inbox row and no e-mail job, and wakes no
// stream; one that commits leaves both.
func TestSendJoinsTheCallersTransaction(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		d := open(t, dsn, newClock(), notify.Options{})
		d.seed()
		ctx := context.Background()
		srv := notifytest.StartSMTP(t, notifytest.Options{})
		d.settings(notify.SettingsInput{EmailEnabled: ptr(true), SMTPHost: ptr(srv.Host), SMTPPort: ptr(srv.Port),
			SMTPTLS: ptr(notify.TLSNone), FromAddress: ptr("crm@factory.cn")})
		boom := errors.New("the caller's write failed")
		err := d.db.WithTx(ctx, func(ctx context.Context) error {
			if err := d.n.Send(ctx, notify.Message{Kind: "task.due", To: []int64{d.users["wang"]}, Title: "不该出现"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := d.count(`SELECT COUNT(*) FROM notifications`); n != 0 {
			t.Fatalf("%d rows after a rollback", n)
		}
		if js := d.jobsOf("notify.email"); len(js) != 0 {
			t.Fatalf("e-mail jobs after a rollback: %v", js)
		}
		err = d.db.WithTx(ctx, func(ctx context.Context) error {
			return d.n.Send(ctx, notify.Message{Kind: "task.due", To: []int64{d.users["wang"]}, Title: "应当出现"})
		})
		if err != nil || d.count(`SELECT COUNT(*) FROM notifications`) != 1 || len(d.jobsOf("notify.email")) != 1 {
			t.Fatalf("after a commit: %v", err)
		}
	})
}

// TestPurge: the daily purge deletes read notifications after KeepRead and
// unread ones after twice that, and keeps the rest.
func TestPurge(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		clk := newClock()
		d := open(t, dsn, clk, notify.Options{KeepRead: 10 * 24 * time.Hour})
		d.seed()
		ctx := context.Background()
		wang := d.users["wang"]
		send := func(title string) {
			if err := d.n.Send(ctx, notify.Message{Kind: "rule", To: []int64{wang}, Title: title}); err != nil {
				t.Fatal(err)
			}
		}
		send("old read")
		send("old unread")
		if _, err := d.n.MarkRead(ctx, d.principal("wang"), 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(15 * 24 * time.Hour)
		send("new")
		if _, err := d.q.Enqueue(ctx, "notify.purge", nil, jobs.EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		d.runDue()
		titles := func() (out []string) {
			page, err := d.n.List(ctx, d.principal("wang"), notify.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				out = append(out, it.Title)
			}
			return out
		}
		if got := titles(); len(got) != 2 || got[0] != "new" || got[1] != "old unread" {
			t.Fatalf("after 15 days: %v", got)
		}
		clk.Advance(10 * 24 * time.Hour)
		if _, err := d.q.Enqueue(ctx, "notify.purge", nil, jobs.EnqueueOptions{}); err != nil {
			t.Fatal(err)
		}
		d.runDue()
		if got := titles(); len(got) != 1 || got[0] != "new" {
			t.Fatalf("after 25 days: %v", got)
		}
	})
}
