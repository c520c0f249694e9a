package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// The REDIS_URL forms, one per way of running Redis:
//
//	redis://[[user]:password@]host:6379[/db]          one server
//	rediss://...                                      the same over TLS
//	redis-sentinel://[[user]:password@]host1:26379,host2:26379/master[/db][?sentinel_password=...]
//	rediss-sentinel://...                             the same, TLS to the master and replicas
//	redis-cluster://[[user]:password@]host1:7000,host2:7001
//	rediss-cluster://...                              the same over TLS
//
// Sentinel: the hosts are the sentinels, the path names the master set
// (as in `sentinel monitor NAME ...`); the password is the master's. With
// Cluster, any few nodes will do: the client learns the rest.
const (
	modeSingle   = "single"
	modeSentinel = "sentinel"
	modeCluster  = "cluster"
)

// redisTarget is a parsed REDIS_URL: exactly one of the option sets is set.
type redisTarget struct {
	mode     string
	single   *redis.Options
	failover *redis.FailoverOptions
	cluster  *redis.ClusterOptions
}

// parseRedisURL reads any REDIS_URL form. Its errors never hold the URL,
// which may hold a password.
func parseRedisURL(raw string) (redisTarget, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return redisTarget{}, errors.New("want redis://, rediss://, redis-sentinel:// or redis-cluster:// followed by host:port")
	}
	switch scheme {
	case "redis", "rediss", "unix":
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return redisTarget{}, err
		}
		return redisTarget{mode: modeSingle, single: opt}, nil
	case "redis-sentinel", "rediss-sentinel", "redis-cluster", "rediss-cluster":
	default:
		return redisTarget{}, fmt.Errorf("scheme %q: want redis, rediss, redis-sentinel, rediss-sentinel, redis-cluster or rediss-cluster", scheme)
	}
	useTLS := strings.HasPrefix(scheme, "rediss")
	// The authority holds several host:port pairs, which net/url does not
	// take: cut it out, and let net/url read the rest around one stand-in host.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostList := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hostList = authority[:i+1], authority[i+1:]
	}
	u, err := url.Parse("redis://" + userinfo + "hosts" + tail)
	if err != nil {
		return redisTarget{}, errors.New("cannot read it as a URL")
	}
	var addrs []string
	for _, h := range strings.Split(hostList, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" {
			return redisTarget{}, fmt.Errorf("host %d is not host:port", len(addrs)+1)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return redisTarget{}, fmt.Errorf("host %d: port %q is not a port", len(addrs)+1, port)
		}
		addrs = append(addrs, net.JoinHostPort(host, port))
	}
	user, pass := "", ""
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	q := u.Query()
	path := strings.Trim(u.Path, "/")
	var tlsConfig *tls.Config
	if useTLS {
		// No ServerName: go-redis dials with tls.DialWithDialer, which
		// checks each node's certificate against the host it dials.
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}

	if strings.HasSuffix(scheme, "-cluster") {
		if path != "" && path != "0" {
			return redisTarget{}, errors.New("Redis Cluster has only database 0: leave the path out")
		}
		for k := range q {
			return redisTarget{}, fmt.Errorf("unknown parameter %q", k)
		}
		return redisTarget{mode: modeCluster, cluster: &redis.ClusterOptions{
			Addrs: addrs, Username: user, Password: pass, TLSConfig: tlsConfig,
		}}, nil
	}
	master, dbPart, _ := strings.Cut(path, "/")
	if master == "" {
		return redisTarget{}, errors.New("name the master set in the path: redis-sentinel://host:26379,host:26380/mymaster")
	}
	db := 0
	if dbPart != "" {
		if db, err = strconv.Atoi(dbPart); err != nil || db < 0 {
			return redisTarget{}, fmt.Errorf("database %q is not a number", dbPart)
		}
	}
	fo := &redis.FailoverOptions{
		MasterName: master, SentinelAddrs: addrs, Username: user, Password: pass, DB: db, TLSConfig: tlsConfig,
	}
	for k, v := range q {
		switch k {
		case "sentinel_password":
			fo.SentinelPassword = v[0]
		case "sentinel_username":
			fo.SentinelUsername = v[0]
		default:
			return redisTarget{}, fmt.Errorf("unknown parameter %q (sentinel_password and sentinel_username are known)", k)
		}
	}
	return redisTarget{mode: modeSentinel, failover: fo}, nil
}

