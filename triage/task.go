package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/notify"
)

// TypeTip is the task that triages one stored tip.
const TypeTip = "triage:tip"

// tipPayload carries the tip's ID only: asynq keeps payloads in Redis, in
// the clear, also in archived tasks.
type tipPayload struct {
	TipID string `json:"tip_id"`
}

// NewTipTask returns the task that triages the tip with this ID.
func NewTipTask(tipID string) *asynq.Task {
	b, _ := json.Marshal(tipPayload{TipID: tipID})
	return asynq.NewTask(TypeTip, b)
}

// Queue hands stored tips to the triage workers. It rates the tip on the
// request path, which takes microseconds, so that a life-safety tip waits in
// the critical queue and a flood of routine ones cannot delay it.
type Queue struct {
	client  *asynq.Client
	triager *Triager
}

// NewQueue returns a queue that enqueues through client.
func NewQueue(client *asynq.Client, triager *Triager) *Queue {
	return &Queue{client: client, triager: triager}
}

// Enqueue queues a tip for triage once: the task ID is the tip's, so the
// sweeper may queue it again without harm.
func (q *Queue) Enqueue(ctx context.Context, t *intake.Tip) error {
	u := q.triager.Rate(t).Urgency
	_, err := q.client.EnqueueContext(ctx, NewTipTask(t.ID),
		asynq.Queue(string(u)), asynq.TaskID("triage:"+t.ID), asynq.MaxRetry(25))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("triage: enqueue: %w", err)
	}
	return nil
}

// Handler runs TypeTip tasks: triage the tip, record the result on it, and
// page its teams when it is urgent.
type Handler struct {
	store   *intake.Store
	triager *Triager
	pager   *notify.Pager
	orgName func(id string) string
	log     *slog.Logger
}

// NewHandler returns the TypeTip handler. orgName gives an organisation's
// display name for pages.
func NewHandler(store *intake.Store, triager *Triager, pager *notify.Pager, orgName func(string) string, log *slog.Logger) *Handler {
	return &Handler{store: store, triager: triager, pager: pager, orgName: orgName, log: log}
}

// ProcessTask triages one tip. It may run more than once for a tip (retries,
// the sweeper); every step is idempotent.
func (h *Handler) ProcessTask(ctx context.Context, task *asynq.Task) error {
	var p tipPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.TipID == "" {
		return fmt.Errorf("triage: payload: %v: %w", err, asynq.SkipRetry)
	}
	t, err := h.store.Tip(ctx, p.TipID)
	if errors.Is(err, intake.ErrNotFound) {
		return fmt.Errorf("triage: tip %s: %w", p.TipID, asynq.SkipRetry) // purged before triage
	}
	if err != nil {
		return err
	}
	r, err := h.triager.Triage(ctx, t)
	if err != nil {
		return err
	}
	if t.Status == intake.StatusReceived || t.Urgency == "" {
		if err := h.store.SetTriage(ctx, t.ID, r.record(time.Now())); err != nil {
			return err
		}
	}
	h.log.Info("triaged", "code", t.Code(), "urgency", r.Urgency, "category", r.Category, "team", r.Team)
	if !r.Urgency.Paged() {
		return nil // routine tips wait in the team's queue
	}
	for _, team := range r.Teams {
		err := h.pager.Enqueue(ctx, notify.Page{
			TipID: t.ID, Cluster: r.Cluster, Team: team,
			Urgency: string(r.Urgency), Org: h.orgName(t.Org), Code: t.Code(),
		})
		if err != nil {
			return err
		}
	}
	return nil
}
