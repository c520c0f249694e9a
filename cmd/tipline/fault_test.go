package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
	"github.com/tipline/tipline/notify/twiliotest"
)

// Faults against real processes: the tipline binary and a redis-server of
// the test's own that keeps an append-only file synced on every write, as
// deploy/redis.conf does. Each test kills something (tipline with SIGKILL,
// Redis with SIGKILL, Twilio by answering 500) and then checks what a user
// would: every report that got a token is stored, triaged once, and every
// urgent incident paged exactly once (checkPipeline). Nothing is timed:
// waits poll with generous bounds.
//
// asynq hands a task held by a killed worker to another only after its
// lease has run out (30 s, plus 30 s for clock skew, checked each minute),
// so these tests kill workers between tasks; a task cut short in flight is
// TestFaultWorkerKilledMidTask's, which runs in parallel with the rest.

// faultBinary builds the tipline binary once for all the fault tests: a
// build takes tens of seconds on a busy machine. It is left in the system's
// temporary folder, one per test run.
func faultBinary(t testing.TB) string {
	t.Helper()
	faultBuild.Do(func() {
		dir, err := os.MkdirTemp("", "tipline-fault")
		if err != nil {
			faultBuild.err = err
			return
		}
		faultBuild.path = filepath.Join(dir, "tipline")
		if out, err := exec.Command("go", "build", "-o", faultBuild.path, ".").CombinedOutput(); err != nil {
			faultBuild.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, faultBuild.err)
	return faultBuild.path
}

var faultBuild struct {
	sync.Once
	path string
	err  error
}

// aofRedis is a redis-server that persists every write before answering.
type aofRedis struct {
	t    testing.TB
	path string
	dir  string
	port int
	cmd  *exec.Cmd
}

// startAOFRedis starts a redis-server with appendfsync always in a fresh
// folder, or skips the test when there is none on PATH.
func startAOFRedis(t testing.TB) *aofRedis {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("fault tests need redis-server on PATH")
		}
		t.Skip("no redis-server on PATH: the fault tests kill and restart one")
	}
	r := &aofRedis{t: t, path: path, dir: t.TempDir(), port: freePort(t)}
	r.start()
	t.Cleanup(func() {
		if r.cmd != nil {
			r.kill()
		}
	})
	return r
}

func (r *aofRedis) url() string { return "redis://127.0.0.1:" + strconv.Itoa(r.port) + "/0" }

// start runs the server on its port and folder, reading back its
// append-only file if there is one, and waits until it answers.
func (r *aofRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command(r.path, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", r.dir)
	require.NoError(r.t, r.cmd.Start())
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	defer c.Close()
	waitFor(r.t, 30*time.Second, func() bool {
		// LOADING answers PING with an error until the file is read.
		return c.Ping(context.Background()).Err() == nil
	}, "redis-server on port %d did not come up", r.port)
}

// kill ends the server with SIGKILL: no shutdown, no final save.
func (r *aofRedis) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
	r.cmd = nil
}

// client is a client on the server, closed when the test ends.
func (r *aofRedis) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	r.t.Cleanup(func() { c.Close() })
	return c
}

// faultEnv is the production environment of main_test.go on this Redis.
func faultEnv(t testing.TB, r *aofRedis, twilioURL string, tw *twiliotest.Server) env {
	e := testEnv(t, tw)
	e["REDIS_URL"] = r.url()
	e["TWILIO_API_URL"] = twilioURL
	return e
}

// kill ends a tipline process with SIGKILL: no graceful anything.
func (p *proc) kill() {
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	err := <-p.done
	p.done <- err
}

// faultInspector is an asynq inspector on the test's Redis.
func faultInspector(t testing.TB, r *aofRedis) *asynq.Inspector {
	insp := asynq.NewInspector(asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)})
	t.Cleanup(func() { insp.Close() })
	return insp
}

// load sends reports to whichever web process target names, from several
// goroutines, until stop is closed; it keeps those that got a token.
// Failures (a process being killed, a refused connection) are expected and
// counted: a report without a 201 is one the reporter knows to send again.
type load struct {
	target atomic.Pointer[string]
	mu     sync.Mutex
	got    []sentReport
	failed int
	errs   []string // transport errors, for the shutdown test
	sent   atomic.Int64
	stop   chan struct{}
	wg     sync.WaitGroup
}

