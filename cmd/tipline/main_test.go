package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify/twiliotest"
)

// db is the end-to-end tests' own database on the test Redis.
const db = 5

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "0123456789abcdef0123456789abcdef"
)

// env is a fake environment for loadSettings.
type env map[string]string

func (e env) get(k string) string { return e[k] }

// testEnv is a full production-like environment: real Redis, keys, and
// Twilio at a local server speaking its API.
func testEnv(t testing.TB, tw *twiliotest.Server) env {
	var keys bytes.Buffer
	require.NoError(t, run([]string{"keys", "generate"}, nil, &keys, io.Discard, env{}.get))
	lines := strings.Split(strings.TrimSpace(keys.String()), "\n")
	require.Len(t, lines, 2)
	e := env{
		"REDIS_URL":          redistest.URL(db),
		"TIPLINE_KEYS":       strings.TrimPrefix(lines[0], "TIPLINE_KEYS="),
		"TIPLINE_HASH_KEY":   strings.TrimPrefix(lines[1], "TIPLINE_HASH_KEY="),
		"TIPLINE_RATE_LIMIT": "0",
		"TIPLINE_PUBLIC_URL": "https://tips.example.org",
	}
	if tw != nil {
		e["TWILIO_ACCOUNT_SID"], e["TWILIO_AUTH_TOKEN"], e["TWILIO_FROM"], e["TWILIO_API_URL"] = tw.SID, tw.Token, "+15555550000", tw.URL
	}
	return e
}

// server is a running tipline process, in-process.
type server struct {
	url  string
	logs *lockedWriter
	stop func() error
}

// startServer runs `tipline serve`'s app on a free port until the test ends.
func startServer(t testing.TB, e env) *server {
	if e["REDIS_URL"] != "" {
		redistest.New(t, db) // start clean
	}
	st, err := loadSettings(e.get)
	require.NoError(t, err)
	cfg, err := loadConfig(st.ConfigPath)
	require.NoError(t, err)
	logs := &lockedWriter{w: &bytes.Buffer{}}
	a, err := newApp(st, cfg, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.run(ctx, ln) }()
	s := &server{url: "http://" + ln.Addr().String(), logs: logs}
	var stopped bool
	s.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

func postJSON(t testing.TB, url string, body any) (int, map[string]any) {
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &out), "body %q", raw)
	return resp.StatusCode, out
}

