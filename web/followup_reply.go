package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// Keys of what the reply form says after a post.
const (
	keyReplyNotSaved = "followup.problem.not_saved"
	keyReplyAdded    = "followup.notice.added"
	keyReplyAlready  = "followup.notice.already"
)

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
	lang := h.lang(c)
	p := &followupPage{
		layout:     layout{TitleKey: "followup.title.report", CSRF: csrfToken(c)},
		ReplyToken: displayToken(token),
		Once:       newOnce(),
	}
	status := http.StatusOK
	var fe *intake.FieldError
	switch {
	case errors.As(err, &fe):
		status, p.Reply, p.ReplyError = http.StatusBadRequest, body, h.fieldError(lang, formReply, fe)
	case err != nil:
		h.log.Error("reply not saved", "err", err)
		status, p.Reply, p.Problem = http.StatusServiceUnavailable, body, h.msg(lang, keyReplyNotSaved)
	case !first:
		p.Notice = h.msg(lang, keyReplyAlready)
	default:
		p.Notice = h.msg(lang, keyReplyAdded)
	}
	fu, ferr := h.intake.Followup(ctx, token)
	switch {
	case ferr == nil:
		p.View = h.followupView(lang, fu)
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
