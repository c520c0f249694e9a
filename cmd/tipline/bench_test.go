package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/tipline/tipline/notify/twiliotest"
)

// BenchmarkCriticalReportToPage measures, at idle, the time from sending a
// critical report to POST /api/v1/reports until the on-call reviewer's page
// request reaches the (local) Twilio API: the 201, the queue, triage,
// routing, the page task and twilio-go. Each report is a new incident, so
// each one pages. It reports the median and 99th percentile in
// milliseconds; the target is a median under 1000 and a p99 under 500.
func BenchmarkCriticalReportToPage(b *testing.B) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	s := startServer(b, testEnv(b, tw))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		body, _ := json.Marshal(map[string]string{
			"org": "lincoln-high", "category": "threat",
			"body": fmt.Sprintf("Student number %d said he will shoot up the school tomorrow", i),
		})
		start := time.Now()
		resp, err := http.Post(s.url+"/api/v1/reports", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("report: %s", resp.Status)
		}
		select {
		case m := <-tw.Arrived():
			lat = append(lat, m.At.Sub(start))
		case <-time.After(10 * time.Second):
			b.Fatal("no page within 10 s")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(0, "ns/op") // the per-op time is the same figure, less clearly
}