// TestCriticalReportPagesOnCall follows a critical report from the JSON API
// to the on-call reviewer's phone, through the real queue and workers and
// twilio-go, and back to the reporter checking in with the token.
func TestCriticalReportPagesOnCall(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	s := startServer(t, testEnv(t, tw))
	body := "Marcus told everyone he is bringing his dad's gun to the assembly tomorrow"

	code, out := postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "lincoln-high", "category": "threat", "body": body})
	require.Equal(t, http.StatusCreated, code, "%v", out)
	token, _ := out["token"].(string)
	require.Regexp(t, `^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$`, token)
	require.Equal(t, "received", out["status"])

	// Lincoln's reviewers take weekly turns: whoever is primary now.
	demo, err := loadConfig("")
	require.NoError(t, err)
	primary, _, _ := demo.Teams[0].OnCallAt(time.Now())
	select {
	case m := <-tw.Arrived():
		require.Equal(t, primary.Phone, m.To, "Lincoln's on-call primary")
		require.Equal(t, "+15555550000", m.From)
		require.Contains(t, m.Body, "CRITICAL")
		require.Contains(t, m.Body, "Lincoln High School")
		require.Contains(t, m.Body, "https://tips.example.org/review/tips/")
		for _, w := range strings.Fields(body) {
			if len(w) > 3 {
				require.NotContains(t, strings.ToLower(m.Body), strings.ToLower(w), "the page leaks the tip's text")
			}
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no page reached the Twilio API")
	}

	// The reporter checks back: the tip has been triaged and assigned.
	require.Eventually(t, func() bool {
		code, out = postJSON(t, s.url+"/api/v1/followup", map[string]any{"token": strings.ToLower(token)})
		return code == http.StatusOK && out["status"] == "assigned"
	}, 10*time.Second, 20*time.Millisecond, "follow-up: %d %v", code, out)

	code, out = postJSON(t, s.url+"/api/v1/followup/messages", map[string]any{"token": token, "body": "He showed it to me in the parking lot"})
	require.Equal(t, http.StatusCreated, code, "%v", out)
	code, out = postJSON(t, s.url+"/api/v1/followup", map[string]any{"token": token})
	require.Equal(t, http.StatusOK, code)
	msgs, _ := out["messages"].([]any)
	require.Len(t, msgs, 1)
	require.Equal(t, "He showed it to me in the parking lot", msgs[0].(map[string]any)["body"])

	// Wrong and malformed tokens get the same 404.
	code1, out1 := postJSON(t, s.url+"/api/v1/followup", map[string]any{"token": "ZZZZ-ZZZZ-ZZZZ-ZZZZ"})
	code2, out2 := postJSON(t, s.url+"/api/v1/followup", map[string]any{"token": "not a token"})
	require.Equal(t, http.StatusNotFound, code1)
	require.Equal(t, http.StatusNotFound, code2)
	require.Equal(t, out1, out2)

	// Another report of the same incident does not page again.
	code, _ = postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "lincoln-high", "category": "threat", "body": body})
	require.Equal(t, http.StatusCreated, code)
	select {
	case m := <-tw.Arrived():
		t.Fatalf("a duplicate report paged again: %q", m.Body)
	case <-time.After(500 * time.Millisecond):
	}

	require.NoError(t, s.stop(), "graceful shutdown")
	for _, secret := range []string{"Marcus", "gun", "parking lot", token, strings.ToLower(token), primary.Phone} {
		require.NotContains(t, s.logs.String(), secret, "the logs hold %q", secret)
	}
}

// postText posts a text to the SMS webhook at base, signed as Twilio signs
// it for the public URL, and returns the status and the TwiML.
func postText(t testing.TB, base string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/sms/twilio", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(twilioToken, "https://tips.example.org/sms/twilio", form))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestSMSTipPagesOnCall: a critical tip by text is signed by Twilio,
// answered with a token, and pages the on-call reviewer like a web tip.
func TestSMSTipPagesOnCall(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	s := startServer(t, testEnv(t, tw))
	form := url.Values{"MessageSid": {"SM1"}, "From": {"+15555550188"}, "To": {"+15555550000"},
		"Body": {"someone said they will shoot people at the game tonight"}, "NumMedia": {"0"}}
	code, twiml := postText(t, s.url, form)
	require.Equal(t, http.StatusOK, code, twiml)
	require.Regexp(t, `Your code: [0-9A-Z]{4}(-[0-9A-Z]{4}){3}`, twiml)

	select {
	case m := <-tw.Arrived():
		require.Equal(t, "+15555550141", m.To, "a text to the shared number goes to the default team")
		require.Contains(t, m.Body, "CRITICAL")
		require.NotContains(t, m.Body, "shoot")
	case <-time.After(15 * time.Second):
		t.Fatal("no page for a critical tip by SMS")
	}
	require.NotContains(t, s.logs.String(), "5555550188")
}

// TestRoutineReportIsNotPaged: a routine tip is triaged and waits in its
// team's queue; nobody's phone rings.
func TestRoutineReportIsNotPaged(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	s := startServer(t, testEnv(t, tw))
	code, out := postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "roosevelt-middle", "category": "drugs", "body": "kids vape in the bathroom"})
	require.Equal(t, http.StatusCreated, code)
	token := out["token"].(string)
	require.Eventually(t, func() bool {
		_, out = postJSON(t, s.url+"/api/v1/followup", map[string]any{"token": token})
		return out["status"] == "assigned"
		// A routine tip waits a second or two to be batched; look now and
		// then, as a reporter would (token look-ups are rate-limited).
	}, 30*time.Second, 500*time.Millisecond)
	require.Empty(t, tw.Messages())
}

