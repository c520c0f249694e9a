package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
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
