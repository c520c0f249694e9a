// Package web is tipline's public face: the report and follow-up pages, the
// JSON API for mobile apps, the SMS webhook, /healthz and /metrics. It turns
// HTTP into calls on intake and never keeps anything a reporter sent beyond
// the request that carried it.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

// Config is everything the web layer needs; cmd/tipline builds it.
type Config struct {
	Intake        *intake.Intake
	Orgs          []intake.Org          // organisations a report can name, in display order
	Redis         redis.UniversalClient // for /healthz and rate limits
	Keys          *intake.Keyring       // Keys.Hash(purpose, value) for rate-limit keys
	RateLimit     int                   // reports per client per minute; 0 = off
	Registry      *prometheus.Registry  // /metrics serves it
	Log           *slog.Logger
	SecureCookies bool           // true when the public URL is https
	SMS           *SMS           // nil: no Twilio account, the SMS webhook answers 501
	Accounts      *account.Store // reviewer accounts and sessions; nil: one on Redis and Keys
	Audit         *audit.Log     // the reviewer dashboard's audit log; nil: one on Redis
	// Ready is /readyz's check beyond Redis (the workers, for a process
	// that runs them); nil: Redis alone.
	Ready func(context.Context) error

	// The reviewer dashboard's pages (review_pages.go).
	Teams     []Team            // every team tips are routed to: admins see them all
	Clusters  ClusterReader     // triage's clusters, for related reports; nil: none shown
	Messenger ReporterMessenger // sends reviewers' messages to reporters; nil: reviewers cannot
	Acker     Acker             // the pager, told of acknowledgements; nil: the timeline only
}

// handler holds what every action needs. It is built once by New and is
// safe for concurrent use: nothing in it changes after start-up but the
// day's rate-limit salt, which saltCache guards.
type handler struct {
	intake    *intake.Intake
	orgs      []intake.Org
	rdb       redis.UniversalClient
	keys      *intake.Keyring
	rateLimit int
	log       *slog.Logger
	secure    bool
	pages     *pages
	catalog   *catalog
	salt      *saltCache
	metrics   *metrics
	sms       *SMS
	now       func() time.Time
	accounts  *account.Store
	auditLog  *audit.Log
	review    *reviewTemplates
	ready     func(context.Context) error
	teams     []Team
	clusters  ClusterReader
	messenger ReporterMessenger
	acker     Acker
}

// New builds the public site. Message catalogues are checked and templates
// parsed here, so a broken template or an incomplete translation stops
// start-up instead of failing a reporter later.
func New(cfg Config) (*echo.Echo, error) {
	return newServer(cfg, time.Now, localeFS())
}

// newServer is New with the clock that rate-limit windows are cut from and
// the folder of message catalogues.
func newServer(cfg Config, now func() time.Time, locales fs.FS) (*echo.Echo, error) {
	switch {
	case cfg.Intake == nil:
		return nil, errors.New("web: config: no intake")
	case cfg.Redis == nil:
		return nil, errors.New("web: config: no redis client")
	case cfg.Keys == nil:
		return nil, errors.New("web: config: no keyring")
	case cfg.SMS != nil && (cfg.SMS.Channel == nil || cfg.SMS.Twilio == nil || cfg.SMS.AuthToken == "" || cfg.SMS.WebhookURL == ""):
		return nil, errors.New("web: config: SMS needs its channel, Twilio, auth token and webhook URL")
	case cfg.RateLimit < 0:
		return nil, fmt.Errorf("web: config: rate limit %d is negative; use 0 for off", cfg.RateLimit)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	cat, err := loadCatalog(locales)
	if err != nil {
		return nil, err
	}
	p, err := parsePages(cat)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	h := &handler{
		intake:    cfg.Intake,
		orgs:      cfg.Orgs,
		rdb:       cfg.Redis,
		keys:      cfg.Keys,
		rateLimit: cfg.RateLimit,
		log:       log,
		secure:    cfg.SecureCookies,
		sms:       cfg.SMS,
		pages:     p,
		catalog:   cat,
		salt:      &saltCache{},
		metrics:   m,
		now:       now,
		accounts:  cfg.Accounts,
		auditLog:  cfg.Audit,
		teams:     cfg.Teams,
		clusters:  cfg.Clusters,
		messenger: cfg.Messenger,
		acker:     cfg.Acker,
		ready:     cfg.Ready,
	}
	if h.accounts == nil {
		h.accounts = account.NewStore(cfg.Redis, cfg.Keys).WithClock(now)
	}
	if h.auditLog == nil {
		h.auditLog = audit.New(cfg.Redis)
	}
	if h.review, err = parseReviewTemplates(); err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	// Echo's own loggers would print net/http's messages, which carry
	// client addresses ("TLS handshake error from 203.0.113.7:5123").
	// Addresses are never logged, so they go nowhere; tipline logs through
	// slog, at the edges, with what it chooses.
	e.Logger.SetOutput(io.Discard)
	e.StdLogger.SetOutput(io.Discard)
	// X-Forwarded-For is believed only from a proxy on a loopback, link-local
	// or private address. Echo's default believes anyone, which would let a
	// client pick a fresh rate-limit bucket for every request.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	e.HTTPErrorHandler = h.handleError
	e.Use(
		h.logRequests,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(_ echo.Context, err error, stack []byte) error {
				// handleError logs it, once, with the stack.
				return &panicError{err: err, stack: stack}
			},
		}),
		h.securityHeaders,
	)
	h.routes(e, reg)
	return e, nil
}

