package twiliotest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
)

// Sign signs a webhook request as Twilio documents it: HMAC-SHA1, keyed
// with the auth token, over the full URL followed by each posted name and
// value, sorted by name; base64. Tests use it to send webhooks the way
// Twilio does, independently of twilio-go's validator.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := fullURL
	for _, k := range keys {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(authToken))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
