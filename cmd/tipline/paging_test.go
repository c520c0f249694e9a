package main

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/notify/twiliotest"
)

// pagingConfig is a team with seconds-long escalation delays, so a whole
// policy runs inside a test.
const pagingConfig = `
default_team: safety
orgs:
  - {id: lincoln-high, name: Lincoln High School}
teams:
  - id: safety
    name: Safety team
    time_zone: America/Chicago
    oncall:
      - {name: Ana, phone: "+15555550101"}
      - {name: Ben, phone: "+15555550102"}
    escalation:
      steps:
        - {targets: [primary], delay: 2s}
        - {targets: [secondary], delay: 2s}
      repeat: 1
      final:
        - {name: Dispatch, phone: "+15555550911"}
`

// TestEscalationStopsWhenSecondaryTextsAck runs the whole path: a critical
// report, the primary texted and called, nobody answers, the secondary is
// paged, texts the code back, and paging stops.
func TestEscalationStopsWhenSecondaryTextsAck(t *testing.T) {
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	e := testEnv(t, tw)
	path := filepath.Join(t.TempDir(), "tipline.yaml")
	require.NoError(t, os.WriteFile(path, []byte(pagingConfig), 0o600))
	e["TIPLINE_CONFIG"] = path
	s := startServer(t, e)

	code, out := postJSON(t, s.url+"/api/v1/reports", map[string]any{"org": "lincoln-high",
		"body": "Jordan posted that he's bringing a gun to school tomorrow and everyone will pay"})
	require.Equal(t, http.StatusCreated, code, "%v", out)

	texts := func() []string {
		var to []string
		for _, m := range tw.Messages() {
			to = append(to, m.To)
		}
		return to
	}
	require.Eventually(t, func() bool { return len(texts()) >= 2 }, 30*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{"+15555550101", "+15555550102"}, texts()[:2], "primary, then secondary")
	require.Eventually(t, func() bool { return len(tw.Calls()) >= 2 }, 10*time.Second, 10*time.Millisecond, "critical pages call too")
	ack := regexp.MustCompile(`Reply (\d+)a`).FindStringSubmatch(tw.Messages()[1].Body)
	require.NotNil(t, ack)

	form := url.Values{"MessageSid": {"SM77"}, "From": {"+15555550102"}, "To": {"+15555550000"}, "Body": {ack[1] + "a"}, "NumMedia": {"0"}}
	status, twiml := postText(t, s.url, form)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, twiml, "Paging has stopped")

	// The third step was due two seconds after the second: once it has
	// run, it has found the acknowledgement and paged nobody.
	insp := asynq.NewInspector(redistest.AsynqOpt(db))
	defer insp.Close()
	require.Eventually(t, func() bool {
		done, err := insp.ListCompletedTasks("critical")
		steps := 0
		for _, ti := range done {
			if ti.Type == notify.TypeStep {
				steps++
			}
		}
		return err == nil && steps >= 3
	}, 30*time.Second, 50*time.Millisecond)
	require.Len(t, tw.Messages(), 2, "paging stopped at the acknowledgement: %v", texts())
	require.NoError(t, s.stop())
	require.NotContains(t, s.logs.String(), "5555550102", "no phone number in the logs")
}

// dbPagingKill is TestWorkerKilledAfterTwilioTookThePage's own database:
// it runs in parallel with the package's other tests.
const dbPagingKill = 9

// TestWorkerKilledAfterTwilioTookThePage kills the only worker with
// SIGKILL at the worst moment: Twilio has accepted the first page and the
// worker has not recorded it. A new worker carries the escalation on, and
// when asynq hands it the dead worker's task (after its lease runs out), it
// asks Twilio and does not send that page again. Nobody is paged twice;
// nobody is skipped.
func TestWorkerKilledAfterTwilioTookThePage(t *testing.T) {
	t.Parallel()
	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	e := testEnv(t, tw)
	redistest.New(t, dbPagingKill)
	e["REDIS_URL"] = redistest.URL(dbPagingKill)
	path := filepath.Join(t.TempDir(), "tipline.yaml")
	require.NoError(t, os.WriteFile(path, []byte(pagingConfig), 0o600))
	e["TIPLINE_CONFIG"] = path
	bin := buildTipline(t)
	web := startProc(t, bin, "web", withRole(e, "web"))
	worker := startProc(t, bin, "worker 1", withRole(e, "worker"))

	var once sync.Once
	killed := make(chan struct{})
	tw.AfterAccept(func(m twiliotest.Message) {
		// A critical page is a text and a call, sent by two tasks. Kill on
		// the text: killed on the call instead, the text's task waits out
		// the dead worker's lease and goes last, which is late, not lost,
		// and not the case this test is about.
		if !strings.HasPrefix(m.SID, "SM") {
			return
		}
		once.Do(func() {
			_ = worker.cmd.Process.Signal(syscall.SIGKILL)
			worker.stopped = true
			close(killed)
		})
	})
	code, out := postJSON(t, web.url+"/api/v1/reports", map[string]any{"org": "lincoln-high",
		"body": "Jordan posted that he's bringing a gun to school tomorrow and everyone will pay"})
	require.Equal(t, http.StatusCreated, code, "%v", out)
	select {
	case <-killed:
	case <-time.After(30 * time.Second):
		t.Fatal("no page reached Twilio")
	}
	startProc(t, bin, "worker 2", withRole(e, "worker"))

	// Primary, secondary, both again, then dispatch: five texts, once each,
	// the first of them sent by the worker that died.
	insp := asynq.NewInspector(redistest.AsynqOpt(dbPagingKill))
	defer insp.Close()
	waitFor(t, 3*time.Minute, func() bool {
		info, err := insp.GetQueueInfo("critical")
		return err == nil && len(tw.Messages()) >= 5 && info.Active+info.Pending+info.Scheduled+info.Retry == 0
	}, "the escalation did not finish: %d texts", len(tw.Messages()))
	var to []string
	bodies := map[string]bool{}
	for _, m := range tw.Messages() {
		to = append(to, m.To)
		require.False(t, bodies[m.Body], "sent twice: %q", m.Body)
		bodies[m.Body] = true
	}
	require.Equal(t, []string{"+15555550101", "+15555550102", "+15555550101", "+15555550102", "+15555550911"}, to)
}
