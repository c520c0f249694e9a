package web_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/web"
	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

// authClock is a clock the test moves by hand, so timeouts are crossed
// without sleeping.
type authClock struct{ t time.Time }

func (c *authClock) now() time.Time      { return c.t }
func (c *authClock) add(d time.Duration) { c.t = c.t.Add(d) }

// authSite is the site with its reviewer accounts and audit log.
type authSite struct {
	e        *echo.Echo
	rdb      *redis.Client
	accounts *account.Store
	audit    *audit.Log
	clock    *authClock
	logs     *lockedBuffer
}

// newAuthSite builds the site on real Redis with a hand-moved clock.
// cheap uses a small argon2id cost, for tests that hash hundreds of times.
func newAuthSite(t *testing.T, secure, cheap bool) *authSite {
	t.Helper()
	rdb := redistest.New(t, 3)
	keys, err := intake.NewKeyring([]intake.Key{{ID: "k1", Secret: intake.NewKeySecret()}}, intake.NewKeySecret())
	require.NoError(t, err)
	clk := &authClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	accounts := account.NewStore(rdb, keys).WithClock(clk.now)
	if cheap {
		accounts.WithCost(1, 64)
	}
	logs := &lockedBuffer{}
	s := &authSite{rdb: rdb, accounts: accounts, audit: audit.New(rdb), clock: clk, logs: logs}
	s.e, err = web.NewWithClock(web.Config{
		Intake:        intake.New(intake.NewStore(rdb, keys), nil, slog.New(slog.DiscardHandler)),
		Orgs:          orgs,
		Redis:         rdb,
		Keys:          keys,
		Registry:      prometheus.NewRegistry(),
		Log:           slog.New(slog.NewTextHandler(logs, nil)),
		SecureCookies: secure,
		Accounts:      accounts,
		Audit:         s.audit,
		Teams:         []web.Team{{ID: "north", Name: "North High team"}, {ID: "south", Name: "South Middle team"}},
	}, clk.now)
	require.NoError(t, err)
	return s
}

// add makes an account and returns its temporary password.
func (s *authSite) add(t *testing.T, login string, role account.Role, teams ...string) string {
	t.Helper()
	_, temp, err := s.accounts.Add(context.Background(), account.NewReviewer{Login: login, Name: "Name of " + login, Role: role, Teams: teams})
	require.NoError(t, err)
	return temp
}

// authBrowser is one browser: it keeps cookies and sends the CSRF token with
// every form, as the pages do.
type authBrowser struct {
	t       *testing.T
	s       *authSite
	cookies map[string]*http.Cookie
}

func (s *authSite) visit(t *testing.T) *authBrowser {
	return &authBrowser{t: t, s: s, cookies: map[string]*http.Cookie{}}
}

// do sends a request and keeps what cookies it sets.
func (b *authBrowser) do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		if b.cookies["_csrf"] != nil && form.Get("_csrf") == "" {
			form.Set("_csrf", b.cookies["_csrf"].Value)
		}
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.s.e.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return rec
}

func (b *authBrowser) get(path string) *httptest.ResponseRecorder {
	return b.do(http.MethodGet, path, nil)
}

// post sends a form, first loading the sign-in page for a CSRF cookie if
// the browser has none yet.
func (b *authBrowser) post(path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	if b.cookies["_csrf"] == nil {
		b.get("/review/signin")
	}
	return b.do(http.MethodPost, path, form)
}

// session is the session cookie's value, "" without one.
func (b *authBrowser) session() string {
	for _, name := range []string{"tipline_review", "__Host-tipline_review"} {
		if c := b.cookies[name]; c != nil {
			return c.Value
		}
	}
	return ""
}

// requireRedirect checks that rec sends the browser to path.
func requireRedirect(t *testing.T, rec *httptest.ResponseRecorder, path string) {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, rec.Code, "body %.300s", rec.Body)
	require.Equal(t, path, rec.Header().Get(echo.HeaderLocation))
}

// signedIn tells whether the browser has a full session: the audit page
// sends anyone else to sign in, and answers 404 to a signed-in reviewer
// who is not an admin.
func (b *authBrowser) signedIn() bool {
	b.t.Helper()
	rec := b.get("/review/audit")
	switch rec.Code {
	case http.StatusOK, http.StatusNotFound:
		return true
	case http.StatusSeeOther:
		// To sign in, or to the next step of setting up the account.
		loc := rec.Header().Get(echo.HeaderLocation)
		require.True(b.t, strings.HasPrefix(loc, "/review/signin") || loc == "/review/password" || loc == "/review/enroll", "went to %s", loc)
		return false
	}
	b.t.Fatalf("audit page answered %d", rec.Code)
	return false
}

