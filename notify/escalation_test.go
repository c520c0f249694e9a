package notify_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/notify/twiliotest"
)

// The team the escalation tests page: Ana and Ben take turns as primary,
// Dee is the admin, and dispatch is the final step.
const (
	ana      = "+15555550101"
	ben      = "+15555550102"
	dee      = "+15555550109"
	dispatch = "+15555550911"
	bad      = "+15555550666" // Twilio refuses it
)

// stepDelay is the escalation delay in tests: short, so a whole policy
// runs in seconds. asynq schedules to the whole second, so a delay under
// two seconds could shrink to nothing.
const stepDelay = 2 * time.Second

func testTeam() notify.Team {
	return notify.Team{
		ID: "lincoln", Name: "Lincoln threat team", TimeZone: "America/Chicago",
		OnCall: []notify.Reviewer{{Name: "Ana", Phone: ana}, {Name: "Ben", Phone: ben}},
		Admins: []notify.Reviewer{{Name: "Dee", Phone: dee}},
		Escalation: notify.Escalation{
			Steps: []notify.Step{
				{Targets: []string{"primary"}, Delay: stepDelay},
				{Targets: []string{"secondary"}, Delay: stepDelay},
			},
			Repeat: 1,
			Final:  []notify.Reviewer{{Name: "Dispatch", Phone: dispatch}},
		},
	}
}

// rig is a pager with its workers, sending through twilio-go to a local
// server that speaks Twilio's API.
type rig struct {
	t       *testing.T
	tw      *twiliotest.Server
	pg      *notify.Pager
	logs    *syncBuffer
	tl      *timeline.Log
	workers *asynq.Server
	cfg     notify.Config
}

func newRig(t *testing.T, teams ...notify.Team) *rig {
	if len(teams) == 0 {
		teams = []notify.Team{testTeam()}
	}
	tw := twiliotest.New(sid, token)
	t.Cleanup(tw.Close)
	// Twilio refuses one number, as it does a landline or a typo.
	phone, err := notify.NewTwilio(sid, token, from, tw.URL)
	require.NoError(t, err)
	rdb := redistest.New(t, db)
	client := asynq.NewClient(redistest.AsynqOpt(db))
	t.Cleanup(func() { client.Close() })
	logs := &syncBuffer{}
	m, err := notify.NewMetrics(prometheus.NewRegistry())
	require.NoError(t, err)
	cfg := notify.Config{
		Redis: rdb, Queue: client, Phone: refusing{phone}, Teams: teams, PublicURL: "https://tips.example.org",
		Log: slog.New(slog.NewTextHandler(logs, nil)), Metrics: m,
	}
	r := &rig{t: t, tw: tw, pg: notify.NewPager(cfg), logs: logs, tl: timeline.New(rdb), cfg: cfg}
	return r
}

// start runs workers the way `tipline serve` does, with fast retries.
func (r *rig) start() {
	srv := asynq.NewServer(redistest.AsynqOpt(db), asynq.Config{
		Queues:                   map[string]int{"critical": 8, "high": 4, "normal": 2},
		StrictPriority:           true,
		TaskCheckInterval:        10 * time.Millisecond,
		DelayedTaskCheckInterval: 20 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 20 * time.Millisecond },
		LogLevel:                 asynq.FatalLevel,
	})
	mux := asynq.NewServeMux()
	for _, typ := range []string{notify.TypePage, notify.TypeStep, notify.TypeSend, notify.TypeDigest} {
		mux.Handle(typ, r.pg)
	}
	require.NoError(r.t, srv.Start(mux))
	r.workers = srv
	r.t.Cleanup(srv.Shutdown)
}

// sms lists who got texts, in order, leaving out admins' notices.
func (r *rig) sms() []string {
	var to []string
	for _, m := range r.tw.Messages() {
		if !strings.HasPrefix(m.Body, "tipline: could not page") {
			to = append(to, name(m.To))
		}
	}
	return to
}

func (r *rig) calls() []string {
	var to []string
	for _, m := range r.tw.Calls() {
		to = append(to, name(m.To))
	}
	return to
}

// waitSMS waits until texts have gone to these people, in this order.
func (r *rig) waitSMS(want ...string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return len(r.sms()) >= len(want) }, 30*time.Second, 5*time.Millisecond,
		"texts so far: %v", r.sms())
	require.Equal(r.t, want, r.sms()[:len(want)])
}

