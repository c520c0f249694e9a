package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
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

// TypeBatch is the task that triages a batch of routine tips. asynq's
// aggregator gathers routine TypeTip tasks into one (Aggregate), so a
// backlog of routine tips costs one task per few hundred tips, not one
// each: a task's own Redis calls (dequeue, lease, done) cost more than
// triaging a tip. Urgent tips are never batched: they are triaged, and
// paged, the moment a worker is free.
const TypeBatch = "triage:batch"

// BatchMax is the most tips in one batch (asynq's GroupMaxSize).
const BatchMax = 1000

// batchShards spreads routine tips over this many groups per queue. asynq
// aggregates at most one set per group each time it checks (every second),
// so the shards and BatchMax bound how fast a backlog is batched: 32,000
// tips a second per queue, well above what two cores triage.
const batchShards = 32

// batchPayload carries a batch's tip IDs only, like tipPayload.
type batchPayload struct {
	TipIDs []string `json:"tip_ids"`
}

// batchGroup is a routine tip's aggregation group, by a hash of its ID:
// groups fill evenly whatever alphabet IDs are written in.
func batchGroup(tipID string) string {
	h := fnv.New32a()
	h.Write([]byte(tipID))
	return "triage-" + strconv.Itoa(int(h.Sum32()%batchShards))
}

// Aggregate is the routine workers' asynq.GroupAggregator: the tips of a
// group's TypeTip tasks as one TypeBatch task.
func Aggregate(group string, tasks []*asynq.Task) *asynq.Task {
	var p batchPayload
	for _, t := range tasks {
		var one tipPayload
		if json.Unmarshal(t.Payload(), &one) == nil && one.TipID != "" {
			p.TipIDs = append(p.TipIDs, one.TipID)
		}
	}
	b, _ := json.Marshal(p)
	return asynq.NewTask(TypeBatch, b, asynq.MaxRetry(25))
}

// Queue hands stored tips to the triage workers. It rates the tip on the
// request path, which takes microseconds, so that a life-safety tip waits in
// the critical queue and a flood of routine ones cannot delay it.
type Queue struct {
	client  *asynq.Client
	triager *Triager
	count   func(intake.Channel, Urgency) // nil: nothing counts
}

// NewQueue returns a queue that enqueues through client.
func NewQueue(client *asynq.Client, triager *Triager) *Queue {
	return &Queue{client: client, triager: triager}
}

// Counted returns a copy of the queue that calls count with the channel
// and urgency of each tip it is handed, stored and so received, whether or
// not queueing it then works: cmd/tipline's tipline_tips_received_total, by
// the rating this queue makes anyway. Intake queues each tip once through
// it; the sweeper, which may queue a tip again (a batched tip's own task ID
// is gone once asynq has built its batch), uses a queue without it.
func (q *Queue) Counted(count func(intake.Channel, Urgency)) *Queue {
	c := *q
	c.count = count
	return &c
}