var secretPattern = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)

// firstSignIn signs in with the temporary password, chooses password and
// enrols TOTP as a new reviewer would, and returns the TOTP secret shown.
func (b *authBrowser) firstSignIn(login, temp, password string) string {
	t := b.t
	t.Helper()
	requireRedirect(t, b.post("/review/signin", url.Values{"login": {login}, "password": {temp}}), "/review/password")
	require.False(t, b.signedIn(), "a temporary password alone opens no dashboard page")
	rec := b.get("/review/password")
	require.Equal(t, http.StatusOK, rec.Code)
	requireRedirect(t, b.post("/review/password", url.Values{"password": {password}, "confirm": {password}}), "/review/enroll")
	rec = b.get("/review/enroll")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `<svg class="qr"`, "the QR code is drawn inline")
	m := secretPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m, "secret on the page: %s", rec.Body)
	secret := strings.ReplaceAll(m[1], " ", "")
	requireRedirect(t, b.post("/review/enroll", url.Values{"code": {b.code(secret)}}), "/review/")
	require.True(t, b.signedIn())
	return secret
}

// code is what the reviewer's authenticator app shows now.
func (b *authBrowser) code(secret string) string {
	b.t.Helper()
	c, err := account.TOTPCode(secret, b.s.clock.now())
	require.NoError(b.t, err)
	return c
}

// signIn signs in with password and code; the clock first moves to the
// next 30-second step, since each code works once.
func (b *authBrowser) signIn(login, password, secret string) *httptest.ResponseRecorder {
	b.t.Helper()
	b.s.clock.add(30 * time.Second)
	return b.post("/review/signin", url.Values{"login": {login}, "password": {password}, "code": {b.code(secret)}})
}

// actions are the audit log's actions, oldest first.
func (s *authSite) actions(t *testing.T) []string {
	t.Helper()
	es, err := s.audit.List(context.Background(), time.Time{}, time.Time{}, 1000)
	require.NoError(t, err)
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

const goodPassword = "a long walk by the river"

// TestReviewerSignsInWithPasswordAndTOTP follows a new reviewer from the
// temporary password through the password choice and TOTP enrolment to a
// full session, and then a later sign-in with password and code, with the
// production argon2id cost. The cookie is HttpOnly and SameSite=Strict.
func TestReviewerSignsInWithPasswordAndTOTP(t *testing.T) {
	s := newAuthSite(t, false, false)
	temp := s.add(t, "ana", account.RoleAdmin)
	b := s.visit(t)
	requireRedirect(t, b.get("/review/audit"), "/review/signin?next=%2Freview%2Faudit")
	secret := b.firstSignIn("ana", temp, goodPassword)
	ck := b.cookies["tipline_review"]
	require.NotNil(t, ck)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, ck.SameSite)
	require.Equal(t, "/", ck.Path)
	require.Len(t, ck.Value, 43, "256 bits in base64")

	// The enrolment page is gone once enrolled, and so is the password one.
	requireRedirect(t, b.get("/review/enroll"), "/review/")
	requireRedirect(t, b.get("/review/password"), "/review/")

	requireRedirect(t, b.post("/review/signout", url.Values{}), "/review/signin?out=1")
	require.False(t, b.signedIn())
	// The temporary password is spent.
	rec := b.post("/review/signin", url.Values{"login": {"ana"}, "password": {temp}})
	require.Equal(t, http.StatusUnauthorized, rec.Code)

	// Signing in comes back to the page asked for.
	rec = b.signIn("ANA", goodPassword, secret)
	requireRedirect(t, rec, "/review/")
	require.True(t, b.signedIn())
	requireRedirect(t, b.post("/review/signout", url.Values{}), "/review/signin?out=1")
	s.clock.add(30 * time.Second)
	rec = b.post("/review/signin", url.Values{"login": {"ana"}, "password": {goodPassword}, "code": {b.code(secret)}, "next": {"/review/audit?from=2026-03-01"}})
	requireRedirect(t, rec, "/review/audit?from=2026-03-01")
	// Never somewhere else.
	for _, next := range []string{"//evil.example/review/", "https://evil.example/review/", "/review/\\evil", "/reviewer", "/review/signout"} {
		requireRedirect(t, b.post("/review/signout", url.Values{}), "/review/signin?out=1")
		s.clock.add(30 * time.Second)
		rec = b.post("/review/signin", url.Values{"login": {"ana"}, "password": {goodPassword}, "code": {b.code(secret)}, "next": {next}})
		requireRedirect(t, rec, "/review/")
	}

	require.Subset(t, s.actions(t), []string{"signin", "password.change", "totp.enroll", "signout", "audit.view"})
	logs := s.logs.String()
	for _, secretText := range []string{temp, goodPassword, secret, ck.Value, b.session()} {
		require.NotContains(t, logs, secretText, "no password, secret or session token in the logs")
	}
	require.NotContains(t, redistest.Dump(t, s.rdb), b.session(), "sessions are kept by keyed hash")
}

