package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/triage"
	"github.com/tipline/tipline/web"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// tokenPattern is how a token is shown: four groups of four Crockford symbols.
var tokenPattern = regexp.MustCompile(`^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`)

// orgs are the organisations the test site offers.
var orgs = []intake.Org{
	{ID: "north-high", Name: "North High School"},
	{ID: "south-middle", Name: "South Middle School"},
	{ID: "lincoln-high", Name: "Lincoln High School"},
}

// lockedBuffer collects the web layer's logs; handlers may log from
// several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// fixture is a web server on real intake, triage and Redis parts.
type fixture struct {
	e     *echo.Echo
	cfg   web.Config // as the server was built, to build another on the same parts
	rdb   *redis.Client
	in    *intake.Intake
	store *intake.Store
	queue *triage.Queue
	logs  *lockedBuffer
}

type option func(*web.Config, *fixture)

func newFixture(t *testing.T, opts ...option) *fixture {
	return newFixtureAt(t, time.Time{}, opts...)
}

// newFixtureAt builds the server; a non-zero now fixes its clock.
func newFixtureAt(t *testing.T, now time.Time, opts ...option) *fixture {
	t.Helper()
	rdb := redistest.New(t, 3)
	keys, err := intake.NewKeyring([]intake.Key{{ID: "k1", Secret: intake.NewKeySecret()}}, intake.NewKeySecret())
	require.NoError(t, err)
	store := intake.NewStore(rdb, keys)
	rules, err := triage.DefaultRules()
	require.NoError(t, err)
	router, err := triage.NewRouter(nil, nil, "default", func(string) bool { return true })
	require.NoError(t, err)
	triager := triage.NewTriager(rules, triage.NewClusters(rdb, time.Hour), router)
	client := asynq.NewClient(redistest.AsynqOpt(3))
	t.Cleanup(func() { client.Close() })
	queue := triage.NewQueue(client, triager)
	in := intake.New(store, queue, slog.New(slog.NewTextHandler(io.Discard, nil)))

	f := &fixture{rdb: rdb, in: in, store: store, queue: queue, logs: &lockedBuffer{}}
	cfg := web.Config{
		Intake:   in,
		Orgs:     orgs,
		Redis:    rdb,
		Keys:     keys,
		Registry: prometheus.NewRegistry(),
		Log:      slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, o := range opts {
		o(&cfg, f)
	}
	f.cfg, f.in = cfg, cfg.Intake
	if now.IsZero() {
		f.e, err = web.New(cfg)
	} else {
		f.e, err = web.NewWithClock(cfg, func() time.Time { return now })
	}
	require.NoError(t, err)
	return f
}

// withRateLimit sets the report rate limit.
func withRateLimit(n int) option {
	return func(c *web.Config, _ *fixture) { c.RateLimit = n }
}

// withDeadRedis points intake, and optionally the health check and
// limiter, at a Redis that is not there.
func withDeadRedis(health bool) option {
	return func(c *web.Config, f *fixture) {
		dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond, DialerRetries: 1})
		keys, _ := intake.NewKeyring([]intake.Key{{ID: "k1", Secret: intake.NewKeySecret()}}, intake.NewKeySecret())
		c.Intake = intake.New(intake.NewStore(dead, keys), f.queue, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if health {
			c.Redis = dead
		}
	}
}

// serve runs one request through the real router.
func (f *fixture) serve(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec
}

// postJSON posts body (a string is sent as it is) to path.
func (f *fixture) postJSON(t *testing.T, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	return f.postJSONFrom(t, "", path, body)
}

// postJSONFrom posts as a client at addr (empty: httptest's default).
func (f *fixture) postJSONFrom(t *testing.T, addr, path string, body any) *httptest.ResponseRecorder {
	t.Helper()
	b, ok := body.(string)
	if !ok {
		raw, err := json.Marshal(body)
		require.NoError(t, err)
		b = string(raw)
	}
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if addr != "" {
		req.RemoteAddr = addr
	}
	return f.serve(req)
}

