package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// homePage is the data of the home page: the layout is all it needs.
type homePage struct{ layout }

// home says what tipline is, who reads a report and how fast, what stays
// anonymous, and where to go.
func (h *handler) home(c echo.Context) error {
	return h.render(c, http.StatusOK, "home", &homePage{layout{TitleKey: "home.title"}})
}

// favicon answers the request every browser makes for /favicon.ico with
// nothing, so it does not fill logs and consoles with 404s. The site has
// no icon: one more file to fetch on a slow phone is not worth it.
func (h *handler) favicon(c echo.Context) error {
	return c.NoContent(http.StatusNoContent)
}
