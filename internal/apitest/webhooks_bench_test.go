package apitest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenon-crm/tenon/internal/platform/access"
)

// BenchmarkWebhooksDeliveries is the webhook figure of bench/README.md:
// 1,000 records are created (100 per transaction), each becoming a
// delivery to a local receiver (allow-listed 127.0.0.1); the job workers
// then send them all. It reports how long the writes took (the deliveries
// are written inside them) and how long sending took until every delivery
// was recorded as succeeded, and fails unless the receiver got each one
// exactly once with a valid signature.
//
//	go test ./internal/apitest -run XXX -bench WebhooksDeliveries -benchtime 1x
func BenchmarkWebhooksDeliveries(b *testing.B) {
	for range b.N {
		webhooksDeliveries(b)
	}
}

func webhooksDeliveries(b *testing.B) {
	b.StopTimer()
	t := testing.TB(b)
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("TENON_WEBHOOKS_BENCH_N")); err == nil && v > 0 {
		n = v
	}
	we := newWebhooksEnv(t)
	var got, bad, dup atomic.Int64
	var secret atomic.Value
	var seen sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if s, _ := secret.Load().(string); s == "" || !signatureOK(hookReq{header: r.Header, body: body}, s) {
			bad.Add(1)
		}
		if _, again := seen.LoadOrStore(r.Header.Get("Tenon-Delivery"), true); again {
			dup.Add(1)
		}
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	we.allow("127.0.0.1")
	hook := we.webhook(map[string]any{"url": srv.URL + "/bench", "events": []string{"created"}})
	secret.Store(hook["secret"].(string))
	a := we.app
	ctx := context.Background()
	sys := access.System()

	t0 := time.Now()
	for start := 0; start < n; start += 100 {
		err := a.DB.WithTx(ctx, func(ctx context.Context) error {
			for i := start; i < min(start+100, n); i++ {
				if _, err := a.Records.Create(ctx, sys, "wh_deals", map[string]any{"name": "批量 " + strconv.Itoa(i),
					"amount": "1000", "region": "华东"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	writes := time.Since(t0)
	count := func(q string) int {
		var c int
		if err := a.DB.QueryRow(ctx, q).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := count(`SELECT COUNT(*) FROM r_webhook_deliveries WHERE status = 'pending'`); c != n {
		t.Fatalf("%d pending deliveries, want %d", c, n)
	}

	b.StartTimer()
	t1 := time.Now()
	workCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Jobs.Run(workCtx) }()
	for count(`SELECT COUNT(*) FROM r_webhook_deliveries WHERE status = 'succeeded'`) < n {
		time.Sleep(20 * time.Millisecond)
	}
	sending := time.Since(t1)
	b.StopTimer()
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got.Load() != int64(n) || bad.Load() != 0 || dup.Load() != 0 {
		t.Fatalf("the receiver got %d requests (%d badly signed, %d repeated), want %d", got.Load(), bad.Load(), dup.Load(), n)
	}
	msg := fmt.Sprintf("webhooks (%s): %d records created with their deliveries in %v; %d deliveries sent and recorded in %v (%.0f/s); %v in all",
		a.DB.Kind, n, writes.Round(time.Millisecond), n, sending.Round(time.Millisecond), float64(n)/sending.Seconds(),
		(writes + sending).Round(time.Millisecond))
	t.Log(msg)
	fmt.Println(msg)
	b.ReportMetric(float64(n)/sending.Seconds(), "deliveries/s")
}
