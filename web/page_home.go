package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// home says what tipline is and where to go.
func (h *handler) home(c echo.Context) error {
	return h.render(c, http.StatusOK, "home", struct{ layout }{layout{Title: "Tell someone safely"}})
}
