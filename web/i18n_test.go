package web_test

import (
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/web"
)

// htmlLang is the language a page says it is in.
var htmlLang = regexp.MustCompile(`<html lang="([^"]+)">`)

func pageLang(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	m := htmlLang.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m, "no <html lang> in %s", rec.Body)
	return m[1]
}

// requireSwitcher requires the language switcher, each link labelled with
// its language and leading to target in that language.
func requireSwitcher(t *testing.T, page, target string) {
	t.Helper()
	for _, l := range []struct{ tag, name string }{{"en", "English"}, {"es", "Español"}} {
		want := regexp.MustCompile(`<a href="` + regexp.QuoteMeta(target+"?lang="+l.tag) +
			`" lang="` + l.tag + `" hreflang="` + l.tag + `"[^>]*>` + l.name)
		require.Regexp(t, want, page, "switcher link to %s in %s", target, l.name)
	}
}

// getIn loads path with an Accept-Language header (none when empty) and
// returns it with the CSRF token of its form.
func (b *browser) getIn(t *testing.T, path, acceptLanguage string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	b.send(req)
	rec := b.f.serve(req)
	b.keep(rec)
	m := csrfFieldPattern.FindStringSubmatch(rec.Body.String())
	if m == nil {
		return rec, ""
	}
	return rec, m[1]
}

// TestEveryPageInSpanish loads every page in Spanish, once chosen by the
// browser's Accept-Language and once by ?lang=es against an English
// browser, and checks its language, its words and its switcher.
func TestEveryPageInSpanish(t *testing.T) {
	f := newFixture(t)
	pages := []struct {
		path, switchTo, spanish, english string
		status                           int
	}{
		{"/", "/", "Cuéntalo de forma segura", "Tell someone safely", 200},
		{"/report", "/report", "¿Alguien está en peligro ahora mismo?", "Is someone in danger right now?", 200},
		{"/followup", "/followup", "Código de seguimiento", "Follow-up token", 200},
		{"/no-such-page", "/", "No encontramos esta página", "Page not found", 404},
	}
	for _, p := range pages {
		for _, how := range []struct{ name, path, accept string }{
			{"Accept-Language", p.path, "es-MX,es;q=0.9,en;q=0.5"},
			{"?lang=es", p.path + "?lang=es", "en-US,en;q=0.9"},
		} {
			t.Run(p.path+" by "+how.name, func(t *testing.T) {
				rec, _ := f.browser().getIn(t, how.path, how.accept)
				require.Equal(t, p.status, rec.Code)
				page := rec.Body.String()
				require.Equal(t, "es", pageLang(t, rec))
				require.Contains(t, page, p.spanish)
				require.NotContains(t, page, p.english)
				require.Contains(t, page, `llama al <a href="tel:911">911</a>`)
				requireSwitcher(t, page, p.switchTo)
				require.Contains(t, page, `<a href="/report?lang=es">Hacer un reporte</a>`, "links keep the language")
				if strings.Contains(page, "<form") {
					require.Contains(t, page, `<input type="hidden" name="lang" value="es">`)
				}
			})
		}
	}
	// English is the same pages with the English words.
	rec, _ := f.browser().getIn(t, "/report", "")
	require.Equal(t, "en", pageLang(t, rec))
	requireSwitcher(t, rec.Body.String(), "/report")
}

