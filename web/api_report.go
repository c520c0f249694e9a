package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// keyAPINotSaved is the answer when a report could not be stored. It never
// comes with a token: a token is only ever given for a stored report.
const keyAPINotSaved = "api.not_saved"

// reportRequest is the body of POST /api/v1/reports.
type reportRequest struct {
	Org      string `json:"org"`
	Category string `json:"category"`
	Body     string `json:"body"`
	Location string `json:"location"`
	When     string `json:"when"`
	Subject  string `json:"subject"`
	Danger   bool   `json:"danger"`
}

// reportResponse is the answer to a stored report.
type reportResponse struct {
	Token  string        `json:"token"`
	Status intake.Status `json:"status"`
}

// apiReport takes a report as JSON.
func (h *handler) apiReport(c echo.Context) error {
	var req reportRequest
	if err := decodeJSON(c, &req); err != nil {
		h.metrics.report(intake.ChannelAPI, resultInvalid)
		return err
	}
	receipt, err := h.intake.Submit(c.Request().Context(), intake.Report{
		Channel: intake.ChannelAPI, Org: req.Org, Category: req.Category, Body: req.Body,
		Location: req.Location, When: req.When, Subject: req.Subject, Danger: req.Danger,
	})
	var fe *intake.FieldError
	switch {
	case errors.As(err, &fe):
		h.metrics.report(intake.ChannelAPI, resultInvalid)
		return fieldProblem(formReport, fe)
	case err != nil:
		// ErrUnavailable or anything else: the report is not known to be
		// stored, so the client must try again and gets no token.
		h.metrics.report(intake.ChannelAPI, resultUnavailable)
		h.log.Error("report not saved", "channel", intake.ChannelAPI, "err", err)
		return problem(http.StatusServiceUnavailable, "", keyAPINotSaved)
	}
	h.metrics.report(intake.ChannelAPI, resultStored)
	return c.JSON(http.StatusCreated, reportResponse{Token: receipt.Token.String(), Status: receipt.Status})
}
