package web

import (
	"crypto/rand"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// The CSRF token travels in a form field and in the site's only cookie.
const (
	csrfField     = "_csrf"
	csrfCookie    = "_csrf"
	csrfContext   = "csrf"
	csrfCookieAge = 24 * time.Hour
)

// csrf protects the HTML forms against forgery from other sites.
func (h *handler) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + csrfField,
		ContextKey:     csrfContext,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieMaxAge:   int(csrfCookieAge.Seconds()),
		CookieHTTPOnly: true,
		CookieSameSite: http.SameSiteStrictMode,
		CookieSecure:   h.secure,
		ErrorHandler:   h.csrfFailed,
	})
}

// csrfToken is the token to put in the page's forms.
func csrfToken(c echo.Context) string {
	s, _ := c.Get(csrfContext).(string)
	return s
}

// csrfFailed answers a form post whose token did not match: an old tab,
// a cookie the browser dropped, or a forgery. A report is the one form
// whose loss costs more than a reload: it comes back with the reporter's
// text and a fresh token, so pressing Send again works. A forged post
// from another site gets no further than a fresh form either.
func (h *handler) csrfFailed(_ error, c echo.Context) error {
	if c.Path() == "/report" && c.Request().Method == http.MethodPost {
		c.Set(csrfContext, h.reissueCSRF(c))
		return h.renderReport(c, http.StatusForbidden, readReportForm(c), uploadOf(c).sent, nil, keyFormExpired)
	}
	return echo.NewHTTPError(http.StatusForbidden)
}

// reissueCSRF returns a token the next post will pass with: the cookie the
// browser has, or a new one set now, as the middleware would have.
func (h *handler) reissueCSRF(c echo.Context) string {
	if ck, err := c.Cookie(csrfCookie); err == nil && ck.Value != "" {
		return ck.Value
	}
	token := rand.Text()
	c.SetCookie(&http.Cookie{
		Name:     csrfCookie,
		Value:    token,
		Path:     "/",
		Expires:  h.now().Add(csrfCookieAge),
		Secure:   h.secure,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	return token
}