// TestSecureSessionCookie: over HTTPS the cookie is __Host- prefixed and
// Secure.
func TestSecureSessionCookie(t *testing.T) {
	s := newAuthSite(t, true, true)
	temp := s.add(t, "ana", account.RoleReviewer, "north")
	b := s.visit(t)
	b.firstSignIn("ana", temp, goodPassword)
	ck := b.cookies["__Host-tipline_review"]
	require.NotNil(t, ck)
	require.True(t, ck.Secure)
	require.True(t, ck.HttpOnly)
	require.Equal(t, "/", ck.Path)
	require.Empty(t, ck.Domain)
	require.Nil(t, b.cookies["tipline_review"])
}

// TestWrongPasswordCodeOrLoginLookAlike: a wrong password, a wrong code, a
// reused code, an unknown login and a disabled account all get the same
// answer, so no one learns which logins exist.
func TestWrongPasswordCodeOrLoginLookAlike(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "ana", account.RoleReviewer, "north")
	b := s.visit(t)
	secret := b.firstSignIn("ana", temp, goodPassword)
	b.post("/review/signout", url.Values{})
	s.clock.add(30 * time.Second)
	good := b.code(secret)
	wrong := "000000"
	if good == wrong {
		wrong = "111111"
	}
	failed := func(what string, form url.Values) {
		t.Helper()
		rec := b.post("/review/signin", form)
		require.Equal(t, http.StatusUnauthorized, rec.Code, "%s: %s", what, rec.Body)
		require.Contains(t, rec.Body.String(), "That login, password and code did not match.", what)
		require.Empty(t, b.session(), what)
		require.False(t, b.signedIn(), what)
	}
	failed("wrong password", url.Values{"login": {"ana"}, "password": {"not the password"}, "code": {good}})
	failed("wrong code", url.Values{"login": {"ana"}, "password": {goodPassword}, "code": {wrong}})
	failed("no code", url.Values{"login": {"ana"}, "password": {goodPassword}})
	failed("unknown login", url.Values{"login": {"nobody"}, "password": {goodPassword}, "code": {good}})
	requireRedirect(t, b.post("/review/signin", url.Values{"login": {"ana"}, "password": {goodPassword}, "code": {good}}), "/review/")
	b.post("/review/signout", url.Values{})
	failed("the same code again", url.Values{"login": {"ana"}, "password": {goodPassword}, "code": {good}})

	r, err := s.accounts.GetByLogin(context.Background(), "ana")
	require.NoError(t, err)
	require.NoError(t, s.accounts.SetDisabled(context.Background(), r.ID, true))
	s.clock.add(30 * time.Second)
	failed("disabled", url.Values{"login": {"ana"}, "password": {goodPassword}, "code": {b.code(secret)}})
}

