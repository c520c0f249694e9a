package notify_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/notify/twiliotest"
)

func TestValidWebhook(t *testing.T) {
	form := url.Values{"From": {"+15555550188"}, "Body": {"hello"}, "MessageSid": {"SM1"}}
	u := "https://tips.example.org/sms/twilio"
	sig := twiliotest.Sign(token, u, form)
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