// settle waits until no paging task is left waiting, scheduled or running:
// whatever the escalation would still do, it has done.
func (r *rig) settle() {
	r.t.Helper()
	insp := asynq.NewInspector(redistest.AsynqOpt(db))
	defer insp.Close()
	require.Eventually(r.t, func() bool {
		for _, q := range []string{"critical", "high"} {
			info, err := insp.GetQueueInfo(q)
			if err != nil {
				continue // never used
			}
			if info.Pending+info.Scheduled+info.Active+info.Retry > 0 {
				return false
			}
		}
		return true
	}, 30*time.Second, 10*time.Millisecond)
}

func name(phone string) string {
	return map[string]string{ana: "Ana", ben: "Ben", dee: "Dee", dispatch: "Dispatch", bad: "Bad"}[phone]
}

func critical(tip, cluster string) notify.Page {
	return notify.Page{TipID: tip, Cluster: cluster, Team: "lincoln", Urgency: "critical",
		Org: "Lincoln High School", Code: tip[:4], ReceivedAt: time.Now()}
}

// refusing is Twilio, but the number `bad` is refused with a 400 as Twilio
// refuses an invalid one.
type refusing struct{ *notify.Twilio }

func (r refusing) SendTracked(ctx context.Context, to, body, statusURL string) error {
	if to == bad {
		to = "invalid"
	}
	return r.Twilio.SendTracked(ctx, to, body, statusURL)
}

func (r refusing) Call(ctx context.Context, to, twiml string) error {
	if to == bad {
		return r.Twilio.Call(ctx, "invalid", twiml)
	}
	return r.Twilio.Call(ctx, to, twiml)
}

func TestUnackedCriticalEscalatesRepeatsThenFinal(t *testing.T) {
	r := newRig(t)
	r.start()
	require.NoError(t, r.pg.Enqueue(context.Background(), critical("TIPA000001", "TIPA000001")))
	r.waitSMS("Ana", "Ben", "Ana", "Ben", "Dispatch")
	r.settle()
	require.Equal(t, []string{"Ana", "Ben", "Ana", "Ben", "Dispatch"}, r.sms(), "the policy ran once more, then the final step, then stopped")
	require.Equal(t, []string{"Ana", "Ben", "Ana", "Ben", "Dispatch"}, r.calls(), "critical pages also call")

	msgs := r.tw.Messages()
	require.Regexp(t, `^tipline CRITICAL tip TIPA for Lincoln High School\. Reply \d+a to acknowledge\. https://tips\.example\.org/review/tips/TIPA000001$`, msgs[0].Body)
	require.Contains(t, msgs[1].Body, "(page 2)")
	for _, m := range msgs {
		require.LessOrEqual(t, len(m.Body), 160, "one SMS segment: %q", m.Body)
	}
	require.Contains(t, r.tw.Calls()[0].Body, "<Gather")
	require.Contains(t, r.tw.Calls()[0].Body, "https://tips.example.org/voice/twilio/ack?code=")

	events, err := r.tl.List(context.Background(), "TIPA000001")
	require.NoError(t, err)
	kinds := map[timeline.Kind]int{}
	for _, e := range events {
		kinds[e.Kind]++
	}
	require.Equal(t, 10, kinds[timeline.Paged], "every text and call is on the timeline")
	require.GreaterOrEqual(t, kinds[timeline.Escalated], 4, "every escalation is on the timeline")
	require.NotContains(t, r.logs.String(), "555555", "no phone number is logged")
}

func TestSMSAckStopsEscalation(t *testing.T) {
	r := newRig(t)
	r.start()
	ctx := context.Background()
	require.NoError(t, r.pg.Enqueue(ctx, critical("TIPB000001", "TIPB000001")))
	r.waitSMS("Ana")
	code := ackCode(t, r.tw.Messages()[0].Body)

	answer, err := r.pg.Reply(ctx, ben, code+"a")
	require.NoError(t, err)
	require.Contains(t, answer, "acknowledged tip TIPB", "Ben, the secondary, may acknowledge too")
	again, err := r.pg.Reply(ctx, ana, code+" A")
	require.NoError(t, err)
	require.Contains(t, again, "already acknowledged by Ben")
	r.settle()
	require.Equal(t, []string{"Ana"}, r.sms(), "nobody is paged after the acknowledgement")

	events, err := r.tl.List(ctx, "TIPB000001")
	require.NoError(t, err)
	var acks []timeline.Event
	for _, e := range events {
		if e.Kind == timeline.Acked {
			acks = append(acks, e)
		}
	}
	require.Len(t, acks, 1)
	require.Equal(t, "Ben", acks[0].Actor)
	require.Equal(t, notify.ViaSMS, acks[0].Detail)
}

