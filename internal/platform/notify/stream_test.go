package notify_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/notify"
)

// sseEvent is one server-sent event; Pings counts the comment lines read
// before it.
type sseEvent struct {
	Name, ID, Data string
	Pings          int
}

type sseStream struct {
	res    *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	retry  string
}

// streamServer serves Stream for ?as=<login>.
func streamServer(t *testing.T, d *deps) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := d.n.Stream(w, r, d.principal(r.URL.Query().Get("as"))); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(d.n.Close) // runs first: open streams end, so srv.Close does not wait
	return srv
}

func connect(t *testing.T, url string, lastID string) (*sseStream, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		res.Body.Close()
		cancel()
		return nil, res.StatusCode
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	s := &sseStream{res: res, r: bufio.NewReader(res.Body), cancel: cancel}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	return s, 200
}

// next reads the next event with data (io.EOF when the stream ended).
func (s *sseStream) next() (sseEvent, error) {
	var ev sseEvent
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "":
			if ev.Data != "" {
				return ev, nil
			}
		case strings.HasPrefix(line, ":"):
			ev.Pings++
		case strings.HasPrefix(line, "retry: "):
			s.retry = strings.TrimPrefix(line, "retry: ")
		case strings.HasPrefix(line, "event: "):
			ev.Name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func (s *sseStream) must(t *testing.T, name string) (sseEvent, map[string]any) {
	t.Helper()
	ev, err := s.next()
	if err != nil {
		t.Fatalf("waiting for %s: %v", name, err)
	}
	if ev.Name != name {
		t.Fatalf("got event %s %s, want %s", ev.Name, ev.Data, name)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatal(err)
	}
	return ev, m
}

// TestStream: a stream gets its own user's notifications only, pushed
// after Send in another goroutine, the unread count when it changes,
// heartbeats, replays what it missed after a reconnect, and ends on client
// disconnect and on shutdown.
func TestStream(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		d := open(t, dsn, newClock(), notify.Options{Heartbeat: 20 * time.Millisecond, MaxStreamAge: time.Hour})
		d.seed()
		ctx := context.Background()
		srv := streamServer(t, d)
		s1, _ := connect(t, srv.URL+"?as=wang", "")
		if _, m := s1.must(t, "unread"); m["unread"] != 0.0 {
			t.Fatalf("first event %v", m)
		}
		if s1.retry != "3000" {
			t.Fatalf("retry %q", s1.retry)
		}
		sent := make(chan error, 1)
		go func() {
			if err := d.n.Send(ctx, notify.Message{Kind: "rule", To: []int64{d.users["lucy"]}, Title: "给 Lucy 的消息"}); err != nil {
				sent <- err
				return
			}
			sent <- d.n.Send(ctx, notify.Message{Kind: "rule", To: []int64{d.users["wang"]}, Title: "给王总的消息", Body: "正文"})
		}()
		ev, m := s1.must(t, "notification")
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		n := m["notification"].(map[string]any)
		if n["title"] != "给王总的消息" || n["body"] != "正文" || m["unread"] != 1.0 || ev.ID != n["id"] {
			t.Fatalf("notification event %s", ev.Data)
		}
		first := ev.ID
		// Heartbeats arrive while nothing happens.
		for pings := 0; pings == 0; {
			line, err := s1.r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == ": ping\n" {
				pings++
			}
		}
		// Read elsewhere: the count follows.
		p := d.principal("wang")
		var id int64
		if err := d.db.QueryRow(ctx, `SELECT id FROM notifications WHERE recipient = ?`, d.users["wang"]).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if _, err := d.n.MarkRead(ctx, p, id); err != nil {
			t.Fatal(err)
		}
		if _, m := s1.must(t, "unread"); m["unread"] != 0.0 {
			t.Fatalf("after read: %v", m)
		}
		for _, title := range []string{"第二条", "第三条"} {
			if err := d.n.Send(ctx, notify.Message{Kind: "rule", To: []int64{d.users["wang"]}, Title: title}); err != nil {
				t.Fatal(err)
			}
			if _, m := s1.must(t, "notification"); m["notification"].(map[string]any)["title"] != title {
				t.Fatalf("got %v, want %s", m, title)
			}
		}
		// A reconnect with Last-Event-ID gets what came after it.
		s2, _ := connect(t, srv.URL+"?as=wang", first)
		for _, title := range []string{"第二条", "第三条"} {
			if _, m := s2.must(t, "notification"); m["notification"].(map[string]any)["title"] != title || m["unread"] != 2.0 {
				t.Fatalf("replay: %v, want %s", m, title)
			}
		}
		if d.n.OpenStreams() != 2 {
			t.Fatalf("%d streams open", d.n.OpenStreams())
		}
		s2.cancel() // the client goes away
		for d.n.OpenStreams() != 1 {
			time.Sleep(5 * time.Millisecond)
		}
		// Shutdown ends the stream cleanly, and no new one opens.
		d.n.Close()
		for {
			if _, err := s1.next(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if _, status := connect(t, srv.URL+"?as=wang", ""); status != http.StatusServiceUnavailable {
			t.Fatalf("after shutdown: %d", status)
		}
	})
}

// TestStreamMaxAge: a stream ends by itself after MaxStreamAge (the
// browser reconnects and is authenticated afresh).
func TestStreamMaxAge(t *testing.T) {
	d := open(t, dbtest.SQLite(t), newClock(), notify.Options{MaxStreamAge: 50 * time.Millisecond})
	d.seed()
	srv := streamServer(t, d)
	s, _ := connect(t, srv.URL+"?as=lucy", "")
	s.must(t, "unread")
	if _, err := s.next(); err != io.EOF {
		t.Fatalf("want the end of the stream, got %v", err)
	}
	for d.n.OpenStreams() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamAcrossProcesses: two Tenon processes on one PostgreSQL; a
// notification written by one reaches a stream held by the other through
// LISTEN/NOTIFY (the holder's heartbeat is an hour, so nothing else could
// bring it).
func TestStreamAcrossProcesses(t *testing.T) {
	if dbtest.PostgresURL() == "" {
		t.Skip("PostgreSQL only (TENON_TEST_POSTGRES)")
	}
	dsn := dbtest.Postgres(t, "tenon_notify")
	clk := newClock()
	a := open(t, dsn, clk, notify.Options{})
	a.seed()
	b := open(t, dsn, clk, notify.Options{Heartbeat: time.Hour})
	b.loadUsers()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.n.Run(ctx) }()
	t.Cleanup(cancel)
	for a.count(`SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN tenon_notify'`) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	srv := streamServer(t, b)
	s, _ := connect(t, srv.URL+"?as=wang", "")
	s.must(t, "unread")
	if err := a.n.Send(context.Background(), notify.Message{Kind: "approval.pending", To: []int64{a.users["wang"]}, Title: "待审批：报价单 QT-202611-0042"}); err != nil {
		t.Fatal(err)
	}
	if _, m := s.must(t, "notification"); m["notification"].(map[string]any)["title"] != "待审批：报价单 QT-202611-0042" {
		t.Fatalf("got %v", m)
	}
	cancel() // the process stops: its streams end
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := s.next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
}
