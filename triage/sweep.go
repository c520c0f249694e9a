package triage

import (
	"context"
	"log/slog"
	"time"

	"github.com/tipline/tipline/intake"
)

// Sweeper queues tips left in "received": stored, then not queued because
// Redis or the process failed between the two. Queueing is idempotent, so
// every worker may sweep.
type Sweeper struct {
	store *intake.Store
	queue *Queue
	log   *slog.Logger
	// grace is how old a received tip must be before it counts as stuck,
	// so the sweeper does not race the request that is queueing it.
	grace time.Duration
}

// NewSweeper returns a sweeper that re-queues tips received more than grace ago.
func NewSweeper(store *intake.Store, queue *Queue, grace time.Duration, log *slog.Logger) *Sweeper {
	return &Sweeper{store: store, queue: queue, grace: grace, log: log}
}

// Sweep queues the tips stuck in "received" once, and says how many.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	ids, err := s.store.Received(ctx, time.Now().Add(-s.grace), 500)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		t, err := s.store.Tip(ctx, id)
		if err != nil {
			return n, err
		}
		if err := s.queue.Enqueue(ctx, t); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Run sweeps every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if n, err := s.Sweep(ctx); err != nil {
				s.log.Warn("sweep failed", "err", err)
			} else if n > 0 {
				s.log.Info("swept tips stuck in received", "count", n)
			}
		}
	}
}
