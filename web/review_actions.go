package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/web/account"
)

// The tip's actions are plain form posts (with the CSRF token the group
// checks), answered Post/Redirect/Get. Each one first loads the tip as the
// reviewer may see it, so a tip of another team is a 404 before anything
// is read from the form. The change lands on the tip's timeline with the
// reviewer's name, and in the audit log; a refused form comes back with
// what the reviewer typed.

// actionDone redirects to the tip's page, which says what was done.
func actionDone(c echo.Context, t *intake.Tip, what string) error {
	return c.Redirect(http.StatusSeeOther, "/review/tips/"+t.ID+"?done="+what)
}

// actionRefused shows the tip's page again with why the action was
// refused; fill keeps what the reviewer typed.
func (h *handler) actionRefused(c echo.Context, t *intake.Tip, problem string, fill func(*tipPage)) error {
	p, err := h.tipData(c, t)
	if err != nil {
		return err
	}
	p.Problem = problem
	if fill != nil {
		fill(p)
	}
	// The page shows the tip again: that is a view.
	if err := h.audit(c, "tip.view", t.ID, "after a refused action"); err != nil {
		return err
	}
	return h.renderReview(c, http.StatusBadRequest, "review_tip", p)
}

// actionProblem is what a reviewer is told about a refused text field.
func actionProblem(err error) (string, bool) {
	var fe *intake.FieldError
	if !errors.As(err, &fe) {
		return "", false
	}
	return fe.Message, true
}

// reviewAck acknowledges a tip: the pager stops escalating, and the
// timeline records who acknowledged it and when.
func (h *handler) reviewAck(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	me := reviewerOf(c)
	start := h.now()
	if h.acker != nil {
		if err := h.acker.AckTip(ctx, t.ID, me.Name); err != nil {
			return err
		}
	}
	if err := h.intake.Acknowledge(ctx, t.ID, me.Name, start); err != nil {
		return err
	}
	if err := h.audit(c, "tip.ack", t.ID, ""); err != nil {
		return err
	}
	return actionDone(c, t, "ack")
}

// reviewAssign assigns the tip to an active reviewer of one of its teams.
func (h *handler) reviewAssign(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	who, err := h.accounts.Get(ctx, c.FormValue("reviewer"))
	if errors.Is(err, account.ErrNotFound) {
		return badRequest()
	}
	if err != nil {
		return err
	}
	if !slices.Contains(h.assignable([]*account.Reviewer{who}, t), who) {
		return badRequest() // the menu offers only the tip's teams' reviewers
	}
	if err := h.intake.Assign(ctx, t.ID, who.Name, reviewerOf(c).Name); err != nil {
		return err
	}
	if err := h.audit(c, "tip.assign", t.ID, who.ID); err != nil {
		return err
	}
	return actionDone(c, t, "assign")
}

// reviewStatus moves the tip to another open status, or reopens it.
func (h *handler) reviewStatus(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	to := intake.Status(c.FormValue("status"))
	err = h.intake.SetStatus(c.Request().Context(), t.ID, to, reviewerOf(c).Name)
	if errors.Is(err, intake.ErrBadChange) {
		return badRequest()
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "tip.status", t.ID, string(to)); err != nil {
		return err
	}
	return actionDone(c, t, "status")
}

// reviewNote adds an internal note, which reporters never see.
func (h *handler) reviewNote(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	err = h.intake.AddNote(c.Request().Context(), t.ID, reviewerOf(c).Name, body)
	if msg, ok := actionProblem(err); ok {
		return h.actionRefused(c, t, "The note was not added.", func(p *tipPage) { p.NoteText, p.NoteError = body, msg })
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "tip.note", t.ID, ""); err != nil {
		return err
	}
	return actionDone(c, t, "note")
}

// reviewMessage sends a message to the reporter: they read it on the
// follow-up page with their token, or get it by text if they reported by
// text.
func (h *handler) reviewMessage(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	if h.messenger == nil {
		return echo.ErrNotFound
	}
	ctx := c.Request().Context()
	me := reviewerOf(c)
	body := c.FormValue("body")
	err = h.messenger.MessageReporter(ctx, t.ID, body)
	if msg, ok := actionProblem(err); ok {
		return h.actionRefused(c, t, "The message was not sent.", func(p *tipPage) { p.MsgText, p.MsgError = body, msg })
	}
	if err != nil {
		return err
	}
	if err := h.intake.Store().Record(ctx, t.ID, timeline.Event{At: h.now(), Kind: timeline.Message, Actor: me.Name, Detail: "to the reporter"}); err != nil {
		return err
	}
	if err := h.audit(c, "tip.message", t.ID, ""); err != nil {
		return err
	}
	return actionDone(c, t, "message")
}

// reviewClose closes the tip with an outcome, a note and the referrals made.
func (h *handler) reviewClose(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	form, err := c.FormParams()
	if err != nil {
		return badRequest()
	}
	cl := intake.Closing{Outcome: form.Get("outcome"), Note: form.Get("note"), Referrals: form["referral"]}
	err = h.intake.Close(c.Request().Context(), t.ID, reviewerOf(c).Name, cl)
	if errors.Is(err, intake.ErrBadChange) {
		if cl.Outcome == "" {
			return h.actionRefused(c, t, "The report was not closed.", func(p *tipPage) {
				p.CloseError, p.CloseNote = "Choose an outcome.", cl.Note
			})
		}
		return badRequest()
	}
	if msg, ok := actionProblem(err); ok {
		return h.actionRefused(c, t, "The report was not closed.", func(p *tipPage) { p.CloseError, p.CloseNote = msg, cl.Note })
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "tip.close", t.ID, cl.Outcome); err != nil {
		return err
	}
	return actionDone(c, t, "close")
}
