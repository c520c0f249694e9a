package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAPIHostileBodies: bodies a careless or hostile client sends to every
// JSON route get a clear 4xx with a message, never a 5xx and never a token:
// repeated keys (which encoding/json would quietly resolve to the last),
// invalid UTF-8 (which it would quietly replace), NUL bytes, oversized
// bodies and the wrong content type.
func TestAPIHostileBodies(t *testing.T) {
	f := newFixture(t)
	token := f.report(t, map[string]any{"org": "north-high", "body": "a plain report"})
	routes := map[string]string{
		"/api/v1/reports":           `"org":"north-high","body":"x"`,
		"/api/v1/followup":          `"token":"` + token + `"`,
		"/api/v1/followup/messages": `"token":"` + token + `","body":"x"`,
	}
	for path, fields := range routes {
		first := strings.SplitN(fields, ",", 2)[0]
		name := strings.Trim(strings.SplitN(first, ":", 2)[0], `"`)
		tests := []struct {
			name, contentType, body string
			status                  int
			field                   string
		}{
			{"repeated key", "application/json", `{` + fields + `,` + first + `}`, 400, name},
			{"repeated key in another case", "application/json", `{` + fields + `,"` + strings.ToUpper(name) + `":"y"}`, 400, strings.ToUpper(name)},
			{"invalid UTF-8", "application/json", `{` + fields + `,"x":"` + "\xff\xfe" + `"}`, 400, ""},
			{"invalid UTF-8 in a value", "application/json", `{` + strings.Replace(fields, `"x"`, "\"\xc3\x28\"", 1) + `}`, 400, ""},
			{"raw NUL byte", "application/json", `{` + fields + "\x00}", 400, ""},
			{"unknown field", "application/json", `{` + fields + `,"ip":"10.0.0.1"}`, 400, "ip"},
			{"wrong content type", "text/html", `{` + fields + `}`, 415, ""},
			{"multipart", "multipart/form-data; boundary=x", `{` + fields + `}`, 415, ""},
			{"oversized", "application/json", `{` + fields + `,"pad":"` + strings.Repeat("a", 80<<10) + `"}`, 413, ""},
			{"deeply nested", "application/json", strings.Repeat("[", 10000) + strings.Repeat("]", 10000), 400, ""},
		}
		for _, tt := range tests {
			if strings.Contains(tt.name, "in a value") && !strings.Contains(fields, `"x"`) {
				continue
			}
			t.Run(path+" "+tt.name, func(t *testing.T) {
				req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(tt.body))
				req.Header.Set("Content-Type", tt.contentType)
				req.RemoteAddr = "198.51.100.77:1234"
				rec := f.serve(req)
				require.Equal(t, tt.status, rec.Code, "got %d %s, want %d", rec.Code, rec.Body, tt.status)
				got := decode(t, rec)
				require.NotEmpty(t, got["error"])
				require.NotContains(t, got, "token")
				require.NotContains(t, got["error"], "json:", "messages are for people, not Go's own")
				if tt.field != "" {
					require.Equal(t, tt.field, got["field"])
				}
			})
		}
	}

	// An escaped NUL is valid JSON: never a 5xx; a stored report keeps the
	// text around it and drops the NUL.
	ctx := context.Background()
	for _, field := range []string{"org", "body", "location", "when", "subject"} {
		rec := f.serve(jsonRequest("/api/v1/reports", `{"org":"north-high","body":"x","`+field+`":"a\u0000b"}`))
		require.Less(t, rec.Code, 500, "NUL in %s: %d %s", field, rec.Code, rec.Body)
		if rec.Code != http.StatusCreated {
			require.GreaterOrEqual(t, rec.Code, 400)
			continue
		}
		fu, err := f.in.Followup(ctx, decode(t, rec)["token"].(string))
		require.NoError(t, err)
		tip, err := f.store.Tip(ctx, fu.TipID)
		require.NoError(t, err)
		all := tip.Org + tip.Body + tip.Location + tip.When + tip.Subject
		require.NotContains(t, all, "\x00", "NUL in %s stored", field)
		require.Contains(t, all, "ab", "the text around the NUL in %s is kept", field)
	}
}
