package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// putExternal is PUT .../by-external-id as c, from any goroutine: the
// status and the record's id (or the problem's code).
func putExternal(c *client, entity, source, ext string, body map[string]any) (int, string, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest("PUT", c.e.srv.URL+"/api/v1/records/"+entity+"/by-external-id/"+source+"/"+ext, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return res.StatusCode, "", fmt.Errorf("not JSON: %s", raw)
	}
	if res.StatusCode >= 300 {
		return res.StatusCode, fmt.Sprint(m["code"]), nil
	}
	return res.StatusCode, fmt.Sprint(m["id"]), nil
}

// TestUpsertTwiceOneRecord: PUT by external id twice is one record; the
// source is part of the key.
func TestUpsertTwiceOneRecord(t *testing.T) {
	ie := newInboundEnv(t)
	put := func(source, ext string, body map[string]any) *response {
		return ie.admin.do("PUT", "/api/v1/records/ib_orders/by-external-id/"+source+"/"+ext, body, nil)
	}
	first := put("erp", "SO-1", map[string]any{"title": "一", "qty_done": 1}).want(201).json()
	second := put("erp", "SO-1", map[string]any{"title": "一", "qty_done": 2}).want(200).json()
	if first["id"] != second["id"] || second["qty_done"] != 2.0 || second["version"] != 2.0 {
		t.Errorf("first %v second %v", first, second)
	}
	other := put("mes", "SO-1", map[string]any{"title": "MES 的 SO-1"}).want(201).json()
	if other["id"] == first["id"] {
		t.Error("another source's id named the same record")
	}
	if n := ie.count("ib_orders", ""); n != 2 {
		t.Errorf("%d orders", n)
	}
	// A refused upsert claims nothing: the key is still free afterwards.
	put("erp", "SO-2", map[string]any{"qty_done": 1}).want(422)
	put("erp", "SO-2", map[string]any{"title": "二"}).want(201)
	put("erp", strings.Repeat("x", 201), map[string]any{"title": "x"}).want(400)
	var zero int
	if err := ie.app.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM external_ids WHERE record_id = 0`).Scan(&zero); err != nil || zero != 0 {
		t.Errorf("%d unclaimed keys left (%v)", zero, err)
	}
}

// TestUpsertConcurrent: many clients upserting the same keys at once end
// with one record per key, exactly one of them having created it; the
// same through signed inbound calls.
func TestUpsertConcurrent(t *testing.T) {
	ie := newInboundEnv(t)
	const keys, per = 4, 6
	type out struct {
		key, id string
		status  int
		err     error
	}
	results := make(chan out, keys*per)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for k := 0; k < keys; k++ {
		for g := 0; g < per; g++ {
			wg.Add(1)
			go func(k, g int) {
				defer wg.Done()
				<-start
				key := fmt.Sprintf("SO-%d", k)
				st, id, err := putExternal(ie.admin, "ib_orders", "erp", key, map[string]any{"title": key, "qty_done": g})
				results <- out{key, id, st, err}
			}(k, g)
		}
	}
	close(start)
	wg.Wait()
	close(results)
	created := map[string]int{}
	ids := map[string]map[string]bool{}
	for r := range results {
		if r.err != nil || (r.status != 200 && r.status != 201) {
			t.Errorf("%s: %d %s %v", r.key, r.status, r.id, r.err)
			continue
		}
		if r.status == 201 {
			created[r.key]++
		}
		if ids[r.key] == nil {
			ids[r.key] = map[string]bool{}
		}
		ids[r.key][r.id] = true
	}
	for k := 0; k < keys; k++ {
		key := fmt.Sprintf("SO-%d", k)
		if created[key] != 1 || len(ids[key]) != 1 {
			t.Errorf("%s: created %d times, ids %v", key, created[key], ids[key])
		}
		if n := ie.count("ib_orders", fmt.Sprintf("title == %q", key)); n != 1 {
			t.Errorf("%s: %d records", key, n)
		}
	}

	// Signed inbound calls racing on one new key (each signed at its own
	// time, so none is a replay).
	id, secret := ie.orderEndpoint(nil)
	statuses := make(chan int, per)
	var wg2 sync.WaitGroup
	start2 := make(chan struct{})
	for g := 0; g < per; g++ {
		wg2.Add(1)
		go func(g int) {
			defer wg2.Done()
			body := fmt.Sprintf(`{"order_no":"SO-RACE","qty_done":%d}`, g)
			req, _ := http.NewRequest("POST", ie.srv.URL+"/api/v1/inbound/"+id, strings.NewReader(body))
			req.Header.Set("Tenon-Signature", signAt(secret, ie.clock.Now().Add(time.Duration(g)*time.Second), body))
			<-start2
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				statuses <- 0
				return
			}
			res.Body.Close()
			statuses <- res.StatusCode
		}(g)
	}
	close(start2)
	wg2.Wait()
	close(statuses)
	var got []int
	for s := range statuses {
		got = append(got, s)
	}
	sort.Ints(got)
	for _, s := range got {
		if s != 200 {
			t.Errorf("inbound statuses %v", got)
			break
		}
	}
	if n := ie.count("ib_orders", `order_no == "SO-RACE"`); n != 1 {
		t.Errorf("SO-RACE: %d records", n)
	}
	oks := ie.calls(id, "status=ok")
	createdCalls := 0
	for _, c := range oks {
		createdCalls += int(c["created"].(float64))
	}
	if len(oks) != per || createdCalls != 1 {
		t.Errorf("%d ok calls, %d created", len(oks), createdCalls)
	}
}

// TestUpsertRecycleBin: a record in the recycle bin is restored and
// updated by an upsert of its key (by someone who may restore it; 409
// for others); a record that is gone for good is created anew.
func TestUpsertRecycleBin(t *testing.T) {
	ie := newInboundEnv(t)
	put := func(c *client, ext string, body map[string]any) *response {
		return c.do("PUT", "/api/v1/records/ib_orders/by-external-id/erp/"+ext, body, nil)
	}
	rec := put(ie.admin, "SO-1", map[string]any{"title": "一", "qty_done": 1}).want(201).json()
	id := rec["id"].(string)
	ie.admin.do("DELETE", "/api/v1/records/ib_orders/"+id, nil, nil).want(204)
	back := put(ie.admin, "SO-1", map[string]any{"qty_done": 2}).want(200).json()
	if back["id"] != id || back["qty_done"] != 2.0 || back["title"] != "一" {
		t.Errorf("upserted after delete %v", back)
	}
	var actions []string
	for _, h := range ie.admin.do("GET", "/api/v1/records/ib_orders/"+id+"/history", nil, nil).want(200).items() {
		actions = append(actions, h["action"].(string))
	}
	if strings.Join(actions, ",") != "update,restore,delete,create" {
		t.Errorf("history %v", actions)
	}

	// rep.east may read, create and update orders but not delete or restore them.
	ie.admin.do("PATCH", "/api/v1/records/roles/"+ie.role, map[string]any{"permissions": []any{
		map[string]any{"entity": "ib_orders", "actions": []string{"read", "create", "update"}, "scope": "all"}}}, nil).want(200)
	ie.admin.do("PATCH", "/api/v1/records/users/"+ie.users["rep.east"], map[string]any{"roles": []string{ie.role}}, nil).want(200)
	ie.app.Access.Invalidate()
	rep := ie.c("rep.east")
	put(rep, "SO-1", map[string]any{"qty_done": 3}).want(200)
	ie.admin.do("DELETE", "/api/v1/records/ib_orders/"+id, nil, nil).want(204)
	if c := put(rep, "SO-1", map[string]any{"qty_done": 4}).want(409).json()["code"]; c != "upsert_record_deleted" {
		t.Errorf("code %v", c)
	}
	if n := ie.count("ib_orders", ""); n != 0 {
		t.Errorf("%d live orders after a refused upsert", n)
	}

	// Gone for good (purged from the table): a new record, and the key
	// names it from then on.
	var num int64
	fmt.Sscan(id, &num)
	if _, err := ie.app.DB.Exec(context.Background(), `DELETE FROM r_ib_orders WHERE id = ?`, num); err != nil {
		t.Fatal(err)
	}
	fresh := put(rep, "SO-1", map[string]any{"title": "新", "qty_done": 5}).want(201).json()
	if fresh["id"] == id {
		t.Error("the purged id came back")
	}
	again := put(rep, "SO-1", map[string]any{"qty_done": 6}).want(200).json()
	if again["id"] != fresh["id"] {
		t.Errorf("second upsert %v, want %v", again["id"], fresh["id"])
	}
}

// TestUpsertInCallersTransaction: inside a caller's transaction a refused
// upsert leaves nothing behind and the transaction goes on.
func TestUpsertInCallersTransaction(t *testing.T) {
	ie := newInboundEnv(t)
	ctx := context.Background()
	recs, sys := ie.app.Records, access.System()
	err := ie.app.DB.WithTx(ctx, func(ctx context.Context) error {
		if _, _, err := recs.Upsert(ctx, sys, "ib_orders", "erp", "SO-1", map[string]any{"qty_done": "x"}); err == nil {
			return fmt.Errorf("a bad upsert was accepted")
		}
		if _, found, err := recs.ExternalID(ctx, "ib_orders", "erp", "SO-1"); err != nil || found {
			return fmt.Errorf("the refused upsert left its key: %v %v", found, err)
		}
		_, created, err := recs.Upsert(ctx, sys, "ib_orders", "erp", "SO-1", map[string]any{"title": "一"})
		if err != nil || !created {
			return fmt.Errorf("upsert after a refused one: %v %v", created, err)
		}
		_, created, err = recs.Upsert(ctx, sys, "ib_orders", "erp", "SO-1", map[string]any{"qty_done": json.Number("3")})
		if err != nil || created {
			return fmt.Errorf("second upsert in the transaction: %v %v", created, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rows := ie.list("ib_orders", "")
	if len(rows) != 1 || rows[0]["qty_done"] != 3.0 || rows[0]["version"] != 2.0 {
		t.Errorf("orders %v", rows)
	}
}
