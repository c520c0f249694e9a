package triage

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake"
)

// Forget removes a purged tip from its cluster: its membership and its
// tip-to-cluster key. A cluster left with no members loses its specifics
// too, since they were read from the purged tip's text. The remaining
// index entries hold only the cluster's ID and expire with its window.
// It is an intake.Forget for intake.Retention.
func (c *Clusters) Forget(ctx context.Context, t intake.PurgedTip) error {
	if t.Cluster == "" {
		return nil
	}
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, keyMembers(t.Cluster), t.ID)
		p.Del(ctx, keyTipCluster(t.Org, t.ID))
		return nil
	})
	if err != nil {
		return fmt.Errorf("triage: forget %s: %w", t.ID, err)
	}
	if n, err := c.rdb.ZCard(ctx, keyMembers(t.Cluster)).Result(); err == nil && n == 0 {
		if err := c.rdb.Del(ctx, keySpecifics(t.Cluster)).Err(); err != nil {
			return fmt.Errorf("triage: forget %s: %w", t.ID, err)
		}
	}
	return nil
}
