package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// reportInput is the report form as posted, kept as typed: it goes back
// into the form unchanged when the report is not sent.
type reportInput struct {
	Org      string // a name from the list, an ID, or whatever was typed
	Category string
	Body     string
	Location string
	When     string
	Subject  string
	Contact  string
	Danger   string // "yes", "no", or "" when the question was left unanswered
}

// readReportForm reads the report form's text fields as posted.
func readReportForm(c echo.Context) reportInput {
	return reportInput{
		Org:      c.FormValue("org"),
		Category: c.FormValue("category"),
		Body:     c.FormValue("body"),
		Location: c.FormValue("location"),
		When:     c.FormValue("when"),
		Subject:  c.FormValue("subject"),
		Contact:  c.FormValue("contact"),
		Danger:   c.FormValue("danger"),
	}
}

// report is what goes to intake: the organisation as an ID when the typed
// text names one, and the pictures read from the upload.
func (h *handler) report(in reportInput, images [][]byte) intake.Report {
	return intake.Report{
		Channel:  intake.ChannelWeb,
		Org:      h.orgID(in.Org),
		Category: in.Category,
		Body:     in.Body,
		Location: in.Location,
		When:     in.When,
		Subject:  in.Subject,
		Contact:  in.Contact,
		Danger:   in.Danger == "yes",
		Images:   images,
	}
}

// orgID maps what a reporter typed in the organisation box to an
// organisation's ID: its name as the list offers it or its ID, in any case
// and with any spacing. Anything else goes through as typed: intake keeps
// an unknown organisation and triage sends it to the default team, because
// a misspelt school is never a reason to lose a tip.
func (h *handler) orgID(typed string) string {
	t := strings.Join(strings.Fields(typed), " ")
	for _, o := range h.orgs {
		if strings.EqualFold(t, o.ID) || strings.EqualFold(t, strings.Join(strings.Fields(o.Name), " ")) {
			return o.ID
		}
	}
	return typed
}

// orgName is an organisation's display name, or "" for an unknown ID.
func (h *handler) orgName(id string) string {
	o, _ := intake.FindOrg(h.orgs, id)
	return o.Name
}

// reportPage is the data of the report form.
type reportPage struct {
	layout
	Orgs       []intake.Org
	Categories []intake.Category
	Form       reportInput
	Error      *intake.FieldError // the field to fix, if any
	ErrorText  string             // what is wrong with it, in the page's language
	Problem    string             // why the report was not sent, when no field is at fault
	ImagesSent int                // pictures that came with the post and must be chosen again
	Once       string             // names this filling-in of the form; see onceField
	MaxImages  int
	MaxImageMB int
}

// ErrorFor is the message for a field, or "" when the field is fine.
func (p *reportPage) ErrorFor(field string) string {
	if p.Error != nil && p.Error.Field == field {
		return p.ErrorText
	}
	return ""
}

// reportForm shows an empty report form.
func (h *handler) reportForm(c echo.Context) error {
	var f reportInput
	if len(h.orgs) == 1 {
		f.Org = h.orgs[0].Name // nothing to choose
	}
	return h.renderReport(c, http.StatusOK, f, 0, nil, "")
}

// renderReport shows the report form with what the reporter typed and what,
// if anything, kept it from being sent. problem is a message key. Pictures
// cannot be put back into a file input, so when images were sent the page
// asks for them again.
func (h *handler) renderReport(c echo.Context, status int, f reportInput, images int, fe *intake.FieldError, problem string) error {
	lang := h.lang(c)
	p := &reportPage{
		layout:     layout{TitleKey: "report.title", CSRF: csrfToken(c)},
		Orgs:       h.orgs,
		Categories: intake.Categories,
		Form:       f,
		Error:      fe,
		ImagesSent: images,
		Once:       newOnce(),
		MaxImages:  intake.MaxImages,
		MaxImageMB: megabytes(intake.MaxImageBytes),
	}
	if fe != nil {
		p.ErrorText = h.fieldError(lang, formReport, fe)
	}
	if problem != "" {
		p.Problem = h.msg(lang, problem)
	}
	return h.render(c, status, "report", p)
}
