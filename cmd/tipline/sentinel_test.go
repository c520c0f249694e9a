package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/notify/twiliotest"
)

// TestSentinelFailover runs a web and a worker process against Redis
// Sentinel (a master, a replica and three sentinels started here), fails
// the master over, kills the old master, and checks that reports sent
// before the failover are all still there and that a report sent after it
// is stored, triaged and paged, through REDIS_URL=redis-sentinel://...
func TestSentinelFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts five Redis processes and two tipline processes")
	}
	needBinaries(t, "redis-server", "redis-sentinel")
	ctx := context.Background()
	const set = "tipmaster"

	master := startRedisNode(t, "redis-server", "")
	replica := startRedisNode(t, "redis-server", "", "--replicaof", "127.0.0.1", strconv.Itoa(master.port))
	var sentinels []*redisNode
	var addrs []string
	for range 3 {
		s := startRedisNode(t, "redis-sentinel", fmt.Sprintf(
			"sentinel monitor %s 127.0.0.1 %d 2\nsentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 10000\n",
			set, master.port, set, set))
		sentinels = append(sentinels, s)
		addrs = append(addrs, s.addr)
	}
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0].addr})
	defer sc.Close()
	// Ready for a failover: the sentinels know the replica and each other.
	waitFor(t, time.Minute, func() bool {
		reps, err := sc.Replicas(ctx, set).Result()
		if err != nil || len(reps) != 1 || strings.Contains(reps[0]["flags"], "disconnected") || reps[0]["master-link-status"] != "ok" {
			return false
		}
		others, err := sc.Sentinels(ctx, set).Result()
		return err == nil && len(others) == 2
	}, "the sentinels never saw the replica and each other")

	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	bin := buildTipline(t)
	e := testEnv(t, tw)
	e["REDIS_URL"] = "redis-sentinel://" + strings.Join(addrs, ",") + "/" + set + "/0"
	target, err := parseRedisURL(e["REDIS_URL"])
	require.NoError(t, err)
	rdb := target.client()
	defer rdb.Close()
	web := startProc(t, bin, "web", withRole(e, "web"))
	worker := startProc(t, bin, "worker", withRole(e, "worker"))

	// Before: one report per incident, all triaged and paged.
	began := time.Now()
	before := submitReports(t, []string{web.url}, 1, 4)
	fig := checkPipeline(t, rdb, target.asynqOpt(), e, tw, before, began)

	// The replica has everything, then takes over; the old master dies.
	mc, rc := master.client(t), replica.client(t)
	waitFor(t, 30*time.Second, func() bool {
		return replOffset(ctx, mc, "master_repl_offset") == replOffset(ctx, rc, "slave_repl_offset")
	}, "the replica never caught up")
	require.NoError(t, sc.Failover(ctx, set).Err())
	waitFor(t, time.Minute, func() bool {
		a, err := sc.GetMasterAddrByName(ctx, set).Result()
		return err == nil && a[1] == strconv.Itoa(replica.port)
	}, "the sentinels never promoted the replica")
	master.kill()
	t.Logf("failed over from %s to %s, old master killed", master.addr, replica.addr)

	// Nothing stored before the failover is lost.
	keys := keyringOf(t, e)
	store := intake.NewStore(rdb, keys)
	for _, r := range before {
		tok, _ := intake.ParseToken(r.token)
		id, err := rdb.Get(ctx, "token:"+keys.Hash("token", string(tok))).Result()
		require.NoError(t, err, "a token from before the failover")
		_, err = store.Tip(ctx, id)
		require.NoError(t, err)
	}

	// After: a critical report is taken (a 503 while the clients move to
	// the new master is allowed: the reporter is told to try again and no
	// token is given), stored, triaged and paged.
	var token string
	refused := 0
	waitFor(t, time.Minute, func() bool {
		code, out, err := tryPostJSON(web.url+"/api/v1/reports", map[string]any{"org": "lincoln-high",
			"body": "Quinn says she will burn down the library at 3pm today with gasoline"})
		if err == nil && code == http.StatusCreated {
			token, _ = out["token"].(string)
			return true
		}
		require.NoError(t, err)
		require.Equal(t, http.StatusServiceUnavailable, code, "%v", out)
		refused++
		return false
	}, "no report was taken after the failover")
	t.Logf("after the failover: %d report(s) refused with 503 before one was taken", refused)
	tok, _ := intake.ParseToken(token)
	id, err := rdb.Get(ctx, "token:"+keys.Hash("token", string(tok))).Result()
	require.NoError(t, err, "the report taken after the failover is not stored")
	waitFor(t, time.Minute, func() bool {
		tip, err := store.Tip(ctx, id)
		require.NoError(t, err)
		return tip.Status != intake.StatusReceived && tip.Urgency == "critical"
	}, "the report taken after the failover was never triaged")
	waitFor(t, time.Minute, func() bool {
		for _, m := range smsPages(tw) {
			if strings.Contains(m.Body, "/review/tips/"+id) {
				return true
			}
		}
		return false
	}, "the report taken after the failover never paged (%d pages before it)", fig.pages)

	for _, p := range []*proc{web, worker} {
		p.stop(t)
		requireNoSecretsLogged(t, p, before)
	}
}

// replOffset reads one offset from INFO replication.
func replOffset(ctx context.Context, c *redis.Client, field string) int64 {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return -2
}
