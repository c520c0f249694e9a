package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify/twiliotest"
)

// startApp runs an app in-process on e's Redis without emptying it (as
// startServer does), so a test can fill the queues first. It stops when
// the test ends, or when the returned func is called.
func startApp(t testing.TB, e env) (*app, func()) {
	t.Helper()
	st, err := loadSettings(e.get)
	require.NoError(t, err)
	cfg, err := loadConfig(st.ConfigPath)
	require.NoError(t, err)
	a, err := newApp(st, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	var ln net.Listener
	if st.wantWeb() {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return a, stop
}

// fill submits n reports through intake from 16 goroutines: every 50th a
// life-safety incident of its own, the rest routine.
func fill(t testing.TB, in *intake.Intake, n int) {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				r := intake.Report{Org: "lincoln-high", Body: fmt.Sprintf("kids vape in the bathroom by locker %d every lunch and the smell gets into room %d", i, i%300)}
				if i%50 == 0 {
					r.Body = fmt.Sprintf("student %d said he will bring a gun to locker %d tomorrow and shoot people", i, i)
				}
				if _, err := in.Submit(context.Background(), r); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	require.NoError(t, <-errs)
}

// BenchmarkWorkerDrain measures the workers' drain rate: n reports are
// queued with no worker running, then one worker process (the app with
// TIPLINE_ROLE=worker) starts, and the clock runs until every tip is
// triaged and every page has reached the (local) Twilio API. Every 50th
// report is a critical incident of its own, so it pages. The target is
// 5,000 reports a second on 2 cores. DRAIN_BENCH_REPORTS sets n (default
// 20,000: the clock includes the worker's start and the first second
// before routine tips are batched, which a smaller backlog is mostly made
// of).
func BenchmarkWorkerDrain(b *testing.B) {
	n := envInt("DRAIN_BENCH_REPORTS", 20_000)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	e := testEnv(b, tw)
	e["REDIS_URL"] = redistest.URL(dbBench)
	var rates, redisCPU, ownCPU []float64
	for range b.N {
		b.StopTimer()
		rdb := redistest.New(b, dbBench)
		e["TIPLINE_ROLE"] = "web"
		web, stopWeb := startApp(b, e)
		fill(b, web.intake, n)
		stopWeb()
		pagesBefore := len(tw.Messages())
		e["TIPLINE_ROLE"] = "worker"
		cpuBefore, ownBefore := redisCPUSeconds(b, rdb), processCPUSeconds(b)
		b.StartTimer()
		start := time.Now()
		_, stop := startApp(b, e)
		for rdb.ZCard(context.Background(), "tips:received").Val() > 0 || len(tw.Messages())-pagesBefore < (n+49)/50 {
			time.Sleep(5 * time.Millisecond)
		}
		rates = append(rates, float64(n)/time.Since(start).Seconds())
		redisCPU = append(redisCPU, (redisCPUSeconds(b, rdb)-cpuBefore)/float64(n)*1e6)
		ownCPU = append(ownCPU, (processCPUSeconds(b)-ownBefore)/float64(n)*1e6)
		b.StopTimer()
		stop()
	}
	slices.Sort(rates)
	slices.Sort(redisCPU)
	slices.Sort(ownCPU)
	b.ReportMetric(rates[len(rates)/2], "reports/s")
	// Redis's own CPU per report: of the two cores, what the worker's
	// commands leave for the worker.
	b.ReportMetric(redisCPU[len(redisCPU)/2], "redis-µs/report")
	// The worker's CPU per report (this process: the worker, and the
	// local Twilio API it pages).
	b.ReportMetric(ownCPU[len(ownCPU)/2], "worker-µs/report")
	b.ReportMetric(0, "ns/op")
}

// processCPUSeconds is the CPU time this process has used, in seconds.
func processCPUSeconds(t testing.TB) float64 {
	var ru syscall.Rusage
	require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// redisInfo sums fields of one INFO section of rdb: "used_memory" in
// "memory", "used_cpu_sys" and "used_cpu_user" in "cpu".
func redisInfo(t testing.TB, rdb *redis.Client, section string, fields ...string) float64 {
	var sum float64
	found := 0
	for _, line := range strings.Split(rdb.Info(context.Background(), section).Val(), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && slices.Contains(fields, k) {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err)
			sum += f
			found++
		}
	}
	require.Equal(t, len(fields), found, "INFO %s: %v", section, fields)
	return sum
}

// redisCPUSeconds is the CPU time the Redis server has used, in seconds.
func redisCPUSeconds(t testing.TB, rdb *redis.Client) float64 {
	return redisInfo(t, rdb, "cpu", "used_cpu_sys", "used_cpu_user")
}

// BenchmarkMemoryPerTips measures what stored tips cost Redis: used_memory
// (INFO memory) before and after n routine reports (default 100,000;
// MEMORY_BENCH_REPORTS) are stored and triaged, reported per 100 thousand.
func BenchmarkMemoryPerTips(b *testing.B) {
	n := envInt("MEMORY_BENCH_REPORTS", 100_000)
	e := testEnv(b, nil)
	e["REDIS_URL"] = redistest.URL(dbBench)
	for range b.N {
		rdb := redistest.New(b, dbBench)
		before := redisInfo(b, rdb, "memory", "used_memory")
		e["TIPLINE_ROLE"] = "all"
		a, stop := startApp(b, e)
		fill(b, a.intake, n)
		for rdb.ZCard(context.Background(), "tips:received").Val() > 0 {
			time.Sleep(50 * time.Millisecond)
		}
		stop()
		after := redisInfo(b, rdb, "memory", "used_memory")
		b.ReportMetric((after-before)/float64(n)*100_000/(1<<20), "MiB/100k-tips")
		b.ReportMetric((after-before)/float64(n), "bytes/tip")
	}
	b.ReportMetric(0, "ns/op")
}

// BenchmarkCriticalReportToPageUnderLoad is BenchmarkCriticalReportToPage
// while eight clients keep sending routine reports as fast as they are
// answered: the critical queue's strict priority keeps the page quick.
func BenchmarkCriticalReportToPageUnderLoad(b *testing.B) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	s := startServer(b, testEnv(b, tw))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var background atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				org, body := routineReport(w*1_000_000 + i)
				if code, _, err := tryPostJSON(s.url+"/api/v1/reports", map[string]any{"org": org, "body": body}); err == nil && code == http.StatusCreated {
					background.Add(1)
				}
			}
		}()
	}
	defer func() { cancel(); wg.Wait() }()
	start0 := time.Now()
	time.Sleep(time.Second) // the load is running before the first critical report

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
	wait:
		for {
			select {
			case m := <-tw.Arrived():
				// Only this report's page: a routine report may page too
				// (a high one), and did so before this one was sent.
				if !strings.Contains(m.Body, "CRITICAL") || m.At.Before(start) {
					continue
				}
				lat = append(lat, m.At.Sub(start))
				break wait
			case <-time.After(30 * time.Second):
				b.Fatal("no page within 30 s")
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(background.Load())/time.Since(start0).Seconds(), "routine-req/s")
	b.ReportMetric(0, "ns/op")
}