func startLoad(webURL string, workers int) *load {
	l := &load{stop: make(chan struct{})}
	l.target.Store(&webURL)
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := w; ; i += workers {
				select {
				case <-l.stop:
					return
				default:
				}
				incident, org, body := -1, "", ""
				if i%4 == 0 {
					incident = (i / 4) % len(incidents)
					org, body = incidents[incident].org, incidents[incident].body
				} else {
					org, body = routineReport(i)
				}
				via := *l.target.Load()
				l.sent.Add(1)
				code, resp, err := tryPostJSON(via+"/api/v1/reports", map[string]any{"org": org, "body": body})
				tok, _ := resp["token"].(string)
				l.mu.Lock()
				if err == nil && code == http.StatusCreated && tok != "" {
					l.got = append(l.got, sentReport{token: tok, incident: incident, via: via})
				} else {
					l.failed++
					if err != nil {
						l.errs = append(l.errs, err.Error())
					}
				}
				l.mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond) // the process is down: do not spin
				}
			}
		}()
	}
	return l
}

func (l *load) accepted() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

// errors are the transport errors the load met, one a line.
func (l *load) errors() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.errs, "\n")
}

func (l *load) finish() []sentReport {
	close(l.stop)
	l.wg.Wait()
	return l.got
}

// TestFaultWebKilledWhileReportsArrive: the web process is killed with
// SIGKILL while reports pour in, and started again. Every report that got
// a 201 and a token is stored, triaged once, and each urgent incident is
// paged exactly once.
func TestFaultWebKilledWhileReportsArrive(t *testing.T) {
	r := startAOFRedis(t)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	bin := faultBinary(t)
	e := faultEnv(t, r, tw.URL, tw)
	startProc(t, bin, "worker", withRole(e, "worker"))
	web := startProc(t, bin, "web1", withRole(e, "web"))

	began := time.Now()
	l := startLoad(web.url, 6)
	waitFor(t, time.Minute, func() bool { return l.accepted() >= 40 }, "the first web process took %d reports", l.accepted())
	web.kill()
	before := l.accepted()
	web = startProc(t, bin, "web2", withRole(e, "web"))
	l.target.Store(&web.url)
	waitFor(t, time.Minute, func() bool { return l.accepted() >= before+40 }, "the restarted web process took %d reports", l.accepted()-before)
	reports := l.finish()
	// One more copy of each incident, so that every one is in the check.
	reports = append(reports, submitReports(t, []string{web.url}, 1, 0)...)

	fig := checkPipeline(t, r.client(), asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)}, e, tw, reports, began)
	t.Logf("web killed mid-load: %d reports sent, %d accepted, %d refused or cut off; %d urgent clusters paged once each",
		l.sent.Load(), len(reports), l.failed, fig.urgentClusters)
}

// TestFaultWorkerKilled: the worker-only process is killed with SIGKILL
// while it runs, between tasks; reports keep arriving with no worker up;
// a new worker takes them all, and nothing already paged is paged again.
func TestFaultWorkerKilled(t *testing.T) {
	r := startAOFRedis(t)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	bin := faultBinary(t)
	e := faultEnv(t, r, tw.URL, tw)
	web := startProc(t, bin, "web", withRole(e, "web"))
	worker := startProc(t, bin, "worker1", withRole(e, "worker"))
	aopt := asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)}

	began := time.Now()
	first := submitReports(t, []string{web.url}, 1, 20)
	fig := checkPipeline(t, r.client(), aopt, e, tw, first, began)
	worker.kill()

	second := submitReports(t, []string{web.url}, 1, 20)
	require.Len(t, smsPages(tw), fig.pages, "nothing is paged with no worker running")
	startProc(t, bin, "worker2", withRole(e, "worker"))
	checkPipeline(t, r.client(), aopt, e, tw, append(first, second...), began)
}