// TestLockoutAfterFiveFailures: the fifth failure locks the login for 15
// minutes, even with the right password and code after it; an unknown
// login locks alike; the lock lifts after 15 minutes.
func TestLockoutAfterFiveFailures(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "ana", account.RoleReviewer, "north")
	b := s.visit(t)
	secret := b.firstSignIn("ana", temp, goodPassword)
	b.post("/review/signout", url.Values{})
	for _, login := range []string{"ana", "nobody"} {
		for i := 1; i <= 5; i++ {
			rec := b.post("/review/signin", url.Values{"login": {login}, "password": {"guess " + string(rune('a'+i))}})
			want := http.StatusUnauthorized
			if i == 5 {
				want = http.StatusTooManyRequests
			}
			require.Equal(t, want, rec.Code, "%s failure %d", login, i)
		}
	}
	rec := b.signIn("ana", goodPassword, secret)
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	require.Contains(t, rec.Body.String(), "Too many failed sign-ins for this login")
	require.Empty(t, b.session())

	// The lock started at the fifth failure, 30 seconds before the try above.
	s.clock.add(account.LockDuration - 2*time.Minute)
	require.Equal(t, http.StatusTooManyRequests, b.signIn("ana", goodPassword, secret).Code)
	s.clock.add(time.Minute)
	requireRedirect(t, b.signIn("ana", goodPassword, secret), "/review/")
	require.True(t, b.signedIn())
	require.NotContains(t, s.logs.String(), "nobody", "logins are not logged")
}

// TestSessionTimeouts: a session ends after 30 idle minutes, and after 12
// hours however busy.
func TestSessionTimeouts(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "ana", account.RoleAdmin)
	b := s.visit(t)
	secret := b.firstSignIn("ana", temp, goodPassword)

	s.clock.add(account.IdleTimeout - time.Second)
	require.True(t, b.signedIn(), "29:59 idle")
	s.clock.add(account.IdleTimeout - time.Second)
	require.True(t, b.signedIn(), "each request restarts the idle time")
	s.clock.add(account.IdleTimeout)
	require.False(t, b.signedIn(), "30 minutes idle")
	require.Empty(t, b.session(), "the cookie is cleared")

	// A page's background refresh (fetch) does not count as activity.
	requireRedirect(t, b.signIn("ana", goodPassword, secret), "/review/")
	poll := func() int {
		req := httptest.NewRequest(http.MethodGet, "/review/audit", nil)
		req.Header.Set("Sec-Fetch-Dest", "empty")
		req.AddCookie(&http.Cookie{Name: "tipline_review", Value: b.session()})
		rec := httptest.NewRecorder()
		s.e.ServeHTTP(rec, req)
		return rec.Code
	}
	s.clock.add(20 * time.Minute)
	require.Equal(t, http.StatusOK, poll(), "a refresh while the session lives")
	s.clock.add(20 * time.Minute)
	require.Equal(t, http.StatusSeeOther, poll(), "40 minutes with refreshes only")
	require.False(t, b.signedIn())

	requireRedirect(t, b.signIn("ana", goodPassword, secret), "/review/")
	start := s.clock.now()
	for s.clock.now().Sub(start) < account.AbsoluteTimeout-20*time.Minute {
		s.clock.add(20 * time.Minute)
		require.True(t, b.signedIn(), "after %s", s.clock.now().Sub(start))
	}
	s.clock.t = start.Add(account.AbsoluteTimeout)
	require.False(t, b.signedIn(), "12 hours after sign-in")

	// A setup session (temporary password only) lives 15 minutes at most.
	temp = s.add(t, "kim", account.RoleReviewer, "north")
	k := s.visit(t)
	requireRedirect(t, k.post("/review/signin", url.Values{"login": {"kim"}, "password": {temp}}), "/review/password")
	s.clock.add(account.SetupTimeout)
	requireRedirect(t, k.get("/review/password"), "/review/signin")
}