// TestFloodNeverDelaysCriticalPage: thousands of low-urgency reports wait
// in the queue when a critical one arrives; when the workers start, the
// critical report's page goes out while low tips are still waiting, so a
// flood of junk never stands between a life-safety tip and its page.
// Order, not time.
func TestFloodNeverDelaysCriticalPage(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	e := testEnv(t, tw)
	e["REDIS_URL"] = redistest.URL(dbBench)
	rdb := redistest.New(t, dbBench)
	e["TIPLINE_ROLE"] = "web"
	web, stopWeb := startApp(t, e)
	const junk = 3000
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= junk; i = next.Add(1) {
				_, err := web.intake.Submit(context.Background(), intake.Report{Org: "lincoln-high", Body: fmt.Sprintf("the cafeteria pizza is cold again, day %d", i)})
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	_, err := web.intake.Submit(context.Background(), intake.Report{Org: "lincoln-high", Body: "Jalen said he will bring a gun to the gym today and shoot people"})
	require.NoError(t, err)
	stopWeb()
	insp := asynq.NewInspector(redistest.AsynqOpt(dbBench))
	defer insp.Close()
	low, err := insp.GetQueueInfo("low")
	require.NoError(t, err)
	// Waiting to be batched (aggregating) or queued (pending).
	require.Greater(t, low.Pending+low.Aggregating, junk*9/10, "the junk waits in the low queue")

	e["TIPLINE_ROLE"] = "worker"
	startApp(t, e)
	// A junk report can page too ("day 1488" reads as a hate symbol):
	// wait for the critical page among whatever arrives.
	deadline := time.After(time.Minute)
	for critical := false; !critical; {
		select {
		case m := <-tw.Arrived():
			critical = strings.Contains(m.Body, "CRITICAL")
		case <-deadline:
			t.Fatal("no page for the critical report")
		}
	}
	waiting := rdb.ZCard(context.Background(), "tips:received").Val()
	require.Positive(t, waiting, "every low tip was triaged before the critical page went out")
	t.Logf("the critical page went out with %d of %d low tips not yet triaged", waiting, junk)
}
