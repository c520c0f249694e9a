package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/web/account"
)

// signinPage is the data of the sign-in page.
type signinPage struct {
	reviewLayout
	Login   string // as typed, kept after a failure
	Next    string // the dashboard page to go to after signing in
	Error   string
	Notice  string
	Minutes int // the idle timeout, for the page's advice
}

// reviewSigninForm shows the sign-in form; a reviewer already signed in
// goes to the queue.
func (h *handler) reviewSigninForm(c echo.Context) error {
	ss, err := h.loadSession(c)
	if err != nil {
		return err
	}
	if ss != nil && !ss.Setup {
		return c.Redirect(http.StatusSeeOther, "/review/")
	}
	p := &signinPage{reviewLayout: reviewLayout{Title: "Sign in", Setup: true}, Minutes: int(account.IdleTimeout.Minutes())}
	if next := c.QueryParam("next"); localReviewPath(next) {
		p.Next = next
	}
	if c.QueryParam("out") == "1" {
		p.Notice = "You are signed out."
	}
	return h.renderReview(c, http.StatusOK, "review_signin", p)
}

// Messages of the sign-in page. A wrong login, password or code, and a
// disabled account, all get the same one.
const (
	msgSigninFailed  = "That login, password and code did not match. Check them and try again."
	msgSigninLocked  = "Too many failed sign-ins for this login. Wait 15 minutes, or ask an administrator to reset the account."
	msgSigninTooFast = "Too many sign-in attempts for this login. Wait a minute and try again."
)

// reviewSignin checks a login, password and code and starts a session.
func (h *handler) reviewSignin(c echo.Context) error {
	login := c.FormValue("login")
	p := &signinPage{reviewLayout: reviewLayout{Title: "Sign in", Setup: true}, Login: login, Minutes: int(account.IdleTimeout.Minutes())}
	if next := c.FormValue("next"); localReviewPath(next) {
		p.Next = next
	}
	fail := func(status int, msg string) error {
		p.Error = msg
		return h.renderReview(c, status, "review_signin", p)
	}
	if strings.TrimSpace(login) == "" {
		return fail(http.StatusBadRequest, msgSigninFailed)
	}
	if ok, wait := h.allowSignin(c, login); !ok {
		setRetryAfter(c, wait)
		return fail(http.StatusTooManyRequests, msgSigninTooFast)
	}
	ctx := c.Request().Context()
	r, setup, err := h.accounts.SignIn(ctx, login, c.FormValue("password"), c.FormValue("code"))
	switch {
	case errors.Is(err, account.ErrBadCredentials):
		return fail(http.StatusUnauthorized, msgSigninFailed)
	case errors.Is(err, account.ErrLocked):
		// The login is not logged: people type passwords into it.
		h.log.Warn("reviewer sign-in refused: login locked after failures")
		return fail(http.StatusTooManyRequests, msgSigninLocked)
	case err != nil:
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	// A session from before signing in is never reused (session fixation).
	if old := h.sessionToken(c); old != "" {
		if err := h.accounts.EndSession(ctx, old); err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
		}
	}
	token, err := h.accounts.StartSession(ctx, r.ID, setup)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	c.Set(reviewerContext, r)
	detail := ""
	if setup {
		detail = "to set up the account"
	}
	if err := h.audit(c, "signin", "", detail); err != nil {
		_ = h.accounts.EndSession(ctx, token)
		return err
	}
	h.setSession(c, token)
	switch {
	case setup:
		c.Set(sessionContext, &account.Session{Reviewer: r, Setup: true})
		c.Set(tokenContext, token)
		return h.nextSetupStep(c)
	case p.Next != "":
		return c.Redirect(http.StatusSeeOther, p.Next)
	}
	return c.Redirect(http.StatusSeeOther, "/review/")
}

// reviewSignout ends the session here, or with everywhere=1 every session
// of the reviewer, so a copied cookie stops working too.
func (h *handler) reviewSignout(c echo.Context) error {
	ss, err := h.loadSession(c)
	if err != nil {
		return err
	}
	if ss == nil {
		h.clearSession(c)
		return c.Redirect(http.StatusSeeOther, "/review/signin?out=1")
	}
	ctx := c.Request().Context()
	action := "signout"
	if c.FormValue("everywhere") == "1" {
		action = "signout.everywhere"
		err = h.accounts.EndSessions(ctx, ss.Reviewer.ID)
	} else {
		err = h.accounts.EndSession(ctx, c.Get(tokenContext).(string))
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	h.clearSession(c)
	if err := h.audit(c, action, "", ""); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/review/signin?out=1")
}

// passwordPage is the data of the forced password change.
type passwordPage struct {
	reviewLayout
	Min   int
	Error string
}

// reviewPasswordForm asks a reviewer with a temporary password for one of
// their own. Anyone else has nothing to do here.
func (h *handler) reviewPasswordForm(c echo.Context) error {
	if done, err := h.offStep(c, stepPassword); done || err != nil {
		return err
	}
	return h.renderReview(c, http.StatusOK, "review_password",
		&passwordPage{reviewLayout: reviewLayout{Title: "Choose a password", Setup: true}, Min: account.MinPassword})
}

// reviewPassword sets the reviewer's new password.
func (h *handler) reviewPassword(c echo.Context) error {
	if done, err := h.offStep(c, stepPassword); done || err != nil {
		return err
	}
	p := &passwordPage{reviewLayout: reviewLayout{Title: "Choose a password", Setup: true}, Min: account.MinPassword}
	pw := c.FormValue("password")
	if pw != c.FormValue("confirm") {
		p.Error = "The two passwords differ. Type the same password twice."
		return h.renderReview(c, http.StatusBadRequest, "review_password", p)
	}
	err := h.accounts.SetPassword(c.Request().Context(), sessionOf(c).Reviewer.ID, pw)
	if errors.Is(err, account.ErrWeakPassword) {
		p.Error = "That password will not do: it " + strings.TrimPrefix(err.Error(), account.ErrWeakPassword.Error()+": ") + "."
		return h.renderReview(c, http.StatusBadRequest, "review_password", p)
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if err := h.audit(c, "password.change", "", ""); err != nil {
		return err
	}
	return h.nextSetupStep(c)
}

// offStep answers a request for the setup step want when that step is not
// due: a full session goes to the queue, a setup session to the step it
// is due. It reports whether it answered.
func (h *handler) offStep(c echo.Context, want string) (bool, error) {
	if !sessionOf(c).Setup {
		return true, c.Redirect(http.StatusSeeOther, "/review/")
	}
	step, err := h.dueStep(c)
	if err != nil {
		return true, err
	}
	if step != want {
		return true, h.nextSetupStep(c)
	}
	return false, nil
}