// TestSignOutEndsTheSessionForGood: a copy of the cookie taken before
// sign-out (a stolen one) no longer works after it; "sign out everywhere"
// ends the reviewer's other sessions too.
func TestSignOutEndsTheSessionForGood(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "ana", account.RoleAdmin)
	b := s.visit(t)
	secret := b.firstSignIn("ana", temp, goodPassword)
	stolen := s.visit(t)
	stolen.cookies["tipline_review"] = &http.Cookie{Name: "tipline_review", Value: b.session()}
	require.True(t, stolen.signedIn(), "the copy works while the session lives")

	requireRedirect(t, b.post("/review/signout", url.Values{}), "/review/signin?out=1")
	stolen.cookies["tipline_review"] = &http.Cookie{Name: "tipline_review", Value: stolen.session()}
	requireRedirect(t, stolen.get("/review/audit"), "/review/signin?next=%2Freview%2Faudit")
	stolen.cookies["tipline_review"] = &http.Cookie{Name: "tipline_review", Value: stolen.session()}
	// A form post with the old cookie and a valid CSRF token is refused.
	stolen.get("/review/signin")
	require.Equal(t, http.StatusUnauthorized, stolen.post("/review/no-such-action", url.Values{}).Code)

	// Two browsers; sign out everywhere from one ends both.
	requireRedirect(t, b.signIn("ana", goodPassword, secret), "/review/")
	other := s.visit(t)
	requireRedirect(t, other.signIn("ana", goodPassword, secret), "/review/")
	require.True(t, b.signedIn())
	require.True(t, other.signedIn())
	requireRedirect(t, other.post("/review/signout", url.Values{"everywhere": {"1"}}), "/review/signin?out=1")
	require.False(t, b.signedIn())
	require.False(t, other.signedIn())
	require.Contains(t, s.actions(t), "signout.everywhere")

	// Sign-out without the CSRF token is refused, and the session lives.
	requireRedirect(t, b.signIn("ana", goodPassword, secret), "/review/")
	rec := b.do(http.MethodPost, "/review/signout", url.Values{"_csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, rec.Code)
	require.True(t, b.signedIn())
}

// TestDisableAndResetEndSessions: disabling or resetting an account ends
// its sessions at once; after a reset the old password and TOTP secret
// are spent and the reviewer sets both up again.
func TestDisableAndResetEndSessions(t *testing.T) {
	s := newAuthSite(t, false, true)
	ctx := context.Background()
	temp := s.add(t, "ana", account.RoleReviewer, "north")
	b := s.visit(t)
	secret := b.firstSignIn("ana", temp, goodPassword)
	r, err := s.accounts.GetByLogin(ctx, "ana")
	require.NoError(t, err)

	require.NoError(t, s.accounts.SetDisabled(ctx, r.ID, true))
	require.False(t, b.signedIn(), "disabled")
	require.Equal(t, http.StatusUnauthorized, b.signIn("ana", goodPassword, secret).Code)
	require.NoError(t, s.accounts.SetDisabled(ctx, r.ID, false))
	requireRedirect(t, b.signIn("ana", goodPassword, secret), "/review/")
	require.True(t, b.signedIn())

	temp, err = s.accounts.Reset(ctx, r.ID)
	require.NoError(t, err)
	require.False(t, b.signedIn(), "reset")
	require.Equal(t, http.StatusUnauthorized, b.signIn("ana", goodPassword, secret).Code, "old password")
	newSecret := b.firstSignIn("ana", temp, "another long walk by the sea")
	require.NotEqual(t, secret, newSecret)
	b.post("/review/signout", url.Values{})
	require.Equal(t, http.StatusUnauthorized, b.signIn("ana", "another long walk by the sea", secret).Code, "old TOTP secret")
	requireRedirect(t, b.signIn("ana", "another long walk by the sea", newSecret), "/review/")
}

// TestSetupSteps: the password must be chosen before TOTP, must follow
// the rules, and a mistyped enrolment code shows the same secret again.
func TestSetupSteps(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "ana", account.RoleReviewer, "north")
	b := s.visit(t)
	requireRedirect(t, b.post("/review/signin", url.Values{"login": {"ana"}, "password": {temp}, "code": {"123456"}}), "/review/password")
	requireRedirect(t, b.get("/review/enroll"), "/review/password")
	requireRedirect(t, b.get("/review/"), "/review/password")
	require.Equal(t, http.StatusForbidden, b.post("/review/anything", url.Values{}).Code, "a setup session acts on nothing")
	for _, bad := range []url.Values{
		{"password": {"short"}, "confirm": {"short"}},
		{"password": {goodPassword}, "confirm": {goodPassword + "!"}},
		{"password": {temp}, "confirm": {temp}},
		{"password": {"ana-and-more-letters"}, "confirm": {"ana-and-more-letters"}},
	} {
		rec := b.post("/review/password", bad)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%v", bad)
		require.Contains(t, rec.Body.String(), `class="problem"`)
	}
	requireRedirect(t, b.post("/review/password", url.Values{"password": {goodPassword}, "confirm": {goodPassword}}), "/review/enroll")
	requireRedirect(t, b.get("/review/password"), "/review/enroll")
	rec := b.get("/review/enroll")
	secret := secretPattern.FindStringSubmatch(rec.Body.String())[1]
	rec = b.post("/review/enroll", url.Values{"code": {"12345"}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Equal(t, secret, secretPattern.FindStringSubmatch(rec.Body.String())[1], "the same secret, to try again")
	requireRedirect(t, b.post("/review/enroll", url.Values{"code": {b.code(strings.ReplaceAll(secret, " ", ""))}}), "/review/")
	require.True(t, b.signedIn())
}

// TestAuditPageIsForAdmins: the audit log and its export answer 404 to a
// reviewer and a lead, and show every entry to an admin, whose reading is
// recorded too. The CSV defuses spreadsheet formulas.
func TestAuditPageIsForAdmins(t *testing.T) {
	s := newAuthSite(t, false, true)
	ctx := context.Background()
	for _, role := range []account.Role{account.RoleReviewer, account.RoleLead} {
		temp := s.add(t, string(role), role, "north")
		b := s.visit(t)
		b.firstSignIn(string(role), temp, goodPassword)
		for _, path := range []string{"/review/audit", "/review/audit.csv", "/review/audit?from=2026-01-01"} {
			rec := b.get(path)
			require.Equal(t, http.StatusNotFound, rec.Code, "%s for a %s", path, role)
			require.NotContains(t, rec.Body.String(), "Audit log")
		}
	}
	require.NoError(t, s.audit.Record(ctx, audit.Entry{Actor: "x", ActorName: "=cmd|' /C calc'!A0", Action: "tip.view", Tip: "TIP1", Detail: "<b>bold</b>"}))

	temp := s.add(t, "admin", account.RoleAdmin)
	b := s.visit(t)
	b.firstSignIn("admin", temp, goodPassword)
	rec := b.get("/review/audit")
	require.Equal(t, http.StatusOK, rec.Code)
	page := rec.Body.String()
	require.Contains(t, page, "&lt;b&gt;bold&lt;/b&gt;", "details are escaped")
	require.Contains(t, page, `href="/review/tips/TIP1"`)
	require.Contains(t, page, "Name of admin")
	require.Contains(t, page, "totp.enroll")

	rec = b.get("/review/audit.csv")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get(echo.HeaderContentType))
	require.Contains(t, rec.Header().Get(echo.HeaderContentDisposition), "attachment")
	rows, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"at", "actor", "actor_name", "action", "tip", "detail"}, rows[0])
	var sawFormula, sawExport bool
	for _, r := range rows[1:] {
		if r[4] == "TIP1" {
			sawFormula = r[2] == "'=cmd|' /C calc'!A0"
		}
		sawExport = sawExport || r[3] == "audit.export"
	}
	require.True(t, sawFormula, "the formula is defused: %v", rows)
	require.True(t, sawExport, "the export is in the log before it is written")

	// A period that holds nothing, and a malformed one.
	rec = b.get("/review/audit?from=2001-01-01&to=2001-01-02")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "Nothing recorded in this period.")
	require.Equal(t, http.StatusBadRequest, b.get("/review/audit?from=yesterday").Code)
	require.Equal(t, http.StatusBadRequest, b.get("/review/audit.csv?to=2001-13-01").Code)
}