// TestUnknownOrgReachesDefaultTeam: a tip naming no known organisation is
// never lost; the default team is paged.
func TestUnknownOrgReachesDefaultTeam(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	s := startServer(t, testEnv(t, tw))
	code, _ := postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "st-nowhere-academy", "body": "someone has a knife in their locker today"})
	require.Equal(t, http.StatusCreated, code)
	select {
	case m := <-tw.Arrived():
		require.Equal(t, "+15555550141", m.To, "the district safety office (default team)")
	case <-time.After(15 * time.Second):
		t.Fatal("no page for a tip with an unknown organisation")
	}
}

// TestSeparateRoles runs a web-only and a worker-only process on one Redis,
// as a larger deployment does: the web process takes the report, the
// worker process pages, and the web process's health check passes.
func TestSeparateRoles(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	e := testEnv(t, tw)
	e["TIPLINE_ROLE"] = "web"
	webOnly := startServer(t, e)
	e["TIPLINE_ROLE"] = "worker"
	worker := startServer(t, e)

	code, _ := postJSON(t, webOnly.url+"/api/v1/reports", map[string]any{"org": "washington-elementary", "body": "a 5th grader brought a knife today"})
	require.Equal(t, http.StatusCreated, code)
	select {
	case m := <-tw.Arrived():
		require.Equal(t, "+15555550121", m.To)
	case <-time.After(15 * time.Second):
		t.Fatal("the worker process did not page")
	}
	// A worker-only process answers health checks and scrapes, and takes
	// no reports.
	for path, want := range map[string]int{"/healthz": http.StatusOK, "/readyz": http.StatusOK, "/metrics": http.StatusOK, "/report": http.StatusNotFound} {
		resp, err := http.Get(worker.url + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "worker %s", path)
	}
	code, _ = postJSON(t, worker.url+"/api/v1/reports", map[string]any{"org": "washington-elementary", "body": "x"})
	require.Equal(t, http.StatusNotFound, code, "a worker takes no reports")

	addr := strings.TrimPrefix(webOnly.url, "http://")
	require.NoError(t, run([]string{"healthcheck"}, nil, io.Discard, io.Discard, env{"TIPLINE_ADDR": addr}.get))
	require.NoError(t, webOnly.stop())
	require.Error(t, run([]string{"healthcheck"}, nil, io.Discard, io.Discard, env{"TIPLINE_ADDR": addr}.get), "healthcheck of a stopped server")
}