// report posts a report and returns its token, requiring 201.
func (f *fixture) report(t *testing.T, r map[string]any) string {
	t.Helper()
	rec := f.postJSON(t, "/api/v1/reports", r)
	require.Equal(t, http.StatusCreated, rec.Code, "report: got %d %s, want 201", rec.Code, rec.Body)
	var got struct{ Token, Status string }
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Regexp(t, tokenPattern, got.Token)
	require.Equal(t, "received", got.Status)
	return got.Token
}

// noLeaks requires that none of secrets appear in the logs.
func (f *fixture) noLeaks(t *testing.T, secrets ...string) {
	t.Helper()
	logs := f.logs.String()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		require.NotContains(t, logs, s, "logs hold something a reporter sent")
	}
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), "body %q is not a JSON object", rec.Body)
	return m
}

// pending lists the tasks waiting in each queue.
func (f *fixture) pending(t *testing.T) map[string][]*asynq.TaskInfo {
	t.Helper()
	insp := asynq.NewInspector(redistest.AsynqOpt(3))
	defer insp.Close()
	queues, err := insp.Queues()
	require.NoError(t, err)
	pending := map[string][]*asynq.TaskInfo{}
	for _, q := range queues {
		tasks, err := insp.ListPendingTasks(q)
		require.NoError(t, err)
		pending[q] = tasks
	}
	return pending
}

// pendingTasks counts the tasks waiting in all queues.
func (f *fixture) pendingTasks(t *testing.T) int {
	n := 0
	for _, tasks := range f.pending(t) {
		n += len(tasks)
	}
	return n
}

func TestAPIReportIsStoredAndQueued(t *testing.T) {
	f := newFixture(t)
	body := "He said he is going to shoot people at the assembly tomorrow. He showed me a gun."
	token := f.report(t, map[string]any{"org": "north-high", "category": "threat", "body": body, "location": "gym"})

	pending := f.pending(t)
	require.Len(t, pending["critical"], 1, "pending tasks by queue: %v; want one in critical", pending)
	task := pending["critical"][0]
	require.Equal(t, triage.TypeTip, task.Type)
	require.NotContains(t, string(task.Payload), "shoot", "a task payload must carry the tip's ID only")

	f.noLeaks(t, body, token, strings.ReplaceAll(token, "-", ""))
	require.Contains(t, f.logs.String(), "route=/api/v1/reports")
	require.NotContains(t, f.logs.String(), "192.0.2.1", "logs must never hold a client address")
}

func TestAPIFollowup(t *testing.T) {
	f := newFixture(t)
	token := f.report(t, map[string]any{"org": "north-high", "body": "someone keeps writing slurs on my locker"})

	typed := []string{
		token,
		strings.ReplaceAll(token, "-", ""),
		strings.ToLower(strings.ReplaceAll(token, "-", " ")),
		" " + strings.NewReplacer("0", "O", "1", "I").Replace(token) + " ",
		strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(token)),
	}
	for _, tok := range typed {
		rec := f.postJSON(t, "/api/v1/followup", map[string]string{"token": tok})
		require.Equal(t, http.StatusOK, rec.Code, "follow-up with %q: got %d %s", tok, rec.Code, rec.Body)
		got := decode(t, rec)
		require.Equal(t, "received", got["status"])
		require.Equal(t, []any{}, got["messages"], "messages must be [] and never null")
	}
	f.noLeaks(t, token, strings.ReplaceAll(token, "-", ""))
}

func TestAPIFollowupUnknownTokensAnswerAlike(t *testing.T) {
	f := newFixture(t)
	real := f.report(t, map[string]any{"org": "north-high", "body": "a report"})
	// A well-formed token that is not the real one.
	wrong := []byte(real)
	if wrong[0] == 'A' {
		wrong[0] = 'B'
	} else {
		wrong[0] = 'A'
	}

	bodies := []string{
		`{"token":"` + string(wrong) + `"}`,
		`{"token":"hello"}`,
		`{"token":""}`,
		`{}`,
		`{"token":"` + strings.Repeat("Z", 500) + `"}`,
		`{"token":"<script>alert(1)</script>"}`,
	}
	var first []byte
	for _, b := range bodies {
		rec := f.postJSON(t, "/api/v1/followup", b)
		require.Equal(t, http.StatusNotFound, rec.Code, "follow-up %s: got %d %s, want 404", b, rec.Code, rec.Body)
		if first == nil {
			first = rec.Body.Bytes()
			require.JSONEq(t, `{"error":"No report matches that token."}`, string(first))
			continue
		}
		require.Equal(t, string(first), rec.Body.String(), "answers to unknown tokens must be byte-identical")
	}
}

