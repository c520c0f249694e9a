package main

import (
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
)

func TestParseRedisURL(t *testing.T) {
	for name, tc := range map[string]struct {
		url  string
		mode string
		want any // the asynq option it must give
	}{
		"one server": {"redis://:pw@db.internal:6380/3", modeSingle,
			asynq.RedisClientOpt{Network: "tcp", Addr: "db.internal:6380", Password: "pw", DB: 3}},
		"sentinel": {"redis-sentinel://:pw@s1:26379,s2:26380,[::1]:26381/tipmaster/2?sentinel_password=spw", modeSentinel,
			asynq.RedisFailoverClientOpt{MasterName: "tipmaster", SentinelAddrs: []string{"s1:26379", "s2:26380", "[::1]:26381"},
				SentinelPassword: "spw", Password: "pw", DB: 2}},
		"sentinel, user, db 0": {"redis-sentinel://app:pw@s1:26379/mymaster", modeSentinel,
			asynq.RedisFailoverClientOpt{MasterName: "mymaster", SentinelAddrs: []string{"s1:26379"}, Username: "app", Password: "pw"}},
		"cluster": {"redis-cluster://:pw@n1:7000,n2:7001,n3:7002", modeCluster,
			asynq.RedisClusterClientOpt{Addrs: []string{"n1:7000", "n2:7001", "n3:7002"}, Password: "pw"}},
	} {
		t.Run(name, func(t *testing.T) {
			target, err := parseRedisURL(tc.url)
			require.NoError(t, err)
			require.Equal(t, tc.mode, target.mode)
			require.Equal(t, tc.want, target.asynqOpt())
			c := target.client()
			require.NoError(t, c.Close())
		})
	}

	tlsTarget, err := parseRedisURL("rediss-cluster://n1:7000")
	require.NoError(t, err)
	require.NotNil(t, tlsTarget.cluster.TLSConfig, "rediss-cluster is TLS")

	for name, u := range map[string]string{
		"other scheme":        "mysql://x",
		"no scheme":           "db.internal:6379",
		"sentinel, no master": "redis-sentinel://:secretpw@s1:26379",
		"sentinel, bad host":  "redis-sentinel://:secretpw@s1,s2:26379/m",
		"sentinel, bad db":    "redis-sentinel://:secretpw@s1:26379/m/x",
		"sentinel, bad param": "redis-sentinel://:secretpw@s1:26379/m?pasword=secretpw",
		"cluster, a db":       "redis-cluster://:secretpw@n1:7000/2",
		"cluster, bad port":   "redis-cluster://:secretpw@n1:99999",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseRedisURL(u)
			require.Error(t, err)
			require.NotContains(t, err.Error(), "secretpw", "an error echoes the password")
		})
	}
}

// TestKeySlot checks the slot function against values Redis documents
// (CLUSTER KEYSLOT), and that hash tags group keys.
func TestKeySlot(t *testing.T) {
	require.Equal(t, 12182, keySlot("foo"))
	require.Equal(t, keySlot("somekey"), keySlot("{somekey}.x"))
	require.Equal(t, keySlot("tip:{abc}"), keySlot("tip:{abc}:timeline"))
	require.Equal(t, keySlot("user1000"), keySlot("{user1000}.following"))
}
