package main

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/notify/twiliotest"
)

// TestRedisCluster runs a web and a worker process against a local Redis
// Cluster of three masters (REDIS_URL=redis-cluster://...) and sends the
// same reports as the two-by-two test: every report stored and triaged
// once, each incident in one cluster, each paged once. Transactions over
// keys in several hash slots run slot by slot (redis.go, slotTx).
func TestRedisCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three Redis processes and two tipline processes")
	}
	needBinaries(t, "redis-server", "redis-cli")
	ctx := context.Background()
	var nodes []*redisNode
	var addrs []string
	for range 3 {
		n := startRedisNode(t, "redis-server", "", "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000")
		nodes = append(nodes, n)
		addrs = append(addrs, n.addr)
	}
	out, err := exec.Command("redis-cli", append(append([]string{"--cluster", "create"}, addrs...), "--cluster-yes")...).CombinedOutput()
	require.NoError(t, err, "redis-cli --cluster create: %s", out)
	for _, n := range nodes {
		c := n.client(t)
		waitFor(t, 30*time.Second, func() bool {
			info, err := c.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok")
		}, "node %s: the cluster never became ok", n.addr)
	}

	// tipline's slot function agrees with the cluster's.
	c := nodes[0].client(t)
	for _, k := range []string{"tip:{01J0ABCDEF}", "token:ab12", "tips:received", "triage:cidx:lincoln-high:name:marcus", "asynq:{critical}:pending"} {
		require.EqualValues(t, c.ClusterKeySlot(ctx, k).Val(), keySlot(k), "slot of %q", k)
	}

	// A transaction over two slots: go-redis alone refuses it; tipline's
	// client writes it slot by slot, in order.
	plain := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer plain.Close()
	twoSlots := func(p redis.Pipeliner) error {
		p.Set(ctx, "tip:{x1}", "record", 0)
		p.Set(ctx, "token:x1", "tip:{x1}", 0)
		return nil
	}
	_, err = plain.TxPipelined(ctx, twoSlots)
	require.ErrorIs(t, err, redis.ErrCrossSlot, "go-redis's own cluster transactions")
	split := slotTx{plain}
	_, err = split.TxPipelined(ctx, twoSlots)
	require.NoError(t, err)
	require.Equal(t, "tip:{x1}", plain.Get(ctx, "token:x1").Val())

	tw := twiliotest.New(twilioSID, twilioToken)
	defer tw.Close()
	bin := buildTipline(t)
	e := testEnv(t, tw)
	e["REDIS_URL"] = "redis-cluster://" + addrs[0] + "," + addrs[1]
	target, err := parseRedisURL(e["REDIS_URL"])
	require.NoError(t, err)
	rdb := target.client()
	defer rdb.Close()
	web := startProc(t, bin, "web", withRole(e, "web"))
	worker := startProc(t, bin, "worker", withRole(e, "worker"))

	began := time.Now()
	reports := submitReports(t, []string{web.url}, 2, 12)
	fig := checkPipeline(t, rdb, target.asynqOpt(), e, tw, reports, began)
	t.Logf("Redis Cluster (3 masters): %d reports, %d urgent clusters, %d pages", fig.tips, fig.urgentClusters, fig.pages)

	// The follow-up path reads the token and the tip from different slots.
	code, body := postJSON(t, web.url+"/api/v1/followup", map[string]any{"token": reports[0].token})
	require.Equal(t, 200, code, "%v", body)
	require.Equal(t, "assigned", body["status"])
	code, body = postJSON(t, web.url+"/api/v1/followup/messages", map[string]any{"token": reports[0].token, "body": "one more thing"})
	require.Equal(t, 201, code, "%v", body)

	for _, p := range []*proc{web, worker} {
		p.stop(t)
		require.NotContains(t, p.logs.String(), "CROSSSLOT", "%s hit a cross-slot command", p.name)
		require.NotContains(t, p.logs.String(), `"level":"ERROR"`, "%s logged an error", p.name)
		requireNoSecretsLogged(t, p, reports)
	}
}