func TestAckRepliesInOtherFormsAndRefusals(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	require.NoError(t, r.pg.Enqueue(ctx, critical("TIPC000001", "TIPC000001")))
	code := "1" // the first page of a fresh database
	for _, tc := range []struct{ from, body, want string }{
		{ana, "hello?", "reply with its code and an a"},
		{ana, "99999a", "no page 99999"},
		{"+15555550199", code + "a", "no page " + code}, // not in the team
		{ana, "ack " + code, "acknowledged tip TIPC"},
		{ana, "a" + code, "already acknowledged by Ana"},
	} {
		got, err := r.pg.Reply(ctx, tc.from, tc.body)
		require.NoError(t, err)
		require.Contains(t, got, tc.want, "%q from %s", tc.body, name(tc.from))
	}
	require.True(t, r.pg.IsReviewer(dispatch), "the final step's number is a reviewer's")
	require.False(t, r.pg.IsReviewer("+15555550199"))
}

func TestVoiceKeypressAcks(t *testing.T) {
	r := newRig(t)
	r.start()
	ctx := context.Background()
	require.NoError(t, r.pg.Enqueue(ctx, critical("TIPD000001", "TIPD000001")))
	require.Eventually(t, func() bool { return len(r.calls()) > 0 }, 10*time.Second, 5*time.Millisecond)
	code := ackCode(t, r.tw.Messages()[0].Body)

	twiml, err := r.pg.VoiceAck(ctx, code, ana, "7")
	require.NoError(t, err)
	require.Contains(t, twiml, "No acknowledgement", "only 1 acknowledges")
	twiml, err = r.pg.VoiceAck(ctx, code, ana, "1")
	require.NoError(t, err)
	require.Contains(t, twiml, "<Say>Acknowledged.")
	r.settle()
	require.Equal(t, []string{"Ana"}, r.sms())
	require.Equal(t, []string{"Ana"}, r.calls())
}

func TestTwentyReportsOfOneIncidentPageOnce(t *testing.T) {
	r := newRig(t)
	r.start()
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, r.pg.Enqueue(ctx, critical(fmt.Sprintf("TIPE%06d", i), "CLUSTER-E")))
		}()
	}
	wg.Wait()
	r.waitSMS("Ana")
	code := ackCode(t, r.tw.Messages()[0].Body)
	_, err := r.pg.Reply(ctx, ana, code+"a")
	require.NoError(t, err)
	r.settle()
	require.Equal(t, []string{"Ana"}, r.sms(), "twenty reports, one page")

	// A later report at a lower urgency does not page; a higher one would.
	high := critical("TIPE000100", "CLUSTER-E")
	high.Urgency = "high"
	require.NoError(t, r.pg.Enqueue(ctx, high))
	r.settle()
	require.Equal(t, []string{"Ana"}, r.sms())
}

func TestRaisedUrgencyPagesAgain(t *testing.T) {
	r := newRig(t)
	r.start()
	ctx := context.Background()
	high := critical("TIPF000001", "CLUSTER-F")
	high.Urgency = "high"
	require.NoError(t, r.pg.Enqueue(ctx, high))
	r.waitSMS("Ana")
	_, err := r.pg.Reply(ctx, ana, ackCode(t, r.tw.Messages()[0].Body)+"a")
	require.NoError(t, err)
	require.Empty(t, r.calls(), "high pages text only")

	require.NoError(t, r.pg.Enqueue(ctx, critical("TIPF000002", "CLUSTER-F")))
	r.waitSMS("Ana", "Ana")
	require.Contains(t, r.tw.Messages()[1].Body, "CRITICAL")
	_, err = r.pg.Reply(ctx, ana, ackCode(t, r.tw.Messages()[1].Body)+"a")
	require.NoError(t, err)
	r.settle()
	require.Equal(t, []string{"Ana", "Ana"}, r.sms())
}

