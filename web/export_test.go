package web

import (
	"time"

	"github.com/labstack/echo/v4"
)

// NewWithClock is New with a fixed clock, so rate-limit tests do not
// depend on where in a minute they run.
func NewWithClock(cfg Config, now func() time.Time) (*echo.Echo, error) {
	return newServer(cfg, now)
}
