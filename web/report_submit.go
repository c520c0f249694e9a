package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// notSavedPage tells a reporter their report did not reach storage.
const notSavedPage = "Your report was NOT saved: our system could not store it just now. Your text is still below. Please press Send again in a moment. If someone is in danger right now, call 911."

// tooManyPage tells a reporter they hit the report rate limit.
const tooManyPage = "Too many reports have come from your connection in the last minute, so this one was NOT sent. Your text is still below. Wait a minute, then press Send again. If someone is in danger right now, call 911."

// receiptPage is the data of the receipt shown after a report is stored.
type receiptPage struct {
	layout
	Token    string // grouped for reading: XXXX-XXXX-XXXX-XXXX
	Danger   bool   // the reporter said someone is in danger now
	SelfHarm bool
	OrgName  string
	// AlreadySent: this form was posted before; its token was shown then.
	AlreadySent bool
}

// reportSubmit takes a report from the form.
func (h *handler) reportSubmit(c echo.Context) error {
	f := readReportForm(c)
	// The limit is checked here rather than in middleware so that a
	// reporter who is refused gets their text back, not an error page.
	if ok, wait := h.allow(c, bucketReport, h.rateLimit); !ok {
		setRetryAfter(c, wait)
		return h.renderReport(c, http.StatusTooManyRequests, f, nil, tooManyPage)
	}
	if !h.firstSend(c, "report") {
		// The receipt was reloaded, or Send pressed twice. The token was
		// shown once and is kept only as a hash: it cannot be shown again.
		return h.render(c, http.StatusConflict, "receipt", receiptPage{
			layout: layout{Title: "Report already received"}, AlreadySent: true, Danger: f.Danger,
		})
	}
	receipt, err := h.intake.Submit(c.Request().Context(), f)
	var fe *intake.FieldError
	switch {
	case errors.As(err, &fe):
		h.metrics.report(intake.ChannelWeb, resultInvalid)
		return h.renderReport(c, http.StatusBadRequest, f, fe, "")
	case err != nil:
		h.metrics.report(intake.ChannelWeb, resultUnavailable)
		h.log.Error("report not saved", "channel", intake.ChannelWeb, "err", err)
		return h.renderReport(c, http.StatusServiceUnavailable, f, nil, notSavedPage)
	}
	h.metrics.report(intake.ChannelWeb, resultStored)

	// The receipt is the answer to the POST itself, which breaks
	// Post/Redirect/Get on purpose. A redirect would have to carry the token
	// to the next page, in the URL (kept in history, logs and Referer) or in
	// a cookie (stored on the device); both leave a trace of the report
	// that DESIGN.md forbids. A reload may offer to post the form again;
	// that would make a second report, which triage clusters with the
	// first, and is far better than a token left behind.
	return h.render(c, http.StatusCreated, "receipt", receiptPage{
		layout:   layout{Title: "Report received"},
		Token:    receipt.Token.String(),
		Danger:   f.Danger,
		SelfHarm: f.Category == "self_harm",
		OrgName:  h.orgName(f.Org),
	})
}

// orgName is an organisation's display name, or "" for an unknown ID.
func (h *handler) orgName(id string) string {
	for _, o := range h.orgs {
		if o.ID == id {
			return o.Name
		}
	}
	return ""
}
