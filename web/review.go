package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"slices"
	"strings"
	"time"

	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/tipline/tipline/web/account"
)

// reviewRoutes mounts the reviewer dashboard under /review. Sign-in, its
// setup steps and sign-out come first, outside the sign-in check; then
// the admins' pages (audit log, accounts), which answer 404 to others; every
// route mounted after requireReviewer (the pages of review_pages.go) needs
// a full session. Every form under /review is protected against forgery.
func (h *handler) reviewRoutes(e *echo.Echo) {
	// The body limit comes first: the CSRF check reads the form.
	g := e.Group("/review", middleware.BodyLimit(strconv.Itoa(reviewBodyLimit)), h.csrf())
	formLimit := middleware.BodyLimit(strconv.Itoa(reviewFormLimit))

	g.GET("/signin", h.reviewSigninForm)
	g.POST("/signin", h.reviewSignin, formLimit)
	g.POST("/signout", h.reviewSignout, formLimit)
	g.GET("/password", h.reviewPasswordForm, h.requireSetup)
	g.POST("/password", h.reviewPassword, formLimit, h.requireSetup)
	g.GET("/enroll", h.reviewEnrollForm, h.requireSetup)
	g.POST("/enroll", h.reviewEnroll, formLimit, h.requireSetup)
	g.GET("/audit", h.reviewAudit, h.requireReviewer, h.requireAdmin)
	g.GET("/audit.csv", h.reviewAuditCSV, h.requireReviewer, h.requireAdmin)
	g.GET("/accounts", h.reviewAccounts, h.requireReviewer, h.requireAdmin)
	g.POST("/accounts", h.reviewAccountAdd, formLimit, h.requireReviewer, h.requireAdmin)
	g.POST("/accounts/:id/:action", h.reviewAccountChange, formLimit, h.requireReviewer, h.requireAdmin)

	g.Use(h.requireReviewer)
	h.reviewPages(g)
}

// reviewBodyLimit bounds the body of any request to the dashboard, before
// the CSRF check reads it; routes may set tighter limits of their own.
const reviewBodyLimit = 64 << 10

// reviewFormLimit bounds a reviewer form's body: a sign-in or password form
// is small, and the bound keeps argon2id from hashing megabytes.
const reviewFormLimit = 16 << 10

// reviewTemplates are the dashboard's pages, by name: every
// templates/review_*.html but the layout, each parsed with
// review_layout.html. A page only has to be added as a file.
type reviewTemplates struct {
	byName map[string]*template.Template
}

// reviewLayoutFile is the dashboard's layout, shared by its pages.
const reviewLayoutFile = "review_layout.html"

// reviewFuncs are what reviewer templates may call besides the built-ins:
//
//	{{when .At}}           a time as "2006-01-02 15:04 UTC"
//	{{stamp .At}}          a time as "2006-01-02 15:04:05", in UTC
//	{{join .Teams ", "}}   strings joined
//	{{has .Teams "north"}} whether a list holds a string
func reviewFuncs() template.FuncMap {
	return template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"stamp": func(t time.Time) string { return t.UTC().Format(time.DateTime) },
		"join":  strings.Join,
		"has":   slices.Contains[[]string],
	}
}

// parseReviewTemplates parses every reviewer page at start-up: a broken
// template stops the server instead of failing a reviewer later.
func parseReviewTemplates() (*reviewTemplates, error) {
	files, err := fs.Glob(templateFiles, "templates/review_*.html")
	if err != nil {
		return nil, fmt.Errorf("web: find reviewer pages: %w", err)
	}
	rt := &reviewTemplates{byName: make(map[string]*template.Template, len(files))}
	for _, f := range files {
		base := strings.TrimPrefix(f, "templates/")
		if base == reviewLayoutFile {
			continue
		}
		t, err := template.New(reviewLayoutFile).Option("missingkey=error").Funcs(reviewFuncs()).
			ParseFS(templateFiles, "templates/"+reviewLayoutFile, f)
		if err != nil {
			return nil, fmt.Errorf("web: parse reviewer page %s: %w", base, err)
		}
		rt.byName[strings.TrimSuffix(base, ".html")] = t
	}
	return rt, nil
}

// reviewLayout is what the dashboard's layout needs from every page;
// renderReview fills in the CSRF token and the signed-in reviewer.
type reviewLayout struct {
	Title string            // the page's title
	CSRF  string            // the token every form on the page carries
	Me    *account.Reviewer // the signed-in reviewer; nil on the sign-in pages
	Nav   string            // the section to mark current: "queue", "audit", ...
	Setup bool              // a step of account setup: no dashboard links yet
}

// reviewPage is the data of any reviewer page: it carries a reviewLayout.
type reviewPage interface{ reviewBase() *reviewLayout }

func (l *reviewLayout) reviewBase() *reviewLayout { return l }

// renderReview writes the reviewer page name (its file name without
// .html, such as "review_signin"). Like render, it renders into a buffer
// first, so a template error becomes a clean 500 and never half a page.
func (h *handler) renderReview(c echo.Context, status int, name string, data reviewPage) error {
	t, ok := h.review.byName[name]
	if !ok {
		return fmt.Errorf("web: no reviewer page %q", name)
	}
	l := data.reviewBase()
	l.CSRF = csrfToken(c)
	if l.Me == nil {
		l.Me = reviewerOf(c)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}
