package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages are the parsed page templates, by name.
type pages struct {
	byName map[string]*template.Template
}

// parsePages parses every page the site renders with the layout. A page
// missing or broken is an error at start-up, not when a reporter needs it.
func parsePages() (*pages, error) {
	names := []string{"home", "report", "receipt", "followup", "error"}
	p := &pages{byName: make(map[string]*template.Template, len(names))}
	for _, name := range names {
		t, err := template.New("layout.html").Option("missingkey=error").
			ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	// Parsing cannot see a misspelt field; rendering every page once, with
	// every branch taken, moves that mistake to start-up too.
	for _, s := range pageSamples() {
		if err := p.byName[s.name].ExecuteTemplate(io.Discard, "layout", s.data); err != nil {
			return nil, fmt.Errorf("web: page %s: %w", s.name, err)
		}
	}
	return p, nil
}

// pageSamples are data for each page that take every branch of its template.
func pageSamples() []struct {
	name string
	data any
} {
	fe := &intake.FieldError{Field: "body", Message: "What happened is required."}
	view := &followupView{StatusName: "Received", StatusText: "t", Messages: []messageView{{Mine: true}, {}}}
	orgs := []intake.Org{{ID: "a", Name: "A"}}
	return []struct {
		name string
		data any
	}{
		{"home", struct{ layout }{}},
		{"report", reportPage{Orgs: orgs, Categories: intake.Categories, Error: fe, Problem: "p", Form: intake.Report{Org: "a", Danger: true}}},
		{"report", reportPage{}},
		{"receipt", receiptPage{Token: "T", Danger: true, SelfHarm: true, OrgName: "A"}},
		{"followup", followupPage{View: view, Notice: "n", Problem: "p", ReplyToken: "t", Reply: "r", ReplyError: "e"}},
		{"followup", followupPage{View: &followupView{}, Typed: "t"}},
		{"error", errorPage{Status: 500, Heading: "h", Message: "m"}},
	}
}

// staticFS is the stylesheet folder, rooted so /static/style.css is style.css.
func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // only a wrong literal above can cause this
	}
	return sub
}

// layout is what the shared layout needs from every page.
type layout struct {
	Title string
	CSRF  string // the token for the page's forms; empty on pages without one
}

// render writes a page. It renders into a buffer first, so a template error
// becomes a clean 500 and never half a page.
func (h *handler) render(c echo.Context, status int, name string, data any) error {
	t, ok := h.pages.byName[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	layout
	Status  int
	Heading string
	Message string
}

// renderError shows the error page. It says what a person can do, never
// what went wrong inside.
func (h *handler) renderError(c echo.Context, status int) error {
	heading := "Something went wrong"
	switch status {
	case http.StatusNotFound:
		heading = "Page not found"
	case http.StatusTooManyRequests:
		heading = "Please wait a minute"
	case http.StatusForbidden:
		heading = "Please reload the page"
	}
	return h.render(c, status, "error", errorPage{
		layout:  layout{Title: heading},
		Status:  status,
		Heading: heading,
		Message: publicMessage(status),
	})
}