// TestAuditFailureRefusesTheRequest: when the audit log cannot be written,
// the page that would be recorded is not shown: 503.
func TestAuditFailureRefusesTheRequest(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "admin", account.RoleAdmin)
	b := s.visit(t)
	b.firstSignIn("admin", temp, goodPassword)
	// Break the stream: a string where the stream was makes XADD fail.
	require.NoError(t, s.rdb.Rename(context.Background(), "audit:log", "audit:log:saved").Err())
	require.NoError(t, s.rdb.Set(context.Background(), "audit:log", "not a stream", 0).Err())
	rec := b.get("/review/audit")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	require.NotContains(t, rec.Body.String(), "totp.enroll")
	require.Equal(t, http.StatusServiceUnavailable, b.get("/review/audit.csv").Code)
	require.Contains(t, s.logs.String(), "audit write failed")
}

// TestReviewerFormsTakeNaughtyStrings sends every string of the Big List
// of Naughty Strings through every field of the sign-in, password,
// enrolment and audit forms: each answer is a page or a redirect or a
// clear 4xx, never a 5xx, and what is echoed is escaped.
func TestReviewerFormsTakeNaughtyStrings(t *testing.T) {
	raw, err := os.ReadFile("testdata/blns.json")
	require.NoError(t, err)
	var blns []string
	require.NoError(t, json.Unmarshal(raw, &blns))
	require.Greater(t, len(blns), 500)

	s := newAuthSite(t, false, true)
	temp := s.add(t, "ana", account.RoleAdmin)
	setup := s.visit(t)
	requireRedirect(t, setup.post("/review/signin", url.Values{"login": {"ana"}, "password": {temp}}), "/review/password")
	check := func(what string, i int, rec *httptest.ResponseRecorder) {
		t.Helper()
		require.Less(t, rec.Code, 500, "string %d in %s: %d %.300s", i, what, rec.Code, rec.Body)
		require.NotContains(t, rec.Body.String(), "<script>alert", "string %d in %s echoed unescaped", i, what)
	}
	anon := s.visit(t)
	for i, str := range blns {
		check("login", i, anon.post("/review/signin", url.Values{"login": {str}, "password": {"x"}}))
		check("next", i, anon.post("/review/signin", url.Values{"login": {"someone"}, "password": {"x"}, "next": {str}}))
		check("next query", i, anon.get("/review/signin?next="+url.QueryEscape(str)))
		check("password", i, anon.post("/review/signin", url.Values{"login": {"ana"}, "password": {str}}))
		check("code", i, anon.post("/review/signin", url.Values{"login": {"ana"}, "password": {"x"}, "code": {str}}))
		check("new password", i, setup.post("/review/password", url.Values{"password": {str}, "confirm": {str}}))
		check("confirm", i, setup.post("/review/password", url.Values{"password": {goodPassword + "x"}, "confirm": {str}}))
	}
	requireRedirect(t, setup.post("/review/password", url.Values{"password": {goodPassword}, "confirm": {goodPassword}}), "/review/enroll")
	rec := setup.get("/review/enroll")
	secret := strings.ReplaceAll(secretPattern.FindStringSubmatch(rec.Body.String())[1], " ", "")
	for i, str := range blns {
		check("enrol code", i, setup.post("/review/enroll", url.Values{"code": {str}}))
	}
	requireRedirect(t, setup.post("/review/enroll", url.Values{"code": {setup.code(secret)}}), "/review/")
	for i, str := range blns {
		for _, q := range []string{"from", "to", "limit"} {
			check("audit "+q, i, setup.get("/review/audit?"+q+"="+url.QueryEscape(str)))
			check("audit.csv "+q, i, setup.get("/review/audit.csv?"+q+"="+url.QueryEscape(str)))
		}
	}
	// Some of the strings landed in the log (the audit view records its
	// period): the page shows them escaped.
	rec = setup.get("/review/audit?limit=2000")
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotContains(t, rec.Body.String(), "<script>alert")
}