func TestAPIReplyThenFollowupShowsIt(t *testing.T) {
	f := newFixture(t)
	token := f.report(t, map[string]any{"org": "south-middle", "body": "a kid is selling vapes in the bathroom"})
	msg := "It happens every day after lunch, near room 12."

	rec := f.postJSON(t, "/api/v1/followup/messages", map[string]string{"token": strings.ToLower(token), "body": msg})
	require.Equal(t, http.StatusCreated, rec.Code, "reply: got %d %s", rec.Code, rec.Body)
	require.Equal(t, "received", decode(t, rec)["status"])

	rec = f.postJSON(t, "/api/v1/followup", map[string]string{"token": token})
	require.Equal(t, http.StatusOK, rec.Code)
	var got struct {
		Status   string
		Messages []struct {
			From, Body string
			At         time.Time
		}
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Len(t, got.Messages, 1)
	require.Equal(t, "reporter", got.Messages[0].From)
	require.Equal(t, msg, got.Messages[0].Body)
	require.WithinDuration(t, time.Now(), got.Messages[0].At, time.Minute)

	// No message: the field is named.
	rec = f.postJSON(t, "/api/v1/followup/messages", map[string]string{"token": token, "body": "  "})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, "body", decode(t, rec)["field"])

	// A bad token: the same 404 as the follow-up.
	rec = f.postJSON(t, "/api/v1/followup/messages", map[string]string{"token": "hello", "body": "hi"})
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.JSONEq(t, `{"error":"No report matches that token."}`, rec.Body.String())

	f.noLeaks(t, msg, token)
}

func TestAPIReportErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		field       string
	}{
		{"missing body", "application/json", `{"org":"north-high"}`, 400, "body"},
		{"blank body", "application/json", `{"org":"north-high","body":" \n\t "}`, 400, "body"},
		{"missing org", "application/json", `{"body":"something"}`, 400, "org"},
		{"unknown category", "application/json", `{"org":"north-high","category":"aliens","body":"x"}`, 400, "category"},
		{"unknown field", "application/json", `{"org":"north-high","body":"x","name":"Jo"}`, 400, "name"},
		{"danger as text", "application/json", `{"org":"north-high","body":"x","danger":"yes"}`, 400, "danger"},
		{"body as number", "application/json", `{"org":"north-high","body":5}`, 400, "body"},
		{"malformed", "application/json", `{"org":"north-high",`, 400, ""},
		{"not JSON", "application/json", `org=north-high`, 400, ""},
		{"an array", "application/json", `[{"org":"north-high","body":"x"}]`, 400, ""},
		{"empty", "application/json", ``, 400, ""},
		{"trailing data", "application/json", `{"org":"north-high","body":"x"} {"org":"x"}`, 400, ""},
		{"too long", "application/json", `{"org":"north-high","body":"` + strings.Repeat("a", 10001) + `"}`, 400, "body"},
		{"too large", "application/json", `{"org":"north-high","body":"` + strings.Repeat("a", 70<<10) + `"}`, 413, ""},
		{"form encoded", "application/x-www-form-urlencoded", `org=north-high&body=x`, 415, ""},
		{"no content type", "", `{"org":"north-high","body":"x"}`, 415, ""},
		{"text plain", "text/plain", `{"org":"north-high","body":"x"}`, 415, ""},
		{"json with charset", "application/json; charset=utf-8", `{"org":"north-high","body":"x"}`, 201, ""},
		{"unknown org is never lost", "application/json", `{"org":"no-such-school","body":"x"}`, 201, ""},
		{"all fields", "application/json", `{"org":"north-high","category":"bullying","body":"x","location":"bus","when":"mornings","subject":"a 7th grader","danger":false}`, 201, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/api/v1/reports", strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			rec := f.serve(req)
			require.Equal(t, tt.status, rec.Code, "got %d %s, want %d", rec.Code, rec.Body, tt.status)
			got := decode(t, rec)
			if tt.status >= 400 {
				require.NotEmpty(t, got["error"], "an error answer needs a message")
				require.NotContains(t, got, "token")
				require.NotContains(t, got["error"], "json:", "messages are for people, not Go's own")
			}
			if tt.field != "" {
				require.Equal(t, tt.field, got["field"])
			}
			if tt.status == 201 {
				require.Regexp(t, tokenPattern, got["token"])
			}
		})
	}
}

