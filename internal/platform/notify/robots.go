package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenon-crm/tenon/internal/platform/access"
	"github.com/tenon-crm/tenon/internal/platform/apperr"
	"github.com/tenon-crm/tenon/internal/platform/db"
	"github.com/tenon-crm/tenon/internal/platform/i18n"
	"github.com/tenon-crm/tenon/internal/platform/jobs"
	"github.com/tenon-crm/tenon/internal/platform/netguard"
	"github.com/tenon-crm/tenon/internal/platform/records"
)

// Robot kinds (the kind field of notify_channels).
const (
	RobotDingTalk = "dingtalk"
	RobotWeCom    = "wecom"
	RobotFeishu   = "feishu"
)

// Channel is a group robot as delivery needs it.
type Channel struct {
	ID      int64
	Name    string
	Kind    string
	URL     string
	Secret  string
	Enabled bool
}

// robotJob is the payload of a notify.robot job.
type robotJob struct {
	Channel  int64  `json:"channel"`
	Title    string `json:"title,omitempty"`
	Text     string `json:"text"`
	Markdown bool   `json:"markdown,omitempty"`
	URL      string `json:"url,omitempty"`
}

// Bounds of robot messages. WeCom allows 2048 bytes of text and 4096 of
// markdown; DingTalk and Feishu allow more, but a group message longer
// than this is not read anyway.
const (
	maxRobotTitle = 100
	maxRobotText  = 4000
)

// SendRobot queues m for the group robot channelID (a notify_channels
// record), in the transaction carried by ctx when there is one. The
// channel must exist and be enabled. Delivery is a job, retried with
// back-off when the vendor is busy or rate-limits.
func (s *Service) SendRobot(ctx context.Context, channelID int64, m RobotMessage) error {
	if strings.TrimSpace(m.Text) == "" && strings.TrimSpace(m.Title) == "" {
		return apperr.Invalid("notify_empty_message")
	}
	if m.URL != "" {
		if u, err := url.Parse(m.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return apperr.Invalid("notify_bad_link")
		}
	}
	return s.db.WithTx(ctx, func(ctx context.Context) error {
		ch, err := s.channel(ctx, channelID)
		if err != nil {
			return err
		}
		if !ch.Enabled {
			return apperr.Conflict("notify_channel_disabled", "name", ch.Name)
		}
		job := robotJob{Channel: channelID, Title: clip(strings.TrimSpace(m.Title), maxRobotTitle),
			Text: clip(strings.TrimSpace(m.Text), maxRobotText), Markdown: m.Markdown, URL: m.URL}
		_, err = s.jobs.Enqueue(ctx, jobRobot, job, jobs.EnqueueOptions{})
		return err
	})
}

// channel loads a live channel with its secret.
func (s *Service) channel(ctx context.Context, id int64) (Channel, error) {
	rec, err := s.records.Get(ctx, access.System(), ChannelsEntity, id, records.GetOptions{})
	if err != nil {
		return Channel{}, err
	}
	ch := Channel{ID: id}
	ch.Name, _ = rec["name"].(string)
	ch.Kind, _ = rec["kind"].(string)
	ch.URL, _ = rec["webhook_url"].(string)
	ch.Enabled, _ = rec["enabled"].(bool)
	err = s.db.QueryRow(ctx, `SELECT secret FROM notify_channel_secrets WHERE channel_id = ?`, id).Scan(&ch.Secret)
	if err != nil && !isNoRows(err) {
		return Channel{}, err
	}
	return ch, nil
}

// deliverRobotJob posts one queued robot message. It runs outside any
// transaction, at least once (the vendors offer no idempotency key).
func (s *Service) deliverRobotJob(ctx context.Context, j *jobs.Job) error {
	var m robotJob
	if err := j.Decode(&m); err != nil {
		return jobs.Permanent(err)
	}
	ch, err := s.channel(ctx, m.Channel)
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return jobs.Permanent(fmt.Errorf("channel %d: %w", m.Channel, err))
		}
		return err
	}
	if !ch.Enabled {
		return jobs.Permanent(fmt.Errorf("channel %q is disabled", ch.Name))
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	err = s.postRobot(ctx, ch, RobotMessage{Title: m.Title, Text: m.Text, Markdown: m.Markdown, URL: m.URL}, st.RobotsAllowPrivate)
	var re *robotError
	if errors.As(err, &re) && re.permanent {
		return jobs.Permanent(err)
	}
	return err
}

