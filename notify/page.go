package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake/timeline"
)

// The tasks of paging. A page starts (or raises) an escalation; each step
// of it is a task scheduled after the last one's delay; each text or call
// to one person is a task of its own, retried on its own.
const (
	TypeStep   = "notify:step"
	TypeSend   = "notify:send"
	TypeDigest = "notify:digest"
	// TypePage is the task earlier versions queued for each page. A
	// worker takes the ones still queued at an upgrade and starts their
	// escalations, so no page is lost by upgrading.
	TypePage = "notify:page"
)

// Page is what triage asks for: a team should hear about a tip now. It
// holds no text from the tip: only what a reviewer's phone may show.
type Page struct {
	TipID      string    `json:"tip_id"`
	Cluster    string    `json:"cluster"`
	Team       string    `json:"team"`
	Urgency    string    `json:"urgency"` // critical or high
	Org        string    `json:"org"`     // the organisation's display name
	Code       string    `json:"code"`    // the tip's short reference
	ReceivedAt time.Time `json:"received_at"`
}

// rank orders urgencies: a page is sent again for a cluster only when its
// urgency goes up.
func rank(urgency string) int {
	switch urgency {
	case "critical":
		return 4
	case "high":
		return 3
	case "normal":
		return 2
	case "low":
		return 1
	}
	return 0
}

// Key names. An escalation is one team hearing about one cluster; its keys
// carry {team:cluster} so they share a Cluster slot.
func escID(team, cluster string) string  { return team + ":" + cluster }
func keyEsc(esc string) string           { return "notify:esc:{" + esc + "}" }
func keyEscTry(esc, send string) string  { return "notify:esc:{" + esc + "}:try:" + send }
func keyEscSent(esc, send string) string { return "notify:esc:{" + esc + "}:sent:" + send }
func keyEscFailed(esc string, gen, pos int) string {
	return "notify:esc:{" + esc + "}:failed:" + strconv.Itoa(gen) + ":" + strconv.Itoa(pos)
}
func keyAckCode(code string) string    { return "notify:ack:" + code }
func keyCluster(cluster string) string { return "notify:cluster:" + cluster }

const keyAckSeq = "notify:ackseq"

// keep is how long paging state outlives its last change.
const keep = 30 * 24 * time.Hour

// retention keeps finished tasks' IDs reserved, so a step or a send that
// already ran is never queued again by a retried caller.
const retention = 48 * time.Hour

// Config is what a Pager needs.
type Config struct {
	Redis     redis.UniversalClient
	Queue     *asynq.Client
	Phone     Phone
	Teams     []Team
	PublicURL string // links in pages and voice callbacks point here
	Log       *slog.Logger
	Metrics   *Metrics // may be nil
	// ClusterOf gives a tip's cluster, so a reviewer acknowledging any
	// report of an incident stops that incident's escalation.
	ClusterOf func(ctx context.Context, tipID string) (string, error)
	Now       func() time.Time // nil: time.Now
}

// Pager runs escalations: it pages the on-call reviewer of a team about an
// urgent tip, and keeps paging down the team's escalation policy until
// someone acknowledges.
type Pager struct {
	Config
	teams    map[string]Team
	timeline *timeline.Log
}