// TestEmbeddedStoreAndDevOutbox is `make run`: no REDIS_URL, no Twilio.
// The embedded store runs asynq, and pages go to the console.
func TestEmbeddedStoreAndDevOutbox(t *testing.T) {
	s := startServer(t, env{"TIPLINE_RATE_LIMIT": "0"})
	logs := s.logs
	require.Contains(t, logs.String(), "NOTHING SURVIVES A RESTART")
	code, _ := postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "riverside-works", "body": "a coworker said he will shoot everyone here on Monday"})
	require.Equal(t, http.StatusCreated, code)
	require.Eventually(t, func() bool {
		return strings.Contains(logs.String(), "dev outbox") && strings.Contains(logs.String(), "Riverside Works")
	}, 10*time.Second, 20*time.Millisecond, "the page should show on the console")
	require.NotContains(t, logs.String(), "shoot everyone")

	// The dashboard can be tried: a demo admin's one-time password is on
	// the console, and signing in with it leads to setting a new one.
	m := regexp.MustCompile(`login=demo password=(\S+)`).FindStringSubmatch(logs.String())
	require.NotNil(t, m, "the demo account is announced")
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(s.url + "/review/signin")
	require.NoError(t, err)
	resp.Body.Close()
	u, _ := url.Parse(s.url)
	var csrf string
	for _, c := range jar.Cookies(u) {
		if c.Name == "_csrf" {
			csrf = c.Value
		}
	}
	require.NotEmpty(t, csrf)
	resp, err = client.PostForm(s.url+"/review/signin", url.Values{"_csrf": {csrf}, "login": {"demo"}, "password": {m[1]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, "/review/password", resp.Header.Get("Location"))
}

func TestSettings(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(secretFile, []byte(twilioToken+"\n"), 0o600))
	good := testEnv(t, nil)

	st, err := loadSettings(env{}.get)
	require.NoError(t, err, "no settings at all is the demo")
	require.Equal(t, ":8080", st.Addr)
	require.Equal(t, "all", st.Role)
	require.Equal(t, "http://localhost:8080", st.PublicURL)

	with := func(kv ...string) env {
		e := env{}
		for k, v := range good {
			e[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			e[kv[i]] = kv[i+1]
		}
		return e
	}
	st, err = loadSettings(with("TWILIO_ACCOUNT_SID", twilioSID, "TWILIO_AUTH_TOKEN_FILE", secretFile, "TWILIO_FROM", "+15555550000").get)
	require.NoError(t, err)
	require.Equal(t, twilioToken, st.TwilioToken, "a secret read from its _FILE, without the newline")

	for name, tc := range map[string]struct {
		e    env
		want string
	}{
		"bad role":         {with("TIPLINE_ROLE", "boss"), "TIPLINE_ROLE"},
		"bad rate":         {with("TIPLINE_RATE_LIMIT", "-1"), "TIPLINE_RATE_LIMIT"},
		"half of Twilio":   {with("TWILIO_ACCOUNT_SID", twilioSID), "go together"},
		"no keys":          {with("TIPLINE_KEYS", ""), "TIPLINE_KEYS and TIPLINE_HASH_KEY are required"},
		"bad key":          {with("TIPLINE_KEYS", "k1:notbase64"), "TIPLINE_KEYS: key 1"},
		"both and _FILE":   {with("TWILIO_AUTH_TOKEN", "x", "TWILIO_AUTH_TOKEN_FILE", secretFile), "both set"},
		"missing _FILE":    {with("TIPLINE_HASH_KEY", "", "TIPLINE_HASH_KEY_FILE", filepath.Join(dir, "nope")), "TIPLINE_HASH_KEY_FILE"},
		"bad public URL":   {with("TIPLINE_PUBLIC_URL", "tips.example.org"), "TIPLINE_PUBLIC_URL"},
		"bad REDIS_URL":    {with("REDIS_URL", "mysql://x"), "REDIS_URL"},
		"bad Twilio token": {with("TWILIO_ACCOUNT_SID", twilioSID, "TWILIO_AUTH_TOKEN", "a-b", "TWILIO_FROM", "+15555550000"), "letters and digits"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadSettings(tc.e.get)
			require.ErrorContains(t, err, tc.want)
			require.NotContains(t, err.Error(), good["TIPLINE_HASH_KEY"], "an error echoes a secret")
		})
	}
}

