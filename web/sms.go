package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/notify"
)

// SMS is what Twilio's webhook needs. Without it (no Twilio credentials)
// the webhook answers 501 and texts nothing.
type SMS struct {
	Channel   *intake.SMS
	Twilio    *notify.Twilio // fetches MMS attachments
	AuthToken string         // checks X-Twilio-Signature
	// WebhookURL is the address Twilio was given: the public URL and the
	// path. Signatures are checked against it, never against the Host
	// header, which a client chooses.
	WebhookURL   string
	OrgForNumber func(to string) string // the organisation a tip line number serves, or ""
	IsReviewer   func(from string) bool // replies from on-call reviewers are never tips
}

// smsBodyLimit bounds a webhook post: Twilio's fields are small, and a text
// is at most 1600 characters.
const smsBodyLimit = 64 << 10

// smsTwilio is Twilio's webhook for incoming texts and MMS.
func (h *handler) smsTwilio(c echo.Context) error {
	if h.sms == nil {
		return c.Blob(http.StatusNotImplemented, echo.MIMETextXML, []byte(notify.TwiML()))
	}
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, smsBodyLimit)
	if err := req.ParseForm(); err != nil {
		return c.String(http.StatusBadRequest, "bad form")
	}
	form := req.PostForm
	if !notify.ValidWebhook(h.sms.AuthToken, h.sms.WebhookURL, form, req.Header.Get("X-Twilio-Signature")) {
		// Forged or unsigned: nothing is read further, nothing stored.
		return c.String(http.StatusForbidden, "invalid signature")
	}
	from := form.Get("From")
	if h.sms.IsReviewer != nil && h.sms.IsReviewer(from) {
		return c.Blob(http.StatusOK, echo.MIMETextXML, []byte(notify.TwiML()))
	}
	m := intake.Inbound{From: from, MessageSID: form.Get("MessageSid"), Body: form.Get("Body")}
	if h.sms.OrgForNumber != nil {
		m.Org = h.sms.OrgForNumber(form.Get("To"))
	}
	m.Images, m.NotKept = h.smsMedia(c, form.Get("NumMedia"), form)
	answer, err := h.sms.Channel.Receive(req.Context(), m)
	if err != nil {
		// Not taken: a 5xx lets Twilio's retry (or fallback URL) try again,
		// and Receive has forgotten this MessageSid so the retry is taken.
		if !errors.Is(err, intake.ErrUnavailable) {
			h.log.Error("sms not taken", "err", err)
		}
		return c.Blob(http.StatusServiceUnavailable, echo.MIMETextXML, []byte(notify.TwiML()))
	}
	if answer.New {
		h.metrics.report(intake.ChannelSMS, resultStored)
	}
	var texts []string
	if answer.Text != "" {
		texts = append(texts, answer.Text)
	}
	return c.Blob(http.StatusOK, echo.MIMETextXML, []byte(notify.TwiML(texts...)))
}

// smsMedia fetches a text's picture attachments from Twilio, up to the
// limits web uploads have. What cannot be fetched, or is not a picture, is
// counted so the tip notes it.
func (h *handler) smsMedia(c echo.Context, numMedia string, form map[string][]string) (images [][]byte, notKept int) {
	n, _ := strconv.Atoi(numMedia)
	n = min(max(n, 0), 10) // Twilio sends at most 10
	for i := range n {
		u := first(form["MediaUrl"+strconv.Itoa(i)])
		ct := first(form["MediaContentType"+strconv.Itoa(i)])
		if u == "" || !strings.HasPrefix(ct, "image/") || len(images) == intake.MaxImages {
			notKept++
			continue
		}
		b, err := h.sms.Twilio.Media(c.Request().Context(), u, intake.MaxImageBytes)
		if err != nil {
			h.log.Warn("mms attachment not fetched", "err", fmt.Sprint(err))
			notKept++
			continue
		}
		images = append(images, b)
	}
	return images, notKept
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
