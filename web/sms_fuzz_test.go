package web_test

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tipline/tipline/notify/twiliotest"
)

// FuzzSMSWebhook posts arbitrary, correctly signed webhooks (any body,
// sender, number of attachments and attachment URLs) and arbitrary raw
// form bodies: never a 5xx but the 503 of an unavailable store, and a
// 200 answer is well-formed TwiML.
func FuzzSMSWebhook(f *testing.F) {
	f.Add("SM1", "+15555550188", "a kid has a knife", "0", "", "")
	f.Add("SM2", "+15555550188", "STOP", "0", "", "")
	f.Add("", "", "", "", "", "")
	f.Add("SM3", "not a number", "<Response><Say>hi</Say></Response>", "2", "https://evil.example/x", "MessageSid=a&MessageSid=b")
	f.Add("SM4", "+15555550188", "\x00\xff\xfe", "-1", "http://127.0.0.1:6379/", "%zz&&==")
	f.Add("SM5", "+15555550101", "ACK 1", "99999999999999999999", "", strings.Repeat("a=b&", 1000))
	f.Fuzz(func(t *testing.T, sid, from, body, numMedia, mediaURL, raw string) {
		s := newSMSFixture(t)
		form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+15555550001"}, "Body": {body}, "NumMedia": {numMedia}}
		if mediaURL != "" {
			form.Set("MediaUrl0", mediaURL)
			form.Set("MediaContentType0", "image/jpeg")
		}
		rec := s.post(form, twiliotest.Sign(s.tw.Token, smsURL, form))
		if rec.Code >= 500 && rec.Code != 503 {
			t.Fatalf("signed webhook: %d %s", rec.Code, rec.Body)
		}
		if rec.Code == 200 {
			var resp struct {
				XMLName  xml.Name `xml:"Response"`
				Messages []string `xml:"Message"`
			}
			if err := xml.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatalf("answer is not TwiML: %v: %q", err, rec.Body)
			}
		}
		// A raw body, signed over what Go parses of it.
		parsed, _ := url.ParseQuery(raw)
		rec = s.postRaw(raw, twiliotest.Sign(s.tw.Token, smsURL, parsed))
		if rec.Code >= 500 && rec.Code != 503 {
			t.Fatalf("raw webhook %q: %d %s", raw, rec.Code, rec.Body)
		}
	})
}

// postRaw posts a webhook body as given, with a signature.
func (f *smsFixture) postRaw(body, signature string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/sms/twilio", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signature)
	return f.serve(req)
}