// panicError is a recovered panic on its way to handleError.
type panicError struct {
	err   error
	stack []byte
}

func (p *panicError) Error() string { return "panic: " + p.err.Error() }
func (p *panicError) Unwrap() error { return p.err }

// contentSecurityPolicy allows the site's own stylesheet and script and
// nothing else: no inline script or style, no third-party asset, and no
// page may frame ours. The one script (receipt.js) is an enhancement; every
// page works without it.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// permissionsPolicy turns off every sensor and device a page could ask
// for: nothing on the site needs them, and a prompt for the camera or the
// location on a tip line would frighten a reporter (and could identify
// them). interest-cohort opts out of FLoC-style interest tracking.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), accelerometer=(), gyroscope=(), magnetometer=(), ambient-light-sensor=(), payment=(), usb=(), bluetooth=(), interest-cohort=()"

// staticMaxAge is how long browsers may keep the stylesheet and script.
// They hold nothing about a reporter, and an hour keeps a new release's
// styles from waiting long.
const staticMaxAge = "public, max-age=3600"

// securityHeaders sets the headers every response carries, before the
// handler runs, so error pages get them too.
func (h *handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set(echo.HeaderContentSecurityPolicy, contentSecurityPolicy)
		hd.Set(echo.HeaderXContentTypeOptions, "nosniff")
		hd.Set(echo.HeaderReferrerPolicy, "no-referrer")
		hd.Set(echo.HeaderXFrameOptions, "DENY")
		hd.Set("Permissions-Policy", permissionsPolicy)
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		if h.secure {
			// Only behind HTTPS: over plain HTTP the header is ignored, and
			// on a developer's localhost it would pin every other port too.
			hd.Set(echo.HeaderStrictTransportSecurity, "max-age=31536000")
		}
		// Pages and API answers may hold a token or what a reporter typed:
		// no browser, proxy or shared computer may keep a copy. Only the
		// stylesheet and script are worth caching.
		if strings.HasPrefix(c.Request().URL.Path, "/static/") {
			hd.Set(echo.HeaderCacheControl, staticMaxAge)
		} else {
			hd.Set(echo.HeaderCacheControl, "no-store")
			// Answers follow the browser's language when nothing else says.
			hd.Add(echo.HeaderVary, "Accept-Language")
		}
		return next(c)
	}
}

// logRequests logs one line per request with the route's template, never
// the path as sent: a path, query, address or user agent could identify a
// reporter or carry a token.
func (h *handler) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			// Render the error now, so the status logged is the one sent.
			c.Error(err)
		}
		h.log.Info("request",
			"method", c.Request().Method,
			"route", c.Path(),
			"status", c.Response().Status,
			"duration_ms", time.Since(start).Milliseconds())
		return nil
	}
}

// isAPI tells whether a request is for the JSON API, which answers errors
// in JSON rather than with a page.
func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// handleError is the one place errors become responses. It logs server
// errors once; a reporter never sees an error's text, which may name keys,
// addresses or internals.
func (h *handler) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var ap *apiProblem
	if errors.As(err, &ap) {
		// An answer the handler chose, already logged if it was ours.
		if werr := c.JSON(ap.status, h.apiErrorBody(c, ap)); werr != nil {
			h.log.Error("write error response", "route", c.Path(), "status", ap.status, "err", werr)
		}
		return
	}
	status := http.StatusInternalServerError
	var he *echo.HTTPError
	if errors.As(err, &he) {
		status = he.Code
	}
	if status >= 500 {
		attrs := []any{"route", c.Path(), "status", status}
		var pe *panicError
		switch {
		case errors.As(err, &pe):
			attrs = append(attrs, "err", pe.err, "stack", string(pe.stack))
		case he == nil:
			// Errors that reach here come from tipline's own code and its
			// clients (Redis, templates), not from what a reporter sent:
			// handlers answer bad input themselves.
			attrs = append(attrs, "err", err)
		}
		h.log.Error("server error", attrs...)
	}
	var werr error
	if isAPI(c) {
		_, msg := statusMessageKeys(status)
		werr = c.JSON(status, apiError{Error: h.msg(h.lang(c), msg)})
	} else {
		werr = h.renderError(c, status)
	}
	if werr != nil {
		h.log.Error("write error response", "route", c.Path(), "status", status, "err", werr)
	}
}

// errorStatuses are the statuses with their own heading and message;
// others get those of statusOther (4xx) or 500 (5xx).
func errorStatuses() []int {
	return []int{
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusServiceUnavailable, statusOther,
	}
}

// statusOther stands for every 4xx status without messages of its own.
const statusOther = 0

// statusMessageKeys are the keys of what a person is told about an error
// of this status: a heading for the page, and a message that says what
// they can do.
func statusMessageKeys(status int) (heading, message string) {
	for _, s := range errorStatuses() {
		if s == status && s != statusOther {
			k := "status." + strconv.Itoa(s)
			return k + ".heading", k + ".message"
		}
	}
	if status >= 500 {
		return "status.500.heading", "status.500.message"
	}
	return "status.other.heading", "status.other.message"
}
