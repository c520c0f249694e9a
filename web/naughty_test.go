package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestNaughtyStrings sends every string of the Big List of Naughty Strings
// through every field of a report: each answer is a stored report or a
// clear 4xx, never a 5xx, and stored ones can be followed up.
func TestNaughtyStrings(t *testing.T) {
	raw, err := os.ReadFile("testdata/blns.json")
	require.NoError(t, err)
	var blns []string
	require.NoError(t, json.Unmarshal(raw, &blns))
	require.Greater(t, len(blns), 500)

	f := newFixture(t)
	base := map[string]any{"org": "north-high", "category": "other", "body": "a plain report"}
	fields := []string{"org", "category", "body", "location", "when", "subject"}
	stored, sampled := 0, 0
	for i, s := range blns {
		for _, field := range fields {
			r := map[string]any{}
			for k, v := range base {
				r[k] = v
			}
			r[field] = s
			rec := f.postJSON(t, "/api/v1/reports", r)
			require.Less(t, rec.Code, 500, "string %d in %s: got %d %s", i, field, rec.Code, rec.Body)
			require.GreaterOrEqual(t, rec.Code, 200)
			var got map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got), "string %d in %s: body %q", i, field, rec.Body)
			if rec.Code != http.StatusCreated {
				require.GreaterOrEqual(t, rec.Code, 400)
				require.NotEmpty(t, got["error"])
				require.NotContains(t, got, "token")
				continue
			}
			stored++
			token, _ := got["token"].(string)
			require.Regexp(t, tokenPattern, token)
			if stored%40 != 1 {
				continue
			}
			// Each sample from its own address: token look-ups are limited
			// per client, and this test makes many.
			sampled++
			addr := fmt.Sprintf("198.51.100.%d:1234", sampled%250+1)
			fu := f.postJSONFrom(t, addr, "/api/v1/followup", map[string]string{"token": token})
			require.Equal(t, http.StatusOK, fu.Code, "follow-up of string %d in %s: got %d %s", i, field, fu.Code, fu.Body)
			msg := f.postJSONFrom(t, addr, "/api/v1/followup/messages", map[string]string{"token": token, "body": s})
			require.Less(t, msg.Code, 500, "string %d as a message: got %d %s", i, msg.Code, msg.Body)
		}
	}
	require.Greater(t, stored, len(blns), "most strings make a stored report in some field")
	require.Greater(t, sampled, 10)

	// A sample of the stored text, rendered on the follow-up page, is never
	// a live tag.
	b := f.browser()
	b.addr = "198.51.100.251:1234"
	token := f.report(t, base)
	_, csrf := b.get(t, "/followup")
	for i, s := range blns {
		if !strings.Contains(s, "<") {
			continue
		}
		b.addr = fmt.Sprintf("203.0.113.%d:1234", i%250+1)
		b.post("/followup/reply", map[string][]string{"_csrf": {csrf}, "token": {token}, "body": {s}})
	}
	rec := b.post("/followup", map[string][]string{"_csrf": {csrf}, "token": {token}})
	require.Equal(t, http.StatusOK, rec.Code)
	page := strings.ToLower(rec.Body.String())
	for _, tag := range []string{"<script", "<img", "<svg", "<iframe", "<a href=\"javascript", "onerror=", "onload="} {
		require.NotContains(t, page, tag)
	}

	// Logs never hold what was sent: check the distinctive strings.
	logs := f.logs.String()
	for _, s := range blns {
		if len(s) >= 24 {
			require.NotContains(t, logs, s)
		}
	}
}

// liveMarkup is the start of a tag a typed string could smuggle in.
var liveMarkup = regexp.MustCompile(`<[a-zA-Z/!?]`)

// TestNaughtyStringsThroughTheForm sends every string of the Big List of
// Naughty Strings through every field of the HTML report form, as a
// browser posts it: never a 5xx; a receipt or a 4xx page with the form;
// and whatever comes back into the page comes back escaped.
func TestNaughtyStringsThroughTheForm(t *testing.T) {
	raw, err := os.ReadFile("testdata/blns.json")
	require.NoError(t, err)
	var blns []string
	require.NoError(t, json.Unmarshal(raw, &blns))

	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	fields := []string{"org", "category", "body", "location", "when", "subject", "contact", "danger", "lang", "once"}
	stored, refused := 0, 0
	for i, s := range blns {
		for _, field := range fields {
			rec := b.postMultipart(t, reportFields(csrf, field, s), nil)
			what := fmt.Sprintf("string %d in %s", i, field)
			require.Less(t, rec.Code, 500, "%s: got %d", what, rec.Code)
			require.GreaterOrEqual(t, rec.Code, 200, what)
			page := rec.Body.String()
			require.Contains(t, rec.Header().Get("Content-Type"), "text/html", what)
			lang := pageLang(t, rec)
			require.True(t, lang == "en" || lang == "es", "%s: page in %q", what, lang)
			switch {
			case rec.Code == http.StatusCreated:
				stored++
				require.Regexp(t, tokenPattern, receiptToken.FindStringSubmatch(page)[1], what)
			case rec.Code == http.StatusConflict:
				// A string posted as the once field twice: not filed again.
				require.Equal(t, "once", field, what)
			default:
				refused++
				require.GreaterOrEqual(t, rec.Code, 400, what)
				require.Contains(t, page, `<form method="post" action="/report"`, "%s: the form comes back", what)
			}
			// The receipt loads its one script; nothing a reporter typed is
			// ever a live tag, on the receipt or the form.
			require.LessOrEqual(t, strings.Count(page, "<script"), 1, what)
			if liveMarkup.MatchString(s) {
				require.NotContains(t, page, s, "%s: shown unescaped", what)
			}
		}
	}
	require.Greater(t, stored, len(blns)*5, "most strings make a stored report in most fields")
	require.Greater(t, refused, 0)
	f.noLeaks(t, blns[len(blns)-1])
}