// NewPager returns a pager.
func NewPager(c Config) *Pager {
	m := make(map[string]Team, len(c.Teams))
	for _, t := range c.Teams {
		m[t.ID] = t
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Pager{Config: c, teams: m, timeline: timeline.New(c.Redis)}
}

// escState is an escalation as kept in its Redis hash.
type escState struct {
	Team, Cluster, Tip, Urgency, Org, Code, Ack string
	Gen                                         int
	Received                                    time.Time
	AckedBy                                     string
}

// startEsc starts an escalation, or raises one to a higher urgency
// (a new generation: the old one's steps find themselves superseded).
// It answers the generation to page, or 0 when this page is a duplicate.
// A retry for the tip that started the current generation gets that
// generation again, so its first step is queued even if the first try
// died after starting it.
var startEsc = redis.NewScript(`
local cur = tonumber(redis.call("HGET", KEYS[1], "rank") or "0")
if cur >= tonumber(ARGV[1]) then
  if redis.call("HGET", KEYS[1], "tip") == ARGV[3] and cur == tonumber(ARGV[1]) then
    return {tonumber(redis.call("HGET", KEYS[1], "gen")), redis.call("HGET", KEYS[1], "ack"), 0}
  end
  return {0, "", 0}
end
local gen = redis.call("HINCRBY", KEYS[1], "gen", 1)
redis.call("HDEL", KEYS[1], "acked_by", "acked_at", "acked_via")
redis.call("HSET", KEYS[1], "rank", ARGV[1], "urgency", ARGV[2], "tip", ARGV[3], "ack", ARGV[4],
  "team", ARGV[5], "cluster", ARGV[6], "org", ARGV[7], "code", ARGV[8], "received", ARGV[9])
redis.call("EXPIRE", KEYS[1], ARGV[10])
return {gen, ARGV[4], 1}`)

// Enqueue pages a team about a tip: it starts the escalation and queues
// its first step. More reports of the same incident do not page again,
// unless they raise its urgency. Calling it twice for one tip is harmless.
func (pg *Pager) Enqueue(ctx context.Context, p Page) error {
	team, ok := pg.teams[p.Team]
	if !ok || len(team.OnCall) == 0 {
		return fmt.Errorf("notify: page: team %q has nobody on call", p.Team)
	}
	if p.Cluster == "" {
		p.Cluster = p.TipID
	}
	ack, err := pg.Redis.Incr(ctx, keyAckSeq).Result()
	if err != nil {
		return fmt.Errorf("notify: page: %w", err)
	}
	esc := escID(p.Team, p.Cluster)
	res, err := startEsc.Run(ctx, pg.Redis, []string{keyEsc(esc)},
		rank(p.Urgency), p.Urgency, p.TipID, strconv.FormatInt(ack, 10), p.Team, p.Cluster, p.Org, p.Code,
		p.ReceivedAt.UTC().Format(time.RFC3339Nano), int(keep.Seconds())).Slice()
	if err != nil {
		return fmt.Errorf("notify: page: %w", err)
	}
	gen, _ := res[0].(int64)
	if gen == 0 {
		return nil // the incident's team has been paged at this urgency or above
	}
	code, _ := res[1].(string)
	// Set again on a retry: the first try may have died before this.
	_, err = pg.Redis.Pipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Set(ctx, keyAckCode(code), esc, keep)
		pl.SAdd(ctx, keyCluster(p.Cluster), esc)
		pl.Expire(ctx, keyCluster(p.Cluster), keep)
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: page: %w", err)
	}
	if started, _ := res[2].(int64); started == 1 && gen > 1 {
		_ = pg.timeline.Add(ctx, p.TipID, timeline.Event{Kind: timeline.Superseded, Team: p.Team, Actor: "tipline",
			Detail: "urgency raised to " + p.Urgency + ": paging again"})
	}
	return pg.queueStep(ctx, esc, int(gen), 0, p.Urgency, 0)
}

// stepPayload names one step of one generation of an escalation.
type stepPayload struct {
	Esc string `json:"esc"`
	Gen int    `json:"gen"`
	Pos int    `json:"pos"`
}

func (s stepPayload) id() string {
	return "step:" + s.Esc + ":" + strconv.Itoa(s.Gen) + ":" + strconv.Itoa(s.Pos)
}

// queueStep queues step pos to run after delay. Its task ID makes queueing
// it twice harmless.
func (pg *Pager) queueStep(ctx context.Context, esc string, gen, pos int, urgency string, delay time.Duration) error {
	s := stepPayload{Esc: esc, Gen: gen, Pos: pos}
	b, _ := json.Marshal(s)
	opts := []asynq.Option{asynq.Queue(queueFor(urgency)), asynq.TaskID(s.id()), asynq.MaxRetry(25), asynq.Retention(retention)}
	if delay > 0 {
		opts = append(opts, asynq.ProcessIn(delay))
	}
	_, err := pg.Queue.EnqueueContext(ctx, asynq.NewTask(TypeStep, b), opts...)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("notify: queue step: %w", err)
	}
	return nil
}

// queueFor is the queue paging tasks wait in: an escalation's urgency.
func queueFor(urgency string) string {
	if urgency == "critical" {
		return "critical"
	}
	return "high"
}

// loadEsc reads an escalation's state; ok is false when it is gone.
func (pg *Pager) loadEsc(ctx context.Context, esc string) (escState, bool, error) {
	h, err := pg.Redis.HGetAll(ctx, keyEsc(esc)).Result()
	if err != nil {
		return escState{}, false, fmt.Errorf("notify: escalation: %w", err)
	}
	if len(h) == 0 {
		return escState{}, false, nil
	}
	gen, _ := strconv.Atoi(h["gen"])
	received, _ := time.Parse(time.RFC3339Nano, h["received"])
	return escState{
		Team: h["team"], Cluster: h["cluster"], Tip: h["tip"], Urgency: h["urgency"], Org: h["org"],
		Code: h["code"], Ack: h["ack"], Gen: gen, Received: received, AckedBy: h["acked_by"],
	}, true, nil
}

