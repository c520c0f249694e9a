// Package redistest gives tests a real Redis: the one at REDIS_URL, else a
// throwaway redis-server on a free port, else the embedded in-memory store.
// Each test gets its own logical database, flushed before it runs.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// server is the Redis this test binary uses. It is set once by Main, before
// any test runs, and never changed.
var server struct {
	addr, password, kind string
}

// Main starts the Redis for a package's tests, runs them, and stops it.
// Call it from TestMain: os.Exit(redistest.Main(m)).
func Main(m *testing.M) int {
	stop, err := start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "redistest: using %s at %s\n", server.kind, server.addr)
	defer stop()
	return m.Run()
}

func start() (stop func(), err error) {
	if u := os.Getenv("REDIS_URL"); u != "" {
		opt, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		server.addr, server.password, server.kind = opt.Addr, opt.Password, "REDIS_URL"
		return func() {}, nil
	}
	if path, err := exec.LookPath("redis-server"); err == nil {
		return startServer(path)
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, err
	}
	server.addr, server.kind = mr.Addr(), "embedded miniredis (no redis-server on PATH)"
	return mr.Close, nil
}

// startServer runs a redis-server that keeps nothing on disk, on a free port.
func startServer(path string) (func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir, err := os.MkdirTemp("", "redistest")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--databases", "32")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(dir)
	}
	server.addr, server.kind = net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "throwaway redis-server"
	c := redis.NewClient(&redis.Options{Addr: server.addr})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c.Ping(context.Background()).Err() == nil {
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer", port)
		}
	}
}

// Options are the connection settings of database db on the test Redis.
func Options(db int) *redis.Options {
	return &redis.Options{Addr: server.addr, Password: server.password, DB: db}
}

// AsynqOpt is the asynq connection to database db on the test Redis.
func AsynqOpt(db int) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: server.addr, Password: server.password, DB: db}
}

// New returns a client on database db, emptied first and closed when the
// test ends. Packages use different db numbers, so that packages tested in
// parallel against one REDIS_URL do not meet.
func New(t testing.TB, db int) *redis.Client {
	t.Helper()
	if server.addr == "" {
		t.Fatal("redistest: no server; call redistest.Main from TestMain")
	}
	c := redis.NewClient(Options(db))
	require := func(err error) {
		if err != nil {
			t.Fatalf("redistest: %s db %d: %v", server.kind, db, err)
		}
	}
	require(c.FlushDB(context.Background()).Err())
	t.Cleanup(func() { c.Close() })
	return c
}

// URL is database db on the test Redis as a REDIS_URL.
func URL(db int) string {
	u := "redis://"
	if server.password != "" {
		u += ":" + server.password + "@"
	}
	return u + server.addr + "/" + strconv.Itoa(db)
}

// Dump returns every key of the client's database with its value, as text,
// for tests that check what is, and is not, kept in the clear.
func Dump(t testing.TB, rdb *redis.Client) string {
	t.Helper()
	ctx := context.Background()
	var sb strings.Builder
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatalf("redistest: dump: %v", err)
	}
	for _, k := range keys {
		sb.WriteString(k + "\n")
		switch rdb.Type(ctx, k).Val() {
		case "string":
			sb.WriteString(rdb.Get(ctx, k).Val())
		case "hash":
			for f, v := range rdb.HGetAll(ctx, k).Val() {
				sb.WriteString(f + "=" + v + "\n")
			}
		case "list":
			sb.WriteString(strings.Join(rdb.LRange(ctx, k, 0, -1).Val(), "\n"))
		case "zset":
			sb.WriteString(strings.Join(rdb.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "set":
			sb.WriteString(strings.Join(rdb.SMembers(ctx, k).Val(), "\n"))
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

// Pending lists the tasks of one type waiting in a queue of database db; a
// queue nothing was ever put on has none.
func Pending(t testing.TB, db int, queue, taskType string) []*asynq.TaskInfo {
	t.Helper()
	insp := asynq.NewInspector(AsynqOpt(db))
	defer insp.Close()
	tasks, err := insp.ListPendingTasks(queue)
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("redistest: pending %s: %v", queue, err)
	}
	var out []*asynq.TaskInfo
	for _, ti := range tasks {
		if ti.Type == taskType {
			out = append(out, ti)
		}
	}
	return out
}
