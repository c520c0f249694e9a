package web_test

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/web"
)

var (
	csrfFieldPattern = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	receiptToken     = regexp.MustCompile(`class="token">([^<]+)<`)
	replyTokenField  = regexp.MustCompile(`name="token" value="([^"]+)"`)
)

// browser is a client with the site's one cookie.
type browser struct {
	f      *fixture
	cookie *http.Cookie
	addr   string
}

func (f *fixture) browser() *browser { return &browser{f: f} }

// get loads a page and returns it with the CSRF token of its form.
func (b *browser) get(t *testing.T, path string) (*httptest.ResponseRecorder, string) {
	t.Helper()
	return b.getIn(t, path, "")
}

// post sends a form.
func (b *browser) post(path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	b.send(req)
	rec := b.f.serve(req)
	b.keep(rec)
	return rec
}

func (b *browser) send(req *http.Request) {
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	if b.addr != "" {
		req.RemoteAddr = b.addr
	}
}

func (b *browser) keep(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.Name == "_csrf" {
			b.cookie = c
		}
	}
}

// reportForm is a filled-in report form with the page's CSRF token.
func reportForm(csrf string, kv ...string) url.Values {
	v := url.Values{"_csrf": {csrf}, "org": {"north-high"}, "danger": {"no"}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestReportFormPage(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	rec, csrf := b.get(t, "/report")
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotEmpty(t, csrf, "the form needs a hidden _csrf field")
	require.NotNil(t, b.cookie, "the form page sets the CSRF cookie")
	require.True(t, b.cookie.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, b.cookie.SameSite)
	require.Equal(t, "/", b.cookie.Path)
	page := rec.Body.String()
	for _, want := range []string{
		`<html lang="en">`, `<form method="post" action="/report" enctype="multipart/form-data">`,
		`<input type="hidden" name="lang" value="en">`,
		// A searchable list that works without JavaScript.
		`<label for="f-org">`, `<input id="f-org" name="org" type="text" value="" required autocomplete="off" list="f-org-list"`,
		`<datalist id="f-org-list">`, `<option value="North High School"></option>`,
		// Short names in the menu, the one-line descriptions below it.
		`<label for="f-category">`, `<option value="threat">Threat of violence</option>`,
		`<dt>Threat of violence</dt>`, `<dd>Someone said or posted they will hurt people.</dd>`,
		`<label for="f-body">What happened</label>`, `<textarea id="f-body" name="body"`,
		`<label for="f-location">`, `<label for="f-when">`, `<label for="f-subject">`,
		`<legend>Is someone in danger right now?</legend>`,
		`<input type="radio" id="f-danger-yes" name="danger" value="yes">`,
		`<input type="radio" id="f-danger-no" name="danger" value="no">`, // unanswered is not "no"
		"If someone is in danger right now, call",
		`<label for="f-contact">`, `<input id="f-contact" name="contact" type="text"`, "the team may know who you are",
		`<input id="f-images" name="images" type="file" accept="image/jpeg,image/png,image/gif,image/webp" multiple`,
		"Up to 3 pictures, each up to 8 MB",
	} {
		require.Contains(t, page, want)
	}
	require.NotContains(t, page, "<script")
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

func TestSecureCookies(t *testing.T) {
	f := newFixture(t, func(c *web.Config, _ *fixture) { c.SecureCookies = true })
	b := f.browser()
	b.get(t, "/report")
	require.NotNil(t, b.cookie)
	require.True(t, b.cookie.Secure, "with an https public URL the cookie is Secure")
}

func TestReportByFormShowsReceipt(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	body := "A boy in my class said he would bring his dad's gun on Friday."
	rec := b.post("/report", reportForm(csrf, "body", body, "category", "weapon", "location", "room 101"))
	require.Equal(t, http.StatusCreated, rec.Code, "got %d, want 201: %s", rec.Code, rec.Body)
	page := rec.Body.String()
	m := receiptToken.FindStringSubmatch(page)
	require.NotNil(t, m, "the receipt shows the token")
	token := m[1]
	require.Regexp(t, tokenPattern, token)
	require.Contains(t, page, "Write it down or take a screenshot")
	require.Contains(t, page, "We cannot recover it")
	require.Contains(t, page, "North High School")
	require.NotContains(t, page, "Call 911 now", "no emergency box when the reporter said no danger")
	require.Empty(t, rec.Header().Get("Location"), "the receipt is never a redirect")
	for _, c := range rec.Result().Cookies() {
		require.NotContains(t, c.Value, strings.ReplaceAll(token, "-", ""), "the token is never put in a cookie")
	}
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	require.NotEmpty(t, rec.Header().Get("Content-Security-Policy"))

	// The token from the receipt works in the API too: one report, both ways.
	api := f.postJSON(t, "/api/v1/followup", map[string]string{"token": token})
	require.Equal(t, http.StatusOK, api.Code)
	f.noLeaks(t, body, token, strings.ReplaceAll(token, "-", ""))
}

var onceFieldPattern = regexp.MustCompile(`<input type="hidden" name="once" value="([^"]+)">`)

// TestReloadDoesNotFileTwice: reloading the receipt posts the same form
// again. The report is not filed twice, and the page says why no token is
// shown; a new filling-in of the form is a new report.
func TestReloadDoesNotFileTwice(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	rec, csrf := b.get(t, "/report")
	once := onceFieldPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, once, "the form names its filling-in")
	form := reportForm(csrf, "body", "He said he would bring a knife tomorrow", "once", once[1])

	first := b.post("/report", form)
	require.Equal(t, http.StatusCreated, first.Code)
	again := b.post("/report", form)
	require.Equal(t, http.StatusConflict, again.Code)
	require.Contains(t, again.Body.String(), "This report was already sent")
	require.Nil(t, receiptToken.FindStringSubmatch(again.Body.String()), "no token for a report not filed")
	require.Equal(t, 1, f.pendingTasks(t), "one report filed, however often the form is posted")

	rec, csrf = b.get(t, "/report")
	next := onceFieldPattern.FindStringSubmatch(rec.Body.String())
	require.NotEqual(t, once[1], next[1])
	require.Equal(t, http.StatusCreated, b.post("/report", reportForm(csrf, "body", "Another thing", "once", next[1])).Code)

	// A form sent back with an error gets a fresh once, so fixing and
	// sending it files the report.
	rec = b.post("/report", reportForm(csrf, "body", " ", "once", "used-on-an-error"))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	fixed := onceFieldPattern.FindStringSubmatch(rec.Body.String())
	require.NotEqual(t, "used-on-an-error", fixed[1])
	require.Equal(t, http.StatusCreated, b.post("/report", reportForm(csrf, "body", "fixed", "once", fixed[1])).Code)
}

func TestReloadDoesNotReplyTwice(t *testing.T) {
	f := newFixture(t)
	token := f.report(t, map[string]any{"org": "north-high", "body": "someone is threatening my sister online"})
	b := f.browser()
	_, csrf := b.get(t, "/followup")
	rec := b.post("/followup", url.Values{"_csrf": {csrf}, "token": {token}})
	once := onceFieldPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, once, "the reply form names its filling-in")
	reply := url.Values{"_csrf": {csrf}, "token": {token}, "body": {"It was on Instagram"}, "once": {once[1]}}
	require.Contains(t, b.post("/followup/reply", reply).Body.String(), "Your message was added")
	rec = b.post("/followup/reply", reply)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "already added")
	require.Equal(t, 1, strings.Count(rec.Body.String(), "It was on Instagram"), "the message is shown once")
}