var tempPattern = regexp.MustCompile(`<code class="secret" id="temp-password">([^<]+)</code>`)

// TestAdminManagesAccounts: an admin adds an account on the accounts page
// and sees its temporary password once; it signs in; disabling, enabling,
// resetting and ending sessions work on it, each recorded; an admin cannot
// lock themselves out; reviewers and leads get 404 for all of it.
func TestAdminManagesAccounts(t *testing.T) {
	s := newAuthSite(t, false, true)
	temp := s.add(t, "admin", account.RoleAdmin)
	a := s.visit(t)
	a.firstSignIn("admin", temp, goodPassword)
	rec := a.get("/review/accounts")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), "South Middle team")

	rec = a.post("/review/accounts", url.Values{"login": {"Kim"}, "name": {"Kim Park"}, "role": {"lead"}, "team": {"north", "south"}})
	require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
	m := tempPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m, "the temporary password is shown: %s", rec.Body)
	require.NotContains(t, a.get("/review/accounts").Body.String(), m[1], "and only once")
	kim, err := s.accounts.GetByLogin(context.Background(), "kim")
	require.NoError(t, err)
	require.Equal(t, []string{"north", "south"}, kim.Teams)
	require.Equal(t, account.RoleLead, kim.Role)

	k := s.visit(t)
	secret := k.firstSignIn("kim", m[1], "a quiet morning at the lake")
	for _, path := range []string{"/review/accounts"} {
		require.Equal(t, http.StatusNotFound, k.get(path).Code, "a lead asks for %s", path)
	}
	require.Equal(t, http.StatusNotFound, k.post("/review/accounts", url.Values{"login": {"x"}, "name": {"x"}, "role": {"admin"}}).Code)
	require.Equal(t, http.StatusNotFound, k.post("/review/accounts/"+kim.ID+"/reset", url.Values{}).Code)

	for _, bad := range []url.Values{
		{"login": {"kim"}, "name": {"Again"}, "role": {"reviewer"}, "team": {"north"}},
		{"login": {"bo"}, "name": {"Bo"}, "role": {"reviewer"}, "team": {"west"}},
		{"login": {"bo"}, "name": {"Bo"}, "role": {"root"}, "team": {"north"}},
		{"login": {"bo"}, "name": {"Bo"}, "role": {"reviewer"}},
		{"login": {"b o"}, "name": {"Bo"}, "role": {"reviewer"}, "team": {"north"}},
	} {
		rec := a.post("/review/accounts", bad)
		require.Equal(t, http.StatusBadRequest, rec.Code, "%v", bad)
		require.Contains(t, rec.Body.String(), `class="problem"`)
	}

	require.True(t, k.signedIn())
	rec = a.post("/review/accounts/"+kim.ID+"/signout", url.Values{})
	require.Equal(t, http.StatusOK, rec.Code)
	require.False(t, k.signedIn(), "ended from the accounts page")
	requireRedirect(t, k.signIn("kim", "a quiet morning at the lake", secret), "/review/")
	a.post("/review/accounts/"+kim.ID+"/disable", url.Values{})
	require.False(t, k.signedIn(), "disabled")
	require.Equal(t, http.StatusUnauthorized, k.signIn("kim", "a quiet morning at the lake", secret).Code)
	a.post("/review/accounts/"+kim.ID+"/enable", url.Values{})
	requireRedirect(t, k.signIn("kim", "a quiet morning at the lake", secret), "/review/")
	rec = a.post("/review/accounts/"+kim.ID+"/reset", url.Values{})
	m = tempPattern.FindStringSubmatch(rec.Body.String())
	require.NotNil(t, m)
	require.False(t, k.signedIn(), "reset")
	k.firstSignIn("kim", m[1], "a loud evening in the city")

	me, err := s.accounts.GetByLogin(context.Background(), "admin")
	require.NoError(t, err)
	for _, action := range []string{"disable", "reset"} {
		require.Equal(t, http.StatusBadRequest, a.post("/review/accounts/"+me.ID+"/"+action, url.Values{}).Code)
	}
	require.Equal(t, http.StatusNotFound, a.post("/review/accounts/"+kim.ID+"/promote", url.Values{}).Code)
	require.Equal(t, http.StatusNotFound, a.post("/review/accounts/nobody/reset", url.Values{}).Code)
	require.True(t, a.signedIn())
	requireRedirect(t, a.post("/review/accounts/"+me.ID+"/signout", url.Values{}), "/review/signin?out=1")
	require.False(t, a.signedIn())
	require.Subset(t, s.actions(t), []string{"accounts.view", "account.add", "account.signout", "account.disable", "account.enable", "account.reset"})
}

