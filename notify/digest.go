package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake/timeline"
)

// Routine tips are not paged: they wait for their team's digest, a text at
// the start of its working day that says how many came in.

func keyRoutine(team string) string { return "notify:routine:{" + team + "}" }

// digestPayload names one team's digest on one day.
type digestPayload struct {
	Team string    `json:"team"`
	At   time.Time `json:"at"`
}

// Routine puts a normal or low tip on its team's next digest.
func (pg *Pager) Routine(ctx context.Context, team, tipID, urgency string, received time.Time) error {
	return pg.Routines(ctx, []RoutineTip{{Team: team, TipID: tipID, Urgency: urgency, Received: received}})
}

// RoutineTip is a routine tip waiting for its team's digest.
type RoutineTip struct {
	Team, TipID, Urgency string
	Received             time.Time
}

// Routines adds several routine tips to their teams' lists in one round
// trip, each as Routine does.
func (pg *Pager) Routines(ctx context.Context, tips []RoutineTip) error {
	for _, t := range tips {
		if _, ok := pg.teams[t.Team]; !ok {
			return fmt.Errorf("notify: routine tip for unknown team %q", t.Team)
		}
	}
	_, err := pg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, t := range tips {
			p.ZAdd(ctx, keyRoutine(t.Team), redis.Z{Score: float64(t.Received.UnixMilli()), Member: t.Urgency + ":" + t.TipID})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: routine: %w", err)
	}
	return nil
}

// ScheduleDigests queues each team's next digest. Workers call it now and
// then; the task ID (team and day) makes calling it often, from several
// workers, harmless.
func (pg *Pager) ScheduleDigests(ctx context.Context) error {
	now := pg.Now()
	for _, t := range pg.teams {
		at := t.NextDigest(now)
		b, _ := json.Marshal(digestPayload{Team: t.ID, At: at})
		id := "digest:" + t.ID + ":" + at.UTC().Format(time.RFC3339)
		_, err := pg.Queue.EnqueueContext(ctx, asynq.NewTask(TypeDigest, b), asynq.Queue("normal"),
			asynq.TaskID(id), asynq.ProcessAt(at), asynq.MaxRetry(25), asynq.Retention(retention))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("notify: schedule digest: %w", err)
		}
	}
	return nil
}

// digest texts the team's on-call primary how many routine tips wait, and
// takes them off the list. Nothing waiting, nothing sent.
func (pg *Pager) digest(ctx context.Context, d digestPayload) error {
	t, ok := pg.teams[d.Team]
	if !ok {
		return fmt.Errorf("notify: digest for unknown team %q: %w", d.Team, asynq.SkipRetry)
	}
	sentKey := "notify:digest:{" + t.ID + "}:sent:" + d.At.UTC().Format(time.RFC3339)
	if n, err := pg.Redis.Exists(ctx, sentKey).Result(); err != nil || n > 0 {
		return err
	}
	max := strconv.FormatInt(d.At.UnixMilli(), 10)
	members, err := pg.Redis.ZRangeByScore(ctx, keyRoutine(t.ID), &redis.ZRangeBy{Min: "-inf", Max: max}).Result()
	if err != nil {
		return fmt.Errorf("notify: digest: %w", err)
	}
	if len(members) == 0 {
		return nil
	}
	counts := map[string]int{}
	for _, m := range members {
		u, _, _ := strings.Cut(m, ":")
		counts[u]++
	}
	var parts []string
	for _, u := range []string{"normal", "low"} {
		if counts[u] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[u], u))
		}
	}
	body := fmt.Sprintf("tipline: %d routine tips wait for %s (%s). %s/review", len(members), t.Name, strings.Join(parts, ", "), pg.PublicURL)
	primary, _, _ := t.OnCallAt(d.At)
	if err := pg.Phone.Send(ctx, primary.Phone, body); err != nil {
		pg.Metrics.twilioError(chSMS)
		if Permanent(err) {
			return fmt.Errorf("notify: digest to %s: %w: %w", primary.Name, err, asynq.SkipRetry)
		}
		return fmt.Errorf("notify: digest: %w", err)
	}
	_, err = pg.Redis.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, sentKey, "1", keep)
		p.ZRemRangeByScore(ctx, keyRoutine(t.ID), "-inf", max)
		return nil
	})
	if err != nil {
		return fmt.Errorf("notify: digest sent but not recorded: %w", err)
	}
	for _, m := range members {
		_, tip, _ := strings.Cut(m, ":")
		_ = pg.timeline.Add(ctx, tip, timeline.Event{At: d.At, Kind: timeline.Digested, Team: t.ID, Actor: "tipline", Detail: "in the digest to " + primary.Name})
	}
	pg.Log.Info("digest sent", "team", t.ID, "tips", len(members), "reviewer", primary.Name)
	return nil
}
