package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// redisNode is a redis-server or redis-sentinel this test started.
type redisNode struct {
	port int
	addr string
	cmd  *exec.Cmd
	out  *lockedWriter
}

// needBinaries skips the test, saying which, when a Redis program it
// starts is not installed (Debian: redis-server, redis-sentinel, redis-tools).
func needBinaries(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			t.Skipf("%s is not on PATH (Debian package %s): this test starts its own", n, map[string]string{
				"redis-server": "redis-server", "redis-sentinel": "redis-sentinel", "redis-cli": "redis-tools",
			}[n])
		}
	}
}

// startRedisNode runs program (redis-server or redis-sentinel) on a free
// port in its own folder, keeping nothing on disk but what args ask for,
// and waits until it answers PING. It is killed when the test ends.
func startRedisNode(t *testing.T, program string, conf string, args ...string) *redisNode {
	t.Helper()
	port := freePort(t)
	dir := t.TempDir()
	var argv []string
	if conf != "" {
		path := filepath.Join(dir, "node.conf")
		require.NoError(t, os.WriteFile(path, []byte(conf), 0o600))
		argv = append(argv, path)
	}
	argv = append(argv, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir)
	if program == "redis-server" {
		argv = append(argv, "--save", "", "--appendonly", "no")
	}
	argv = append(argv, args...)
	n := &redisNode{port: port, addr: "127.0.0.1:" + strconv.Itoa(port), out: &lockedWriter{w: &bytes.Buffer{}}}
	n.cmd = exec.Command(program, argv...)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, n.cmd.Start())
	t.Cleanup(n.kill)
	c := redis.NewClient(&redis.Options{Addr: n.addr})
	defer c.Close()
	waitFor(t, 20*time.Second, func() bool { return c.Ping(context.Background()).Err() == nil },
		"%s on %s did not answer:\n%s", program, n.addr, n.out.String())
	return n
}

// kill stops the node at once, as a crash would.
func (n *redisNode) kill() {
	if n.cmd.Process != nil && n.cmd.ProcessState == nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
	}
}

// client is a plain client of the node.
func (n *redisNode) client(t *testing.T) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: n.addr})
	t.Cleanup(func() { c.Close() })
	return c
}