// TestPostedPagesInSpanish: the hidden lang field carries the choice
// through a post, whatever the browser asks for, and the switcher of a page
// that answered a post leads to the GET page of its form.
func TestPostedPagesInSpanish(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.getIn(t, "/report?lang=es", "en")

	// The receipt: Spanish, emergency first, a switcher that opens a tab
	// so the token stays on the screen.
	form := reportForm(csrf, "lang", "es", "body", "Dijo que va a traer un cuchillo mañana.", "danger", "yes")
	rec := b.post("/report", form)
	require.Equal(t, http.StatusCreated, rec.Code, "got %d: %s", rec.Code, rec.Body)
	page := rec.Body.String()
	require.Equal(t, "es", pageLang(t, rec))
	require.Contains(t, page, "Recibimos tu reporte")
	require.Contains(t, page, "Llama al 911 ahora")
	require.Less(t, strings.Index(page, "Llama al 911 ahora"), strings.Index(page, `class="token"`))
	require.Contains(t, page, `data-copy="Copiar código"`)
	requireSwitcher(t, page, "/")
	require.Contains(t, page, `hreflang="en" target="_blank" rel="noopener"`)
	token := receiptToken.FindStringSubmatch(page)[1]

	// A field error: in Spanish, from its code, never intake's English.
	rec = b.post("/report", reportForm(csrf, "lang", "es", "body", "  ", "location", "el gimnasio", "danger", "no"))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	page = rec.Body.String()
	require.Contains(t, page, "Te falta llenar «Qué pasó».")
	require.NotContains(t, page, "is required")
	require.Contains(t, page, `value="el gimnasio"`)
	require.Contains(t, page, `value="no" checked`, "a No answer comes back too")
	requireSwitcher(t, page, "/report")

	rec = b.post("/report", reportForm(csrf, "lang", "es", "body", strings.Repeat("a", 10001)))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "El texto de «Qué pasó» es demasiado largo: puedes escribir hasta 10000 caracteres.")

	rec = b.post("/report", reportForm(csrf, "lang", "es", "body", "x", "category", "aliens"))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "Elige uno de los temas de la lista.")

	// The follow-up and a reply.
	_, csrf = b.getIn(t, "/followup?lang=es", "en")
	rec = b.post("/followup", url.Values{"_csrf": {csrf}, "lang": {"es"}, "token": {token}})
	require.Equal(t, http.StatusOK, rec.Code)
	page = rec.Body.String()
	require.Equal(t, "es", pageLang(t, rec))
	require.Contains(t, page, "Estado: Recibido")
	requireSwitcher(t, page, "/followup")
	once := onceFieldPattern.FindStringSubmatch(page)[1]

	rec = b.post("/followup/reply", url.Values{"_csrf": {csrf}, "lang": {"es"}, "token": {token}, "body": {"Fue en el recreo."}, "once": {once}})
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "Tu mensaje se agregó.")
	require.Contains(t, rec.Body.String(), "<strong>Tú</strong>")
	requireSwitcher(t, rec.Body.String(), "/followup")

	rec = b.post("/followup/reply", url.Values{"_csrf": {csrf}, "lang": {"es"}, "token": {token}, "body": {" "}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "Te falta llenar «Mensaje».")

	rec = b.post("/followup", url.Values{"_csrf": {csrf}, "lang": {"es"}, "token": {"hello"}})
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.Contains(t, rec.Body.String(), "Ningún reporte coincide con ese código.")

	// Refused by the CSRF check: the report comes back in Spanish.
	rec = b.post("/report", reportForm("wrong", "lang", "es", "body", "algo pasó"))
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Equal(t, "es", pageLang(t, rec))
	require.Contains(t, rec.Body.String(), "NO se envió")
}

func TestLanguageChoice(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		path, accept, want string
	}{
		{"/", "", "en"},
		{"/", "es", "es"},
		{"/", "es-MX", "es"},
		{"/", "ES_mx", "es"},
		{"/", "es-419,es;q=0.9", "es"},
		{"/", "en;q=0.5, es;q=0.9", "es"},
		{"/", "en-US,en;q=0.9,es;q=0.8", "en"},
		{"/", "fr-CA, fr;q=0.9, es;q=0.2", "es"},
		{"/", "es;q=0, en;q=0.1", "en"},
		{"/", "es;q=NaN, en;q=0.1", "en"},
		{"/", "es;q=2", "en"},
		{"/", "fr, de", "en"},
		{"/", "*", "en"},
		{"/", ";;;,,,q=", "en"},
		{"/", strings.Repeat("xx-yy,", 10000) + "es", "en"},
		{"/?lang=es", "en", "es"},
		{"/?lang=en", "es", "en"},
		{"/?lang=ES-us", "en", "es"},
		{"/?lang=klingon", "es", "es"},
		{"/?lang=", "es", "es"},
		{"/report?lang=es", "", "es"},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, tt.path, nil)
		if tt.accept != "" {
			req.Header.Set("Accept-Language", tt.accept)
		}
		rec := f.serve(req)
		require.Equal(t, tt.want, pageLang(t, rec), "%s with Accept-Language %.40q", tt.path, tt.accept)
		require.Contains(t, rec.Header().Values("Vary"), "Accept-Language")
	}
	for _, c := range f.serve(httptest.NewRequest(http.MethodGet, "/?lang=es", nil)).Result().Cookies() {
		t.Fatalf("a language choice must not set a cookie; got %s", c.Name)
	}
}

