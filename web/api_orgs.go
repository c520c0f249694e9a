package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// orgsResponse lists what a report can name.
type orgsResponse struct {
	Orgs       []intake.Org      `json:"orgs"`
	Categories []intake.Category `json:"categories"`
}

// apiOrgs lists the organisations and categories a report can name, so an
// app can offer the same choices as the form.
func (h *handler) apiOrgs(c echo.Context) error {
	orgs := h.orgs
	if orgs == nil {
		orgs = []intake.Org{}
	}
	return c.JSON(http.StatusOK, orgsResponse{Orgs: orgs, Categories: intake.Categories})
}
