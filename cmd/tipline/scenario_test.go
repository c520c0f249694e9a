package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/notify/twiliotest"
)

// incidents are life-safety reports the built-in rules rate critical, two
// per demo organisation, sharing no specifics (name, room, place, day,
// weapon), so each is its own cluster and pages its team once.
var incidents = []struct{ org, body string }{
	{"lincoln-high", "Marcus said he will bring his dad's gun to room 204 today and shoot people"},
	{"lincoln-high", "Priya told me she is going to stab people with a knife in the gym on Friday"},
	{"roosevelt-middle", "Tyler has a gun in his backpack right now in the cafeteria"},
	{"roosevelt-middle", "Devon posted that he will shoot up the bus loop tomorrow morning"},
	{"washington-elementary", "a 5th grader named Owen brought a knife to class today"},
	{"washington-elementary", "Sofia said her brother will bring a gun to the assembly on Monday and kill teachers"},
	{"riverside-works", "a coworker named Frank said he will shoot everyone in the warehouse on Monday"},
	{"riverside-works", "Gina brought a pistol to the loading dock today and threatened her supervisor"},
}

// routineReport is the nth routine report: nobody is paged for it.
func routineReport(n int) (org, body string) {
	orgs := []string{"lincoln-high", "roosevelt-middle", "washington-elementary", "riverside-works"}
	return orgs[n%len(orgs)], fmt.Sprintf("kids vape in the bathroom by locker %d every lunch", 1000+n)
}

// sentReport is a report the API accepted.
type sentReport struct {
	token    string
	incident int // index in incidents, -1 for a routine report
	via      string
}

// submitReports sends copies of every incident and routine reports through
// the web processes in turn, eight at a time, and returns those that got a
// token. Every report must get one: the test's Redis is up.
func submitReports(t testing.TB, webs []string, copies, routine int) []sentReport {
	t.Helper()
	type job struct {
		org, body string
		incident  int
	}
	var jobs []job
	for c := 0; c < copies; c++ {
		for i, in := range incidents {
			jobs = append(jobs, job{in.org, in.body, i})
		}
	}
	for n := 0; n < routine; n++ {
		org, body := routineReport(n)
		jobs = append(jobs, job{org, body, -1})
	}
	var (
		mu   sync.Mutex
		out  []sentReport
		errs []string
		wg   sync.WaitGroup
		next = make(chan int)
	)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j, via := jobs[i], webs[i%len(webs)]
				code, resp, err := tryPostJSON(via+"/api/v1/reports", map[string]any{"org": j.org, "body": j.body})
				mu.Lock()
				tok, _ := resp["token"].(string)
				if err != nil || code != http.StatusCreated || tok == "" {
					errs = append(errs, fmt.Sprintf("report %d via %s: %d %v %v", i, via, code, resp, err))
				} else {
					out = append(out, sentReport{token: tok, incident: j.incident, via: via})
				}
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	require.Empty(t, errs, "reports refused")
	require.Len(t, out, len(jobs))
	return out
}

// pipelineFigures are what checkPipeline found.
type pipelineFigures struct {
	tips, urgentClusters, pages int
	triage                      time.Duration // from the first report to the last tip triaged
}

// pageTip finds the tip a page is about in its link.
var pageTip = regexp.MustCompile(`/review/tips/([0-9A-Za-z_-]+)`)

