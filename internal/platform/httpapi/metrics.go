package httpapi

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"time"
)

// Metrics counts requests for /metrics in the Prometheus text format.
type Metrics struct {
	mu       sync.Mutex
	requests map[string]uint64 // "method status"
	seconds  float64
	buckets  []float64
	counts   []uint64
	total    uint64
}

// NewMetrics builds empty counters.
func NewMetrics() *Metrics {
	b := []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5}
	return &Metrics{requests: map[string]uint64{}, buckets: b, counts: make([]uint64, len(b))}
}

// Observe records one request.
func (m *Metrics) Observe(method string, status int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[fmt.Sprintf("%s %d", method, status)]++
	sec := d.Seconds()
	m.seconds += sec
	m.total++
	for i, b := range m.buckets {
		if sec <= b {
			m.counts[i]++
		}
	}
}

// Write renders the metrics plus extra gauges.
func (m *Metrics) Write(w io.Writer, gauges map[string]float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP tenon_http_requests_total HTTP requests by method and status.")
	fmt.Fprintln(w, "# TYPE tenon_http_requests_total counter")
	keys := make([]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var method string
		var status int
		fmt.Sscanf(k, "%s %d", &method, &status)
		fmt.Fprintf(w, "tenon_http_requests_total{method=%q,status=\"%d\"} %d\n", method, status, m.requests[k])
	}
	fmt.Fprintln(w, "# HELP tenon_http_request_duration_seconds HTTP request latency.")
	fmt.Fprintln(w, "# TYPE tenon_http_request_duration_seconds histogram")
	for i, b := range m.buckets {
		fmt.Fprintf(w, "tenon_http_request_duration_seconds_bucket{le=\"%g\"} %d\n", b, m.counts[i])
	}
	fmt.Fprintf(w, "tenon_http_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.total)
	fmt.Fprintf(w, "tenon_http_request_duration_seconds_sum %g\n", m.seconds)
	fmt.Fprintf(w, "tenon_http_request_duration_seconds_count %d\n", m.total)
	names := make([]string, 0, len(gauges))
	for k := range gauges {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %g\n", k, k, gauges[k])
	}
}