// TestFaultWorkerKilledMidTask kills the only worker while it drains a
// backlog, so tasks are cut off in flight; asynq gives them to the next
// worker once their lease has expired, a minute or two later.
func TestFaultWorkerKilledMidTask(t *testing.T) {
	// Two to three minutes of waiting for asynq's lease: in parallel with
	// the package's other long waits, on a Redis of its own.
	t.Parallel()
	r := startAOFRedis(t)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	bin := faultBinary(t)
	e := faultEnv(t, r, tw.URL, tw)
	web := startProc(t, bin, "web", withRole(e, "web"))
	began := time.Now()
	reports := submitReports(t, []string{web.url}, 2, 400)
	worker := startProc(t, bin, "worker1", withRole(e, "worker"))
	waitFor(t, time.Minute, func() bool { return strings.Contains(worker.logs.String(), `"msg":"triaged"`) }, "the worker took nothing")
	worker.kill()
	startProc(t, bin, "worker2", withRole(e, "worker"))
	// The tasks cut off come back when their lease has expired: wait for
	// that (checkPipeline's own bound is shorter), then check everything.
	insp := faultInspector(t, r)
	waitFor(t, 5*time.Minute, func() bool {
		qs, err := insp.Queues()
		if err != nil {
			return false
		}
		for _, q := range qs {
			if info, err := insp.GetQueueInfo(q); err != nil || info.Pending+info.Aggregating+info.Active+info.Retry > 0 {
				return false
			}
		}
		return len(smsPages(tw)) >= len(incidents)
	}, "the tasks of the killed worker were not recovered")
	checkPipeline(t, r.client(), asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)}, e, tw, reports, began)
}

// tokenShown is a token as the receipt or the API shows it.
var tokenShown = regexp.MustCompile(`[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}`)

// hiddenInput finds a hidden form field's value in a page.
func hiddenInput(page, name string) string {
	m := regexp.MustCompile(`name="` + regexp.QuoteMeta(name) + `" value="([^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestFaultRedisKilled: Redis is killed with SIGKILL. While it is down a
// reporter, on the form or the API, is told plainly that the report was
// not saved, to try again, and to call 911 if someone is in danger; no
// token, and nothing half-saved. Redis restarts from its append-only
// file: every report acknowledged before the crash is there, nothing paged
// is paged again, and the line takes reports as before.
func TestFaultRedisKilled(t *testing.T) {
	r := startAOFRedis(t)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	bin := faultBinary(t)
	e := faultEnv(t, r, tw.URL, tw)
	line := startProc(t, bin, "line", withRole(e, "all"))
	aopt := asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)}
	ctx := context.Background()

	began := time.Now()
	first := submitReports(t, []string{line.url}, 1, 10)
	fig := checkPipeline(t, r.client(), aopt, e, tw, first, began)
	tipsBefore := len(r.client().Keys(ctx, "tip:{*}").Val())

	// The reporter has the form open when Redis goes.
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(line.url + "/report")
	require.NoError(t, err)
	form, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	r.kill()

	code, out, err := tryPostJSON(line.url+"/api/v1/reports", map[string]any{"org": "lincoln-high", "body": "Nadia said she will bring a knife to the locker room today"})
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, code, "%v", out)
	require.NotContains(t, out, "token", "a token for a report that was not saved")
	msg, _ := out["error"].(string)
	for _, want := range []string{"could not be saved", "try again", "911"} {
		require.Contains(t, msg, want)
	}

	body := "Nadia said she will bring a knife to the locker room today"
	resp, err = browser.PostForm(line.url+"/report", url.Values{
		"_csrf": {hiddenInput(string(form), "_csrf")}, "once": {hiddenInput(string(form), "once")}, "lang": {"en"},
		"org": {"lincoln-high"}, "category": {"threat"}, "body": {body}, "danger": {"yes"},
	})
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s", page)
	require.Contains(t, string(page), "NOT saved")
	require.Contains(t, string(page), "again")
	require.Contains(t, string(page), `href="tel:911"`)
	require.Contains(t, string(page), body, "the reporter's text comes back to send again")
	require.False(t, tokenShown.MatchString(string(page)), "a token on the page of an unsaved report")

	r.start()
	waitFor(t, time.Minute, func() bool {
		resp, err := http.Get(line.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, "tipline did not get its Redis back")
	require.Equal(t, tipsBefore, len(r.client().Keys(ctx, "tip:{*}").Val()),
		"every acknowledged tip came back from the append-only file, and the refused ones left nothing")
	require.Empty(t, r.client().Keys(ctx, "tip:{*}:img:*").Val())

	second := submitReports(t, []string{line.url}, 1, 10)
	all := append(first, second...)
	fig2 := checkPipeline(t, r.client(), aopt, e, tw, all, began)
	require.Equal(t, fig.pages, fig2.pages, "the incidents paged before the crash are not paged again")
}

// failingTwilio stands in front of the fake Twilio: while down, every
// request gets a 500, as in an outage; delay slows every message sent.
type failingTwilio struct {
	*httptest.Server
	down    atomic.Bool
	refused atomic.Int64
	delay   atomic.Int64 // nanoseconds
}

func newFailingTwilio(t testing.TB, tw *twiliotest.Server) *failingTwilio {
	target, err := url.Parse(tw.URL)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(target)
	f := &failingTwilio{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.down.Load() {
			f.refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"code":20500,"message":"Internal Server Error","status":500}`)
			return
		}
		if d := time.Duration(f.delay.Load()); d > 0 && r.Method == http.MethodPost {
			time.Sleep(d)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// TestFaultTwilioDown: Twilio answers 500 to everything for a while. The
// pages of the incidents reported meanwhile are retried, and arrive once
// Twilio is back, each exactly once.
func TestFaultTwilioDown(t *testing.T) {
	r := startAOFRedis(t)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	ft := newFailingTwilio(t, tw)
	bin := faultBinary(t)
	e := faultEnv(t, r, ft.URL, tw)
	line := startProc(t, bin, "line", withRole(e, "all"))

	ft.down.Store(true)
	began := time.Now()
	reports := submitReports(t, []string{line.url}, 1, 5)
	// Each of the eight pages has been tried and refused at least twice.
	waitFor(t, time.Minute, func() bool { return ft.refused.Load() >= 2*int64(len(incidents)) },
		"Twilio refused only %d requests", ft.refused.Load())
	require.Empty(t, smsPages(tw))
	ft.down.Store(false)

	fig := checkPipeline(t, r.client(), asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)}, e, tw, reports, began)
	t.Logf("Twilio down: %d requests refused; then %d pages, one per incident", ft.refused.Load(), fig.pages)
}