func TestTwilioFailingThreeTimesStillPagesOnce(t *testing.T) {
	team := testTeam()
	team.Escalation = notify.Escalation{Steps: []notify.Step{{Targets: []string{"primary"}, Delay: time.Hour}}}
	r := newRig(t, team)
	r.tw.FailNext(500, 503, 429)
	r.start()
	high := critical("TIPG000001", "TIPG000001")
	high.Urgency = "high"
	require.NoError(t, r.pg.Enqueue(context.Background(), high))
	r.waitSMS("Ana")
	r.settle() // the step an hour away stays scheduled: settle only waits for "high"'s pending work
	require.Equal(t, []string{"Ana"}, r.sms(), "exactly one page")
}

func TestSendDiesAfterTwilioAcceptedIsNotSentTwice(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	high := critical("TIPH000001", "TIPH000001")
	high.Urgency = "high"
	require.NoError(t, r.pg.Enqueue(ctx, high))
	step := redistest.Pending(t, db, "high", notify.TypeStep)
	require.Len(t, step, 1)
	require.NoError(t, r.pg.ProcessTask(ctx, asynq.NewTask(step[0].Type, step[0].Payload)))
	sends := redistest.Pending(t, db, "high", notify.TypeSend)
	require.Len(t, sends, 1)
	task := asynq.NewTask(sends[0].Type, sends[0].Payload)

	// The worker "dies" the moment Twilio has the text: its context ends
	// before it can record that the page went out.
	dying, die := context.WithCancel(ctx)
	r.tw.AfterAccept(func(twiliotest.Message) { die() })
	require.Error(t, r.pg.ProcessTask(dying, task), "the page went out but was not recorded")
	r.tw.AfterAccept(nil)
	require.Len(t, r.tw.Messages(), 1)

	// The retry asks Twilio, finds the page, and records it.
	require.NoError(t, r.pg.ProcessTask(ctx, task))
	require.NoError(t, r.pg.ProcessTask(ctx, task))
	require.Len(t, r.tw.Messages(), 1, "no second page")
	events, err := r.tl.List(ctx, "TIPH000001")
	require.NoError(t, err)
	_, paged := timeline.First(events, timeline.Paged)
	require.True(t, paged, "the page is on the timeline")
}

func TestWorkerStoppedMidEscalationLeavesItGoing(t *testing.T) {
	r := newRig(t)
	r.start()
	require.NoError(t, r.pg.Enqueue(context.Background(), critical("TIPI000001", "TIPI000001")))
	r.waitSMS("Ana")
	// The only worker goes away between steps; the next step waits in
	// Redis, and a new worker takes it up.
	r.workers.Shutdown()
	r.start()
	r.waitSMS("Ana", "Ben", "Ana", "Ben", "Dispatch")
	r.settle()
	require.Equal(t, []string{"Ana", "Ben", "Ana", "Ben", "Dispatch"}, r.sms(), "nobody paged twice, nobody skipped")
}

