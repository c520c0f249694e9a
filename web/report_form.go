package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// readReportForm reads the report form as posted. The same value goes to
// intake and, when the report is sent back, into the form again unchanged.
func readReportForm(c echo.Context) intake.Report {
	return intake.Report{
		Channel:  intake.ChannelWeb,
		Org:      c.FormValue("org"),
		Category: c.FormValue("category"),
		Body:     c.FormValue("body"),
		Location: c.FormValue("location"),
		When:     c.FormValue("when"),
		Subject:  c.FormValue("subject"),
		Danger:   c.FormValue("danger") == "yes",
	}
}

// reportPage is the data of the report form.
type reportPage struct {
	layout
	Orgs       []intake.Org
	Categories []intake.Category
	Form       intake.Report
	Error      *intake.FieldError // the field to fix, if any
	Problem    string             // why the report was not sent, when no field is at fault
	Once       string             // names this filling-in of the form; see onceField
}

// ErrorFor is the message for a field, or "" when the field is fine.
func (p reportPage) ErrorFor(field string) string {
	if p.Error != nil && p.Error.Field == field {
		return p.Error.Message
	}
	return ""
}

// reportForm shows an empty report form.
func (h *handler) reportForm(c echo.Context) error {
	var f intake.Report
	if len(h.orgs) == 1 {
		f.Org = h.orgs[0].ID // nothing to choose
	}
	return h.renderReport(c, http.StatusOK, f, nil, "")
}

// renderReport shows the report form with what the reporter typed and what,
// if anything, kept it from being sent.
func (h *handler) renderReport(c echo.Context, status int, f intake.Report, fe *intake.FieldError, problem string) error {
	return h.render(c, status, "report", reportPage{
		layout:     layout{Title: "Make a report", CSRF: csrfToken(c)},
		Orgs:       h.orgs,
		Categories: intake.Categories,
		Form:       f,
		Error:      fe,
		Problem:    problem,
		Once:       newOnce(),
	})
}