// TestFaultGracefulShutdown: SIGTERM while reports arrive and pages are
// being sent (Twilio slowed down). The process finishes what it holds:
// every request in flight is answered, every task it was running
// completes, and none is left for asynq to recover after a lease expires.
// A new process takes what was still queued.
func TestFaultGracefulShutdown(t *testing.T) {
	r := startAOFRedis(t)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	ft := newFailingTwilio(t, tw)
	ft.delay.Store(int64(500 * time.Millisecond))
	bin := faultBinary(t)
	e := faultEnv(t, r, ft.URL, tw)
	line := startProc(t, bin, "line1", withRole(e, "all"))
	insp := faultInspector(t, r)

	began := time.Now()
	l := startLoad(line.url, 6)
	// Wait until some page is being sent: Twilio is slow, so it is in hand.
	waitFor(t, time.Minute, func() bool {
		for _, q := range []string{"critical", "high"} {
			if info, err := insp.GetQueueInfo(q); err == nil && info.Active > 0 {
				return true
			}
		}
		return false
	}, "no page in flight")
	line.stop(t) // SIGTERM; fails the test unless the exit is clean
	reports := l.finish()
	require.NotEmpty(t, reports)

	qs, err := insp.Queues()
	require.NoError(t, err)
	for _, q := range qs {
		info, err := insp.GetQueueInfo(q)
		require.NoError(t, err)
		require.Zero(t, info.Active, "queue %s: %d tasks abandoned mid-run by the shutdown", q, info.Active)
	}
	for _, line := range strings.Split(l.errors(), "\n") {
		require.NotContains(t, line, "EOF", "a request in flight was cut off: %s", line)
	}

	ft.delay.Store(0)
	line2 := startProc(t, bin, "line2", withRole(e, "all"))
	reports = append(reports, submitReports(t, []string{line2.url}, 1, 0)...)
	checkPipeline(t, r.client(), asynq.RedisClientOpt{Addr: "127.0.0.1:" + strconv.Itoa(r.port)}, e, tw, reports, began)
}
