package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// noMatchAPI is the one answer to any token that finds no report. Every
// such answer is byte for byte the same, whatever was wrong with the token.
const noMatchAPI = "No report matches that token."

// lookupFailedAPI says a token could not be checked for reasons of ours.
const lookupFailedAPI = "Your report could not be looked up right now. Please try again. If someone is in danger right now, call 911."

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
		return problem(http.StatusNotFound, noMatchAPI, "")
	}
	h.log.Error("follow-up look-up failed", "err", err)
	return problem(http.StatusServiceUnavailable, lookupFailedAPI, "")
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
		return problem(http.StatusBadRequest, fe.Message, fe.Field)
	case errors.Is(err, intake.ErrNotFound):
		return h.tokenProblem(err)
	case err != nil:
		h.log.Error("reply not saved", "err", err)
		return problem(http.StatusServiceUnavailable, "Your message could not be saved. Please try again. If someone is in danger right now, call 911.", "")
	}
	return c.JSON(http.StatusCreated, messageResponse{Status: "received"})
}
