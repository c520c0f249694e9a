package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/boombuler/barcode/qr"
	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/web/account"
)

// totpIssuer names the account in a reviewer's authenticator app.
const totpIssuer = "tipline"

// enrollPage is the data of the TOTP enrolment page.
type enrollPage struct {
	reviewLayout
	QR     template.HTML // an inline SVG drawn here from the secret
	Secret string        // in groups of four, for typing into an app
	Error  string
}

// reviewEnrollForm shows a new TOTP secret as a QR code and as text. It
// is shown only while the account has no TOTP; each visit makes a new one.
func (h *handler) reviewEnrollForm(c echo.Context) error {
	if off, err := h.offStep(c, stepEnroll); off || err != nil {
		return err
	}
	secret, err := h.accounts.BeginTOTP(c.Request().Context(), sessionOf(c).Reviewer.ID)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	return h.renderEnroll(c, http.StatusOK, secret, "")
}

// reviewEnroll enrols the secret once the reviewer types a code from it,
// and swaps the setup session for a full one.
func (h *handler) reviewEnroll(c echo.Context) error {
	if off, err := h.offStep(c, stepEnroll); off || err != nil {
		return err
	}
	ctx := c.Request().Context()
	ss := sessionOf(c)
	err := h.accounts.ConfirmTOTP(ctx, ss.Reviewer.ID, c.FormValue("code"))
	if errors.Is(err, account.ErrBadCode) {
		secret, err := h.accounts.PendingTOTP(ctx, ss.Reviewer.ID)
		if err != nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
		}
		if secret == "" {
			return c.Redirect(http.StatusSeeOther, "/review/enroll")
		}
		return h.renderEnroll(c, http.StatusBadRequest, secret,
			"That code did not match. Type the six digits your app shows now for tipline.")
	}
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	if err := h.audit(c, "totp.enroll", "", ""); err != nil {
		return err
	}
	// The setup session ends and a full one starts with a new token: the
	// session that only knew a temporary password never gains rights.
	if err := h.accounts.EndSession(ctx, c.Get(tokenContext).(string)); err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	token, err := h.accounts.StartSession(ctx, ss.Reviewer.ID, false)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	h.setSession(c, token)
	return c.Redirect(http.StatusSeeOther, "/review/")
}

// renderEnroll shows the enrolment page for secret.
func (h *handler) renderEnroll(c echo.Context, status int, secret, problem string) error {
	svg, err := qrSVG(account.TOTPURI(totpIssuer, sessionOf(c).Reviewer.Login, secret))
	if err != nil {
		return err
	}
	return h.renderReview(c, status, "review_enroll", &enrollPage{
		reviewLayout: reviewLayout{Title: "Set up your sign-in code", Setup: true},
		QR:           svg, Secret: groupsOf4(secret), Error: problem,
	})
}

// groupsOf4 writes s in groups of four, as authenticator apps accept it.
func groupsOf4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// qrSVG draws text as a QR code in inline SVG: one path of unit squares
// in a box with the four-module quiet zone scanners need. It is drawn
// here because the CSP allows images only from this site, not data: URIs,
// and a QR code of a secret must not be a URL a browser may cache.
// Everything in it is numbers this function writes, so it is safe HTML.
func qrSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("web: qr code: %w", err)
	}
	b := code.Bounds()
	const quiet = 4
	n := b.Dx() + 2*quiet
	var path strings.Builder
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				fmt.Fprintf(&path, "M%d %dh1v1h-1z", x-b.Min.X+quiet, y-b.Min.Y+quiet)
			}
		}
	}
	return template.HTML(fmt.Sprintf(
		`<svg class="qr" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="QR code of your sign-in secret" shape-rendering="crispEdges">`+
			`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, n*6, n*6, n, n, path.String())), nil
}
