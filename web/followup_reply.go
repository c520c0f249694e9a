package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// replyNotSavedPage says a reply did not reach storage.
const replyNotSavedPage = "Your message was NOT saved: our system could not store it just now. Your text is still below. Please press Send again in a moment. If someone is in danger right now, call 911."

// followupReply adds a reporter's message to their report's conversation
// and shows the conversation again.
func (h *handler) followupReply(c echo.Context) error {
	ctx := c.Request().Context()
	token, body := c.FormValue("token"), c.FormValue("body")
	var err error
	first := h.firstSend(c, "reply")
	if first {
		err = h.intake.Reply(ctx, token, body)
	}
	if errors.Is(err, intake.ErrNotFound) {
		return h.followupFailed(c, token, err)
	}
	p := followupPage{
		layout:     layout{Title: "Your report", CSRF: csrfToken(c)},
		ReplyToken: displayToken(token),
		Once:       newOnce(),
	}
	status := http.StatusOK
	var fe *intake.FieldError
	switch {
	case errors.As(err, &fe):
		status, p.Reply, p.ReplyError = http.StatusBadRequest, body, fe.Message
	case err != nil:
		h.log.Error("reply not saved", "err", err)
		status, p.Reply, p.Problem = http.StatusServiceUnavailable, body, replyNotSavedPage
	case !first:
		p.Notice = "Your message was already added; it was not added twice."
	default:
		p.Notice = "Your message was added. The team will see it."
	}
	fu, ferr := h.intake.Followup(ctx, token)
	switch {
	case ferr == nil:
		p.View = newFollowupView(fu)
	case errors.Is(ferr, intake.ErrNotFound):
		// A bad token with an empty message fails on the message first;
		// it still gets the answer every unknown token gets.
		return h.followupFailed(c, token, ferr)
	case err == nil:
		// The message is stored; only showing the conversation failed.
		h.log.Error("follow-up look-up failed", "err", ferr)
	}
	return h.render(c, status, "followup", p)
}