func TestAPIBodyLimitWithoutContentLength(t *testing.T) {
	f := newFixture(t)
	req := jsonRequest("/api/v1/reports", `{"org":"north-high","body":"`+strings.Repeat("a", 70<<10)+`"}`)
	req.ContentLength = -1 // as a chunked upload: the limit holds while reading
	rec := f.serve(req)
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code, "got %d %s", rec.Code, rec.Body)
	require.NotEmpty(t, decode(t, rec)["error"])
}

func TestNewChecksConfig(t *testing.T) {
	_, err := web.New(web.Config{})
	require.Error(t, err, "a server without intake, Redis or keys must not start")
}

func TestAPIReportUnavailableGivesNoToken(t *testing.T) {
	f := newFixture(t, withDeadRedis(true), withRateLimit(1))
	body := "my friend posted that he wants to hurt himself"
	for range 2 { // the second is over the limit, but a dead limiter lets it through
		rec := f.postJSON(t, "/api/v1/reports", map[string]any{"org": "north-high", "body": body})
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, "got %d %s, want 503", rec.Code, rec.Body)
		require.JSONEq(t, `{"error":"Your report could not be saved. Please try again. If someone is in danger right now, call 911."}`, rec.Body.String())
		require.NotContains(t, rec.Body.String(), "token")
	}
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"redis unavailable"}`, rec.Body.String())

	// A look-up that cannot reach the store is not "no such report".
	rec = f.postJSON(t, "/api/v1/followup", map[string]string{"token": "0000-0000-0000-0000"})
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "got %d %s", rec.Code, rec.Body)
	require.NotContains(t, rec.Body.String(), "No report matches")
	require.Contains(t, f.logs.String(), "rate limit check failed")
	f.noLeaks(t, body)
}

func TestAPIOrgs(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/api/v1/orgs", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var got struct {
		Orgs       []intake.Org
		Categories []intake.Category
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, orgs, got.Orgs)
	require.Equal(t, intake.Categories, got.Categories)
	require.Contains(t, rec.Body.String(), `"description"`)
}

func TestOperationsEndpoints(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ok"}`, rec.Body.String())

	req := httptest.NewRequest(http.MethodPost, "/sms/twilio", strings.NewReader("From=%2B15551230000&Body=hi"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = f.serve(req)
	require.Equal(t, http.StatusNotImplemented, rec.Code)
	require.Equal(t, "text/xml", rec.Header().Get("Content-Type"))
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Response></Response>", rec.Body.String(), "an empty TwiML answer texts nothing")

	f.report(t, map[string]any{"org": "north-high", "body": "x"})
	f.postJSON(t, "/api/v1/reports", map[string]any{"org": "north-high"})
	rec = f.serve(httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `tipline_reports_total{channel="api",result="stored"} 1`)
	require.Contains(t, rec.Body.String(), `tipline_reports_total{channel="api",result="invalid"} 1`)
	require.Contains(t, rec.Body.String(), `tipline_rate_limited_total 0`)

	rec = f.serve(httptest.NewRequest(http.MethodGet, "/static/style.css", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/css")
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/report", "/followup", "/healthz", "/api/v1/orgs", "/no-such-page", "/api/v1/no-such", "/static/style.css", "/static/receipt.js", "/favicon.ico"} {
		rec := f.serve(httptest.NewRequest(http.MethodGet, path, nil))
		h := rec.Header()
		require.Equal(t, "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
			h.Get("Content-Security-Policy"), "CSP on %s", path)
		require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), path)
		require.Equal(t, "no-referrer", h.Get("Referrer-Policy"), path)
		require.Equal(t, "DENY", h.Get("X-Frame-Options"), path)
		for _, feature := range []string{"camera", "microphone", "geolocation", "accelerometer", "gyroscope",
			"magnetometer", "ambient-light-sensor", "payment", "usb", "bluetooth", "interest-cohort"} {
			require.Contains(t, h.Get("Permissions-Policy"), feature+"=()", "Permissions-Policy on %s denies %s", path, feature)
		}
		require.Empty(t, h.Get("Strict-Transport-Security"), "no HSTS over plain HTTP (%s)", path)
		if strings.HasPrefix(path, "/static/") {
			require.Equal(t, "public, max-age=3600", h.Get("Cache-Control"), path)
		} else {
			require.Equal(t, "no-store", h.Get("Cache-Control"), path)
		}
		for _, c := range rec.Result().Cookies() {
			require.Equal(t, "_csrf", c.Name, "%s sets a cookie other than the CSRF one", path)
		}
	}

	// Behind HTTPS, every answer pins the browser to HTTPS.
	f = newFixture(t, func(c *web.Config, _ *fixture) { c.SecureCookies = true })
	for _, path := range []string{"/", "/report", "/followup", "/api/v1/orgs", "/no-such-page", "/static/style.css"} {
		rec := f.serve(httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, "max-age=31536000", rec.Header().Get("Strict-Transport-Security"), path)
	}
}