// checkPipeline checks what a user of the whole line would: every report
// that got a token is stored, exactly one tip per token, triaged exactly
// once; copies of one incident share a cluster and distinct incidents do
// not; and each urgent cluster's team is paged exactly once, with nothing
// left in the queues.
func checkPipeline(t testing.TB, rdb redis.UniversalClient, aopt asynq.RedisConnOpt, e env, tw *twiliotest.Server, reports []sentReport, started time.Time) pipelineFigures {
	t.Helper()
	ctx := context.Background()
	keys := keyringOf(t, e)
	store := intake.NewStore(rdb, keys)
	tl := timeline.New(rdb)

	ids := map[string]sentReport{}
	for _, r := range reports {
		tok, err := intake.ParseToken(r.token)
		require.NoError(t, err)
		id, err := rdb.Get(ctx, "token:"+keys.Hash("token", string(tok))).Result()
		require.NoError(t, err, "the token of a report sent via %s points at no tip", r.via)
		_, dup := ids[id]
		require.False(t, dup, "two tokens point at tip %s", id)
		ids[id] = r
	}

	// Every tip is triaged: its status leaves "received".
	tips := map[string]*intake.Tip{}
	waitFor(t, 2*time.Minute, func() bool {
		for id := range ids {
			if tips[id] != nil {
				continue
			}
			tip, err := store.Tip(ctx, id)
			require.NoError(t, err, "tip %s", id)
			if tip.Status == intake.StatusReceived || tip.Urgency == "" {
				return false
			}
			tips[id] = tip
		}
		return true
	}, "%d of %d tips triaged", len(tips), len(ids))
	triageTook := time.Since(started)

	// Exactly once: one "received" and one "triaged" on each timeline.
	for id := range ids {
		events, err := tl.List(ctx, id)
		require.NoError(t, err)
		n := map[timeline.Kind]int{}
		for _, ev := range events {
			n[ev.Kind]++
		}
		require.Equal(t, 1, n[timeline.Received], "tip %s received %d times", id, n[timeline.Received])
		require.Equal(t, 1, n[timeline.Triaged], "tip %s triaged %d times", id, n[timeline.Triaged])
	}

	// Clusters: one per incident, holding all its copies and nothing else.
	clusterOf := map[int]string{}
	urgent := map[string][]string{} // cluster → teams
	for id, tip := range tips {
		r := ids[id]
		if r.incident < 0 {
			require.Contains(t, []string{"normal", "low"}, tip.Urgency, "routine tip %s", id)
			continue
		}
		require.Equal(t, "critical", tip.Urgency, "incident %d: %q", r.incident, incidents[r.incident].body)
		if c, ok := clusterOf[r.incident]; ok {
			require.Equal(t, c, tip.Cluster, "copies of incident %d are in two clusters", r.incident)
		}
		clusterOf[r.incident] = tip.Cluster
		urgent[tip.Cluster] = tip.Teams
	}
	require.Len(t, urgent, len(clusterOf), "distinct incidents share a cluster: %v", clusterOf)

	// Pages: wait until nothing is waiting or running in any queue
	// (escalations scheduled for later may stay), then count.
	insp := asynq.NewInspector(aopt)
	defer insp.Close()
	want := 0
	for _, teams := range urgent {
		want += len(teams)
	}
	waitFor(t, time.Minute, func() bool {
		if len(smsPages(tw)) < want {
			return false
		}
		qs, err := insp.Queues()
		require.NoError(t, err)
		for _, q := range qs {
			info, err := insp.GetQueueInfo(q)
			require.NoError(t, err)
			if info.Pending+info.Aggregating+info.Active+info.Retry > 0 {
				return false
			}
		}
		return true
	}, "pages: %d of %d arrived, or tasks still queued", len(smsPages(tw)), want)

	type sent struct{ cluster, to string }
	got := map[sent]int{}
	for _, m := range smsPages(tw) {
		id := pageTip.FindStringSubmatch(m.Body)[1]
		tip, ok := tips[id]
		require.True(t, ok, "a page names tip %s, which no report made", id)
		got[sent{tip.Cluster, m.To}]++
	}
	for k, n := range got {
		require.Equal(t, 1, n, "cluster %s paged %s %d times", k.cluster, k.to, n)
	}
	paged := map[string]bool{}
	for k := range got {
		paged[k.cluster] = true
	}
	for c := range urgent {
		require.True(t, paged[c], "urgent cluster %s was never paged", c)
	}
	require.Len(t, got, want, "pages: one per urgent cluster and team")
	return pipelineFigures{tips: len(ids), urgentClusters: len(urgent), pages: len(got), triage: triageTook}
}

// smsPages are the texts the fake Twilio took that page a reviewer.
func smsPages(tw *twiliotest.Server) []twiliotest.Message {
	var out []twiliotest.Message
	for _, m := range tw.Messages() {
		if pageTip.MatchString(m.Body) {
			out = append(out, m)
		}
	}
	return out
}

// keyringOf is the keyring a tipline process with environment e uses.
func keyringOf(t testing.TB, e env) *intake.Keyring {
	t.Helper()
	ks, err := parseKeys(e["TIPLINE_KEYS"])
	require.NoError(t, err)
	hash, err := base64.StdEncoding.DecodeString(e["TIPLINE_HASH_KEY"])
	require.NoError(t, err)
	keys, err := intake.NewKeyring(ks, hash)
	require.NoError(t, err)
	return keys
}

// requireNoSecretsLogged checks a process's logs for the reports' text and
// tokens and the reviewers' phone numbers.
func requireNoSecretsLogged(t testing.TB, p *proc, reports []sentReport) {
	t.Helper()
	logs := p.logs.String()
	for _, in := range incidents {
		for _, w := range []string{in.body, strings.Fields(in.body)[0] + " " + strings.Fields(in.body)[1]} {
			require.NotContains(t, logs, w, "%s logged a report's text", p.name)
		}
	}
	for _, r := range reports {
		require.NotContains(t, logs, r.token, "%s logged a token", p.name)
	}
	require.NotContains(t, logs, "+1555555", "%s logged a phone number", p.name)
}

// tryPostJSON posts body as JSON and reads a JSON answer, without
// failing the test: it runs in the submitting goroutines.
func tryPostJSON(url string, body any) (int, map[string]any, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, out, nil
}