func TestReportDangerShowsEmergencyFirst(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	rec := b.post("/report", reportForm(csrf, "body", "there is a fight with a knife outside", "danger", "yes"))
	require.Equal(t, http.StatusCreated, rec.Code)
	page := rec.Body.String()
	emergency := strings.Index(page, "Call 911 now")
	token := strings.Index(page, `class="token"`)
	require.Positive(t, emergency, "the receipt tells the reporter to call 911")
	require.Less(t, emergency, token, "emergency guidance comes before the token")
}

func TestReportWithoutCSRFIsRefused(t *testing.T) {
	f := newFixture(t)

	// No cookie, no token.
	rec := f.browser().post("/report", url.Values{"org": {"north-high"}, "body": {"x"}})
	require.Equal(t, http.StatusForbidden, rec.Code)

	// A cookie but the wrong token: refused, and the text comes back with a
	// token that works, so the report is not lost.
	b := f.browser()
	b.get(t, "/report")
	body := `Report with "quotes" & <b>tags</b>`
	rec = b.post("/report", reportForm("wrong", "body", body))
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.Contains(t, rec.Body.String(), "NOT sent")
	require.Contains(t, rec.Body.String(), template.HTMLEscapeString(body))
	m := csrfFieldPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m)
	rec = b.post("/report", reportForm(m[1], "body", body))
	require.Equal(t, http.StatusCreated, rec.Code, "sending again with the fresh form works")

	// Another site's post, as a modern browser labels it.
	req := httptest.NewRequest(http.MethodPost, "/report", strings.NewReader("org=north-high&body=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rec = f.serve(req)
	require.Equal(t, http.StatusForbidden, rec.Code)
}

func TestReportFieldErrorKeepsText(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	where := `the "old" gym & <b>locker room</b>`
	who := "Jamie's older brother"
	when := "last Tuesday, 3 o'clock"
	rec := b.post("/report", reportForm(csrf, "org", "south-middle", "category", "harassment",
		"body", " \n ", "location", where, "subject", who, "when", when, "danger", "yes"))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, `role="alert"`)
	require.Contains(t, page, `href="#f-body"`)
	require.Contains(t, page, "What happened is required.")
	require.Contains(t, page, template.HTMLEscapeString(where))
	require.Contains(t, page, template.HTMLEscapeString(who))
	require.Contains(t, page, template.HTMLEscapeString(when))
	require.NotContains(t, page, "<b>locker", "typed markup comes back escaped")
	require.Contains(t, page, `name="org" type="text" value="south-middle"`, "the organisation comes back as typed")
	require.Contains(t, page, `<option value="harassment" selected>`)
	require.Contains(t, page, `value="yes" checked`)
	require.Contains(t, page, `aria-invalid="true"`)

	// Too long: the text is kept, every character of it.
	long := strings.Repeat("ab ", 4000)
	rec = b.post("/report", reportForm(csrf, "body", long))
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "What happened is too long")
	require.Contains(t, rec.Body.String(), long)
}

