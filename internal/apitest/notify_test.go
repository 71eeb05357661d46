package apitest

import (
	"bufio"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/notify/notifytest"
)

// userID is a demo user's id.
func (e *env) userID(login string) int64 {
	e.t.Helper()
	var id int64
	if err := e.app.DB.QueryRow(context.Background(), `SELECT id FROM r_users WHERE login = ?`, login).Scan(&id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func (e *env) send(m notify.Message) {
	e.t.Helper()
	if err := e.app.Notify.Send(context.Background(), m); err != nil {
		e.t.Fatal(err)
	}
}

// TestNotifyInbox: each user sees only their own notifications, newest
// first, in pages with a cursor; marks one or all read; and sees the link
// to a record only when they may read that record.
func TestNotifyInbox(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(e.app.Notify.Close)
	admin := setupDeals(t, e)
	east := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "苏州精密 东", "region": "华东"}, nil).want(201).json()
	south := admin.do("POST", "/api/v1/records/deals", map[string]any{"name": "深圳精密 南", "region": "华南"}, nil).want(201).json()
	eastID, _ := strconv.ParseInt(east["id"].(string), 10, 64)
	southID, _ := strconv.ParseInt(south["id"].(string), 10, 64)
	repEast, repEast2 := e.userID("rep.east"), e.userID("rep.east2")
	gm := e.userID("gm")
	e.send(notify.Message{Kind: "rule", To: []int64{repEast, repEast2, repEast}, Title: "华东商机更新", Entity: "deals", RecordID: eastID, Actor: gm})
	e.send(notify.Message{Kind: "rule", To: []int64{repEast}, Title: "华南商机更新", Entity: "deals", RecordID: southID})
	for i := range 25 {
		e.send(notify.Message{Kind: "rule", To: []int64{repEast}, Title: fmt.Sprintf("提醒 %02d", i)})
	}

	rep := e.as("rep.east")
	var all []map[string]any
	next := ""
	for page := 0; ; page++ {
		path := "/api/v1/notifications?limit=10"
		if next != "" {
			path += "&before=" + next
		}
		res := rep.do("GET", path, nil, nil).want(200).json()
		if res["unread"] != 27.0 {
			t.Fatalf("unread %v", res["unread"])
		}
		for _, it := range res["items"].([]any) {
			all = append(all, it.(map[string]any))
		}
		if res["next_before"] == nil {
			break
		}
		next = res["next_before"].(string)
	}
	if len(all) != 27 || all[0]["title"] != "提醒 24" || all[26]["title"] != "华东商机更新" {
		t.Fatalf("%d items, first %v last %v", len(all), all[0]["title"], all[len(all)-1]["title"])
	}
	for i := 1; i < len(all); i++ {
		a, _ := strconv.ParseInt(all[i-1]["id"].(string), 10, 64)
		b, _ := strconv.ParseInt(all[i]["id"].(string), 10, 64)
		if a <= b {
			t.Fatal("not newest first, or a page overlaps")
		}
	}
	eastItem, southItem := all[26], all[25]
	if eastItem["entity"] != "deals" || eastItem["record_id"] != east["id"] || eastItem["actor_name"] != "王总" || eastItem["read"] != false {
		t.Fatalf("link to a readable record: %v", eastItem)
	}
	if southItem["title"] != "华南商机更新" || southItem["entity"] != nil || southItem["record_id"] != nil {
		t.Fatalf("a record rep.east may not read is linked: %v", southItem)
	}

	// Another user's inbox and ids are out of reach.
	other := e.as("rep.east2")
	if items := other.do("GET", "/api/v1/notifications", nil, nil).want(200).items(); len(items) != 1 || items[0]["title"] != "华东商机更新" {
		t.Fatalf("rep.east2 sees %v", items)
	}
	if items := e.as("gm").do("GET", "/api/v1/notifications", nil, nil).want(200).items(); len(items) != 0 {
		t.Fatalf("gm sees %v", items)
	}
	other.do("POST", "/api/v1/notifications/"+eastItem["id"].(string)+"/read", nil, nil).want(404)
	other.do("POST", "/api/v1/notifications/99999999/read", nil, nil).want(404)

	// Read one (twice is fine), then all.
	for range 2 {
		if got := rep.do("POST", "/api/v1/notifications/"+eastItem["id"].(string)+"/read", nil, nil).want(200).json(); got["unread"] != 26.0 {
			t.Fatalf("after read: %v", got)
		}
	}
	unread := rep.do("GET", "/api/v1/notifications?unread=true&limit=100", nil, nil).want(200).json()
	if items := unread["items"].([]any); len(items) != 26 || unread["unread"] != 26.0 {
		t.Fatalf("unread list has %d", len(items))
	}
	if got := rep.do("POST", "/api/v1/notifications/read-all", nil, nil).want(200).json(); got["marked"] != 26.0 || got["unread"] != 0.0 {
		t.Fatalf("read-all: %v", got)
	}
	if n := other.do("GET", "/api/v1/notifications?unread=true", nil, nil).want(200).json()["unread"]; n != 1.0 {
		t.Fatalf("read-all touched another inbox: %v", n)
	}
	first := rep.do("GET", "/api/v1/notifications?limit=1", nil, nil).want(200).items()[0]
	if first["read"] != true || first["read_at"] == nil {
		t.Fatalf("read item %v", first)
	}

	// Bad requests and anonymous callers.
	rep.do("GET", "/api/v1/notifications?limit=101", nil, nil).want(400)
	rep.do("GET", "/api/v1/notifications?before=x", nil, nil).want(400)
	rep.do("GET", "/api/v1/notifications?unread=maybe", nil, nil).want(400)
	e.anon().do("GET", "/api/v1/notifications", nil, nil).want(401)
	noCSRF := *rep
	noCSRF.csrf = ""
	noCSRF.do("POST", "/api/v1/notifications/read-all", nil, nil).want(403)

	// A deactivated user gets nothing.
	rows := admin.do("GET", `/api/v1/records/users?filter=login%20==%20"rep.south"`, nil, nil).want(200).items()
	admin.do("PATCH", "/api/v1/records/users/"+rows[0]["id"].(string), map[string]any{"active": false}, nil).want(200)
	e.send(notify.Message{Kind: "rule", To: []int64{e.userID("rep.south")}, Title: "x"})
	var n int
	if err := e.app.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM notifications WHERE recipient = ?`, e.userID("rep.south")).Scan(&n); err != nil || n != 0 {
		t.Fatalf("an inactive user got %d notifications (%v)", n, err)
	}
}

// sse reads server-sent events from a response.
type sse struct {
	r *bufio.Reader
}

func (s *sse) event() (name string, data map[string]any, err error) {
	var raw string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			return "", nil, err
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && raw != "":
			err := json.Unmarshal([]byte(raw), &data)
			return name, data, err
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			raw = line[len("data: "):]
		}
	}
}

// openStream opens the event stream with the client's session cookie, as
// a browser's EventSource does.
func (c *client) openStream(t *testing.T) (*sse, *http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", c.e.srv.URL+"/api/v1/notifications/stream", nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := c.hc.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	return &sse{r: bufio.NewReader(res.Body)}, res, cancel
}

// TestNotifyStreamHTTP: the inbox stream through the real router with a
// cookie session: an event arrives after Send in another goroutine, other
// users' messages never do, and the stream ends on disconnect and on
// shutdown.
func TestNotifyStreamHTTP(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(e.app.Notify.Close)
	rep := e.as("rep.east")
	e.anon().do("GET", "/api/v1/notifications/stream", nil, nil).want(401)
	s, res, cancel := rep.openStream(t)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if name, data, err := s.event(); err != nil || name != "unread" || data["unread"] != 0.0 {
		t.Fatalf("first event %s %v %v", name, data, err)
	}
	errs := make(chan error, 1)
	go func() {
		if err := e.app.Notify.Send(context.Background(), notify.Message{Kind: "rule", To: []int64{e.userID("rep.east2")}, Title: "别人的消息"}); err != nil {
			errs <- err
			return
		}
		errs <- e.app.Notify.Send(context.Background(), notify.Message{Kind: "approval.pending", To: []int64{e.userID("rep.east")},
			Title: "待审批：报价单 QT-202611-0042"})
	}()
	name, data, err := s.event()
	if err != nil || name != "notification" || data["unread"] != 1.0 {
		t.Fatalf("event %s %v %v", name, data, err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if n := data["notification"].(map[string]any); n["title"] != "待审批：报价单 QT-202611-0042" || n["kind"] != "approval.pending" {
		t.Fatalf("notification %v", n)
	}
	// Reading in another tab updates the count on the stream.
	rep.do("POST", "/api/v1/notifications/read-all", nil, nil).want(200)
	if name, data, err := s.event(); err != nil || name != "unread" || data["unread"] != 0.0 {
		t.Fatalf("after read-all %s %v %v", name, data, err)
	}
	if e.app.Notify.OpenStreams() != 1 {
		t.Fatal("stream not counted")
	}
	cancel() // the browser tab closes
	for e.app.Notify.OpenStreams() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	s2, _, _ := e.as("rep.east2").openStream(t)
	if _, _, err := s2.event(); err != nil {
		t.Fatal(err)
	}
	e.app.Notify.Close() // server shutdown
	for {
		if _, _, err := s2.event(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	rep.do("GET", "/api/v1/notifications/stream", nil, nil).want(503)
}

// TestNotifySettingsAndPreferences: e-mail settings are for administrators,
// validated, audited, never show the password; the test e-mail and a
// notification e-mail reach a real SMTP server; users keep their own
// preferences.
func TestNotifySettingsAndPreferences(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(e.app.Notify.Close)
	admin, rep := e.as("admin"), e.as("rep.east")
	rep.do("GET", "/api/v1/notify/settings", nil, nil).want(403)
	rep.do("PUT", "/api/v1/notify/settings", map[string]any{"smtp_host": "x"}, nil).want(403)
	rep.do("POST", "/api/v1/notify/settings/test", map[string]any{"to": "a@b.cn"}, nil).want(403)
	def := admin.do("GET", "/api/v1/notify/settings", nil, nil).want(200).json()
	if def["email_enabled"] != false || def["smtp_tls"] != "starttls" || def["smtp_password_set"] != false {
		t.Fatalf("defaults %v", def)
	}
	for _, bad := range []map[string]any{
		{"smtp_tls": "ssl"}, {"smtp_port": 70000}, {"from_address": "not an address"}, {"email_enabled": true},
		{"smtp_host": "bad host!"}, {"base_url": "ftp://x"}, {"smtp_ca": "not pem"},
	} {
		admin.do("PUT", "/api/v1/notify/settings", bad, nil).want(422)
	}
	admin.do("PUT", "/api/v1/notify/settings", map[string]any{"smtp_hots": "x"}, nil).want(400)
	admin.do("POST", "/api/v1/notify/settings/test", map[string]any{"to": "boss@factory.cn"}, nil).want(409) // not configured

	srv := notifytest.StartSMTP(t, notifytest.Options{Username: "crm", Password: "pa55-秘密"})
	set := admin.do("PUT", "/api/v1/notify/settings", map[string]any{"email_enabled": true, "smtp_host": srv.Host, "smtp_port": srv.Port,
		"smtp_username": "crm", "smtp_password": "pa55-秘密", "smtp_tls": "none", "from_address": "crm@factory.cn", "from_name": "精密 CRM",
		"base_url": "https://crm.factory.cn"}, nil).want(200)
	got := admin.do("GET", "/api/v1/notify/settings", nil, nil).want(200)
	for _, r := range []*response{set, got} {
		if strings.Contains(string(r.body), "pa55") || r.json()["smtp_password_set"] != true || r.json()["smtp_host"] != srv.Host {
			t.Fatalf("settings response %s", r.body)
		}
	}
	trail := admin.do("GET", "/api/v1/audit?entity=notify_settings", nil, nil).want(200).items()
	if len(trail) != 1 || strings.Contains(fmt.Sprint(trail), "pa55") || !strings.Contains(fmt.Sprint(trail), "******") {
		t.Fatalf("audit %v", trail)
	}
	// The admin account has no address: "to" is needed.
	admin.do("POST", "/api/v1/notify/settings/test", nil, nil).want(422)
	if r := admin.do("POST", "/api/v1/notify/settings/test", map[string]any{"to": "boss@factory.cn"}, nil).want(200).json(); r["to"] != "boss@factory.cn" {
		t.Fatalf("test e-mail: %v", r)
	}
	m := srv.Wait(1)[0]
	dm, err := notifytest.Decode(m)
	if err != nil || m.To[0] != "boss@factory.cn" || m.User != "crm" || dm.Subject != "Tenon 测试邮件" || !strings.Contains(dm.Text, "管理员") {
		t.Fatalf("test mail %+v %+v %v", m, dm, err)
	}

	// Preferences: the caller's own.
	prefs := rep.do("GET", "/api/v1/notify/preferences", nil, nil).want(200).json()
	if prefs["email_available"] != true || len(prefs["items"].([]any)) < 7 {
		t.Fatalf("preferences %v", prefs)
	}
	rep.do("PUT", "/api/v1/notify/preferences", map[string]any{"items": []any{map[string]any{"kind": "nope", "email": false}}}, nil).want(422)
	rep.do("PUT", "/api/v1/notify/preferences", map[string]any{"items": []any{map[string]any{"kind": "task.due", "sms": true}}}, nil).want(400)
	changed := rep.do("PUT", "/api/v1/notify/preferences", map[string]any{"items": []any{map[string]any{"kind": "task.assigned", "email": false}}}, nil).want(200).json()
	for _, it := range changed["items"].([]any) {
		if it := it.(map[string]any); it["kind"] == "task.assigned" && (it["email"] != false || it["in_app"] != true) {
			t.Fatalf("changed preference %v", it)
		}
	}
	for _, it := range e.as("rep.east2").do("GET", "/api/v1/notify/preferences", nil, nil).want(200).json()["items"].([]any) {
		if it := it.(map[string]any); it["kind"] == "task.assigned" && it["email"] != true {
			t.Fatalf("another user's preferences changed: %v", it)
		}
	}
	// A notification e-mail: rep.east2 (defaults) gets it, rep.east (e-mail
	// off for task.assigned) does not.
	e.send(notify.Message{Kind: "task.assigned", To: []int64{e.userID("rep.east"), e.userID("rep.east2")}, Title: "新任务：准备技术方案"})
	if _, err := e.app.Jobs.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	mails := srv.Wait(2)
	if len(mails) != 2 || mails[1].To[0] != "rep.east2@demo.tenon.local" {
		t.Fatalf("mails %+v", mails)
	}
}

// TestNotifyChannelsAPI: group robots are records for administrators; the
// secret is write-only; the test endpoint posts a signed message.
func TestNotifyChannelsAPI(t *testing.T) {
	e := newEnv(t)
	t.Cleanup(e.app.Notify.Close)
	admin, rep := e.as("admin"), e.as("rep.east")
	var mu sync.Mutex
	var posts []*http.Request
	var bodies []map[string]any
	robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b map[string]any
		_ = json.NewDecoder(r.Body).Decode(&b)
		mu.Lock()
		posts, bodies = append(posts, r), append(bodies, b)
		mu.Unlock()
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(robot.Close)
	ch := admin.do("POST", "/api/v1/records/notify_channels", map[string]any{"name": "销售群", "kind": "dingtalk",
		"webhook_url": robot.URL + "/robot/send?access_token=abc", "secret": "SECxyz"}, nil).want(201).json()
	id := ch["id"].(string)
	for _, r := range []*response{
		admin.do("GET", "/api/v1/records/notify_channels/"+id, nil, nil).want(200),
		admin.do("GET", "/api/v1/records/notify_channels", nil, nil).want(200),
		admin.do("GET", "/api/v1/records/notify_channels/"+id+"/history", nil, nil).want(200),
	} {
		if strings.Contains(string(r.body), "SECxyz") {
			t.Fatalf("the secret is readable: %s", r.body)
		}
	}
	if ch["has_secret"] != true || ch["secret"] != nil {
		t.Fatalf("created channel %v", ch)
	}
	rep.do("GET", "/api/v1/records/notify_channels", nil, nil).want(403)
	rep.do("POST", "/api/v1/notify/channels/"+id+"/test", nil, nil).want(403)
	admin.do("POST", "/api/v1/records/notify_channels", map[string]any{"name": "企微", "kind": "wecom", "webhook_url": robot.URL, "secret": "x"}, nil).want(422)

	// The robot is on loopback: refused until an administrator allows it.
	res := admin.do("POST", "/api/v1/notify/channels/"+id+"/test", nil, nil).want(422).json()
	if !strings.Contains(res["detail"].(string), "127.0.0.1") {
		t.Fatalf("private target: %v", res)
	}
	admin.do("PUT", "/api/v1/notify/settings", map[string]any{"robots_allow_private": true}, nil).want(200)
	admin.do("POST", "/api/v1/notify/channels/"+id+"/test", nil, nil).want(200)
	admin.do("POST", "/api/v1/notify/channels/99999/test", nil, nil).want(404)
	mu.Lock()
	p, body := posts[len(posts)-1], bodies[len(bodies)-1]
	mu.Unlock()
	ts := p.URL.Query().Get("timestamp")
	mac := hmac.New(sha256.New, []byte("SECxyz"))
	mac.Write([]byte(ts + "\nSECxyz"))
	if p.URL.Query().Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) || p.URL.Query().Get("access_token") != "abc" {
		t.Fatalf("signature of %s", p.URL.RawQuery)
	}
	if body["msgtype"] != "text" || !strings.Contains(body["text"].(map[string]any)["content"].(string), "Tenon 测试消息") {
		t.Fatalf("test body %v", body)
	}
	// A new secret replaces the old one; disabling stops messages.
	admin.do("PATCH", "/api/v1/records/notify_channels/"+id, map[string]any{"secret": "SECnew"}, nil).want(200)
	admin.do("POST", "/api/v1/notify/channels/"+id+"/test", nil, nil).want(200)
	mu.Lock()
	p = posts[len(posts)-1]
	mu.Unlock()
	mac = hmac.New(sha256.New, []byte("SECnew"))
	mac.Write([]byte(p.URL.Query().Get("timestamp") + "\nSECnew"))
	if p.URL.Query().Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		t.Fatal("the new secret is not used")
	}
	admin.do("PATCH", "/api/v1/records/notify_channels/"+id, map[string]any{"enabled": false}, nil).want(200)
	chID, _ := strconv.ParseInt(id, 10, 64)
	if err := e.app.Notify.SendRobot(context.Background(), chID, notify.RobotMessage{Text: "x"}); err == nil {
		t.Fatal("a disabled channel accepted a message")
	}
}
