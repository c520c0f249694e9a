package main

import (
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHealthAndReadiness: /healthz and /readyz answer 200 while Redis
// does, 503 once it is gone (a load balancer stops sending reports, an
// orchestrator restarts), and 200 again when it is back.
func TestHealthAndReadiness(t *testing.T) {
	needBinaries(t, "redis-server")
	node := startRedisNode(t, "redis-server", "")
	e := testEnv(t, nil)
	e["REDIS_URL"] = "redis://" + node.addr + "/0"
	s := startServer(t, e)
	status := func(path string) int {
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(s.url + path)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusOK, status("/healthz"))
	require.Equal(t, http.StatusOK, status("/readyz"), "Redis answers and the workers run")

	node.kill()
	require.Equal(t, http.StatusServiceUnavailable, status("/healthz"))
	require.Equal(t, http.StatusServiceUnavailable, status("/readyz"))

	// The same Redis comes back on the same port.
	again := exec.Command("redis-server", "--port", strconv.Itoa(node.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir())
	again.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, again.Start())
	t.Cleanup(func() { _ = again.Process.Kill(); _ = again.Wait() })
	waitFor(t, 30*time.Second, func() bool { return status("/readyz") == http.StatusOK }, "/readyz never recovered")
	require.Equal(t, http.StatusOK, status("/healthz"))
	require.NoError(t, s.stop())
}
