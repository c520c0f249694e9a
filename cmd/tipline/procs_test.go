package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests in this file's neighbours run tipline as operators do: the
// binary, built once per test, started as separate processes with only
// the environment the README documents.

// buildTipline builds the tipline binary into the test's temporary folder.
func buildTipline(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tipline")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// freePort returns a TCP port nobody listens on at the moment of asking.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// proc is one running `tipline serve` process.
type proc struct {
	name string
	url  string // a worker-only process serves only /healthz, /readyz and /metrics
	cmd  *exec.Cmd
	logs *lockedWriter
	done chan error // the exit, put back by whoever reads it

	stopped bool
}

// startProc runs `tipline serve` with exactly the environment e (plus
// PATH), with TIPLINE_ROLE as e says, and waits until its /readyz answers
// 200. The process gets SIGTERM when the test ends.
func startProc(t testing.TB, bin, name string, e env) *proc {
	t.Helper()
	port := freePort(t)
	vars := []string{"PATH=" + os.Getenv("PATH"), "TIPLINE_ADDR=127.0.0.1:" + strconv.Itoa(port), "TIPLINE_LOG_FORMAT=json"}
	for k, v := range e {
		vars = append(vars, k+"="+v)
	}
	p := &proc{name: name, logs: &lockedWriter{w: &bytes.Buffer{}}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = vars
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	// A test binary killed by its timeout takes its processes with it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, p.cmd.Start())
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t) })

	// Every role serves /readyz: a worker once its workers run.
	p.url = "http://127.0.0.1:" + strconv.Itoa(port)
	ready := func() bool {
		resp, err := (&http.Client{Timeout: 2 * time.Second}).Get(p.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
	for !ready() {
		select {
		case err := <-p.done:
			p.done <- err
			t.Fatalf("%s exited before it was ready (%v):\n%s", name, err, p.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return p
}

// withRole is e with TIPLINE_ROLE set.
func withRole(e env, role string) env {
	out := env{"TIPLINE_ROLE": role}
	for k, v := range e {
		if k != "TIPLINE_ROLE" {
			out[k] = v
		}
	}
	return out
}

// stop sends SIGTERM and waits for a graceful exit; it kills a process
// that is still running after 30 seconds and fails the test.
func (p *proc) stop(t testing.TB) {
	if p.stopped {
		return
	}
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Errorf("%s did not exit cleanly: %v\n%s", p.name, err, p.logs.String())
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Errorf("%s ignored SIGTERM for 30 s", p.name)
	}
}

// waitFor polls cond until it holds, failing the test with msg after
// limit: a bound on a hang, not a timing assertion.
func waitFor(t testing.TB, limit time.Duration, cond func() bool, msg string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf(msg, args...)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
