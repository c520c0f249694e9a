package web

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/web/audit"
)

// auditPageSize is how many entries the audit page shows by default, and
// auditPageMax the most it shows; the CSV export has no bound.
const (
	auditPageSize = 200
	auditPageMax  = 2000
)

// auditPage is the data of the audit log page.
type auditPage struct {
	reviewLayout
	From, To string // the period as typed, YYYY-MM-DD
	Limit    int
	Entries  []audit.Entry
	CSV      string // the export link for the same period
	Error    string
}

// auditRange reads the period asked for: from and to are UTC dates, both
// included; either may be empty.
func auditRange(c echo.Context) (from, to time.Time, fromS, toS, problem string) {
	fromS, toS = c.QueryParam("from"), c.QueryParam("to")
	var err error
	if fromS != "" {
		if from, err = time.Parse(time.DateOnly, fromS); err != nil {
			return time.Time{}, time.Time{}, "", "", "Dates are written 2026-01-31."
		}
	}
	if toS != "" {
		if to, err = time.Parse(time.DateOnly, toS); err != nil {
			return time.Time{}, time.Time{}, "", "", "Dates are written 2026-01-31."
		}
		to = to.Add(24*time.Hour - time.Millisecond)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return time.Time{}, time.Time{}, fromS, toS, "The period ends before it starts."
	}
	return from, to, fromS, toS, ""
}

// reviewAudit shows the audit log, newest first. Reading it is itself
// recorded.
func (h *handler) reviewAudit(c echo.Context) error {
	p := &auditPage{reviewLayout: reviewLayout{Title: "Audit log", Nav: "audit"}, Limit: auditPageSize}
	from, to, fromS, toS, problem := auditRange(c)
	p.From, p.To = fromS, toS
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			problem = "Show at least one entry."
		} else {
			p.Limit = min(n, auditPageMax)
		}
	}
	if problem != "" {
		p.Error = problem
		return h.renderReview(c, http.StatusBadRequest, "review_audit", p)
	}
	if err := h.audit(c, "audit.view", "", auditPeriod(fromS, toS)); err != nil {
		return err
	}
	entries, err := h.auditLog.List(c.Request().Context(), from, to, p.Limit)
	if err != nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable).SetInternal(err)
	}
	p.Entries = entries
	q := url.Values{}
	if fromS != "" {
		q.Set("from", fromS)
	}
	if toS != "" {
		q.Set("to", toS)
	}
	p.CSV = "/review/audit.csv"
	if len(q) > 0 {
		p.CSV += "?" + q.Encode()
	}
	return h.renderReview(c, http.StatusOK, "review_audit", p)
}

// reviewAuditCSV exports the audit log for a period as CSV, oldest first.
// The export is recorded before it is written.
func (h *handler) reviewAuditCSV(c echo.Context) error {
	from, to, fromS, toS, problem := auditRange(c)
	if problem != "" {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	if err := h.audit(c, "audit.export", "", auditPeriod(fromS, toS)); err != nil {
		return err
	}
	name := "tipline-audit-" + h.now().UTC().Format("20060102-150405") + ".csv"
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Response().WriteHeader(http.StatusOK)
	if err := h.auditLog.Export(c.Request().Context(), c.Response(), from, to); err != nil {
		// Headers are gone: the file ends short, and the log says why.
		h.log.Error("audit export failed midway", "err", err)
	}
	return nil
}

// auditPeriod describes a period for the audit entry of reading the log.
func auditPeriod(from, to string) string {
	if from == "" && to == "" {
		return "all"
	}
	return from + ".." + to
}
