package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/labstack/echo/v4"
)

// onceField is the hidden field that names one filling-in of a form. A
// reload of the receipt posts the same form again; without this, it would
// file the report a second time under a new token (and a reply twice).
const onceField = "once"

// onceTTL is how long a form's once value is remembered: far longer than
// anyone leaves a receipt open before reloading it.
const onceTTL = 6 * time.Hour

// newOnce returns a fresh value for a form's once field.
func newOnce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// firstSend tells whether this post of a form is the first with its once
// value. Posts without one (an older page) count as first; so does any post
// when Redis cannot say, because a tip must never be refused for the guard.
// The value is kept only as a keyed hash, like a token.
func (h *handler) firstSend(c echo.Context, form string) bool {
	once := c.FormValue(onceField)
	if once == "" || len(once) > 64 {
		return true
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), rateCheckTimeout)
	defer cancel()
	first, err := h.rdb.SetNX(ctx, "once:"+form+":"+h.keys.Hash("once", once), 1, onceTTL).Result()
	if err != nil {
		h.log.Warn("once check failed; post let through", "form", form, "err", err)
		return true
	}
	return first
}