func TestConfigFiles(t *testing.T) {
	demo, err := loadConfig("")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(demo.Orgs), 4)
	example, err := loadConfig("../../deploy/tipline.example.yaml")
	require.NoError(t, err, "the documented example must be a valid config")
	require.NotEmpty(t, example.Teams)

	for name, tc := range map[string]struct{ yaml, want string }{
		"misspelt field":  {"default_team: d\nteams: [{id: d, name: D, on_call: []}]", "on_call"},
		"nobody on call":  {"default_team: d\nteams: [{id: d, name: D}]", "oncall names nobody"},
		"bad phone":       {"default_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '555-0101'}]}]", "E.164"},
		"unknown default": {"default_team: x\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]", `default team "x"`},
		"route to ghost":  {"default_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]\nroutes: [{teams: [ghost]}]", "ghost"},
		"route bad org":   {"default_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]\nroutes: [{orgs: [nope], teams: [d]}]", `org "nope"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig([]byte(tc.yaml))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestTriageCommand(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"r1","received_at":"2026-03-02T08:00:00Z","channel":"web","org":"lincoln-high","category":"threat","body":"Jake said he will shoot up the school Friday"}`,
		`{"id":"r2","received_at":"2026-03-02T08:05:00Z","channel":"sms","org":"lincoln-high","category":"","body":"jake said he will SHOOT UP the school friday!!"}`,
		`{"id":"r3","received_at":"2026-03-02T09:00:00Z","channel":"web","org":"unknown","category":"other","body":"this test is going to kill me"}`,
	}, "\n")
	var out bytes.Buffer
	require.NoError(t, run([]string{"triage", "-f", "-"}, strings.NewReader(in), &out, io.Discard, env{}.get))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 3)
	var got []map[string]any
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m))
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		require.ElementsMatch(t, []string{"id", "urgency", "category", "team", "cluster", "reasons"}, keys)
		got = append(got, m)
	}
	require.Equal(t, "critical", got[0]["urgency"])
	require.Equal(t, "lincoln-btam", got[0]["team"])
	require.Equal(t, "r1", got[1]["cluster"], "the resubmission joins r1's cluster")
	require.Equal(t, "low", got[2]["urgency"])
	require.Equal(t, "district-safety", got[2]["team"])
}

func TestSMSBlockCommand(t *testing.T) {
	e := testEnv(t, nil)
	rdb := redistest.New(t, db)
	hash := strings.Repeat("ab", 32)
	var out bytes.Buffer
	require.NoError(t, run([]string{"sms", "block", hash}, nil, &out, io.Discard, e.get))
	require.Equal(t, "blocked\n", out.String())
	require.Equal(t, int64(1), rdb.Exists(context.Background(), "sms:block:"+hash).Val())
	require.NoError(t, run([]string{"sms", "unblock", hash}, nil, io.Discard, io.Discard, e.get))
	require.Equal(t, int64(0), rdb.Exists(context.Background(), "sms:block:"+hash).Val())

	require.Error(t, run([]string{"sms", "block", "+15555550188"}, nil, io.Discard, io.Discard, e.get), "a number is not a hash")
}