// Enqueue queues a tip for triage once: the task ID is the tip's, so the
// sweeper may queue it again without harm.
func (q *Queue) Enqueue(ctx context.Context, t *intake.Tip) error {
	u := q.triager.Rate(t).Urgency
	opts := []asynq.Option{asynq.Queue(string(u)), asynq.TaskID("triage:" + t.ID), asynq.MaxRetry(25)}
	if !u.Paged() {
		opts = append(opts, asynq.Group(batchGroup(t.ID)))
	}
	if q.count != nil {
		q.count(t.Channel, u)
	}
	_, err := q.client.EnqueueContext(ctx, NewTipTask(t.ID), opts...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // queued before
	}
	if err != nil {
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
	queue   *asynq.Client // hands a batch's failing tip on as a task of its own
	orgName func(id string) string
	log     *slog.Logger
}

// NewHandler returns the TypeTip and TypeBatch handler. orgName gives an
// organisation's display name for pages.
func NewHandler(store *intake.Store, triager *Triager, pager *notify.Pager, queue *asynq.Client, orgName func(string) string, log *slog.Logger) *Handler {
	return &Handler{store: store, triager: triager, pager: pager, queue: queue, orgName: orgName, log: log}
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
	return h.triage(ctx, t)
}

// ProcessBatch triages a batch of routine tips: loaded in one round trip,
// rated several at a time, clustered together (TriageAll), and recorded
// in one round trip with their teams' routine lists in another. A tip
// purged before its turn is skipped. A tip that fails on its own (its
// text cannot be opened, or rating it panics) leaves the batch as a task
// of its own, with asynq's retries and archive, so that one bad tip cannot
// hold the rest back. An error the whole batch shares (Redis) retries the
// batch: the tips done already are done again, which changes nothing.
func (h *Handler) ProcessBatch(ctx context.Context, task *asynq.Task) error {
	var p batchPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		return fmt.Errorf("triage: batch payload: %v: %w", err, asynq.SkipRetry)
	}
	tips, err := h.store.TipsByID(ctx, p.TipIDs)
	if err != nil {
		// Which tip will not open is not known: each goes on alone.
		return h.alone(ctx, p.TipIDs, err)
	}
	results, failed, err := h.triager.TriageAll(ctx, tips)
	if err != nil {
		return err
	}
	now := time.Now()
	var (
		records []intake.Triaged
		routine []notify.RoutineTip
		urgent  []int
		single  []string
		lastErr error
	)
	for i, t := range tips {
		if failed[i] != nil {
			single, lastErr = append(single, t.ID), failed[i]
			continue
		}
		r := results[i]
		if t.Status == intake.StatusReceived || t.Urgency == "" {
			records = append(records, intake.Triaged{ID: t.ID, Received: t.ReceivedAt, Triage: r.record(now)})
		}
		if r.Urgency.Paged() { // rated higher here than at intake: the rules or the tip changed
			urgent = append(urgent, i)
			continue
		}
		for _, team := range r.Teams {
			routine = append(routine, notify.RoutineTip{Team: team, TipID: t.ID, Urgency: string(r.Urgency), Received: t.ReceivedAt})
		}
	}
	if err := h.store.SetTriages(ctx, records); err != nil {
		return err
	}
	if err := h.pager.Routines(ctx, routine); err != nil {
		return err
	}
	for _, i := range urgent {
		if err := h.page(ctx, tips[i], results[i]); err != nil {
			return err
		}
	}
	for i, t := range tips {
		if failed[i] == nil {
			h.logTriaged(t, results[i])
		}
	}
	if len(single) > 0 {
		return h.alone(ctx, single, lastErr)
	}
	return nil
}

// alone queues each tip as a TypeTip task of its own, in the normal queue
// and no group, after a batch could not triage it.
func (h *Handler) alone(ctx context.Context, ids []string, cause error) error {
	h.log.Warn("batch: tips go on alone", "tips", len(ids), "err", cause)
	for _, id := range ids {
		_, err := h.queue.EnqueueContext(ctx, NewTipTask(id), asynq.Queue(string(Normal)),
			asynq.TaskID("triage:"+id), asynq.MaxRetry(25))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("triage: batch: %w", err) // the batch is retried
		}
	}
	return nil
}

// triage rates, clusters and routes a loaded tip, records the result on it,
// and pages its teams when it is urgent.
func (h *Handler) triage(ctx context.Context, t *intake.Tip) error {
	r, err := h.triager.Triage(ctx, t)
	if err != nil {
		return err
	}
	if t.Status == intake.StatusReceived || t.Urgency == "" {
		if err := h.store.SetTriage(ctx, t.ID, t.ReceivedAt, r.record(time.Now())); err != nil {
			return err
		}
	}
	h.logTriaged(t, r)
	if !r.Urgency.Paged() {
		// Routine tips wait in the team's queue and its next digest.
		for _, team := range r.Teams {
			if err := h.pager.Routine(ctx, team, t.ID, string(r.Urgency), t.ReceivedAt); err != nil {
				return err
			}
		}
		return nil
	}
	return h.page(ctx, t, r)
}

// page starts or raises the escalation of each of an urgent tip's teams.
func (h *Handler) page(ctx context.Context, t *intake.Tip, r Result) error {
	for _, team := range r.Teams {
		err := h.pager.Enqueue(ctx, notify.Page{
			TipID: t.ID, Cluster: r.Cluster, Team: team, Urgency: string(r.Urgency),
			Org: h.orgName(t.Org), Code: t.Code(), ReceivedAt: t.ReceivedAt,
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// logTriaged logs a triage by the tip's short code, never its words.
func (h *Handler) logTriaged(t *intake.Tip, r Result) {
	h.log.Info("triaged", "code", t.Code(), "urgency", r.Urgency, "category", r.Category, "team", r.Team)
}
