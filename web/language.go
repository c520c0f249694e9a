package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
)

// langContext is where a request's language is kept once chosen.
const langContext = "lang"

// lang is the language to answer a request in, chosen once per request:
//
//  1. the posted lang field, on a form post (every form carries one);
//  2. the lang query parameter (the switcher's and every internal link's);
//  3. the browser's Accept-Language, q-values honoured, es-MX → es;
//  4. English.
//
// A value the site does not speak falls through to the next rule. The form
// is read only if a middleware already read it within the body limit: the
// error handler must never read an oversized body to find a language.
func (h *handler) lang(c echo.Context) string {
	if l, ok := c.Get(langContext).(string); ok {
		return l
	}
	req := c.Request()
	l := ""
	if req.Method == http.MethodPost && req.PostForm != nil {
		l, _ = h.catalog.match(req.PostForm.Get(langField))
	}
	if l == "" {
		l, _ = h.catalog.match(req.URL.Query().Get(langField))
	}
	if l == "" {
		l = h.catalog.fromAcceptLanguage(req.Header.Get("Accept-Language"))
	}
	c.Set(langContext, l)
	return l
}

// readForm is middleware for form posts that reads the form, within the
// body limit set before it, so that the language the reporter chose is
// known to every later step, the CSRF and rate-limit refusals included.
func (h *handler) readForm(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// A body over the limit leaves the form empty; the CSRF check then
		// refuses the post, as it did before.
		_ = c.FormValue(langField)
		return next(c)
	}
}

// msg is a message in lang, for Go code. Every key the code uses is checked
// at start-up (codeKeys), so the fallbacks are never expected to be taken.
func (h *handler) msg(lang, key string, args ...any) string {
	s, err := h.catalog.text(lang, key, args...)
	if err != nil {
		h.log.Error("message missing", "lang", lang, "key", key, "err", err)
		if s, err = h.catalog.text(defaultLang, key, args...); err != nil {
			return key
		}
	}
	return s
}

// The forms a field error can come from: the reply form calls its text
// field "body" too, but a reporter knows it as "Message".
const (
	formReport = "report"
	formReply  = "reply"
)

// fieldLabelKey is the key of a field's name as a reporter knows it.
func fieldLabelKey(form, field string) string {
	if form == formReply && field == "body" {
		return "field.message"
	}
	return "field." + field
}

// fieldErrorKey is the key of the message for a FieldError code; a code
// this version does not know gets a general one.
func fieldErrorKey(code string) string {
	switch code {
	case intake.ErrRequired, intake.ErrTooLong, intake.ErrInvalidText, intake.ErrUnknownCategory,
		intake.ErrTooManyImages, intake.ErrImageTooLarge, intake.ErrImageType:
		return "error." + code
	}
	return "error.invalid"
}

// fieldError says what is wrong with a field in lang, from the error's
// code, field and limit, never from its English Message.
func (h *handler) fieldError(lang, form string, fe *intake.FieldError) string {
	label := h.msg(lang, fieldLabelKey(form, fe.Field))
	limit := any(fe.Limit)
	if fe.Code == intake.ErrImageTooLarge {
		limit = megabytes(fe.Limit)
	}
	return h.msg(lang, fieldErrorKey(fe.Code), "field", label, "limit", limit)
}

// megabytes says a size in whole megabytes, rounded up.
func megabytes(n int) int {
	return (n + 1<<20 - 1) >> 20
}

// langLink is one entry of the language switcher.
type langLink struct {
	Tag     string
	Name    string // in its own language
	Href    string
	Current bool
	NewTab  bool // the page cannot be shown again, so the switch opens a tab beside it
}

// switchPath is the page a switch of language loads from a page that
// answered route. A page that answered a POST cannot be loaded again
// without posting it, so its switch goes to the GET page of the same form.
// Anything else (a 404 for a path someone typed) switches to the home
// page, never to the path as sent.
func switchPath(route string) string {
	switch route {
	case "/report":
		return "/report"
	case "/followup", "/followup/reply":
		return "/followup"
	}
	return "/"
}

// langLinks builds the switcher for a page. to is the page to switch to
// ("" for the one the route maps to).
func (h *handler) langLinks(c echo.Context, current, to string, newTab bool) []langLink {
	if to == "" {
		to = switchPath(c.Path())
	}
	links := make([]langLink, 0, len(h.catalog.langs))
	for _, tag := range h.catalog.langs {
		links = append(links, langLink{
			Tag:     tag,
			Name:    h.catalog.name(tag),
			Href:    to + "?" + url.Values{langField: {tag}}.Encode(),
			Current: tag == current,
			NewTab:  newTab,
		})
	}
	return links
}