func TestRefusedNumberMovesOnAndTellsAdmins(t *testing.T) {
	team := testTeam()
	team.OnCall = []notify.Reviewer{{Name: "Bad", Phone: bad}, {Name: "Ben", Phone: ben}}
	team.Escalation.Steps[0].Delay = time.Hour // only a failure can move on before then
	r := newRig(t, team)
	r.start()
	high := critical("TIPJ000001", "TIPJ000001")
	high.Urgency = "high"
	require.NoError(t, r.pg.Enqueue(context.Background(), high))
	r.waitSMS("Ben")
	require.Eventually(t, func() bool {
		for _, m := range r.tw.Messages() {
			if m.To == dee && strings.Contains(m.Body, "could not page Bad (number ending 66) about tip TIPJ") {
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "the admin hears about the bad number")
	events, err := r.tl.List(context.Background(), "TIPJ000001")
	require.NoError(t, err)
	_, failed := timeline.First(events, timeline.Failed)
	require.True(t, failed, "the failure is on the timeline")
}

func TestAckInDashboardStopsTheIncident(t *testing.T) {
	r := newRig(t)
	clusters := map[string]string{"TIPK000002": "CLUSTER-K"}
	r.cfg.ClusterOf = func(_ context.Context, tip string) (string, error) { return clusters[tip], nil }
	r.pg = notify.NewPager(r.cfg)
	r.start()
	ctx := context.Background()
	require.NoError(t, r.pg.Enqueue(ctx, critical("TIPK000001", "CLUSTER-K")))
	r.waitSMS("Ana")
	// Another report of the incident, opened in the dashboard, acknowledges it.
	require.NoError(t, r.pg.AckTip(ctx, "TIPK000002", "Carla"))
	r.settle()
	require.Equal(t, []string{"Ana"}, r.sms())
	events, err := r.tl.List(ctx, "TIPK000001")
	require.NoError(t, err)
	at, ok := timeline.First(events, timeline.Acked)
	require.True(t, ok)
	require.False(t, at.IsZero())
}

// ackCode reads the ack code out of a page's text.
func ackCode(t *testing.T, body string) string {
	t.Helper()
	_, rest, ok := strings.Cut(body, "Reply ")
	require.True(t, ok, body)
	code, _, ok := strings.Cut(rest, "a to acknowledge")
	require.True(t, ok, body)
	return code
}

// syncBuffer is a log buffer workers may write from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUndeliveredPageMovesOnAndDeliveredIsRecorded(t *testing.T) {
	team := testTeam()
	team.Escalation.Steps[0].Delay = time.Hour // only a failed delivery can move on before then
	r := newRig(t, team)
	r.start()
	ctx := context.Background()
	high := critical("TIPL000001", "TIPL000001")
	high.Urgency = "high"
	require.NoError(t, r.pg.Enqueue(ctx, high))
	r.waitSMS("Ana")
	first := r.tw.Messages()[0]
	require.True(t, strings.HasPrefix(first.StatusCallback, "https://tips.example.org/sms/twilio/status?"), first.StatusCallback)
	cb, err := url.Parse(first.StatusCallback)
	require.NoError(t, err)

	require.NoError(t, r.pg.Delivery(ctx, cb.Query(), "sent"), "in-between statuses change nothing")
	require.NoError(t, r.pg.Delivery(ctx, cb.Query(), "undelivered"))
	require.NoError(t, r.pg.Delivery(ctx, cb.Query(), "undelivered"), "Twilio may say it twice")
	r.waitSMS("Ana", "Ben")
	require.Eventually(t, func() bool {
		for _, m := range r.tw.Messages() {
			if m.To == dee && strings.Contains(m.Body, "could not page Ana") {
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "the admin hears that Ana's phone did not get it")

	var second *url.URL
	for _, m := range r.tw.Messages() {
		if m.To == ben {
			second, err = url.Parse(m.StatusCallback)
			require.NoError(t, err)
		}
	}
	require.NotNil(t, second)
	require.NoError(t, r.pg.Delivery(ctx, second.Query(), "delivered"))
	events, err := r.tl.List(ctx, "TIPL000001")
	require.NoError(t, err)
	var delivered, failed []string
	for _, e := range events {
		switch e.Kind {
		case timeline.Delivered:
			delivered = append(delivered, e.Detail)
		case timeline.Failed:
			failed = append(failed, e.Detail)
		}
	}
	require.Equal(t, []string{"SMS to Ben delivered, step 2"}, delivered)
	require.Equal(t, []string{"SMS to Ana not delivered: number invalid or unreachable"}, failed)
	require.Error(t, r.pg.Delivery(ctx, url.Values{"esc": {"nope"}}, "delivered"), "a forged or stale report names nothing")
	require.Len(t, r.sms(), 2, "Ana once, Ben once")
}

func TestPageQueuedByTheOldVersionStillPages(t *testing.T) {
	r := newRig(t)
	r.start()
	// notify:page as the previous version queued it.
	b := []byte(`{"tip_id":"TIPO000001","cluster":"TIPO000001","team":"lincoln","urgency":"high","org":"Lincoln High School","code":"TIPO00"}`)
	old := asynq.NewClient(redistest.AsynqOpt(db))
	defer old.Close()
	_, err := old.Enqueue(asynq.NewTask(notify.TypePage, b), asynq.Queue("high"))
	require.NoError(t, err)
	r.waitSMS("Ana")
	require.Contains(t, r.tw.Messages()[0].Body, "tipline HIGH tip TIPO00 for Lincoln High School.")
}
