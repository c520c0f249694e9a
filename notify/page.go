package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// TypePage is the task that pages a team's on-call reviewer about a tip.
const TypePage = "notify:page"

// Page is what a reviewer's phone is told: never the tip's text, only what
// it takes to know it is urgent and where to read it.
type Page struct {
	TipID   string `json:"tip_id"`
	Cluster string `json:"cluster"`
	Team    string `json:"team"`
	Urgency string `json:"urgency"`
	Org     string `json:"org"` // the organisation's display name
	Code    string `json:"code"`
}

// id names one page: a team hears about a cluster once per urgency level.
func (p Page) id() string { return "page:" + p.Team + ":" + p.Cluster + ":" + p.Urgency }

func keySent(pageID string) string { return "notify:sent:" + pageID }

// Record is one page sent, kept on the tip's page log for the dashboard and
// the time-to-page figures.
type Record struct {
	Team     string    `json:"team"`
	Reviewer string    `json:"reviewer"`
	Urgency  string    `json:"urgency"`
	At       time.Time `json:"at"`
}

func keyLog(tipID string) string { return "notify:log:{" + tipID + "}" }

// Pager queues pages and sends them.
type Pager struct {
	rdb       redis.UniversalClient
	queue     *asynq.Client
	sender    Sender
	teams     map[string]Team
	publicURL string
	log       *slog.Logger
}

// NewPager returns a pager for teams that sends through sender. Links in
// pages point at publicURL.
func NewPager(rdb redis.UniversalClient, queue *asynq.Client, sender Sender, teams []Team, publicURL string, log *slog.Logger) *Pager {
	m := make(map[string]Team, len(teams))
	for _, t := range teams {
		m[t.ID] = t
	}
	return &Pager{rdb: rdb, queue: queue, sender: sender, teams: m, publicURL: publicURL, log: log}
}

// Enqueue queues a page on the queue named for its urgency. A page already
// sent, or already queued, is not queued again: more reports of the same
// incident at the same urgency do not page twice.
func (pg *Pager) Enqueue(ctx context.Context, p Page) error {
	id := p.id()
	n, err := pg.rdb.Exists(ctx, keySent(id)).Result()
	if err != nil {
		return fmt.Errorf("notify: enqueue page: %w", err)
	}
	if n > 0 {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("notify: enqueue page: %w", err)
	}
	_, err = pg.queue.EnqueueContext(ctx, asynq.NewTask(TypePage, b),
		asynq.Queue(p.Urgency), asynq.TaskID(id), asynq.MaxRetry(20))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("notify: enqueue page: %w", err)
	}
	return nil
}

// ProcessTask sends one page to the team's on-call reviewer. It is the
// handler of TypePage.
func (pg *Pager) ProcessTask(ctx context.Context, task *asynq.Task) error {
	var p Page
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.TipID == "" {
		return fmt.Errorf("notify: page payload: %v: %w", err, asynq.SkipRetry)
	}
	id := p.id()
	if n, err := pg.rdb.Exists(ctx, keySent(id)).Result(); err != nil {
		return fmt.Errorf("notify: page: %w", err)
	} else if n > 0 {
		return nil // sent by an earlier run of this task
	}
	team, ok := pg.teams[p.Team]
	if !ok || len(team.OnCall) == 0 {
		return fmt.Errorf("notify: page: team %q has nobody on call: %w", p.Team, asynq.SkipRetry)
	}
	r := team.OnCall[0]
	if err := pg.sender.Send(ctx, r.Phone, pg.Text(p)); err != nil {
		if Permanent(err) {
			return fmt.Errorf("notify: page %s: %w: %w", p.Code, err, asynq.SkipRetry)
		}
		return fmt.Errorf("notify: page %s: %w", p.Code, err)
	}
	rec, _ := json.Marshal(Record{Team: team.ID, Reviewer: r.Name, Urgency: p.Urgency, At: time.Now().UTC()})
	_, err := pg.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.Set(ctx, keySent(id), time.Now().UTC().Format(time.RFC3339Nano), 30*24*time.Hour)
		tx.RPush(ctx, keyLog(p.TipID), rec)
		return nil
	})
	if err != nil {
		// The page went out; failing here would send it again.
		pg.log.Error("page sent but not recorded", "code", p.Code, "err", err)
	}
	pg.log.Info("paged", "code", p.Code, "team", team.ID, "urgency", p.Urgency)
	return nil
}

// Text is a page's SMS: urgency, organisation, code and a link, in one
// GSM-7 segment for any sensible names.
func (pg *Pager) Text(p Page) string {
	return fmt.Sprintf("tipline %s tip %s for %s. Open %s/review/tips/%s",
		strings.ToUpper(p.Urgency), p.Code, p.Org, pg.publicURL, p.TipID)
}

// Log returns the pages sent about a tip, oldest first.
func (pg *Pager) Log(ctx context.Context, tipID string) ([]Record, error) {
	raw, err := pg.rdb.LRange(ctx, keyLog(tipID), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("notify: page log: %w", err)
	}
	out := make([]Record, 0, len(raw))
	for _, s := range raw {
		var r Record
		if err := json.Unmarshal([]byte(s), &r); err != nil {
			return nil, fmt.Errorf("notify: page log: %w", err)
		}
		out = append(out, r)
	}
	return out, nil
}
