package notify_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/notify"
)

// sign signs a webhook as Twilio documents it: HMAC-SHA1 with the auth
// token over the URL followed by each posted name and value, sorted by name.
func sign(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestValidWebhook(t *testing.T) {
	form := url.Values{"From": {"+15555550188"}, "Body": {"hello"}, "MessageSid": {"SM1"}}
	u := "https://tips.example.org/sms/twilio"
	sig := sign(token, u, form)
	require.True(t, notify.ValidWebhook(token, u, form, sig))
	require.False(t, notify.ValidWebhook(token, "https://evil.example/sms/twilio", form, sig), "another URL")
	forged := url.Values{"From": {"+15555550188"}, "Body": {"changed"}, "MessageSid": {"SM1"}}
	require.False(t, notify.ValidWebhook(token, u, forged, sig), "another body")
	require.False(t, notify.ValidWebhook(token, u, form, ""), "no signature")
	require.False(t, notify.ValidWebhook("", u, form, sig), "no auth token configured")
}

func TestTwiML(t *testing.T) {
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Response></Response>", notify.TwiML())
	require.Equal(t, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Response><Message>a &lt;b&gt; &amp; c</Message></Response>", notify.TwiML("a <b> & c"))
}