func TestReportUnavailableKeepsText(t *testing.T) {
	f := newFixture(t, withDeadRedis(false))
	b := f.browser()
	_, csrf := b.get(t, "/report")
	body := "please help, my friend said goodbye to everyone"
	rec := b.post("/report", reportForm(csrf, "body", body))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, "NOT saved")
	require.Contains(t, page, "call <a href=\"tel:911\">911</a>")
	require.Contains(t, page, body)
	require.NotRegexp(t, `class="token"`, page)
	f.noLeaks(t, body)
}

func TestFollowupPages(t *testing.T) {
	f := newFixture(t)
	token := f.report(t, map[string]any{"org": "north-high", "body": "someone is threatening my sister online"})
	b := f.browser()

	rec, csrf := b.get(t, "/followup")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `<label for="f-token">`)
	require.NotEmpty(t, csrf)

	rec = b.post("/followup", url.Values{"_csrf": {csrf}, "token": {strings.ToLower(token)}})
	require.Equal(t, http.StatusOK, rec.Code, "got %d: %s", rec.Code, rec.Body)
	page := rec.Body.String()
	require.Contains(t, page, "Status: Received")
	require.Contains(t, page, "No messages yet")
	require.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	m := replyTokenField.FindStringSubmatch(page)
	require.NotNil(t, m, "the reply form carries the token")
	require.Equal(t, token, m[1])

	// A reply with markup: it never comes back as a live tag.
	reply := "<script>alert(1)</script>He also said \"you'll see\" & laughed <img src=x onerror=alert(2)>"
	rec = b.post("/followup/reply", url.Values{"_csrf": {csrf}, "token": {m[1]}, "body": {reply}})
	require.Equal(t, http.StatusOK, rec.Code, "got %d: %s", rec.Code, rec.Body)
	page = rec.Body.String()
	require.Contains(t, page, "Your message was added")
	require.Contains(t, page, "He also said")
	require.Contains(t, page, "&#34;you&#39;ll see&#34; &amp; laughed")
	require.NotContains(t, page, "<script>alert")
	require.NotContains(t, page, "<img")
	require.NotContains(t, page, "onerror=alert")

	// An empty reply: an error, the conversation still shown.
	rec = b.post("/followup/reply", url.Values{"_csrf": {csrf}, "token": {m[1]}, "body": {"   "}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "Message is required.")
	require.Contains(t, rec.Body.String(), "He also said")

	// Too long: the typed text is kept.
	long := strings.Repeat("word ", 1200)
	rec = b.post("/followup/reply", url.Values{"_csrf": {csrf}, "token": {m[1]}, "body": {long}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), long)

	// Without CSRF: refused.
	rec = b.post("/followup/reply", url.Values{"token": {m[1]}, "body": {"hi"}})
	require.Equal(t, http.StatusForbidden, rec.Code)

	f.noLeaks(t, token, strings.ReplaceAll(token, "-", ""), "you'll see")
}

