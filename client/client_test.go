package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/tenon-crm/tenon/client"
	"github.com/tenon-crm/tenon/internal/app"
	"github.com/tenon-crm/tenon/internal/platform/db/dbtest"
)

const adminPassword = "admin-pass-1"

// tenon is a real Tenon (the app the binary runs) behind a test server:
// SQLite in a temp dir, or a fresh PostgreSQL database when
// TENON_TEST_POSTGRES is set.
type tenon struct {
	app *app.App
	url string
}

func start(t *testing.T) *tenon {
	t.Helper()
	dsn := dbtest.SQLite(t)
	if dbtest.PostgresURL() != "" {
		dsn = dbtest.Postgres(t, "tenon_client")
	}
	ctx := context.Background()
	a, err := app.Open(ctx, app.Config{DSN: dsn, DataDir: t.TempDir(), AdminPassword: adminPassword, Stdout: io.Discard,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.API.Handler())
	t.Cleanup(func() {
		a.Notify.Close()
		srv.Close()
		if err := a.Close(); err != nil {
			t.Error(err)
		}
	})
	return &tenon{app: a, url: srv.URL}
}

// work runs the due jobs (webhook deliveries).
func (tn *tenon) work(t *testing.T) {
	t.Helper()
	if _, err := tn.app.Jobs.RunDue(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// must(f())(t) is f's value, or the test ends on f's error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantError checks that err is an *Error with this status and code.
func wantError(t *testing.T, err error, status int, code string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a %d %s problem, got %v", status, code, err)
	}
	if e.Status != status || e.Code != code {
		t.Fatalf("want %d %s, got %d %s (%v)", status, code, e.Status, e.Code, e)
	}
	return e
}

func lbl(zh, en string) client.Label { return client.Label{"zh-CN": zh, "en": en} }

// TestClientEndToEnd exercises every call of the client against a real
// Tenon: auth (session and token), metadata, records (list, iterate, get,
// create with an idempotency key, update with If-Match, delete, restore,
// action, history, upsert), errors, the change feed and its follower,
// webhooks (subscription, signed delivery verified by a receiver, delivery
// log, replay, test) and export.
func TestClientEndToEnd(t *testing.T) {
	tn := start(t)
	ctx := context.Background()

	// Auth: a session, then a token minted from it.
	admin := must(client.New(tn.url, client.WithLanguage("en")))(t)
	_, err := admin.Me(ctx)
	wantError(t, err, 401, "unauthenticated")
	_, err = admin.Login(ctx, "admin", "wrong")
	wantError(t, err, 401, "bad_credentials")
	user := must(admin.Login(ctx, "admin", adminPassword))(t)
	if user.String("login") != "admin" || user.ID() == "" {
		t.Fatalf("login user %v", user)
	}
	me := must(admin.Me(ctx))(t)
	if !me.Admin || me.User.ID() != user.ID() {
		t.Fatalf("me %+v", me)
	}
	tok := must(admin.CreateToken(ctx, client.TokenRequest{Name: "erp", Scopes: []string{client.ScopeAdmin}}))(t)
	if tok.Token == "" || !slices.Equal(tok.Scopes, []string{"admin"}) {
		t.Fatalf("token %+v", tok)
	}
	c := must(client.New(tn.url+"/", client.WithToken(tok.Token), client.WithUserAgent("client-test")))(t)
	if m := must(c.Me(ctx))(t); m.User.ID() != user.ID() {
		t.Fatalf("token me %+v", m)
	}
	readOnly := must(admin.CreateToken(ctx, client.TokenRequest{Name: "bi", Scopes: []string{client.ScopeRecordsRead}}))(t)
	ro := must(client.New(tn.url, client.WithToken(readOnly.Token)))(t)

	// Metadata.
	scale := 2
	def := client.Entity{Name: "cl_orders", Label: lbl("订单", "Orders"), TitleField: "title", Fields: []client.Field{
		{Name: "title", Type: "text", Label: lbl("标题", "Title"), Required: true, MaxLength: 100},
		{Name: "code", Type: "text", Label: lbl("编码", "Code"), Unique: true},
		{Name: "amount", Type: "decimal", Label: lbl("金额", "Amount"), Scale: &scale, Min: "0"},
		{Name: "status", Type: "select", Label: lbl("状态", "Status"), Options: []client.Choice{
			{Value: "open", Label: lbl("进行中", "Open")}, {Value: "done", Label: lbl("完成", "Done")}},
			Default: json.RawMessage(`"open"`)},
	}}
	e := must(c.CreateEntity(ctx, def))(t)
	if e.Name != "cl_orders" || !e.Custom || e.Field("status").Options[1].Label["en"] != "Done" {
		t.Fatalf("created entity %+v", e)
	}
	f := must(c.AddField(ctx, "cl_orders", client.Field{Name: "qty", Type: "integer", Label: lbl("数量", "Quantity")}))(t)
	if f.Name != "qty" || f.Type != "integer" {
		t.Fatalf("added field %+v", f)
	}
	got := must(c.Entity(ctx, "cl_orders"))(t)
	if got.Field("qty") == nil || !slices.Contains(got.Permissions, "export") {
		t.Fatalf("entity %+v", got)
	}
	all := must(c.Entities(ctx))(t)
	if !slices.ContainsFunc(all, func(e client.Entity) bool { return e.Name == "cl_orders" }) ||
		!slices.ContainsFunc(all, func(e client.Entity) bool { return e.Name == "users" && e.System }) {
		t.Fatalf("entities: %d", len(all))
	}
	_, err = c.Entity(ctx, "nope")
	if !client.IsNotFound(err) {
		t.Fatalf("unknown entity: %v", err)
	}

	// Create, idempotently.
	in := map[string]any{"title": "精密轴承 100 套", "code": "SO-1", "amount": "1234.50", "qty": 100}
	o1 := must(c.Create(ctx, "cl_orders", in, client.IdempotencyKey("k-1")))(t)
	again := must(c.Create(ctx, "cl_orders", in, client.IdempotencyKey("k-1")))(t)
	if o1.ID() == "" || again.ID() != o1.ID() || o1.Version() != 1 || o1.String("status") != "open" || o1.String("amount") != "1234.50" {
		t.Fatalf("create %v, again %v", o1, again)
	}
	if n, ok := o1.Int("qty"); !ok || n != 100 {
		t.Fatalf("qty %v", o1["qty"])
	}
	_, err = c.Create(ctx, "cl_orders", map[string]any{"title": "another body"}, client.IdempotencyKey("k-1"))
	if e := wantError(t, err, 422, "validation_failed"); e.Field("Idempotency-Key") == nil {
		t.Fatalf("idempotency mismatch: %v", e)
	}
	_, err = c.Create(ctx, "cl_orders", map[string]any{"title": "dup", "code": "SO-1"})
	if !client.IsConflict(err) {
		t.Fatalf("unique: %v", err)
	}
	_, err = c.Create(ctx, "cl_orders", map[string]any{"amount": "-1"})
	if e := wantError(t, err, 422, "validation_failed"); e.Field("title") == nil || e.Field("amount") == nil || e.Field("title").Message == "" {
		t.Fatalf("validation: %+v", e.Fields)
	}
	_, err = ro.Create(ctx, "cl_orders", map[string]any{"title": "x"})
	wantError(t, err, 403, "scope_not_allowed")

	// Get, update with If-Match.
	g := must(ro.Get(ctx, "cl_orders", o1.ID(), &client.GetOptions{Fields: []string{"title"}}))(t)
	if g.String("title") != "精密轴承 100 套" || g["amount"] != nil {
		t.Fatalf("get %v", g)
	}
	up := must(c.Update(ctx, "cl_orders", o1.ID(), map[string]any{"status": "done"}, client.IfVersion(1)))(t)
	if up.Version() != 2 || up.String("status") != "done" {
		t.Fatalf("update %v", up)
	}
	_, err = c.Update(ctx, "cl_orders", o1.ID(), map[string]any{"qty": 1}, client.IfVersion(1))
	if !client.IsPreconditionFailed(err) {
		t.Fatalf("stale update: %v", err)
	}

	// List and iterate.
	for i := range 6 {
		must(c.Create(ctx, "cl_orders", map[string]any{"title": "批次 " + string(rune('A'+i)), "amount": "10", "qty": i}))(t)
	}
	l := must(c.List(ctx, "cl_orders", &client.ListOptions{Filter: `amount == 10 && qty >= 2`, Sort: "-qty", PerPage: 3,
		Fields: []string{"title", "qty"}, Count: "exact"}))(t)
	if l.Total == nil || *l.Total != 4 || !l.TotalExact || len(l.Items) != 3 || l.Items[0].String("title") != "批次 F" || l.Items[0]["amount"] != nil {
		t.Fatalf("list %+v", l)
	}
	s := must(c.List(ctx, "cl_orders", &client.ListOptions{Q: "轴承"}))(t)
	if len(s.Items) != 1 || s.Items[0].ID() != o1.ID() {
		t.Fatalf("search %+v", s)
	}
	var titles []string
	for r, err := range c.All(ctx, "cl_orders", client.ListOptions{Sort: "title", PerPage: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		titles = append(titles, r.String("title"))
	}
	if len(titles) != 7 || titles[0] != "批次 A" || titles[6] != "精密轴承 100 套" {
		t.Fatalf("iterated %q", titles)
	}
	for _, err := range c.All(ctx, "cl_orders", client.ListOptions{Filter: "nope == 1"}) {
		wantError(t, err, 400, "unknown_field")
	}
	n := 0
	for range c.All(ctx, "cl_orders", client.ListOptions{PerPage: 2}) {
		if n++; n == 3 {
			break // stopping early is fine
		}
	}

	// Delete, restore, history.
	check(t, c.Delete(ctx, "cl_orders", o1.ID(), client.IfVersion(2)))
	_, err = c.Get(ctx, "cl_orders", o1.ID(), nil)
	if !client.IsNotFound(err) {
		t.Fatalf("deleted: %v", err)
	}
	if r := must(c.Get(ctx, "cl_orders", o1.ID(), &client.GetOptions{Deleted: true}))(t); r.ID() != o1.ID() {
		t.Fatalf("recycle bin %v", r)
	}
	r := must(c.Restore(ctx, "cl_orders", o1.ID()))(t)
	if r.Version() != 4 {
		t.Fatalf("restored %v", r)
	}
	h := must(c.History(ctx, "cl_orders", o1.ID(), ""))(t)
	var actions []string
	for _, x := range h {
		actions = append(actions, x.Action)
	}
	if !slices.Equal(actions, []string{"restore", "delete", "update", "create"}) || h[2].Changes["status"].New != "done" ||
		h[0].Source != "api" || h[0].TokenID != tok.ID {
		t.Fatalf("history %q %+v", actions, h)
	}
	if older := must(c.History(ctx, "cl_orders", o1.ID(), h[1].ID))(t); len(older) != 2 || older[0].Action != "update" {
		t.Fatalf("older history %+v", older)
	}

	// Upsert by external id: twice is one record.
	u1, created, err := c.Upsert(ctx, "cl_orders", "erp", "SO/2026/7", map[string]any{"title": "ERP 订单", "qty": 1})
	if err != nil || !created {
		t.Fatalf("upsert: %v %v", created, err)
	}
	u2, created, err := c.Upsert(ctx, "cl_orders", "erp", "SO/2026/7", map[string]any{"title": "ERP 订单", "qty": 2})
	if err != nil || created || u2.ID() != u1.ID() || u2.Version() != 2 {
		t.Fatalf("upsert again: %v %v %v", u2, created, err)
	}

	// A user with a role, an action (set_password), and a session that
	// writes (CSRF).
	role := must(c.Create(ctx, "roles", map[string]any{"name": "order_clerk", "title": "Clerk", "permissions": []any{
		map[string]any{"entity": "cl_orders", "actions": []string{"read", "create", "update", "export"}, "scope": "own", "hidden_fields": []string{"amount"}}}}))(t)
	clerk := must(c.Create(ctx, "users", map[string]any{"login": "clerk", "name": "王小二", "active": true, "roles": []string{role.ID()}}))(t)
	if res, err := c.Action(ctx, "users", clerk.ID(), "set_password", map[string]any{"password": "clerk-pass-123"}); err != nil {
		t.Fatalf("set_password: %v %v", res, err)
	}
	_, err = c.Action(ctx, "users", clerk.ID(), "no_such_action", nil)
	if !client.IsNotFound(err) {
		t.Fatalf("unknown action: %v", err)
	}
	cs := must(client.New(tn.url, client.WithLanguage("zh-CN")))(t)
	must(cs.Login(ctx, "clerk", "clerk-pass-123"))(t)
	mine := must(cs.Create(ctx, "cl_orders", map[string]any{"title": "自己的订单", "qty": 5}))(t)
	if _, hidden := mine["amount"]; hidden {
		t.Fatalf("hidden field returned: %v", mine)
	}
	if l := must(cs.List(ctx, "cl_orders", nil))(t); len(l.Items) != 1 || l.Items[0].ID() != mine.ID() {
		t.Fatalf("clerk sees %+v", l.Items)
	}
	_, err = cs.Get(ctx, "cl_orders", o1.ID(), nil)
	if !client.IsNotFound(err) {
		t.Fatalf("out of scope: %v", err)
	}
	_, err = cs.Update(ctx, "cl_orders", mine.ID(), map[string]any{"amount": "1"})
	if e := wantError(t, err, 400, "unknown_field"); e.Detail != "未知字段：amount" { // as if it did not exist; in zh-CN
		t.Fatalf("hidden field write: %+v", e)
	}

	// Export: the clerk's own rows, without the hidden field.
	dl := must(cs.Export(ctx, "cl_orders", client.ExportOptions{Fields: []string{"title", "qty", "owner"}}))(t)
	body := must(io.ReadAll(dl))(t)
	dl.Close()
	if !strings.HasPrefix(dl.Name, "订单-") || !strings.HasSuffix(dl.Name, ".csv") || !strings.HasPrefix(dl.ContentType, "text/csv") {
		t.Fatalf("download %q %q", dl.Name, dl.ContentType)
	}
	if string(body) != "\uFEFF标题,数量,负责人\r\n自己的订单,5,王小二\r\n" {
		t.Fatalf("export %q", body)
	}
	_, err = cs.Export(ctx, "cl_orders", client.ExportOptions{Fields: []string{"amount"}})
	wantError(t, err, 400, "unknown_field")
	x := must(c.Export(ctx, "cl_orders", client.ExportOptions{Format: "xlsx", Filter: `qty >= 5`}))(t)
	xb := must(io.ReadAll(x))(t)
	x.Close()
	if !bytes.HasPrefix(xb, []byte("PK")) || !strings.HasSuffix(x.Name, ".xlsx") {
		t.Fatalf("xlsx %q %d bytes", x.Name, len(xb))
	}

	// Logout ends the session.
	check(t, cs.Logout(ctx))
	_, err = cs.Me(ctx)
	wantError(t, err, 401, "unauthenticated")

	changesAndWebhooks(t, tn, c, tok.Token, o1.ID())
}

// changesAndWebhooks: the feed, its follower, and webhooks end to end.
func changesAndWebhooks(t *testing.T, tn *tenon, c *client.Client, token, orderID string) {
	ctx := context.Background()

	// The change feed. On PostgreSQL it shows a change once every older
	// transaction has ended (on a shared test server other tests' may still
	// run), so read on until the order's creation shows.
	var ids []string
	cur := ""
	for !slices.Contains(ids, orderID) {
		p := must(c.Changes(ctx, cur, "cl_orders"))(t)
		for _, ch := range p.Items {
			if ch.Entity != "cl_orders" || ch.RecordID == "" {
				t.Fatalf("change %+v", ch)
			}
			if len(ids) == 0 && ch.Event != "created" {
				t.Fatalf("first change %+v", ch)
			}
			ids = append(ids, ch.RecordID)
		}
		if p.Next == "" && len(p.Items) > 0 {
			t.Fatalf("no cursor: %+v", p)
		}
		cur = p.Next
		if !p.More && !slices.Contains(ids, orderID) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for { // and everything written so far
		p := must(c.Changes(ctx, cur, "cl_orders"))(t)
		for _, ch := range p.Items {
			ids = append(ids, ch.RecordID)
		}
		cur = p.Next
		if !p.More {
			break
		}
	}

	// The follower: every change in order, the cursor saved after each
	// page; resumed from the saved cursor it goes on from there.
	follow := func(since string, done func([]client.Change) bool) ([]client.Change, string) {
		t.Helper()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var seen []client.Change
		saved := since
		err := c.Follow(ctx, since, client.FollowOptions{Entities: []string{"cl_orders"}, Limit: 3, Interval: 10 * time.Millisecond,
			Save: func(_ context.Context, cursor string) error { saved = cursor; return nil }},
			func(_ context.Context, ch client.Change) error {
				seen = append(seen, ch)
				if done(seen) {
					cancel()
				}
				return nil
			})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("follow ended with %v", err)
		}
		return seen, saved
	}
	first, saved := follow("", func(seen []client.Change) bool { return len(seen) == len(ids) })
	for i, ch := range first {
		if ch.RecordID != ids[i] {
			t.Fatalf("follower change %d is %s, the feed's %s", i, ch.RecordID, ids[i])
		}
	}
	if saved == "" {
		t.Fatal("no cursor saved")
	}
	must(c.Update(ctx, "cl_orders", orderID, map[string]any{"qty": 7}))(t)
	isUpdate := func(ch client.Change) bool {
		qty, _ := ch.Changes["qty"].(map[string]any)
		return ch.RecordID == orderID && ch.Event == "updated" && fmt.Sprint(qty["new"]) == "7"
	}
	next, _ := follow(saved, func(seen []client.Change) bool { return isUpdate(seen[len(seen)-1]) })
	for _, ch := range next[:len(next)-1] { // only changes that came after the saved cursor
		if slices.ContainsFunc(first, func(f client.Change) bool { return f.Seq == ch.Seq }) {
			t.Fatalf("the resumed follower saw %s again", ch.Seq)
		}
	}
	stop := errors.New("stop")
	if err := c.Follow(ctx, "", client.FollowOptions{}, func(context.Context, client.Change) error { return stop }); err != stop {
		t.Fatalf("follow returns fn's error: %v", err)
	}
	if err := c.Follow(ctx, "not-a-cursor", client.FollowOptions{}, nil); err == nil {
		t.Fatal("a bad cursor should end the follower")
	}

	// Webhooks: a receiver that checks every signature.
	const secret = "a-long-shared-secret-of-32-chars-at-least"
	var mu sync.Mutex
	var got []map[string]any
	var deliveryIDs []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := client.VerifySignature(secret, r.Header.Get(client.SignatureHeader), b, 5*time.Minute); err != nil {
			t.Errorf("signature: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		deliveryIDs = append(deliveryIDs, r.Header.Get("Tenon-Delivery"))
		mu.Unlock()
	}))
	defer recv.Close()
	allow := func(hosts ...string) {
		t.Helper()
		b, _ := json.Marshal(map[string]any{"allow": hosts})
		req, _ := http.NewRequest("PUT", tn.url+"/api/v1/settings/outbound", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("allow-list: %v %v", res, err)
		}
		res.Body.Close()
	}
	_, err := c.CreateWebhook(ctx, client.Webhook{URL: recv.URL + "/hook", Entity: "cl_orders", Events: []string{"updated"}, Secret: secret})
	if e := wantError(t, err, 422, "validation_failed"); e.Field("url") == nil {
		t.Fatalf("a loopback target before it is allowed: %+v", e.Fields)
	}
	allow("127.0.0.1")
	hook := must(c.CreateWebhook(ctx, client.Webhook{URL: recv.URL + "/hook", Entity: "cl_orders", Events: []string{"updated"},
		Secret: secret, Description: "ERP"}))(t)
	if hook.ID() == "" || hook.String("url") != recv.URL+"/hook" {
		t.Fatalf("webhook %v", hook)
	}
	if res := must(c.TestWebhook(ctx, hook.ID()))(t); !res.OK {
		t.Fatalf("test: %+v", res)
	}
	must(c.Update(ctx, "cl_orders", orderID, map[string]any{"qty": 8}))(t)
	tn.work(t)
	dl := must(c.Deliveries(ctx, hook.ID(), nil))(t)
	if len(dl.Items) != 1 || dl.Items[0].String("status") != "succeeded" || dl.Items[0].String("record_id") != orderID {
		t.Fatalf("deliveries %+v", dl.Items)
	}
	mu.Lock()
	n := len(got)
	mu.Unlock()
	if n != 2 || got[0]["event"] != "ping" || got[1]["event"] != "updated" || got[1]["entity"] != "cl_orders" {
		t.Fatalf("received %v", got)
	}
	if rec, _ := got[1]["record"].(map[string]any); rec["id"] != orderID {
		t.Fatalf("payload record %v", got[1]["record"])
	}
	rp := must(c.ReplayDelivery(ctx, dl.Items[0].ID()))(t)
	if rp.String("status") != "pending" {
		t.Fatalf("replayed %v", rp)
	}
	tn.work(t)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 || deliveryIDs[2] != deliveryIDs[1] || got[2]["id"] != got[1]["id"] {
		t.Fatalf("replay: ids %q, bodies %v", deliveryIDs, got)
	}
	if l := must(c.Deliveries(ctx, hook.ID(), &client.ListOptions{Filter: `status == "succeeded"`, Count: "exact"}))(t); *l.Total != 1 {
		t.Fatalf("succeeded deliveries %+v", l)
	}
}

// TestVerifySignature: the receiver's check of Tenon-Signature.
func TestVerifySignature(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"1","event":"updated"}`)
	h := client.Sign("s3cret", now, body)
	if !strings.HasPrefix(h, "t=1800000000,v1=") {
		t.Fatalf("header %q", h)
	}
	for _, tc := range []struct {
		name   string
		secret string
		header string
		body   []byte
		tol    time.Duration
		at     time.Time
		want   error
	}{
		{"good", "s3cret", h, body, 5 * time.Minute, now.Add(time.Minute), nil},
		{"no tolerance", "s3cret", h, body, 0, now.Add(24 * time.Hour), nil},
		{"rotated secret: any v1", "s3cret", client.Sign("old", now, body) + "," + strings.Split(h, ",")[1], body, time.Minute, now, nil},
		{"wrong secret", "other", h, body, time.Minute, now, client.ErrSignatureInvalid},
		{"changed body", "s3cret", h, []byte(`{"id":"2","event":"updated"}`), time.Minute, now, client.ErrSignatureInvalid},
		{"stale", "s3cret", h, body, 5 * time.Minute, now.Add(6 * time.Minute), client.ErrSignatureExpired},
		{"from the future", "s3cret", h, body, 5 * time.Minute, now.Add(-6 * time.Minute), client.ErrSignatureExpired},
		{"changed time", "s3cret", strings.Replace(h, "t=1800000000", "t=1800000001", 1), body, time.Minute, now, client.ErrSignatureInvalid},
		{"no v1", "s3cret", "t=1800000000", body, time.Minute, now, client.ErrSignatureInvalid},
		{"no t", "s3cret", strings.Split(h, ",")[1], body, time.Minute, now, client.ErrSignatureInvalid},
		{"garbage", "s3cret", "nonsense", body, time.Minute, now, client.ErrSignatureInvalid},
	} {
		if err := client.VerifySignatureAt(tc.secret, tc.header, tc.body, tc.tol, tc.at); err != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestErrorFromAnyResponse: an error page that is not a problem (a proxy's)
// is still an *Error with the status.
func TestErrorFromAnyResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, "<html>slow down</html>")
	}))
	defer srv.Close()
	c := must(client.New(srv.URL))(t)
	_, err := c.Get(context.Background(), "leads", "1", nil)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 429 || e.RetryAfter != 7 || e.Title != "Too Many Requests" || e.Code != "" {
		t.Fatalf("error %#v", err)
	}
	if _, err := client.New("ftp://x"); err == nil {
		t.Error("a non-http base URL is refused")
	}
}