func TestFaviconIsEmpty(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/favicon.ico", nil))
	require.Equal(t, http.StatusNoContent, rec.Code, "browsers ask for it on every page; a 404 would fill consoles")
	require.Empty(t, rec.Body.String())
}

func TestReceiptScriptIsServedAndAllowed(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/static/receipt.js", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "javascript")
	require.Contains(t, rec.Body.String(), "receipt-tools")
	csp := rec.Header().Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'", "the site's own script may run")
	require.NotContains(t, csp, "unsafe-inline")

	// The receipt loads it from /static, and has no inline script.
	b := f.browser()
	_, csrf := b.get(t, "/report")
	page := b.post("/report", reportForm(csrf, "body", "a report")).Body.String()
	require.Contains(t, page, `<script src="/static/receipt.js" defer></script>`)
	require.Equal(t, 1, strings.Count(page, "<script"), "the one script tag, and no inline script")
	require.NotRegexp(t, `<script>|<script\s+(type="[^"]*"\s*)?>`, page)
	// Without the script, the page says how to copy and print.
	require.Contains(t, page, "select it")
	require.Contains(t, page, "browser&#39;s menu")
	require.Contains(t, page, `data-copy="Copy token"`)
	require.Contains(t, page, `data-print="Print"`)
}

func TestErrorPages(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/no-such-page?token=ABCD", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	require.Contains(t, rec.Body.String(), "Page not found")
	require.Contains(t, rec.Body.String(), `<html lang="en">`)

	rec = f.serve(httptest.NewRequest(http.MethodGet, "/api/v1/no-such", nil))
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.NotEmpty(t, decode(t, rec)["error"])

	rec = f.serve(httptest.NewRequest(http.MethodGet, "/api/v1/reports", nil))
	require.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	require.NotEmpty(t, decode(t, rec)["error"])

	require.NotContains(t, f.logs.String(), "no-such", "logs hold route templates, never paths as sent")
	require.NotContains(t, f.logs.String(), "ABCD")
}

func TestHomePage(t *testing.T) {
	f := newFixture(t)
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	for _, want := range []string{
		`<html lang="en">`, "If someone is in danger right now, call", "911",
		"If you are thinking about suicide, call or text", "988",
		`href="/report?lang=en"`, `href="/followup?lang=en"`, "anonymous", "could identify you",
		"within minutes, day or night", "next school or working day",
		`<a href="/?lang=es" lang="es" hreflang="es">Español</a>`,
	} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "<script")
	require.Empty(t, rec.Result().Cookies(), "a page without a form sets no cookie")
}

func jsonRequest(path, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

func getRequest(path string) *http.Request {
	return httptest.NewRequest(http.MethodGet, path, nil)
}