func TestFollowupUnknownTokenOneMessage(t *testing.T) {
	f := newFixture(t)
	real := f.report(t, map[string]any{"org": "north-high", "body": "x"})
	wrong := "0000-0000-0000-0000"
	if real == wrong {
		wrong = "1111-1111-1111-1111"
	}
	b := f.browser()
	_, csrf := b.get(t, "/followup")
	for _, tok := range []string{wrong, "hello", "", "<b>bold</b>", strings.Repeat("Z", 400)} {
		rec := b.post("/followup", url.Values{"_csrf": {csrf}, "token": {tok}})
		require.Equal(t, http.StatusNotFound, rec.Code, "token %q: got %d", tok, rec.Code)
		page := rec.Body.String()
		require.Contains(t, page, "No report matches that token. Check it and try again.")
		require.NotContains(t, page, "<b>bold")
		require.NotContains(t, page, "Status:")

		rec = b.post("/followup/reply", url.Values{"_csrf": {csrf}, "token": {tok}, "body": {"hi"}})
		require.Equal(t, http.StatusNotFound, rec.Code, "reply with token %q: got %d", tok, rec.Code)
		require.Contains(t, rec.Body.String(), "No report matches that token. Check it and try again.")
	}
}

func TestOversizedFormIsRefused(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	rec := b.post("/report", reportForm(csrf, "body", strings.Repeat("é", 100<<10)))
	require.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
	require.Contains(t, rec.Header().Get("Content-Type"), "text/html")
	require.Contains(t, rec.Body.String(), "too long")
}

func TestFullLengthReportInAnyScriptFitsTheForm(t *testing.T) {
	f := newFixture(t)
	b := f.browser()
	_, csrf := b.get(t, "/report")
	// 10,000 four-byte characters, the most intake takes, percent-encoded.
	rec := b.post("/report", reportForm(csrf, "body", strings.Repeat("😟", 10000)))
	require.Equal(t, http.StatusCreated, rec.Code, "got %d", rec.Code)
}
