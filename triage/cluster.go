package triage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
)

// Clusters joins reports of the same incident. This first version joins
// exact resubmissions (same organisation, same words once case, spacing and
// punctuation are set aside) within a window, by one Redis key per
// fingerprint: the cost of a report does not grow with the number stored.
type Clusters struct {
	rdb    redis.UniversalClient
	window time.Duration
}

// NewClusters returns clusters kept in rdb for window after a report.
func NewClusters(rdb redis.UniversalClient, window time.Duration) *Clusters {
	return &Clusters{rdb: rdb, window: window}
}

func keyCluster(org, fp string) string { return "triage:cluster:" + org + ":" + fp }

// Join returns the cluster of a report: the ID of the first report with the
// same fingerprint in the window, or the report's own ID.
func (c *Clusters) Join(ctx context.Context, org, tipID, text string) (string, error) {
	key := keyCluster(org, fingerprint(text))
	// SET NX GET: one round trip that either claims the fingerprint or
	// answers with who claimed it first.
	prev, err := c.rdb.SetArgs(ctx, key, tipID, redis.SetArgs{Mode: "NX", Get: true, TTL: c.window}).Result()
	switch {
	case err == redis.Nil:
		return tipID, nil
	case err != nil:
		return "", fmt.Errorf("triage: cluster: %w", err)
	}
	return prev, nil
}

// fingerprint hashes a text's words, lower-cased, without punctuation.
func fingerprint(text string) string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r)
	})
	sum := sha256.Sum256([]byte(strings.Join(words, " ")))
	return hex.EncodeToString(sum[:16])
}
