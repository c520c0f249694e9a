package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// keyAPINoMatch is the one answer to any token that finds no report.
// Every such answer in a language is byte for byte the same, whatever was
// wrong with the token.
const keyAPINoMatch = "api.no_match"

// keyAPILookupFailed says a token could not be checked for reasons of ours.
const keyAPILookupFailed = "api.lookup_failed"

// keyAPIMessageNotSaved says a reporter's message did not reach storage.
const keyAPIMessageNotSaved = "api.message_not_saved"

// followupRequest is the body of POST /api/v1/followup.
type followupRequest struct {
	Token string `json:"token"`
}

// followupResponse is a report's status and conversation.
type followupResponse struct {
	Status   intake.Status    `json:"status"`
	Messages []intake.Message `json:"messages"`
}

// messageRequest is the body of POST /api/v1/followup/messages.
type messageRequest struct {
	Token string `json:"token"`
	Body  string `json:"body"`
}

// messageResponse confirms a stored message.
type messageResponse struct {
	Status string `json:"status"`
}

// tokenProblem answers a failed token look-up.
func (h *handler) tokenProblem(err error) error {
	if errors.Is(err, intake.ErrNotFound) {
		return problem(http.StatusNotFound, "", keyAPINoMatch)
	}
	h.log.Error("follow-up look-up failed", "err", err)
	return problem(http.StatusServiceUnavailable, "", keyAPILookupFailed)
}

// apiFollowup answers a reporter checking back with their token.
func (h *handler) apiFollowup(c echo.Context) error {
	var req followupRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	fu, err := h.intake.Followup(c.Request().Context(), req.Token)
	if err != nil {
		return h.tokenProblem(err)
	}
	msgs := fu.Messages
	if msgs == nil {
		msgs = []intake.Message{} // "messages": [] rather than null, for clients
	}
	return c.JSON(http.StatusOK, followupResponse{Status: fu.Status, Messages: msgs})
}

// apiFollowupMessage adds a reporter's message to their report.
func (h *handler) apiFollowupMessage(c echo.Context) error {
	var req messageRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	err := h.intake.Reply(c.Request().Context(), req.Token, req.Body)
	var fe *intake.FieldError
	switch {
	case errors.As(err, &fe):
		return fieldProblem(formReply, fe)
	case errors.Is(err, intake.ErrNotFound):
		return h.tokenProblem(err)
	case err != nil:
		h.log.Error("reply not saved", "err", err)
		return problem(http.StatusServiceUnavailable, "", keyAPIMessageNotSaved)
	}
	return c.JSON(http.StatusCreated, messageResponse{Status: "received"})
}
