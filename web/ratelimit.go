package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
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
	ctx, cancel := context.WithTimeout(c.Request().Context(), rateCheckTimeout)
	defer cancel()
	salt, err := h.daySalt(ctx, now)
	var count *redis.IntCmd
	if err == nil {
		key := h.rateKey(bucket, salt, c.RealIP(), start)
		_, err = h.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			count = p.Incr(ctx, key)
			p.Expire(ctx, key, 2*rateWindow)
			return nil
		})
	}
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

// rateKey is the Redis key that counts a client's requests in one window.
// The client's address is only hashed, with the secret hash key and the
// day's salt, into a key that expires two minutes later; the address is
// never stored or logged. The salt is what makes the hash forgettable:
// once the day's salt has expired, even someone holding the hash key (a
// stolen config, a subpoena) cannot test whether an address appears in an
// old Redis snapshot or backup, because the salt it was hashed with is gone.
func (h *handler) rateKey(bucket, salt, addr string, window time.Time) string {
	return "ratelimit:" + bucket + ":" +
		h.keys.Hash("ratelimit", salt+"|"+addr+"|"+strconv.FormatInt(window.Unix(), 10))
}

// saltTTL is how long a day's salt is kept in Redis: through its day, and
// a day beyond, so a process whose clock runs a little behind still finds
// it. After that it is gone for good.
const saltTTL = 48 * time.Hour

// saltKey is the Redis key of the salt of the UTC day of t.
func saltKey(t time.Time) string {
	return "ratelimit:salt:" + t.UTC().Format(time.DateOnly)
}

// saltCache keeps today's salt in memory, so a request costs no extra
// round trip. It is keyed by the date: a new day reads (or makes) a new
// salt. (Were the salt key deleted by hand mid-day, processes that cached
// the old one would count apart until midnight: a weaker limit, never a
// refused tip.)
type saltCache struct {
	mu   sync.Mutex
	day  string
	salt string
}

// daySalt is the salt of the UTC day of now, shared by every process
// through Redis: the first process to need it makes it (SET NX), every
// other one reads that one, so all of them count a client in one bucket.
func (h *handler) daySalt(ctx context.Context, now time.Time) (string, error) {
	key := saltKey(now)
	h.salt.mu.Lock()
	day, salt := h.salt.day, h.salt.salt
	h.salt.mu.Unlock()
	if day == key {
		return salt, nil
	}
	salt = rand.Text()
	made, err := h.rdb.SetNX(ctx, key, salt, saltTTL).Result()
	if err != nil {
		return "", fmt.Errorf("web: make rate-limit salt: %w", err)
	}
	if !made {
		if salt, err = h.rdb.Get(ctx, key).Result(); err != nil {
			return "", fmt.Errorf("web: read rate-limit salt: %w", err)
		}
	}
	h.salt.mu.Lock()
	h.salt.day, h.salt.salt = key, salt
	h.salt.mu.Unlock()
	return salt, nil
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
