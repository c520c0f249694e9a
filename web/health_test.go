package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/web"
)

// TestReadyz: /readyz adds the process's own check (its workers) to
// Redis's, and says which failed without any detail of the error.
func TestReadyz(t *testing.T) {
	var notReady error
	f := newFixture(t, func(c *web.Config, _ *fixture) {
		c.Ready = func(context.Context) error { return notReady }
	})
	rec := f.serve(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.JSONEq(t, `{"status":"ready"}`, rec.Body.String())

	notReady = errors.New("workers not started")
	rec = f.serve(httptest.NewRequest(http.MethodGet, "/readyz", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.JSONEq(t, `{"status":"not ready: workers not started"}`, rec.Body.String())
	rec = f.serve(httptest.NewRequest(http.MethodGet, "/healthz", nil))
	require.Equal(t, http.StatusOK, rec.Code, "liveness does not depend on the workers")
}

// TestOps: a worker-only process serves health, readiness and metrics,
// and nothing a reporter could reach.
func TestOps(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "tipline_test_total", Help: "x"})
	reg.MustRegister(c)
	e, err := web.NewOps(web.Config{Redis: redistest.New(t, 3), Registry: reg})
	require.NoError(t, err)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/": 404, "/report": 404, "/api/v1/orgs": 404, "/review": 404} {
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, want, rec.Code, path)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Contains(t, rec.Body.String(), "tipline_test_total 0")
	_, err = web.NewOps(web.Config{})
	require.Error(t, err, "no Redis")
}