// client returns the go-redis client for the target. In Cluster mode it is
// wrapped so that tipline's transactions run (see slotTx).
func (t redisTarget) client() redis.UniversalClient {
	switch t.mode {
	case modeSentinel:
		return redis.NewFailoverClient(t.failover)
	case modeCluster:
		return slotTx{redis.NewClusterClient(t.cluster)}
	}
	return redis.NewClient(t.single)
}

// asynqOpt is the same Redis as asynq takes it.
func (t redisTarget) asynqOpt() asynq.RedisConnOpt {
	switch t.mode {
	case modeSentinel:
		f := t.failover
		return asynq.RedisFailoverClientOpt{
			MasterName: f.MasterName, SentinelAddrs: f.SentinelAddrs,
			SentinelUsername: f.SentinelUsername, SentinelPassword: f.SentinelPassword,
			Username: f.Username, Password: f.Password, DB: f.DB, TLSConfig: f.TLSConfig,
		}
	case modeCluster:
		c := t.cluster
		return asynq.RedisClusterClientOpt{Addrs: c.Addrs, Username: c.Username, Password: c.Password, TLSConfig: c.TLSConfig}
	}
	o := t.single
	return asynq.RedisClientOpt{
		Network: o.Network, Addr: o.Addr, Username: o.Username, Password: o.Password,
		DB: o.DB, TLSConfig: o.TLSConfig,
	}
}

// slotTx is a Redis Cluster client whose TxPipelined runs one MULTI per
// hash slot, in the order the transaction first names each slot, instead
// of refusing (go-redis answers CROSSSLOT for a transaction over several
// slots). Keys that must change together share a slot through hash tags
// (a tip's keys all carry {id}, an organisation's cluster index {org});
// what spans slots, a tip and its token, a cluster and its index, is
// written in order, each slot's part atomically. Tipline's transactions name the record first (the tip
// before the token that points at it), so a failure between two parts
// leaves an orphan record, never a pointer to nothing.
type slotTx struct{ *redis.ClusterClient }

// TxPipelined implements the ordered split described on slotTx.
func (c slotTx) TxPipelined(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error) {
	rec := c.ClusterClient.Pipeline()
	if err := fn(rec); err != nil {
		return nil, err
	}
	p, ok := rec.(*redis.Pipeline)
	if !ok {
		return nil, errors.New("redis cluster: unexpected pipeline type")
	}
	cmds := append([]redis.Cmder(nil), p.Cmds()...)
	rec.Discard()
	var order []int
	groups := map[int][]redis.Cmder{}
	for _, cmd := range cmds {
		s := cmdSlot(cmd)
		if _, seen := groups[s]; !seen {
			order = append(order, s)
		}
		groups[s] = append(groups[s], cmd)
	}
	for _, s := range order {
		_, err := c.ClusterClient.TxPipelined(ctx, func(tx redis.Pipeliner) error {
			for _, cmd := range groups[s] {
				if err := tx.Process(ctx, cmd); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return cmds, err
		}
	}
	return cmds, nil
}

// cmdSlot is the hash slot of a command's first key. Keyless commands
// count as slot -1 and run with the first group that has no key either.
func cmdSlot(cmd redis.Cmder) int {
	args := cmd.Args()
	pos := 1
	switch strings.ToLower(fmt.Sprint(args[0])) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		if len(args) < 3 || fmt.Sprint(args[2]) == "0" {
			return -1
		}
		pos = 3
	}
	if len(args) <= pos {
		return -1
	}
	return keySlot(fmt.Sprint(args[pos]))
}

// keySlot is Redis Cluster's HASH_SLOT: CRC16 (XMODEM) of the key's hash
// tag, or of the key if it has none, modulo 16384.
func keySlot(key string) int {
	if s := strings.IndexByte(key, '{'); s >= 0 {
		if e := strings.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	var crc uint16
	for i := 0; i < len(key); i++ {
		crc ^= uint16(key[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}