// TestAccountFormTakesNaughtyStrings: every field of the add-account form
// takes every naughty string with a page or a clear 4xx, never a 5xx.
func TestAccountFormTakesNaughtyStrings(t *testing.T) {
	raw, err := os.ReadFile("testdata/blns.json")
	require.NoError(t, err)
	var blns []string
	require.NoError(t, json.Unmarshal(raw, &blns))
	s := newAuthSite(t, false, true)
	temp := s.add(t, "admin", account.RoleAdmin)
	a := s.visit(t)
	a.firstSignIn("admin", temp, goodPassword)
	base := url.Values{"login": {"someone"}, "name": {"Some One"}, "role": {"reviewer"}, "team": {"north"}}
	added := 0
	for i, str := range blns {
		for _, field := range []string{"login", "name", "role", "team"} {
			form := url.Values{}
			for k, v := range base {
				form[k] = append([]string(nil), v...)
			}
			// After the first, "someone" is taken: a name is still
			// checked before the login is, so each string is tried.
			form.Set(field, str)
			rec := a.post("/review/accounts", form)
			require.Less(t, rec.Code, 500, "string %d in %s: %d %.300s", i, field, rec.Code, rec.Body)
			require.NotContains(t, rec.Body.String(), "<script>alert", "string %d in %s", i, field)
			if rec.Code == http.StatusOK {
				added++
			}
		}
	}
	require.Positive(t, added, "some accounts are made")
	rec := a.get("/review/accounts")
	require.Equal(t, http.StatusOK, rec.Code)
	require.NotContains(t, rec.Body.String(), "<script>alert")
}
