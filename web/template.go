package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"

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

// templateFuncs are what templates may call besides the built-ins:
//
//	{{t .Lang "key" "name" value ...}}   a message, as text
//	{{tl .Lang "key" "n911" (tel "911")}} a message with tel: links in it
func templateFuncs(cat *catalog) template.FuncMap {
	return template.FuncMap{
		"t":   cat.text,
		"tl":  cat.html,
		"tel": telLink,
	}
}

// telLink is a link that dials number, for a message's placeholder.
func telLink(number string) (template.HTML, error) {
	if number == "" || strings.Trim(number, "0123456789") != "" {
		return "", fmt.Errorf("web: tel link: %q is not a number", number)
	}
	return template.HTML(`<a href="tel:` + number + `">` + number + `</a>`), nil
}

// parsePages parses every page the site renders with the layout. A page
// missing or broken is an error at start-up, not when a reporter needs it.
func parsePages(cat *catalog) (*pages, error) {
	pageNames := []string{"home", "report", "receipt", "followup", "error"}
	p := &pages{byName: make(map[string]*template.Template, len(pageNames))}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Option("missingkey=error").Funcs(templateFuncs(cat)).
			ParseFS(templateFiles, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	// Parsing cannot see a misspelt field or message key; rendering every
	// page once in every language, with every branch taken, moves those
	// mistakes to start-up too.
	for _, lang := range cat.langs {
		for _, s := range pageSamples() {
			l := s.data.base()
			l.Lang = lang
			l.Langs = []langLink{{Tag: lang, Name: cat.name(lang), Href: "/", Current: true, NewTab: true}}
			if err := p.byName[s.name].ExecuteTemplate(io.Discard, "layout", s.data); err != nil {
				return nil, fmt.Errorf("web: page %s in %s: %w", s.name, lang, err)
			}
		}
	}
	return p, nil
}

// pageSample is data for a page that takes some of its template's branches.
type pageSample struct {
	name string
	data page
}

// pageSamples are data for each page that, together, take every branch of
// its template.
func pageSamples() []pageSample {
	fe := &intake.FieldError{Field: "body", Code: intake.ErrRequired}
	view := &followupView{StatusName: "Received", StatusText: "t", Messages: []messageView{{Mine: true}, {}}}
	orgs := []intake.Org{{ID: "a", Name: "A"}}
	return []pageSample{
		{"home", &homePage{layout: layout{TitleKey: "home.title"}}},
		{"report", &reportPage{layout: layout{TitleKey: "report.title"}, Orgs: orgs, Categories: intake.Categories,
			Error: fe, ErrorText: "e", Problem: "p", ImagesSent: 2, Form: reportInput{Org: "a", Danger: "yes"}}},
		{"report", &reportPage{layout: layout{TitleKey: "report.title"}, Form: reportInput{Danger: "no"}}},
		{"receipt", &receiptPage{layout: layout{TitleKey: "receipt.title"}, Token: "T", Danger: true, SelfHarm: true, OrgName: "A"}},
		{"receipt", &receiptPage{layout: layout{TitleKey: "receipt.already.title"}, AlreadySent: true}},
		{"followup", &followupPage{layout: layout{TitleKey: "followup.title.report"}, View: view, Notice: "n", Problem: "p", ReplyToken: "t", Reply: "r", ReplyError: "e"}},
		{"followup", &followupPage{layout: layout{TitleKey: "followup.title.check"}, View: &followupView{}, Typed: "t"}},
		{"error", &errorPage{layout: layout{TitleKey: "status.500.heading"}, Status: 500, Heading: "h", Message: "m"}},
	}
}

// staticFS is the folder of the stylesheet and script, rooted so that
// /static/style.css is style.css.
func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // only a wrong literal above can cause this
	}
	return sub
}

// localeFS is the folder of message catalogues, rooted at the files.
func localeFS() fs.FS {
	sub, err := fs.Sub(localeFiles, "locales")
	if err != nil {
		panic(err) // only a wrong literal above can cause this
	}
	return sub
}

// layout is what the shared layout needs from every page. render fills in
// the language and the switcher.
type layout struct {
	TitleKey string     // the message key of the page's title
	CSRF     string     // the token for the page's forms; empty on pages without one
	Lang     string     // the page's language tag
	Langs    []langLink // the language switcher
	Script   bool       // the page loads /static/receipt.js

	// switchTo is the page the switcher loads ("" for the one the route
	// maps to); switchNewTab opens it beside this page.
	switchTo     string
	switchNewTab bool
}

// page is the data of any page: it carries a layout.
type page interface{ base() *layout }

func (l *layout) base() *layout { return l }

// render writes a page in the request's language. It renders into a buffer
// first, so a template error becomes a clean 500 and never half a page.
func (h *handler) render(c echo.Context, status int, name string, data page) error {
	t, ok := h.pages.byName[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	l := data.base()
	l.Lang = h.lang(c)
	l.Langs = h.langLinks(c, l.Lang, l.switchTo, l.switchNewTab)
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
	lang := h.lang(c)
	heading, message := statusMessageKeys(status)
	return h.render(c, status, "error", &errorPage{
		layout:  layout{TitleKey: heading},
		Status:  status,
		Heading: h.msg(lang, heading),
		Message: h.msg(lang, message),
	})
}
