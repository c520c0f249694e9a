package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

// Where the middleware keeps what it found about a request's session.
const (
	reviewerContext = "reviewer"
	sessionContext  = "review_session"
	tokenContext    = "review_token"
)

// reviewerOf is the signed-in reviewer, set by requireReviewer; nil on a
// route without it.
func reviewerOf(c echo.Context) *account.Reviewer {
	r, _ := c.Get(reviewerContext).(*account.Reviewer)
	return r
}

// sessionOf is the request's session, set by requireReviewer and
// requireSetup.
func sessionOf(c echo.Context) *account.Session {
	s, _ := c.Get(sessionContext).(*account.Session)
	return s
}

// audit records that the signed-in reviewer did action (to tipID, if any).
// The issue requires every view to be in the log, so a failed write fails
// the request: the caller returns the error, which answers 503, and must
// not show what it was about to show.
func (h *handler) audit(c echo.Context, action, tipID, detail string) error {
	r := reviewerOf(c)
	e := audit.Entry{At: h.now(), Action: action, Tip: tipID, Detail: detail}
	if r != nil {
		e.Actor, e.ActorName = r.ID, r.Name
	}
	if err := h.auditLog.Record(c.Request().Context(), e); err != nil {
		h.log.Error("audit write failed; request refused", "route", c.Path(), "action", action, "err", err)
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	return nil
}

// sessionCookie is the session cookie's name. Over HTTPS it carries the
// __Host- prefix, which makes browsers insist on Secure, Path=/ and no
// Domain, so no other host or path can set or shadow it.
func (h *handler) sessionCookie() string {
	if h.secure {
		return "__Host-tipline_review"
	}
	return "tipline_review"
}

// setSession gives the browser the session token. It is a cookie for the
// browser session, also bounded by the session's absolute lifetime.
func (h *handler) setSession(c echo.Context, token string) {
	c.SetCookie(&http.Cookie{
		Name: h.sessionCookie(), Value: token, Path: "/",
		MaxAge: int(account.AbsoluteTimeout.Seconds()), Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// clearSession tells the browser to forget the session token.
func (h *handler) clearSession(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: h.sessionCookie(), Value: "", Path: "/",
		MaxAge: -1, Secure: h.secure, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// sessionToken is the session token the browser sent, or "".
func (h *handler) sessionToken(c echo.Context) string {
	ck, err := c.Cookie(h.sessionCookie())
	if err != nil {
		return ""
	}
	return ck.Value
}

// loadSession finds the request's session; nil without one.
func (h *handler) loadSession(c echo.Context) (*account.Session, error) {
	tok := h.sessionToken(c)
	if tok == "" {
		return nil, nil
	}
	// A page's own background refresh (fetch(), which browsers mark
	// Sec-Fetch-Dest: empty) is not the reviewer's activity: a queue left
	// open on a shared computer must still time out.
	lookup := h.accounts.Session
	if c.Request().Header.Get("Sec-Fetch-Dest") == "empty" {
		lookup = h.accounts.Peek
	}
	ss, err := lookup(c.Request().Context(), tok)
	if errors.Is(err, account.ErrNoSession) {
		return nil, nil
	}
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	c.Set(sessionContext, ss)
	c.Set(tokenContext, tok)
	c.Set(reviewerContext, ss.Reviewer)
	return ss, nil
}

// requireReviewer lets a request through only with a full session. A GET
// without one goes to the sign-in page, which comes back here after; any
// other method gets 401. A session still being set up goes on with its
// setup.
func (h *handler) requireReviewer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ss, err := h.loadSession(c)
		if err != nil {
			return err
		}
		switch {
		case ss == nil:
			return h.notSignedIn(c)
		case ss.Setup:
			c.Set(reviewerContext, nil)
			if isRead(c) {
				return h.nextSetupStep(c)
			}
			return echo.NewHTTPError(http.StatusForbidden)
		}
		return next(c)
	}
}

// requireSetup lets a request through with any session, a setup one too:
// the password and TOTP enrolment pages.
func (h *handler) requireSetup(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ss, err := h.loadSession(c)
		if err != nil {
			return err
		}
		if ss == nil {
			return h.notSignedIn(c)
		}
		return next(c)
	}
}

// requireAdmin answers 404 to anyone but an admin: the audit log's
// existence is no business of a reviewer's. It runs after requireReviewer.
func (h *handler) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if r := reviewerOf(c); r == nil || r.Role != account.RoleAdmin {
			return echo.NewHTTPError(http.StatusNotFound)
		}
		return next(c)
	}
}

