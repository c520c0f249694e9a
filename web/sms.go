package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	WebhookURL string
	// VoiceURL is where page calls post a reviewer's keypress, without
	// its query; signatures are checked against it and the query.
	VoiceURL string
	// StatusURL is where Twilio reports pages' delivery, without its query.
	StatusURL    string
	OrgForNumber func(to string) string // the organisation a tip line number serves, or ""
	Reviewers    Reviewers              // replies from reviewers are acknowledgements, never tips
}

// Reviewers answers the people tipline pages, who text and press keys on
// the same number reporters text.
type Reviewers interface {
	IsReviewer(phone string) bool
	Reply(ctx context.Context, from, body string) (string, error)
	VoiceAck(ctx context.Context, code, to, digits string) (string, error)
	Delivery(ctx context.Context, query url.Values, status string) error
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
	if h.sms.Reviewers != nil && h.sms.Reviewers.IsReviewer(from) {
		answer, err := h.sms.Reviewers.Reply(req.Context(), from, form.Get("Body"))
		if err != nil {
			h.log.Error("reviewer reply not handled", "err", err)
			return c.Blob(http.StatusServiceUnavailable, echo.MIMETextXML, []byte(notify.TwiML()))
		}
		return c.Blob(http.StatusOK, echo.MIMETextXML, []byte(notify.TwiML(answer)))
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

// voiceAck takes a keypress on a page call. Twilio posts it to the
// Gather's action, whose query holds the page's ack code.
func (h *handler) voiceAck(c echo.Context) error {
	form, ok, err := h.signedCallback(c, h.sms.voiceURL())
	if !ok {
		return err
	}
	// On a call tipline placed, To is the reviewer's number.
	twiml, err := h.sms.Reviewers.VoiceAck(c.Request().Context(), c.QueryParam("code"), form.Get("To"), form.Get("Digits"))
	if err != nil {
		h.log.Error("voice acknowledgement not handled", "err", err)
		return c.Blob(http.StatusServiceUnavailable, echo.MIMETextXML, []byte(notify.TwiML()))
	}
	return c.Blob(http.StatusOK, echo.MIMETextXML, []byte(twiml))
}

// smsStatus takes Twilio's delivery report on a page's text; the query
// names the page.
func (h *handler) smsStatus(c echo.Context) error {
	form, ok, err := h.signedCallback(c, h.sms.statusURL())
	if !ok {
		return err
	}
	err = h.sms.Reviewers.Delivery(c.Request().Context(), c.QueryParams(), form.Get("MessageStatus"))
	switch {
	case errors.Is(err, notify.ErrNoPage):
		return c.NoContent(http.StatusNotFound)
	case err != nil:
		h.log.Error("delivery report not handled", "err", err)
		return c.NoContent(http.StatusServiceUnavailable) // Twilio tries again
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *SMS) voiceURL() string {
	if s == nil || s.Reviewers == nil {
		return ""
	}
	return s.VoiceURL
}

func (s *SMS) statusURL() string {
	if s == nil || s.Reviewers == nil {
		return ""
	}
	return s.StatusURL
}

// signedCallback reads a Twilio callback to base plus the request's query,
// and checks its signature, which covers the whole URL: the query's page
// and code cannot be forged. When ok is false the answer has been written.
func (h *handler) signedCallback(c echo.Context, base string) (form url.Values, ok bool, err error) {
	if base == "" {
		return nil, false, c.NoContent(http.StatusNotImplemented)
	}
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, smsBodyLimit)
	if err := req.ParseForm(); err != nil {
		return nil, false, c.String(http.StatusBadRequest, "bad form")
	}
	full := base
	if q := req.URL.RawQuery; q != "" {
		full += "?" + q
	}
	if !notify.ValidWebhook(h.sms.AuthToken, full, req.PostForm, req.Header.Get("X-Twilio-Signature")) {
		return nil, false, c.String(http.StatusForbidden, "invalid signature")
	}
	return req.PostForm, true, nil
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
