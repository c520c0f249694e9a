package web

import (
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the site in one place.
func (h *handler) routes(e *echo.Echo, reg prometheus.Gatherer) {
	// CSRF protection is attached only to the routes that show or take an
	// HTML form, so the API, the SMS webhook, /healthz and /metrics never
	// see it, and pages without a form set no cookie at all.
	csrf := h.csrf()
	formLimit := middleware.BodyLimit(strconv.Itoa(formTextLimit))
	tokenLimit := h.limit(bucketToken, tokenLookupsPerMinute)

	// Pages.
	e.GET("/", h.home)
	e.GET("/report", h.reportForm, csrf)
	// readReport bounds and reads the report post itself, pictures and all;
	// the report is rate-limited inside, to keep the reporter's text.
	e.POST("/report", h.reportSubmit, h.readReport, csrf)
	e.GET("/followup", h.followupForm, csrf)
	e.POST("/followup", h.followupShow, formLimit, h.readForm, csrf, tokenLimit)
	e.POST("/followup/reply", h.followupReply, formLimit, h.readForm, csrf, tokenLimit)
	e.StaticFS("/static/", staticFS())
	e.GET("/favicon.ico", h.favicon)

	// JSON API, for mobile apps and integrations.
	e.POST("/api/v1/reports", h.apiReport, h.limit(bucketReport, h.rateLimit))
	e.POST("/api/v1/followup", h.apiFollowup, tokenLimit)
	e.POST("/api/v1/followup/messages", h.apiFollowupMessage, tokenLimit)
	e.GET("/api/v1/orgs", h.apiOrgs)

	// SMS, operations.
	e.POST("/sms/twilio", h.smsTwilio)
	e.POST("/voice/twilio/ack", h.voiceAck)
	e.POST("/sms/twilio/status", h.smsStatus)
	e.GET("/healthz", h.healthz)
	e.GET("/readyz", h.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))

	// The reviewer dashboard, behind sign-in (review.go).
	h.reviewRoutes(e)
}