// robotError is a failed post; permanent ones are not retried.
type robotError struct {
	permanent bool
	msg       string
}

func (e *robotError) Error() string { return e.msg }

// RobotRequest builds the HTTP request of a message to a channel, signed
// when the channel has a secret, at time now. The payloads follow the
// vendors' published formats:
//
//   - DingTalk custom robot: {"msgtype": "text", "text": {"content"}} or
//     {"msgtype": "markdown", "markdown": {"title", "text"}}; signed mode
//     appends &timestamp=<ms>&sign=<urlencoded base64 HMAC-SHA256 of
//     "<ms>\n<secret>" keyed by the secret> to the webhook URL.
//   - WeCom group robot: {"msgtype": "text", "text": {"content"}} or
//     {"msgtype": "markdown", "markdown": {"content"}} (no signing: the key
//     is in the URL).
//   - Feishu custom bot: {"msg_type": "text", "content": {"text"}} or
//     {"msg_type": "post", "content": {"post": {"zh_cn": {"title",
//     "content": [[{"tag": "text", "text"}]…]}}}}; signed mode adds
//     "timestamp" (seconds, a string) and "sign" (base64 HMAC-SHA256 keyed
//     by "<seconds>\n<secret>" over an empty message) to the body.
func RobotRequest(ctx context.Context, ch Channel, m RobotMessage, now time.Time) (*http.Request, error) {
	target := ch.URL
	var body map[string]any
	switch ch.Kind {
	case RobotDingTalk:
		if m.Markdown {
			text := m.Text
			if m.Title != "" {
				text = "#### " + m.Title + "\n\n" + text
			}
			if m.URL != "" {
				text += "\n\n[" + linkLabel(m) + "](" + m.URL + ")"
			}
			body = map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": orText(m.Title, m.Text), "text": text}}
		} else {
			body = map[string]any{"msgtype": "text", "text": map[string]any{"content": plainText(m)}}
		}
		if ch.Secret != "" {
			ts := strconv.FormatInt(now.UnixMilli(), 10)
			u, err := url.Parse(target)
			if err != nil {
				return nil, &robotError{permanent: true, msg: "bad webhook URL"}
			}
			q := u.Query()
			q.Set("timestamp", ts)
			q.Set("sign", DingTalkSign(ts, ch.Secret))
			u.RawQuery = q.Encode()
			target = u.String()
		}
	case RobotWeCom:
		if m.Markdown {
			text := m.Text
			if m.Title != "" {
				text = "### " + m.Title + "\n" + text
			}
			if m.URL != "" {
				text += "\n[" + linkLabel(m) + "](" + m.URL + ")"
			}
			body = map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": clipBytes(text, 4096)}}
		} else {
			body = map[string]any{"msgtype": "text", "text": map[string]any{"content": clipBytes(plainText(m), 2048)}}
		}
	case RobotFeishu:
		if m.Markdown {
			var lines [][]map[string]any
			for _, l := range strings.Split(m.Text, "\n") {
				lines = append(lines, []map[string]any{{"tag": "text", "text": l}})
			}
			if m.URL != "" {
				lines = append(lines, []map[string]any{{"tag": "a", "text": linkLabel(m), "href": m.URL}})
			}
			body = map[string]any{"msg_type": "post", "content": map[string]any{"post": map[string]any{
				"zh_cn": map[string]any{"title": m.Title, "content": lines}}}}
		} else {
			body = map[string]any{"msg_type": "text", "content": map[string]any{"text": plainText(m)}}
		}
		if ch.Secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			body["timestamp"] = ts
			body["sign"] = FeishuSign(ts, ch.Secret)
		}
	default:
		return nil, &robotError{permanent: true, msg: "unknown robot kind " + ch.Kind}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return nil, &robotError{permanent: true, msg: "bad webhook URL"}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Tenon")
	return req, nil
}

