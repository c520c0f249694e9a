package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/web"
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

// rateKeys lists the Redis keys that count report posts.
func (f *fixture) rateKeys(t *testing.T) []string {
	t.Helper()
	keys, err := f.rdb.Keys(context.Background(), "ratelimit:report:*").Result()
	require.NoError(t, err)
	slices.Sort(keys)
	return keys
}

// serverAt is another web process on the same Redis and keys, with its
// own memory (and so its own copy of the day's salt) and clock.
func (f *fixture) serverAt(t *testing.T, now time.Time) *echo.Echo {
	t.Helper()
	cfg := f.cfg
	cfg.Registry = prometheus.NewRegistry()
	e, err := web.NewWithClock(cfg, func() time.Time { return now })
	require.NoError(t, err)
	return e
}

func postReport(e *echo.Echo, addr string) int {
	req := jsonRequest("/api/v1/reports", `{"org":"north-high","body":"x"}`)
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec.Code
}

// TestRateLimitDailySalt: the address is hashed with a salt of the UTC
// day, kept in Redis with a TTL and shared by every process, so that once
// the salt has expired nobody, even with the hash key, can tell whether an
// address sent anything.
func TestRateLimitDailySalt(t *testing.T) {
	f := newFixtureAt(t, midMinute, withRateLimit(1))
	ctx := context.Background()
	const addr = "203.0.113.50:1234"

	// Two processes on one day share the salt, so they share the count.
	require.Equal(t, http.StatusCreated, postReport(f.e, addr))
	require.Equal(t, http.StatusTooManyRequests, postReport(f.serverAt(t, midMinute), addr),
		"a second process counts the same client in the same bucket")
	today := f.rateKeys(t)
	require.Len(t, today, 1)

	salts, err := f.rdb.Keys(ctx, "ratelimit:salt:*").Result()
	require.NoError(t, err)
	require.Equal(t, []string{"ratelimit:salt:2030-03-04"}, salts)
	ttl, err := f.rdb.TTL(ctx, salts[0]).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 47*time.Hour, "the salt outlives its day")
	require.LessOrEqual(t, ttl, 48*time.Hour, "the salt is gone two days later")
	val, err := f.rdb.Get(ctx, salts[0]).Result()
	require.NoError(t, err)
	require.NotContains(t, val, "203.0.113.50")

	// The next day, the same address at the same time of day has a new
	// salt, so a key that cannot be matched with yesterday's.
	tomorrow := midMinute.Add(24 * time.Hour)
	require.Equal(t, http.StatusCreated, postReport(f.serverAt(t, tomorrow), addr))
	keys := f.rateKeys(t)
	require.Len(t, keys, 2, "two days, two keys: %v", keys)
	tomorrowSalt, err := f.rdb.Get(ctx, "ratelimit:salt:2030-03-05").Result()
	require.NoError(t, err)
	require.NotEqual(t, val, tomorrowSalt)

	// The salt is in the hash: with another salt for the same day, the same
	// address in the same minute gets another key.
	require.NoError(t, f.rdb.Set(ctx, "ratelimit:salt:2030-03-04", "another salt", time.Hour).Err())
	require.NoError(t, f.rdb.Del(ctx, today[0]).Err())
	require.Equal(t, http.StatusCreated, postReport(f.serverAt(t, midMinute), addr))
	after := f.rateKeys(t)
	require.Len(t, after, 2)
	require.NotContains(t, after, today[0], "the key depends on the salt")

	for _, k := range append(after, salts...) {
		require.NotContains(t, k, "203.0.113.50", "the address is never part of a key")
	}
}