// isRead tells whether a request only reads.
func isRead(c echo.Context) bool {
	m := c.Request().Method
	return m == http.MethodGet || m == http.MethodHead
}

// notSignedIn answers a request that needs a session and has none.
func (h *handler) notSignedIn(c echo.Context) error {
	if h.sessionToken(c) != "" {
		h.clearSession(c) // ended or expired: stop sending it
	}
	if !isRead(c) {
		return echo.NewHTTPError(http.StatusUnauthorized)
	}
	to := "/review/signin"
	if next := c.Request().URL.RequestURI(); localReviewPath(next) && next != "/review/" && next != "/review" {
		to += "?next=" + url.QueryEscape(next)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// localReviewPath tells whether p is a dashboard path on this site, safe
// to send a reviewer to after sign-in: never another host ("//x", "/\x"),
// never the sign-in pages themselves.
func localReviewPath(p string) bool {
	if !strings.HasPrefix(p, "/review/") || strings.ContainsAny(p, "\\\r\n\t") || len(p) > 512 {
		return false
	}
	u, err := url.Parse(p)
	if err != nil || u.Host != "" || u.Scheme != "" || u.User != nil {
		return false
	}
	switch u.Path {
	case "/review/signin", "/review/signout", "/review/password", "/review/enroll":
		return false
	}
	return true
}

// The steps of setting up an account, as paths under /review/.
const (
	stepPassword = "password"
	stepEnroll   = "enroll"
)

// dueStep is the setup step the session's account still lacks: a password
// of its own first, then TOTP; "" when it lacks neither.
func (h *handler) dueStep(c echo.Context) (string, error) {
	ctx := c.Request().Context()
	id := sessionOf(c).Reviewer.ID
	needPW, err := h.accounts.NeedsPassword(ctx, id)
	if err != nil {
		return "", echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if needPW {
		return stepPassword, nil
	}
	needTOTP, err := h.accounts.NeedsTOTP(ctx, id)
	if err != nil {
		return "", echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if needTOTP {
		return stepEnroll, nil
	}
	return "", nil
}

// nextSetupStep sends a setup session to the step its account is due. An
// account that lacks nothing (set up in another tab) signs in again, to
// get a full session with its code.
func (h *handler) nextSetupStep(c echo.Context) error {
	step, err := h.dueStep(c)
	if err != nil {
		return err
	}
	if step != "" {
		return c.Redirect(http.StatusSeeOther, "/review/"+step)
	}
	if err := h.accounts.EndSession(c.Request().Context(), c.Get(tokenContext).(string)); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	h.clearSession(c)
	return c.Redirect(http.StatusSeeOther, "/review/signin")
}

// signinsPerMinute bounds sign-in attempts per login, across every
// address, on top of the lockout: the lockout stops guessing a password,
// this stops hammering the hash function for one login.
const signinsPerMinute = 10

// allowSignin counts one sign-in attempt for a login and tells whether it
// is within signinsPerMinute. It is the rate limiter of ratelimit.go keyed
// by the login's keyed hash instead of an address: tipline never uses or
// keeps a reviewer's address either.
func (h *handler) allowSignin(c echo.Context, login string) (bool, time.Duration) {
	now := h.now()
	start := now.Truncate(rateWindow)
	ctx, cancel := context.WithTimeout(c.Request().Context(), rateCheckTimeout)
	defer cancel()
	salt, err := h.daySalt(ctx, now)
	var count *redis.IntCmd
	if err == nil {
		key := h.rateKey("signin", salt, h.accounts.LoginHash(login), start)
		_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			count = p.Incr(ctx, key)
			p.Expire(ctx, key, 2*rateWindow)
			return nil
		})
	}
	if err != nil {
		// The lockout still holds; a reviewer must not be kept out of a
		// life-safety tip because the limiter failed.
		h.log.Warn("sign-in rate limit check failed; attempt let through", "err", err)
		return true, 0
	}
	if count.Val() <= signinsPerMinute {
		return true, 0
	}
	h.metrics.limited.Inc()
	return false, start.Add(rateWindow).Sub(now)
}