// TestTriageCommandInAnyOrder: a set written or shuffled out of order is
// triaged in order of arrival, as live, and printed in the order given.
// Given in this order, a report four days earlier between two reports of
// one incident once moved the clock back, and the last report's move
// forward expired the incident's cluster.
func TestTriageCommandInAnyOrder(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"later","received_at":"2026-03-06T08:05:00Z","org":"lincoln-high","body":"jake said he will SHOOT UP the school friday!!"}`,
		`{"id":"before","received_at":"2026-03-02T09:00:00Z","org":"lincoln-high","body":"the cafeteria food is cold"}`,
		`{"id":"first","received_at":"2026-03-06T08:00:00Z","org":"lincoln-high","body":"Jake said he will shoot up the school Friday"}`,
	}, "\n")
	var out bytes.Buffer
	require.NoError(t, run([]string{"triage", "-f", "-"}, strings.NewReader(in), &out, io.Discard, env{}.get))
	var got []struct{ ID, Cluster string }
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var r struct{ ID, Cluster string }
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		got = append(got, r)
	}
	require.Equal(t, []string{"later", "before", "first"}, []string{got[0].ID, got[1].ID, got[2].ID}, "printed in the order given")
	require.Equal(t, "first", got[0].Cluster, "the later report joins the first, triaged before it")
	require.Equal(t, "before", got[1].Cluster)
}

func TestTriageEval(t *testing.T) {
	in := strings.Join([]string{
		`{"id":"a","org":"lincoln-high","body":"he will shoot up the school friday","want":{"urgency":"critical","category":"threat","incident":"i1"}}`,
		`{"id":"b","org":"lincoln-high","body":"the cafeteria food is cold","want":{"urgency":"low","category":"other","incident":"i2"}}`,
	}, "\n")
	var out bytes.Buffer
	require.NoError(t, run([]string{"triage", "-eval", "-f", "-"}, strings.NewReader(in), &out, io.Discard, env{}.get))
	require.Contains(t, out.String(), "critical recall        1.000  (1 of 1")
	require.Contains(t, out.String(), "accuracy               1.000  (2 of 2")
	require.Error(t, run([]string{"triage", "-eval", "-f", "-"}, strings.NewReader(`{"id":"x","body":"y"}`), io.Discard, io.Discard, env{}.get), "no label")
}

// TestTriageLearn: -learn counts labelled files into learned.tsv's form,
// and -eval of a set the built-in counts were made from says its figures
// are not of unseen reports.
func TestTriageLearn(t *testing.T) {
	dir := t.TempDir()
	set := filepath.Join(dir, "mine.jsonl")
	require.NoError(t, os.WriteFile(set, []byte(strings.Join([]string{
		`{"id":"a","body":"he will shoot up the school friday","want":{"urgency":"critical"}}`,
		`{"id":"b","body":"she is cutting again","want":{"urgency":"high"}}`,
		`{"id":"c","body":"kids vape in the bathroom","want":{"urgency":"normal"}}`,
		`{"id":"d","body":"the cafeteria food is cold","want":{"urgency":"low"}}`,
	}, "\n")), 0o600))
	var out bytes.Buffer
	require.NoError(t, run([]string{"triage", "-learn", set}, nil, &out, io.Discard, env{}.get))
	require.True(t, strings.HasPrefix(out.String(), "# learned from: mine.jsonl\n"), out.String())
	require.Contains(t, out.String(), "\n*\t1\t1\t1\t1\n")
	require.Contains(t, out.String(), "\nshoot up\t1\t0\t0\t0\n")
	require.Contains(t, out.String(), "\nthe\t1\t0\t1\t1\n")

	require.Error(t, run([]string{"triage", "-learn"}, nil, io.Discard, io.Discard, env{}.get), "no files")
	require.Error(t, run([]string{"triage", "-learn", filepath.Join(dir, "nope.jsonl")}, nil, io.Discard, io.Discard, env{}.get))

	out.Reset()
	require.NoError(t, run([]string{"triage", "-eval", "-f", "../../triage/testdata/heldout.jsonl"}, nil, &out, io.Discard, env{}.get))
	require.Contains(t, out.String(), "learned.tsv counted heldout.jsonl")
	out.Reset()
	require.NoError(t, run([]string{"triage", "-eval", "-f", "../../triage/testdata/fresh12.jsonl"}, nil, &out, io.Discard, env{}.get))
	require.NotContains(t, out.String(), "learned.tsv counted")
}

func TestConfigRulesFile(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(rules, []byte("signals:\n  cake:\n    says: mentions cake\n    patterns: [cake]\nlevels:\n  - {urgency: critical, any: [cake]}\n"), 0o600))
	conf := filepath.Join(dir, "tipline.yaml")
	require.NoError(t, os.WriteFile(conf, []byte("rules_file: "+rules+"\ndefault_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]\n"), 0o600))
	var out bytes.Buffer
	require.NoError(t, run([]string{"triage", "-f", "-"}, strings.NewReader(`{"id":"1","org":"x","body":"there is cake in the office"}`), &out, io.Discard, env{"TIPLINE_CONFIG": conf}.get))
	require.Contains(t, out.String(), `"urgency":"critical"`, "the team's own rules are used")

	require.NoError(t, os.WriteFile(rules, []byte("signals:\n  cake:\n    says: x\n    patterns: ['(']\n"), 0o600))
	_, err := loadConfig(conf)
	require.ErrorContains(t, err, "triage: rules", "a broken rule file stops start-up")
}
