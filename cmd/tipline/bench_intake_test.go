package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
)

// dbBench is the benchmarks' database on the test Redis.
const dbBench = 10

// BenchmarkIntakeVsFloor measures requests per second of tipline's
// POST /api/v1/reports (the built binary, TIPLINE_ROLE=web, every
// middleware on, TIPLINE_RATE_LIMIT=0) beside cmd/floor, which only binds,
// sanitizes, writes one Redis pipeline and enqueues one task. Both run on
// the same Redis and take the same load from the same generator, in
// alternating rounds; it reports each one's median rate and their ratio.
// The target is a ratio of at least 0.6.
//
// INTAKE_BENCH_SECONDS sets each round's length (default 5), and
// INTAKE_BENCH_CONNS the concurrent connections (default 16).
func BenchmarkIntakeVsFloor(b *testing.B) {
	secs, conns := envInt("INTAKE_BENCH_SECONDS", 5), envInt("INTAKE_BENCH_CONNS", 16)
	rdb := redistest.New(b, dbBench)
	bin := faultBinary(b)
	floorBin := filepath.Join(b.TempDir(), "floor")
	out, err := exec.Command("go", "build", "-o", floorBin, "../floor").CombinedOutput()
	require.NoError(b, err, "go build floor: %s", out)

	e := testEnv(b, nil)
	e["REDIS_URL"] = redistest.URL(dbBench)
	e["TIPLINE_ROLE"] = "web"
	e["TIPLINE_RATE_LIMIT"] = "0"
	e["TIPLINE_LOG_FORMAT"] = "json"
	tl := startProc(b, bin, "tipline", e)

	port := freePort(b)
	floor := exec.Command(floorBin)
	floor.Env = []string{"FLOOR_ADDR=127.0.0.1:" + strconv.Itoa(port), "REDIS_URL=" + redistest.URL(dbBench)}
	floor.Stderr = os.Stderr
	require.NoError(b, floor.Start())
	b.Cleanup(func() { _ = floor.Process.Kill(); _ = floor.Wait() })
	floorURL := "http://127.0.0.1:" + strconv.Itoa(port)
	waitFor(b, 30*time.Second, func() bool {
		code, _, err := tryPostJSON(floorURL+"/api/v1/reports", map[string]any{"org": "x", "body": "warm up"})
		return err == nil && code == http.StatusCreated
	}, "the floor did not start")

	var tlRates, floorRates []float64
	b.ResetTimer()
	for round := range 3 {
		// Alternate which goes first, so neither always meets a fuller Redis.
		order := []string{"floor", "tipline"}
		if round%2 == 1 {
			order = []string{"tipline", "floor"}
		}
		for _, which := range order {
			rdb.FlushDB(context.Background())
			url := tl.url
			if which == "floor" {
				url = floorURL
			}
			rate := postLoad(b, url, conns, time.Duration(secs)*time.Second)
			if which == "floor" {
				floorRates = append(floorRates, rate)
			} else {
				tlRates = append(tlRates, rate)
			}
		}
	}
	b.StopTimer()
	slices.Sort(tlRates)
	slices.Sort(floorRates)
	tlMed, floorMed := tlRates[1], floorRates[1]
	b.ReportMetric(tlMed, "tipline-req/s")
	b.ReportMetric(floorMed, "floor-req/s")
	b.ReportMetric(tlMed/floorMed, "ratio")
	b.ReportMetric(0, "ns/op")
	b.Logf("tipline %v req/s, floor %v req/s (three rounds each, %d connections, %d s)", tlRates, floorRates, conns, secs)
}

// reportBody is the report both servers take in the intake benchmark: a
// routine report of typical length.
var reportBody = []byte(`{"org":"lincoln-high","category":"bullying","body":"Two 8th graders keep taking a smaller kid's lunch money by the bike racks before first period, and yesterday they pushed him into the fence. He is scared to tell anyone.","location":"bike racks","when":"most mornings"}`)

// postLoad posts reportBody to url from conns connections for d and
// returns the 201s per second.
func postLoad(b *testing.B, url string, conns int, d time.Duration) float64 {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var ok, bad atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				resp, err := client.Post(url+"/api/v1/reports", "application/json", bytes.NewReader(reportBody))
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusCreated {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		}()
	}
	start := time.Now()
	wg.Wait()
	if n := bad.Load(); n > 0 {
		b.Fatalf("%s: %d requests failed", url, n)
	}
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// envInt reads a whole number from the environment, or def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