// TestAPIErrorsInTheBrowsersLanguage: the API answers errors in the
// Accept-Language language, and still names the field at fault.
func TestAPIErrorsInTheBrowsersLanguage(t *testing.T) {
	f := newFixture(t)
	post := func(path, body, lang string) *httptest.ResponseRecorder {
		req := jsonRequest(path, body)
		req.Header.Set("Accept-Language", lang)
		return f.serve(req)
	}
	rec := post("/api/v1/reports", `{"org":"north-high"}`, "es-US,es;q=0.9")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.JSONEq(t, `{"error":"Te falta llenar «Qué pasó».","field":"body"}`, rec.Body.String())

	rec = post("/api/v1/reports", `{"org":"north-high"}`, "en")
	require.JSONEq(t, `{"error":"What happened is required.","field":"body"}`, rec.Body.String())

	rec = post("/api/v1/reports", `{"org":"north-high","body":"x","name":"Jo"}`, "es")
	require.Equal(t, "name", decode(t, rec)["field"])
	require.Contains(t, decode(t, rec)["error"], "no acepta el campo")

	rec = post("/api/v1/followup", `{"token":"hello"}`, "es")
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.JSONEq(t, `{"error":"Ningún reporte coincide con ese código."}`, rec.Body.String())

	rec = post("/api/v1/followup/messages", `{"token":"hello","body":""}`, "es")
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.JSONEq(t, `{"error":"Te falta llenar «Mensaje».","field":"body"}`, rec.Body.String())

	req := httptest.NewRequest(http.MethodGet, "/api/v1/no-such", nil)
	req.Header.Set("Accept-Language", "es")
	rec = f.serve(req)
	require.Equal(t, http.StatusNotFound, rec.Code)
	require.JSONEq(t, `{"error":"No hay nada en esta dirección."}`, rec.Body.String())
}

// readCatalog reads one shipped catalogue.
func readCatalog(t *testing.T, fsys fs.FS, name string) map[string]string {
	t.Helper()
	raw, err := fs.ReadFile(fsys, name)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(raw, &m), "%s must be a flat object of strings", name)
	return m
}

// TestShippedLocalesAreComplete: every shipped catalogue has every key
// English has, with the same placeholders, and nothing English lacks.
func TestShippedLocalesAreComplete(t *testing.T) {
	fsys := web.ShippedLocales()
	require.NoError(t, web.LoadLocales(fsys))
	names, err := fs.Glob(fsys, "*.json")
	require.NoError(t, err)
	require.Contains(t, names, "en.json")
	require.Contains(t, names, "es.json")
	en := readCatalog(t, fsys, "en.json")
	placeholder := regexp.MustCompile(`\{[a-z0-9_]+\}`)
	for _, name := range names {
		tr := readCatalog(t, fsys, name)
		for k, msg := range en {
			got, ok := tr[k]
			require.True(t, ok, "%s has no key %q", name, k)
			require.NotEmpty(t, strings.TrimSpace(got), "%s: %q is empty", name, k)
			want, have := placeholder.FindAllString(msg, -1), placeholder.FindAllString(got, -1)
			slices.Sort(want)
			slices.Sort(have)
			require.Equal(t, slices.Compact(want), slices.Compact(have), "%s: placeholders of %q", name, k)
		}
		for k := range tr {
			require.Contains(t, en, k, "%s has key %q that en.json lacks", name, k)
		}
	}
}

