package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/notify"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// robotServer records the posts it gets and answers with the next queued
// answer (default: the vendor's success body).
type robotServer struct {
	*httptest.Server
	mu      sync.Mutex
	posts   []robotPost
	answers []robotAnswer
}

type robotPost struct {
	query url.Values
	raw   string // raw query
	body  map[string]any
	ctype string
}

type robotAnswer struct {
	status int
	body   string
}

func newRobotServer(t *testing.T, ok string) *robotServer {
	rs := &robotServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil || r.Method != http.MethodPost {
			t.Errorf("not a JSON POST: %s %s", r.Method, b)
		}
		rs.mu.Lock()
		rs.posts = append(rs.posts, robotPost{query: r.URL.Query(), raw: r.URL.RawQuery, body: body, ctype: r.Header.Get("Content-Type")})
		ans := robotAnswer{200, ok}
		if len(rs.answers) > 0 {
			ans, rs.answers = rs.answers[0], rs.answers[1:]
		}
		rs.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(ans.status)
		io.WriteString(w, ans.body)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *robotServer) answer(a ...robotAnswer) {
	rs.mu.Lock()
	rs.answers = append(rs.answers, a...)
	rs.mu.Unlock()
}

func (rs *robotServer) last(t *testing.T) robotPost {
	t.Helper()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.posts) == 0 {
		t.Fatal("no post")
	}
	return rs.posts[len(rs.posts)-1]
}

func (rs *robotServer) count() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.posts)
}

