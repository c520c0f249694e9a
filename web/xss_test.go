package web_test

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// xssPayloads are testdata/xss.txt: markup, attribute break-outs, script
// URLs, entity and percent encodings, filter evasions, template syntax.
func xssPayloads(t *testing.T) []string {
	raw, err := os.ReadFile("testdata/xss.txt")
	require.NoError(t, err)
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line != "" {
			out = append(out, line)
		}
	}
	require.Greater(t, len(out), 50)
	return out
}

// requireNothingLive parses a page as a browser would and fails on
// anything that could run or load: an event handler attribute, a script
// URL in an attribute, or an element that runs or embeds something. The
// site's own pages use none of them but the receipt's one script,
// /static/receipt.js.
func requireNothingLive(t *testing.T, what, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	require.NoError(t, err, what)
	for n := range doc.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "iframe", "svg", "object", "embed", "base", "math", "audio", "video", "marquee", "isindex", "frame", "frameset", "applet":
			t.Fatalf("%s: a live <%s> element", what, n.Data)
		case "script":
			src := ""
			for _, a := range n.Attr {
				if a.Key == "src" {
					src = a.Val
				}
			}
			require.Equal(t, "/static/receipt.js", src, "%s: a script", what)
		case "meta":
			for _, a := range n.Attr {
				require.NotEqual(t, "http-equiv", a.Key, "%s: a meta refresh", what)
			}
		}
		for _, a := range n.Attr {
			require.False(t, strings.HasPrefix(a.Key, "on"), "%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
			switch a.Key {
			case "href", "src", "action", "formaction", "data", "srcdoc", "style":
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, a.Val))
				for _, bad := range []string{"javascript:", "vbscript:", "data:", "expression(", "url("} {
					require.NotContains(t, v, bad, "%s: <%s %s=%q>", what, n.Data, a.Key, a.Val)
				}
			}
		}
	}
}

// TestXSSPayloads sends every payload of testdata/xss.txt through every
// field of the report form and the JSON API, and as a reporter's message
// shown on the follow-up page: never a 5xx, and nothing typed is ever live
// on a page that shows it.
func TestXSSPayloads(t *testing.T) {
	payloads := xssPayloads(t)
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	stored := 0
	for i, p := range payloads {
		for _, field := range []string{"org", "category", "body", "location", "when", "subject", "contact", "danger", "lang"} {
			what := fmt.Sprintf("payload %d (%q) in the form's %s", i, p, field)
			rec := b.postMultipart(t, reportFields(csrf, field, p), nil)
			require.Less(t, rec.Code, 500, what)
			if rec.Code == http.StatusCreated {
				stored++
			}
			page := rec.Body.String()
			if liveMarkup.MatchString(p) {
				require.NotContains(t, page, p, "%s: shown unescaped", what)
			}
			requireNothingLive(t, what, page)
		}
		for _, field := range []string{"org", "category", "body", "location", "when", "subject"} {
			what := fmt.Sprintf("payload %d (%q) in the API's %s", i, p, field)
			rec := f.postJSON(t, "/api/v1/reports", map[string]any{"org": "north-high", "body": "a report", field: p})
			require.Less(t, rec.Code, 500, what)
			require.Equal(t, "application/json", strings.Split(rec.Header().Get("Content-Type"), ";")[0], what)
		}
	}
	require.Greater(t, stored, len(payloads)*4, "most payloads make a stored report: they are text, and kept as text")

	// Every payload as a reporter's message, then the conversation page.
	token := f.report(t, map[string]any{"org": "north-high", "body": "a plain report"})
	_, csrf = b.get(t, "/followup")
	for i, p := range payloads {
		b.addr = fmt.Sprintf("203.0.113.%d:1234", i%250+1) // look-ups are limited per client
		rec := b.post("/followup/reply", map[string][]string{"_csrf": {csrf}, "token": {token}, "body": {p}})
		require.Less(t, rec.Code, 500, "payload %d as a message", i)
		requireNothingLive(t, fmt.Sprintf("payload %d as a message, answer", i), rec.Body.String())
	}
	b.addr = "198.51.100.200:1234"
	rec := b.post("/followup", map[string][]string{"_csrf": {csrf}, "token": {token}})
	require.Equal(t, http.StatusOK, rec.Code)
	requireNothingLive(t, "the conversation page", rec.Body.String())
	require.Contains(t, rec.Body.String(), "alert(1)", "the words of the messages are shown, as text")
}
