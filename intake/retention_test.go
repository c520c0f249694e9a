package intake_test

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/triage"
)

// TestRetentionPurgesClosedTips: a tip closed longer ago than the
// retention time leaves nothing behind (no key, no index entry, no cluster
// membership, no SMS conversation, no token); a tip closed recently and an
// open tip of the same age are kept whole.
func TestRetentionPurgesClosedTips(t *testing.T) {
	f := newSMSFixture(t)
	ctx := context.Background()
	rules, err := triage.DefaultRules()
	require.NoError(t, err)
	router, err := triage.NewRouter(nil, nil, "default", func(string) bool { return true })
	require.NoError(t, err)
	clusters := triage.NewClusters(f.rdb, 72*time.Hour)
	tr := triage.NewTriager(rules, clusters, router)
	triageTip := func(id string) {
		tip, err := f.store.Tip(ctx, id)
		require.NoError(t, err)
		r, err := tr.Triage(ctx, tip)
		require.NoError(t, err)
		require.NoError(t, f.store.SetTriage(ctx, id, tip.ReceivedAt, intake.Triage{
			Urgency: string(r.Urgency), Category: r.Category, Teams: r.Teams, Cluster: r.Cluster, Reasons: r.Reasons, At: time.Now()}))
	}
	closeTip := func(id string) {
		require.NoError(t, f.intake.Close(ctx, id, "Ana", intake.Closing{Outcome: "support_plan", Note: "met with the family", Referrals: []string{"mental_health"}}))
	}

	// The old closed tip: a picture, a message, a note, a cluster, a page log.
	img := intake.JPEGWithMetadata(t, intake.Halves(40, 30), binary.BigEndian, 1)
	old, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Category: "threat",
		Body: "Dmitri said he will bring a knife to the Friday dance", Images: [][]byte{img}})
	require.NoError(t, err)
	triageTip(old.TipID)
	require.NoError(t, f.intake.Reply(ctx, old.Token.String(), "he showed it at lunch"))
	require.NoError(t, f.intake.AddNote(ctx, old.TipID, "Ana", "spoke to the counsellor"))
	require.NoError(t, f.rdb.RPush(ctx, "notify:log:{"+old.TipID+"}", `{"team":"default"}`).Err())
	closeTip(old.TipID)

	// An SMS tip, closed too: its conversation holds the sealed number.
	sms := f.text(t, "SM1", "someone is selling vapes behind the gym")
	triageTip(sms.TipID)
	closeTip(sms.TipID)

	// Kept: a tip closed just before the purge, and an open one.
	recent, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "the bathroom mirror is broken"})
	require.NoError(t, err)
	triageTip(recent.TipID)
	open, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "kids vape in the bathroom"})
	require.NoError(t, err)
	triageTip(open.TipID)

	// Age the two tips: closed 400 days before the purge runs.
	now := time.Now().Add(400 * 24 * time.Hour)
	long := now.Add(-400 * 24 * time.Hour).Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	for _, id := range []string{old.TipID, sms.TipID} {
		require.NoError(t, f.rdb.HSet(ctx, "tip:{"+id+"}", "closed_at", long).Err())
	}
	closeTip(recent.TipID)
	require.NoError(t, f.rdb.HSet(ctx, "tip:{"+recent.TipID+"}", "closed_at", now.Add(-time.Hour).UTC().Format(time.RFC3339Nano)).Err())
	require.NotEmpty(t, f.rdb.Keys(ctx, "sms:conv:*").Val(), "the SMS conversation exists before the purge")

	r := intake.NewRetention(f.store, 365*24*time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)), clusters.Forget)
	n, err := r.Purge(ctx, now)
	require.NoError(t, err)
	require.Equal(t, 2, n, "the two tips closed 400 days ago go, nothing else")

	for _, id := range []string{old.TipID, sms.TipID} {
		for _, k := range f.rdb.Keys(ctx, "*").Val() {
			if strings.HasPrefix(k, "asynq:") {
				continue // the queue's own task records, which name the ID only
			}
			if strings.Contains(k, "}:cluster:") || strings.Contains(k, "}:cidx:") {
				// The cluster's index names the cluster, whose ID is its
				// first tip's, and goes when the cluster window ends.
				ttl := f.rdb.TTL(ctx, k).Val()
				require.True(t, ttl > 0 && ttl <= 72*time.Hour, "%s lives %v", k, ttl)
				continue
			}
			require.NotContains(t, k+"\n"+dumpKey(t, f.rdb, k), id, "a purged tip is still in Redis under %q", k)
		}
		_, err := f.store.Tip(ctx, id)
		require.True(t, errors.Is(err, intake.ErrNotFound), "tip %s: %v", id, err)
	}
	require.Empty(t, f.rdb.Keys(ctx, "sms:conv:*").Val(), "the conversation and its sealed number are gone")
	_, err = f.intake.Followup(ctx, old.Token.String())
	require.ErrorIs(t, err, intake.ErrNotFound, "the token finds nothing")

	for _, rc := range []intake.Receipt{recent, open} {
		fu, err := f.intake.Followup(ctx, rc.Token.String())
		require.NoError(t, err, "a tip inside retention is kept")
		require.Equal(t, rc.TipID, fu.TipID)
	}
	n, err = r.Purge(ctx, now)
	require.NoError(t, err)
	require.Zero(t, n, "a second purge finds nothing more")
}

// dumpKey is one key's value as text.
func dumpKey(t *testing.T, rdb *redis.Client, k string) string {
	ctx := context.Background()
	switch rdb.Type(ctx, k).Val() {
	case "string":
		return rdb.Get(ctx, k).Val()
	case "hash":
		var sb strings.Builder
		for f, v := range rdb.HGetAll(ctx, k).Val() {
			sb.WriteString(f + "=" + v + "\n")
		}
		return sb.String()
	case "list":
		return strings.Join(rdb.LRange(ctx, k, 0, -1).Val(), "\n")
	case "zset":
		return strings.Join(rdb.ZRange(ctx, k, 0, -1).Val(), "\n")
	case "set":
		return strings.Join(rdb.SMembers(ctx, k).Val(), "\n")
	}
	return ""
}

// TestRetentionLeavesTheClusterToOthers: purging the first report of an
// incident takes it out of its cluster; the later reports stay together.
func TestRetentionLeavesTheClusterToOthers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	clusters := triage.NewClusters(f.rdb, 72*time.Hour)
	first, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "Dmitri said he will bring a knife to the Friday dance"})
	require.NoError(t, err)
	second, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: "Dmitri will bring a knife to the Friday dance"})
	require.NoError(t, err)
	c1, err := clusters.Join(ctx, "lincoln-high", first.TipID, "Dmitri said he will bring a knife to the Friday dance")
	require.NoError(t, err)
	c2, err := clusters.Join(ctx, "lincoln-high", second.TipID, "Dmitri will bring a knife to the Friday dance")
	require.NoError(t, err)
	require.Equal(t, c1, c2, "one incident")
	require.NoError(t, f.rdb.HSet(ctx, "tip:{"+first.TipID+"}", "status", "closed", "cluster", c1,
		"closed_at", time.Now().Add(-48*time.Hour).UTC().Format(time.RFC3339Nano)).Err())

	n, err := intake.NewRetention(f.store, 24*time.Hour, slog.New(slog.DiscardHandler), clusters.Forget).Purge(ctx, time.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	members, err := clusters.Members(ctx, c1)
	require.NoError(t, err)
	require.Equal(t, []string{second.TipID}, members)
	_, err = f.store.Tip(ctx, second.TipID)
	require.NoError(t, err)
}
