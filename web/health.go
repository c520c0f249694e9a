package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// healthTimeout bounds the health check's ping, so a hung Redis answers
// 503 in time for the orchestrator rather than never.
const healthTimeout = 2 * time.Second

// healthStatus is the body of /healthz.
type healthStatus struct {
	Status string `json:"status"`
}

// healthz answers 200 when Redis does: without it no report can be stored.
func (h *handler) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
	defer cancel()
	if err := h.rdb.Ping(ctx).Err(); err != nil {
		h.log.Warn("health check: redis unavailable", "err", err)
		return c.JSON(http.StatusServiceUnavailable, healthStatus{Status: "redis unavailable"})
	}
	return c.JSON(http.StatusOK, healthStatus{Status: "ok"})
}

// readyz answers 200 when this process can take reports and do its work:
// Redis answers and, in a process that runs workers, the workers are
// running. A load balancer sends reports only to ready processes; an
// orchestrator restarts only those whose /healthz fails.
func (h *handler) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), healthTimeout)
	defer cancel()
	if err := h.rdb.Ping(ctx).Err(); err != nil {
		h.log.Warn("readiness: redis unavailable", "err", err)
		return c.JSON(http.StatusServiceUnavailable, healthStatus{Status: "redis unavailable"})
	}
	if h.ready != nil {
		if err := h.ready(ctx); err != nil {
			return c.JSON(http.StatusServiceUnavailable, healthStatus{Status: "not ready: " + err.Error()})
		}
	}
	return c.JSON(http.StatusOK, healthStatus{Status: "ready"})
}

// NewOps is the HTTP face of a worker-only process: /healthz, /readyz and
// /metrics, and nothing a reporter could reach. Workers record time to
// page and Twilio errors, so they must be scraped too.
func NewOps(cfg Config) (*echo.Echo, error) {
	if cfg.Redis == nil {
		return nil, errors.New("web: ops: no redis client")
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	h := &handler{rdb: cfg.Redis, log: log, ready: cfg.Ready}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.StdLogger.SetOutput(io.Discard)
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	return e, nil
}
