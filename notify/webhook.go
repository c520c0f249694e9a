package notify

import (
	"encoding/xml"
	"net/url"
	"strings"

	twclient "github.com/twilio/twilio-go/client"
)

// ValidWebhook tells whether a webhook request really comes from Twilio:
// its X-Twilio-Signature must be the account's signature of fullURL (the
// public URL Twilio was given, never one built from the Host header) and
// the posted form.
func ValidWebhook(authToken, fullURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, v := range form {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	rv := twclient.NewRequestValidator(authToken)
	return rv.Validate(fullURL, params, signature)
}

// TwiML is the webhook answer that texts each message back, in order; no
// messages is an empty answer, which texts nothing.
func TwiML(messages ...string) string {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString("<Response>")
	for _, m := range messages {
		for _, part := range Split(m) {
			b.WriteString("<Message>")
			_ = xml.EscapeText(&b, []byte(part))
			b.WriteString("</Message>")
		}
	}
	b.WriteString("</Response>")
	return b.String()
}
