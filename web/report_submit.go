package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// Keys of what the report form says when a report was not sent.
const (
	keyNotSaved       = "report.problem.not_saved"
	keyTooMany        = "report.problem.too_many"
	keyFormExpired    = "report.problem.expired"
	keyUploadTooLarge = "report.problem.upload_too_large"
	keyImagesAgain    = "report.images.again"
)

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
	up := uploadOf(c)
	// The limit is checked here rather than in middleware so that a
	// reporter who is refused gets their text back, not an error page.
	if ok, wait := h.allow(c, bucketReport, h.rateLimit); !ok {
		setRetryAfter(c, wait)
		return h.renderReport(c, http.StatusTooManyRequests, f, up.sent, nil, keyTooMany)
	}
	if up.tooLarge {
		h.metrics.report(intake.ChannelWeb, resultInvalid)
		return h.renderReport(c, http.StatusRequestEntityTooLarge, f, up.sent, nil, keyUploadTooLarge)
	}
	if !h.firstSend(c, "report") {
		// The receipt was reloaded, or Send pressed twice. The token was
		// shown once and is kept only as a hash: it cannot be shown again.
		return h.render(c, http.StatusConflict, "receipt", &receiptPage{
			layout: layout{TitleKey: "receipt.already.title"}, AlreadySent: true, Danger: f.Danger == "yes",
		})
	}
	r := h.report(f, up.images)
	receipt, err := h.intake.Submit(c.Request().Context(), r)
	var fe *intake.FieldError
	switch {
	case errors.As(err, &fe):
		h.metrics.report(intake.ChannelWeb, resultInvalid)
		return h.renderReport(c, http.StatusBadRequest, f, up.sent, fe, "")
	case err != nil:
		h.metrics.report(intake.ChannelWeb, resultUnavailable)
		h.log.Error("report not saved", "channel", intake.ChannelWeb, "err", err)
		return h.renderReport(c, http.StatusServiceUnavailable, f, up.sent, nil, keyNotSaved)
	}
	h.metrics.report(intake.ChannelWeb, resultStored)

	// The receipt is the answer to the POST itself, which breaks
	// Post/Redirect/Get on purpose. A redirect would have to carry the token
	// to the next page, in the URL (kept in history, logs and Referer) or in
	// a cookie (stored on the device); both leave a trace of the report
	// that DESIGN.md forbids. A reload may offer to post the form again;
	// the once field makes that a page saying so, not a second report.
	//
	// For the same reason the receipt cannot be shown again in another
	// language: its switcher opens the home page in a new tab, so the
	// token stays on the screen.
	return h.render(c, http.StatusCreated, "receipt", &receiptPage{
		layout:   layout{TitleKey: "receipt.title", Script: true, switchTo: "/", switchNewTab: true},
		Token:    receipt.Token.String(),
		Danger:   r.Danger,
		SelfHarm: r.Category == "self_harm",
		OrgName:  h.orgName(r.Org),
	})
}
