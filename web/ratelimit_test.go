package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// midMinute is a fixed clock half-way through a window, so the tests do
// not depend on when in a minute they run.
var midMinute = time.Date(2030, 3, 4, 10, 20, 30, 0, time.UTC)

func TestReportRateLimit(t *testing.T) {
	f := newFixtureAt(t, midMinute, withRateLimit(2))
	report := map[string]any{"org": "north-high", "body": "x"}
	f.report(t, report)
	f.report(t, report)

	rec := f.postJSON(t, "/api/v1/reports", report)
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "third report in a minute: got %d %s", rec.Code, rec.Body)
	require.Equal(t, "30", rec.Header().Get("Retry-After"))
	require.NotEmpty(t, decode(t, rec)["error"])
	require.NotContains(t, rec.Body.String(), "token")

	// The form shares the bucket, and gives the reporter their text back.
	b := f.browser()
	_, csrf := b.get(t, "/report")
	body := "the form keeps this text when the limit is hit"
	rec = b.post("/report", reportForm(csrf, "body", body))
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "30", rec.Header().Get("Retry-After"))
	require.Contains(t, rec.Body.String(), "NOT sent")
	require.Contains(t, rec.Body.String(), body)

	// Another client has its own bucket.
	rec = f.postJSONFrom(t, "198.51.100.7:4000", "/api/v1/reports", report)
	require.Equal(t, http.StatusCreated, rec.Code)

	// X-Forwarded-For from a public address is not believed: it cannot
	// buy a fresh bucket.
	req := jsonRequest("/api/v1/reports", `{"org":"north-high","body":"x"}`)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	require.Equal(t, http.StatusTooManyRequests, f.serve(req).Code)

	rec = f.serve(getRequest("/metrics"))
	require.Contains(t, rec.Body.String(), "tipline_rate_limited_total 3")
	require.NotContains(t, f.logs.String(), "192.0.2.1")
	require.NotContains(t, f.logs.String(), "198.51.100.7")
}

func TestReportRateLimitOffByDefault(t *testing.T) {
	f := newFixtureAt(t, midMinute)
	for range 5 {
		f.report(t, map[string]any{"org": "north-high", "body": "x"})
	}
}

func TestTokenLookupsAlwaysLimited(t *testing.T) {
	f := newFixtureAt(t, midMinute) // RateLimit 0: reports unlimited, tokens still limited
	for i := range 30 {
		rec := f.postJSON(t, "/api/v1/followup", map[string]string{"token": "hello"})
		require.Equal(t, http.StatusNotFound, rec.Code, "look-up %d", i+1)
	}
	rec := f.postJSON(t, "/api/v1/followup", map[string]string{"token": "hello"})
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Equal(t, "30", rec.Header().Get("Retry-After"))
	rec = f.postJSON(t, "/api/v1/followup/messages", map[string]string{"token": "hello", "body": "x"})
	require.Equal(t, http.StatusTooManyRequests, rec.Code, "messages share the token bucket")

	b := f.browser()
	_, csrf := b.get(t, "/followup")
	rec = b.post("/followup", url.Values{"_csrf": {csrf}, "token": {"hello"}})
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	require.Contains(t, rec.Body.String(), "Please wait a minute")

	// Reports are a different bucket.
	f.report(t, map[string]any{"org": "north-high", "body": "x"})
	require.False(t, strings.Contains(f.logs.String(), "hello"))
}
