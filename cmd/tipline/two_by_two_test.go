package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify/twiliotest"
)

// dbTwoByTwo is this test's database on the test Redis.
const dbTwoByTwo = 6

// TestTwoWebTwoWorkers runs the deployment docker-compose.yml describes:
// two web and two worker processes of the real binary on one Redis. It
// sends copies of eight life-safety incidents and routine reports through
// both web processes at once, and checks that no report is lost, each is
// triaged exactly once, and each incident pages its team exactly once
// though four processes share the work. Then it stops one worker and one
// web process and checks that the others carry on.
func TestTwoWebTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes")
	}
	rdb := redistest.New(t, dbTwoByTwo)
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	t0 := time.Now()
	bin := buildTipline(t)
	t.Logf("built in %v", time.Since(t0).Round(time.Millisecond))
	e := testEnv(t, tw)
	e["REDIS_URL"] = redistest.URL(dbTwoByTwo)
	target, err := parseRedisURL(e["REDIS_URL"])
	require.NoError(t, err)

	var procs []*proc
	start := func(name, role string) *proc {
		p := startProc(t, bin, name, withRole(e, role))
		procs = append(procs, p)
		return p
	}
	web1, web2 := start("web1", "web"), start("web2", "web")
	worker1 := start("worker1", "worker")
	start("worker2", "worker")

	t.Logf("four processes ready at %v", time.Since(t0).Round(time.Millisecond))
	began := time.Now()
	const copies, routine = 3, 40
	reports := submitReports(t, []string{web1.url, web2.url}, copies, routine)
	fig := checkPipeline(t, rdb, target.asynqOpt(), e, tw, reports, began)
	require.Equal(t, copies*len(incidents)+routine, fig.tips)
	t.Logf("2 web + 2 workers: %d reports, %d urgent clusters, %d pages; all triaged %v after the first report",
		fig.tips, fig.urgentClusters, fig.pages, fig.triage.Round(time.Millisecond))

	// /metrics: the web processes counted every tip, by urgency; the
	// workers timed every first page; any process reports the queues.
	received := scrape(t, web1, "tipline_tips_received_total") + scrape(t, web2, "tipline_tips_received_total")
	require.Equal(t, float64(fig.tips), received, "tips counted by the web processes")
	critical := scrape(t, web1, `tipline_tips_received_total{channel="api",urgency="critical"}`) +
		scrape(t, web2, `tipline_tips_received_total{channel="api",urgency="critical"}`)
	require.Equal(t, float64(copies*len(incidents)), critical)
	paged := scrape(t, procs[2], "tipline_time_to_page_seconds_count") + scrape(t, procs[3], "tipline_time_to_page_seconds_count")
	require.Equal(t, float64(fig.pages), paged, "time to page recorded once per page")
	require.Zero(t, scrape(t, procs[2], `tipline_queue_tasks{queue="critical",state="pending"}`))
	require.Equal(t, 1.0, scrape(t, web1, "tipline_queue_inspector_up"))

	// Both workers took tasks: the work was shared, not done by one.
	for _, w := range procs[2:] {
		require.Contains(t, w.logs.String(), `"msg":"triaged"`, "%s triaged nothing", w.name)
	}

	// One of each stops (a rolling upgrade): the line still takes and
	// pages a report through the others.
	t.Logf("checked at %v", time.Since(t0).Round(time.Millisecond))
	worker1.stop(t)
	web1.stop(t)
	t.Logf("two stopped at %v", time.Since(t0).Round(time.Millisecond))
	submitReports(t, []string{web2.url}, 0, 5)
	code, out := postJSON(t, web2.url+"/api/v1/reports", map[string]any{"org": "lincoln-high",
		"body": "Quinn says she will burn down the library at 3pm today with gasoline"})
	require.Equal(t, 201, code, "%v", out)
	waitFor(t, time.Minute, func() bool { return len(smsPages(tw)) > fig.pages },
		"no page from the remaining worker after one of each stopped")

	for _, p := range procs {
		p.stop(t)
		requireNoSecretsLogged(t, p, reports)
	}
}

// scrape sums the samples of a process's /metrics whose name (with labels,
// if given) starts with series.
func scrape(t *testing.T, p *proc, series string) float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var sum float64
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if name == series || (!strings.Contains(series, "{") && strings.HasPrefix(name, series+"{")) ||
			(strings.HasSuffix(series, "}") && name == series) {
			v, err := strconv.ParseFloat(value, 64)
			require.NoError(t, err, "%s", line)
			sum += v
		}
	}
	return sum
}