// TestIncompleteLocaleStopsStartUp: a catalogue that lacks a key, or
// differs from English in other ways, is a start-up error naming the file
// and the key.
func TestIncompleteLocaleStopsStartUp(t *testing.T) {
	shipped := web.ShippedLocales()
	enRaw, err := fs.ReadFile(shipped, "en.json")
	require.NoError(t, err)
	en := readCatalog(t, shipped, "en.json")
	with := func(edit func(m map[string]string)) []byte {
		m := map[string]string{}
		for k, v := range en {
			m[k] = v
		}
		edit(m)
		raw, err := json.Marshal(m)
		require.NoError(t, err)
		return raw
	}
	tests := []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"missing key", fstest.MapFS{
			"en.json": {Data: enRaw},
			"fr.json": {Data: with(func(m map[string]string) { delete(m, "report.title") })},
		}, []string{"fr.json", `"report.title"`}},
		{"extra key", fstest.MapFS{
			"en.json": {Data: enRaw},
			"fr.json": {Data: with(func(m map[string]string) { m["report.titel"] = "x" })},
		}, []string{"fr.json", `"report.titel"`}},
		{"placeholder lost", fstest.MapFS{
			"en.json": {Data: enRaw},
			"fr.json": {Data: with(func(m map[string]string) { m["error.too_long"] = "Trop long." })},
		}, []string{"fr.json", `"error.too_long"`, "limit"}},
		{"empty message", fstest.MapFS{
			"en.json": {Data: enRaw},
			"fr.json": {Data: with(func(m map[string]string) { m["report.send"] = " " })},
		}, []string{"fr.json", `"report.send"`}},
		{"not flat", fstest.MapFS{
			"en.json": {Data: enRaw},
			"fr.json": {Data: []byte(`{"report": {"title": "x"}}`)},
		}, []string{"fr.json"}},
		{"no English", fstest.MapFS{
			"es.json": {Data: enRaw},
		}, []string{"en.json"}},
		{"not a language", fstest.MapFS{
			"en.json":       {Data: enRaw},
			"español!.json": {Data: enRaw},
		}, []string{"español!.json"}},
		{"English lacks a key the code uses", fstest.MapFS{
			"en.json": {Data: with(func(m map[string]string) { delete(m, "followup.problem.no_match") })},
		}, []string{"en.json", `"followup.problem.no_match"`}},
		{"English lacks a key a page uses", fstest.MapFS{
			"en.json": {Data: with(func(m map[string]string) { delete(m, "receipt.copy") })},
		}, []string{"receipt.copy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := web.LoadLocales(tt.files)
			if tt.name == "English lacks a key a page uses" {
				// Only rendering the pages finds this one: web.New does.
				require.NoError(t, err)
				f := newFixture(t)
				_, err = web.NewWithLocales(f.cfg, tt.files)
			}
			require.Error(t, err)
			for _, w := range tt.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestThirdLanguageIsAFile: a catalogue added to the folder is a language
// of the site, with no code.
func TestThirdLanguageIsAFile(t *testing.T) {
	shipped := web.ShippedLocales()
	enRaw, err := fs.ReadFile(shipped, "en.json")
	require.NoError(t, err)
	esRaw, err := fs.ReadFile(shipped, "es.json")
	require.NoError(t, err)
	fr := readCatalog(t, shipped, "en.json")
	fr["language.name"] = "Français"
	fr["home.title"] = "Parlez-en en toute sécurité"
	frRaw, err := json.Marshal(fr)
	require.NoError(t, err)

	f := newFixture(t)
	e, err := web.NewWithLocales(f.cfg, fstest.MapFS{"en.json": {Data: enRaw}, "es.json": {Data: esRaw}, "fr.json": {Data: frRaw}})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "fr-CA,fr;q=0.9")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	require.Equal(t, "fr", pageLang(t, rec))
	require.Contains(t, rec.Body.String(), "Parlez-en en toute sécurité")
	require.Contains(t, rec.Body.String(), `<a href="/?lang=fr" lang="fr" hreflang="fr" aria-current="true">Français</a>`)
	requireSwitcher(t, rec.Body.String(), "/")
}

// FuzzAcceptLanguage: any header picks a language the site speaks.
func FuzzAcceptLanguage(f *testing.F) {
	for _, s := range []string{"", "es-MX,es;q=0.9", "en;q=0.5, es;q=0.9", "*;q=0.1", "es;q=NaN", "es;q=1e309", ",,;;=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got := web.AcceptLanguage(header)
		if got != "en" && got != "es" {
			t.Fatalf("Accept-Language %q gave %q, not a language of the site", header, got)
		}
	})
}