// ProcessTask runs notify's tasks: steps, sends and digests.
func (pg *Pager) ProcessTask(ctx context.Context, task *asynq.Task) error {
	switch task.Type() {
	case TypeStep:
		var s stepPayload
		if err := json.Unmarshal(task.Payload(), &s); err != nil || s.Esc == "" {
			return fmt.Errorf("notify: step payload: %v: %w", err, asynq.SkipRetry)
		}
		return pg.step(ctx, s)
	case TypeSend:
		var s sendPayload
		if err := json.Unmarshal(task.Payload(), &s); err != nil || s.Esc == "" || s.To == "" {
			return fmt.Errorf("notify: send payload: %v: %w", err, asynq.SkipRetry)
		}
		return pg.send(ctx, s)
	case TypePage:
		var p Page
		if err := json.Unmarshal(task.Payload(), &p); err != nil || p.TipID == "" || p.Team == "" {
			return fmt.Errorf("notify: page payload: %v: %w", err, asynq.SkipRetry)
		}
		return pg.Enqueue(ctx, p)
	case TypeDigest:
		var d digestPayload
		if err := json.Unmarshal(task.Payload(), &d); err != nil || d.Team == "" {
			return fmt.Errorf("notify: digest payload: %v: %w", err, asynq.SkipRetry)
		}
		return pg.digest(ctx, d)
	}
	return fmt.Errorf("notify: unknown task %q: %w", task.Type(), asynq.SkipRetry)
}

// step pages one step's targets and schedules the next step. An
// acknowledged or superseded escalation stops here.
func (pg *Pager) step(ctx context.Context, s stepPayload) error {
	st, ok, err := pg.loadEsc(ctx, s.Esc)
	if err != nil {
		return err
	}
	if !ok || st.Gen != s.Gen || st.AckedBy != "" {
		return nil
	}
	team, ok := pg.teams[st.Team]
	if !ok {
		return fmt.Errorf("notify: team %q is no longer configured: %w", st.Team, asynq.SkipRetry)
	}
	plan := team.plan()
	if s.Pos >= len(plan) {
		return nil
	}
	targets := team.resolve(plan[s.Pos], pg.Now())
	channels := []string{chSMS}
	if st.Urgency == "critical" {
		channels = append(channels, chVoice)
	}
	for _, tg := range targets {
		for _, ch := range channels {
			if err := pg.queueSend(ctx, sendPayload{Esc: s.Esc, Gen: s.Gen, Pos: s.Pos, To: tg.Name, Ch: ch}, st.Urgency); err != nil {
				return err
			}
		}
	}
	if s.Pos > 0 {
		names := make([]string, len(targets))
		for i, tg := range targets {
			names[i] = tg.Name
		}
		// Recorded again if the step is retried; the timeline says what
		// happened, and a repeated line says it was tried again.
		_ = pg.timeline.Add(ctx, st.Tip, timeline.Event{Kind: timeline.Escalated, Team: st.Team, Actor: "tipline",
			Detail: fmt.Sprintf("no acknowledgement: step %d pages %s", s.Pos+1, strings.Join(names, ", "))})
	}
	if s.Pos+1 < len(plan) {
		delay := plan[s.Pos].Delay
		if len(targets) == 0 {
			delay = 0 // nobody to wait for (no secondary): go straight on
		}
		return pg.queueStep(ctx, s.Esc, s.Gen, s.Pos+1, st.Urgency, delay)
	}
	return nil
}

// Text is a page's SMS: urgency, organisation, the tip's code, how to
// acknowledge, and a link; never the tip's text. Later steps say which
// page they are, which also makes each page's text its own.
func (pg *Pager) text(st escState, pos int) string {
	nth := ""
	if pos > 0 {
		nth = fmt.Sprintf(" (page %d)", pos+1)
	}
	return fmt.Sprintf("tipline %s tip %s for %s%s. Reply %sa to acknowledge. %s/review/tips/%s",
		strings.ToUpper(st.Urgency), st.Code, st.Org, nth, st.Ack, pg.PublicURL, st.Tip)
}
