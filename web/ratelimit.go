package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"
)

// Rate-limit buckets. Reports from the form and the API share one bucket:
// a client gets RateLimit reports a minute whichever way it sends them.
const (
	bucketReport = "report"
	bucketToken  = "token"
)

// tokenLookupsPerMinute bounds how fast one client can try tokens. It holds
// whatever RateLimit says: a token is the only secret between a stranger and
// a reporter's conversation, so guessing must always be slow.
const tokenLookupsPerMinute = 30

// rateWindow is the fixed window counts are kept in.
const rateWindow = time.Minute

// rateCheckTimeout bounds the Redis round trip of a check. A slow limiter
// must not keep a reporter waiting; the request goes through instead.
const rateCheckTimeout = time.Second

// allow counts one request of the client against a bucket and tells whether
// it is within perMinute; if not, also how long until the window ends.
// perMinute 0 means no limit.
func (h *handler) allow(c echo.Context, bucket string, perMinute int) (bool, time.Duration) {
	if perMinute <= 0 {
		return true, 0
	}
	now := h.now()
	start := now.Truncate(rateWindow)
	// The client's address is only hashed, with a secret key, into a Redis
	// key that expires two minutes later. It is never stored or logged,
	// and without the key the hash cannot be traced back to an address.
	key := "ratelimit:" + bucket + ":" +
		h.keys.Hash("ratelimit", c.RealIP()+"|"+strconv.FormatInt(start.Unix(), 10))
	ctx, cancel := context.WithTimeout(c.Request().Context(), rateCheckTimeout)
	defer cancel()
	var count *redis.IntCmd
	_, err := h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		count = p.Incr(ctx, key)
		p.Expire(ctx, key, 2*rateWindow)
		return nil
	})
	if err != nil {
		// A tip must not be refused because the limiter failed.
		h.log.Warn("rate limit check failed; request let through", "bucket", bucket, "err", err)
		return true, 0
	}
	if count.Val() <= int64(perMinute) {
		return true, 0
	}
	h.metrics.limited.Inc()
	return false, start.Add(rateWindow).Sub(now)
}

// setRetryAfter tells the client, in whole seconds, when to try again.
func setRetryAfter(c echo.Context, wait time.Duration) {
	secs := max(int(math.Ceil(wait.Seconds())), 1)
	c.Response().Header().Set(echo.HeaderRetryAfter, strconv.Itoa(secs))
}

// limit is middleware that refuses a client over perMinute requests a
// minute in bucket with 429; handleError answers in JSON or with a page.
func (h *handler) limit(bucket string, perMinute int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if perMinute <= 0 {
			return next
		}
		return func(c echo.Context) error {
			if ok, wait := h.allow(c, bucket, perMinute); !ok {
				setRetryAfter(c, wait)
				return echo.NewHTTPError(http.StatusTooManyRequests)
			}
			return next(c)
		}
	}
}