// DingTalkSign is DingTalk's signature: base64 of HMAC-SHA256 keyed by the
// secret over "<timestamp ms>\n<secret>" (URL-encoding is left to the
// query encoder).
func DingTalkSign(ts, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// FeishuSign is Feishu's signature: base64 of HMAC-SHA256 keyed by
// "<timestamp s>\n<secret>" over an empty message.
func FeishuSign(ts, secret string) string {
	mac := hmac.New(sha256.New, []byte(ts+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func plainText(m RobotMessage) string {
	text := m.Text
	if m.Title != "" && m.Title != m.Text {
		text = m.Title + "\n" + text
	}
	if m.URL != "" {
		text += "\n" + m.URL
	}
	return strings.TrimSpace(text)
}

func orText(a, b string) string {
	if a != "" {
		return a
	}
	return clip(strings.Join(strings.Fields(b), " "), 30)
}

// linkLabel is the text of a message's link (zh-CN, the product's
// language; groups are read by colleagues, not by one user with a
// language preference).
func linkLabel(RobotMessage) string { return "查看详情" }

// clipBytes shortens s to at most n bytes of whole characters.
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// postRobot sends m to ch and checks the vendor's answer: DingTalk and
// WeCom answer {"errcode": 0, "errmsg": "ok"}, Feishu {"code": 0, "msg":
// "success"} (older deployments {"StatusCode": 0}); anything else is a
// failure. Rate limits, "system busy", 5xx and network errors are worth a
// retry; other refusals (bad signature, missing keyword, bad token) are
// permanent.
func (s *Service) postRobot(ctx context.Context, ch Channel, m RobotMessage, allowPrivate bool) error {
	req, err := RobotRequest(ctx, ch, m, s.now())
	if err != nil {
		return err
	}
	res, err := s.robotClient(allowPrivate).Do(req)
	if err != nil {
		var re *netguard.RefusedError
		var ue *netguard.URLError
		switch {
		case errors.As(err, &re):
			return &robotError{permanent: true, msg: strings.TrimPrefix(re.Error(), "netguard: ")}
		case errors.As(err, &ue):
			return &robotError{permanent: true, msg: strings.TrimPrefix(ue.Error(), "netguard: ")}
		}
		return &robotError{msg: "post: " + err.Error()}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500 || res.StatusCode == http.StatusRequestTimeout {
		return &robotError{msg: fmt.Sprintf("HTTP %d", res.StatusCode)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &robotError{permanent: true, msg: fmt.Sprintf("HTTP %d: %s", res.StatusCode, clip(string(raw), 200))}
	}
	var ans struct {
		ErrCode    *int64 `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
		Code       *int64 `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int64 `json:"StatusCode"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return &robotError{msg: "the robot's answer is not JSON: " + clip(string(raw), 200)}
	}
	var code int64
	var msg string
	switch {
	case ch.Kind == RobotFeishu && ans.Code != nil:
		code, msg = *ans.Code, ans.Msg
	case ch.Kind == RobotFeishu && ans.StatusCode != nil:
		code, msg = *ans.StatusCode, ans.Msg
	case ch.Kind != RobotFeishu && ans.ErrCode != nil:
		code, msg = *ans.ErrCode, ans.ErrMsg
	default:
		return &robotError{msg: "the robot's answer has no result code: " + clip(string(raw), 200)}
	}
	if code == 0 {
		return nil
	}
	return &robotError{permanent: !retryableRobotCode(ch.Kind, code), msg: fmt.Sprintf("%s error %d: %s", ch.Kind, code, clip(msg, 200))}
}

// retryableRobotCode lists the vendors' documented transient errors.
func retryableRobotCode(kind string, code int64) bool {
	switch kind {
	case RobotDingTalk:
		return code == -1 || code == 130101 // system busy; sending too fast (20 a minute)
	case RobotWeCom:
		return code == -1 || code == 45009 || code == 45033 // system busy; API frequency or concurrency limit
	case RobotFeishu:
		return code == 11232 // frequency limited
	}
	return false
}

// robotClient is the HTTP client of robot posts: the outbound guard's
// (addresses checked at dial time against the outbound allow-list, so DNS
// cannot point around it; no proxy; bounded), with robots_allow_private
// allowing every address, short timeouts, no redirects (the vendors do
// not redirect), and no pooled connection outliving the post.
func (s *Service) robotClient(allowPrivate bool) *http.Client {
	return netguard.New(netguard.Config{DB: s.db, Now: s.now}).Client(netguard.ClientOptions{Timeout: 20 * time.Second,
		AllowPrivate: allowPrivate, NoRedirects: true, NoKeepAlive: true})
}

// TestChannel posts a test message to a channel at once and reports the
// vendor's refusal as an error. It needs the right to update channels.
func (s *Service) TestChannel(ctx context.Context, p *access.Principal, id int64) error {
	if p == nil || !p.RightsOn(ChannelsEntity).Can(access.Update) {
		return apperr.Forbidden("action_not_allowed", "action", access.Update, "entity", ChannelsEntity)
	}
	if _, err := s.records.Get(ctx, p, ChannelsEntity, id, records.GetOptions{}); err != nil {
		return err
	}
	ch, err := s.channel(ctx, id)
	if err != nil {
		return err
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	lang := i18n.Lang(p.Lang)
	if lang != i18n.EN {
		lang = i18n.ZH
	}
	m := RobotMessage{Title: i18n.Message(lang, "notify_test_robot", nil),
		Text: i18n.Message(lang, "notify_test_robot.body", map[string]any{"user": p.Name, "channel": ch.Name})}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := s.postRobot(cctx, ch, m, st.RobotsAllowPrivate); err != nil {
		return apperr.New(apperr.ErrUnprocessable, "notify_robot_failed", "reason", err.Error())
	}
	return nil
}

// installChannels keeps secrets out of notify_channels records: a secret
// given on create or update is moved to notify_channel_secrets (never read
// back by any API), has_secret and secret_updated_at say whether and when
// one was set, and has_secret: false removes it.
func (s *Service) installChannels() {
	s.records.Use(ChannelsEntity, records.Hook{Before: func(ctx context.Context, c *records.Change) error {
		if c.New == nil {
			return nil
		}
		secret, given := c.New["secret"].(string)
		delete(c.New, "secret")
		had := c.Old != nil && c.Old["has_secret"] == true
		kind, _ := c.New["kind"].(string)
		if given && kind == RobotWeCom {
			return apperr.Fields(apperr.Field("secret", "notify_secret_not_supported"))
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		switch {
		case given:
			c.New["has_secret"], c.New["secret_updated_at"] = true, now
			rec := c.New
			return db.BeforeCommit(ctx, func(ctx context.Context) error {
				// On create the id exists only once the row is written.
				return s.putSecret(ctx, rec.ID(), secret, now)
			})
		case had && c.New["has_secret"] == false, had && kind == RobotWeCom:
			c.New["has_secret"], c.New["secret_updated_at"] = false, now
			_, err := s.db.Exec(ctx, `DELETE FROM notify_channel_secrets WHERE channel_id = ?`, c.Old.ID())
			return err
		default:
			c.New["has_secret"] = had
			if c.Old != nil {
				if t, ok := c.Old["secret_updated_at"]; ok {
					c.New["secret_updated_at"] = t
				} else {
					delete(c.New, "secret_updated_at")
				}
			} else {
				delete(c.New, "secret_updated_at")
			}
		}
		return nil
	}})
}

func (s *Service) putSecret(ctx context.Context, id int64, secret string, at time.Time) error {
	if id == 0 {
		return errors.New("notify: channel secret without a channel id")
	}
	_, err := s.db.Exec(ctx, `INSERT INTO notify_channel_secrets (channel_id, secret, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (channel_id) DO UPDATE SET secret = excluded.secret, updated_at = excluded.updated_at`, id, secret, at.UnixMicro())
	return err
}