// decodeJSON decodes want (a JSON text) like the server decodes bodies.
func decodeJSON(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRobots posts to DingTalk, WeCom and Feishu robots (local servers)
// and checks each payload exactly, the signatures against the vendors'
// algorithms, that secrets are never read back, and how the vendors'
// error bodies are treated (retry or fail).
func TestRobots(t *testing.T) {
	dbtest.ForEach(t, "tenon_notify", func(t *testing.T, dsn string) {
		d := open(t, dsn, newClock(), notify.Options{})
		d.seed()
		ctx := context.Background()
		admin := access.System()
		d.settings(notify.SettingsInput{RobotsAllowPrivate: ptr(true)})
		ding := newRobotServer(t, `{"errcode":0,"errmsg":"ok"}`)
		wecom := newRobotServer(t, `{"errcode":0,"errmsg":"ok"}`)
		feishu := newRobotServer(t, `{"code":0,"msg":"success","data":{}}`)
		mk := func(in map[string]any) records.Record {
			t.Helper()
			rec, err := d.recs.Create(ctx, admin, notify.ChannelsEntity, in)
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}
		const dingSecret = "SEC1a2b3c+/=测试"
		dch := mk(map[string]any{"name": "销售群", "kind": "dingtalk", "webhook_url": ding.URL + "/robot/send?access_token=tok+en/1", "secret": dingSecret})
		wch := mk(map[string]any{"name": "生产群", "kind": "wecom", "webhook_url": wecom.URL + "/cgi-bin/webhook/send?key=693a91f6-7xxx"})
		fch := mk(map[string]any{"name": "质量群", "kind": "feishu", "webhook_url": feishu.URL + "/open-apis/bot/v2/hook/abc", "secret": "fs-secret"})

		// The secret is write-only.
		got, err := d.recs.Get(ctx, admin, notify.ChannelsEntity, dch.ID(), records.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got["secret"] != nil || got["has_secret"] != true || got["secret_updated_at"] == nil {
			t.Fatalf("channel record: %v", got)
		}
		if _, err := d.recs.Create(ctx, admin, notify.ChannelsEntity, map[string]any{"name": "x", "kind": "wecom", "webhook_url": wecom.URL, "secret": "s"}); err == nil {
			t.Fatal("WeCom with a secret accepted")
		}
		var hist int
		if err := d.db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE entity = 'notify_channels' AND CAST(changes AS TEXT) LIKE ?`, "%"+dingSecret+"%").Scan(&hist); err != nil || hist != 0 {
			t.Fatalf("the secret reached the audit trail (%d, %v)", hist, err)
		}
		if n := d.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'notify_channels' AND record_id = ? AND CAST(changes AS TEXT) LIKE '%has_secret%'`, dch.ID()); n != 1 {
			t.Fatalf("%d audit entries of the channel", n)
		}

		msg := notify.RobotMessage{Title: "新商机", Text: "客户：苏州精密\n金额：¥520,000", URL: "https://crm.factory.cn/e/opportunities/7"}
		md := msg
		md.Markdown = true
		send := func(ch records.Record, m notify.RobotMessage) {
			t.Helper()
			if err := d.n.SendRobot(ctx, ch.ID(), m); err != nil {
				t.Fatal(err)
			}
			if n := d.runDue(); n != 1 {
				t.Fatalf("ran %d jobs", n)
			}
		}
		now := d.clock.Now()

		// DingTalk, signed: timestamp in ms and the URL-encoded base64
		// HMAC-SHA256 (key: the secret) of "timestamp\nsecret".
		send(dch, msg)
		p := ding.last(t)
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		mac := hmac.New(sha256.New, []byte(dingSecret))
		mac.Write([]byte(ts + "\n" + dingSecret))
		sign := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if p.query.Get("timestamp") != ts || p.query.Get("sign") != sign || p.query.Get("access_token") != "tok en/1" ||
			!strings.Contains(p.raw, "sign="+url.QueryEscape(sign)) || !strings.HasPrefix(p.ctype, "application/json") {
			t.Fatalf("dingtalk query %q (want ts %s sign %s)", p.raw, ts, sign)
		}
		want := decodeJSON(t, `{"msgtype":"text","text":{"content":"新商机\n客户：苏州精密\n金额：¥520,000\nhttps://crm.factory.cn/e/opportunities/7"}}`)
		if !reflect.DeepEqual(p.body, want) {
			t.Fatalf("dingtalk text body %v", p.body)
		}
		send(dch, md)
		want = decodeJSON(t, `{"msgtype":"markdown","markdown":{"title":"新商机","text":"#### 新商机\n\n客户：苏州精密\n金额：¥520,000\n\n[查看详情](https://crm.factory.cn/e/opportunities/7)"}}`)
		if p := ding.last(t); !reflect.DeepEqual(p.body, want) {
			t.Fatalf("dingtalk markdown body %v", p.body)
		}

		// WeCom: the key is in the URL; no signature.
		send(wch, msg)
		want = decodeJSON(t, `{"msgtype":"text","text":{"content":"新商机\n客户：苏州精密\n金额：¥520,000\nhttps://crm.factory.cn/e/opportunities/7"}}`)
		if p := wecom.last(t); !reflect.DeepEqual(p.body, want) || p.query.Get("key") != "693a91f6-7xxx" || p.query.Has("sign") {
			t.Fatalf("wecom text %v %q", p.body, p.raw)
		}
		send(wch, md)
		want = decodeJSON(t, `{"msgtype":"markdown","markdown":{"content":"### 新商机\n客户：苏州精密\n金额：¥520,000\n[查看详情](https://crm.factory.cn/e/opportunities/7)"}}`)
		if p := wecom.last(t); !reflect.DeepEqual(p.body, want) {
			t.Fatalf("wecom markdown %v", p.body)
		}

		// Feishu, signed: timestamp in seconds; HMAC-SHA256 keyed by
		// "timestamp\nsecret" over an empty message, base64, in the body.
		send(fch, msg)
		fts := strconv.FormatInt(now.Unix(), 10)
		fmac := hmac.New(sha256.New, []byte(fts+"\nfs-secret"))
		fsign := base64.StdEncoding.EncodeToString(fmac.Sum(nil))
		want = decodeJSON(t, `{"msg_type":"text","content":{"text":"新商机\n客户：苏州精密\n金额：¥520,000\nhttps://crm.factory.cn/e/opportunities/7"},"timestamp":"`+fts+`","sign":"`+fsign+`"}`)
		if p := feishu.last(t); !reflect.DeepEqual(p.body, want) || p.raw != "" {
			t.Fatalf("feishu text %v", p.body)
		}
		send(fch, md)
		want = decodeJSON(t, `{"msg_type":"post","timestamp":"`+fts+`","sign":"`+fsign+`","content":{"post":{"zh_cn":{"title":"新商机","content":[
			[{"tag":"text","text":"客户：苏州精密"}],[{"tag":"text","text":"金额：¥520,000"}],
			[{"tag":"a","text":"查看详情","href":"https://crm.factory.cn/e/opportunities/7"}]]}}}}`)
		if p := feishu.last(t); !reflect.DeepEqual(p.body, want) {
			t.Fatalf("feishu post %v", p.body)
		}

		// Vendors' error bodies: rate limits are retried, refusals fail.
		status := func() jobs.Job {
			t.Helper()
			return d.jobsOf("notify.robot")[0]
		}
		for _, c := range []struct {
			srv   *robotServer
			ch    records.Record
			ans   robotAnswer
			retry bool
		}{
			{ding, dch, robotAnswer{200, `{"errcode":310000,"errmsg":"sign not match"}`}, false},
			{ding, dch, robotAnswer{200, `{"errcode":130101,"errmsg":"send too fast"}`}, true},
			{wecom, wch, robotAnswer{200, `{"errcode":93000,"errmsg":"invalid webhook url"}`}, false},
			{wecom, wch, robotAnswer{200, `{"errcode":45009,"errmsg":"api freq out of limit"}`}, true},
			{feishu, fch, robotAnswer{200, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour"}`}, false},
			{feishu, fch, robotAnswer{200, `{"code":11232,"msg":"frequency limited"}`}, true},
			{feishu, fch, robotAnswer{502, `bad gateway`}, true},
			{ding, dch, robotAnswer{404, `not found`}, false},
		} {
			c.srv.answer(c.ans)
			send(c.ch, msg)
			j := status()
			if c.retry && (j.Status != jobs.StatusQueued || j.Attempts != 1) || !c.retry && j.Status != jobs.StatusFailed {
				t.Fatalf("answer %v: job %s after %d attempts (%s)", c.ans, j.Status, j.Attempts, j.LastError)
			}
			if c.retry {
				if _, err := d.q.Cancel(ctx, j.ID); err != nil {
					t.Fatal(err)
				}
			}
		}

		// The test endpoint posts at once and reports the vendor's refusal.
		if err := d.n.TestChannel(ctx, d.admin(), dch.ID()); err != nil {
			t.Fatal(err)
		}
		if p := ding.last(t); !strings.Contains(p.body["text"].(map[string]any)["content"].(string), "销售群") {
			t.Fatalf("test message %v", p.body)
		}
		ding.answer(robotAnswer{200, `{"errcode":310000,"errmsg":"keywords not in content"}`})
		if err := d.n.TestChannel(ctx, d.admin(), dch.ID()); err == nil || !strings.Contains(err.Error(), "notify_robot_failed") {
			t.Fatalf("a refused test: %v", err)
		}
		if err := d.n.TestChannel(ctx, d.principal("lucy"), dch.ID()); err == nil {
			t.Fatal("lucy tested a channel")
		}

		// Private addresses need the administrator's consent.
		d.settings(notify.SettingsInput{RobotsAllowPrivate: ptr(false)})
		before := ding.count()
		send(dch, msg)
		if j := status(); j.Status != jobs.StatusFailed || !strings.Contains(j.LastError, "private") || ding.count() != before {
			t.Fatalf("private target: %+v", j)
		}

		// A disabled channel refuses new messages; clearing the secret
		// removes it.
		if _, err := d.recs.Update(ctx, admin, notify.ChannelsEntity, dch.ID(), map[string]any{"enabled": false, "has_secret": false}, 0); err != nil {
			t.Fatal(err)
		}
		err = d.n.SendRobot(ctx, dch.ID(), msg)
		if ae, ok := apperr.As(err); !ok || ae.Code != "notify_channel_disabled" {
			t.Fatalf("disabled channel: %v", err)
		}
		if n := d.count(`SELECT COUNT(*) FROM notify_channel_secrets WHERE channel_id = ?`, dch.ID()); n != 0 {
			t.Fatal("the secret was not removed")
		}
		if err := d.n.SendRobot(ctx, 999999, msg); err == nil {
			t.Fatal("unknown channel accepted")
		}
	})
}
