package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/web/account"
)

// TestReviewerBrowser drives the dashboard in headless Chromium as an
// on-call reviewer paged at night would, on a phone with JavaScript on:
// sign in with a password and a TOTP code, see the queue, open the
// critical tip, acknowledge it, and message the reporter; the reporter
// then reads the message on the follow-up page with their token, with
// JavaScript off; the reviewer signs out, and the dashboard is closed to
// that browser. The case export and the figures are opened on the way.
// Every page is checked with axe-core and kept as a screenshot.
//
// It needs Chromium and axe-core, like TestBrowser.
func TestReviewerBrowser(t *testing.T) {
	chromiumPath(t)
	axe := axeSource(t)
	shots := artefactDir(t)

	rf := newReviewFixture(t)
	srv := httptest.NewServer(rf.e)
	t.Cleanup(srv.Close)
	browser := startBrowser(t)
	ctx := context.Background()

	words := "Marcus said he is bringing his brother's gun to school tomorrow and showed it in a video."
	tip, token := rf.seedTipWithToken(t, intake.Report{Org: "north-high", Category: "weapon", Body: words,
		Location: "North High, east parking lot", When: "tomorrow morning"}, "critical", "weapon", "team-a")
	rf.seedTip(t, intake.Report{Org: "north-high", Category: "bullying", Body: "Older kids take lunch money from sixth graders by the lockers."}, "normal", "bullying", "team-a")
	require.NoError(t, rf.pager.Enqueue(ctx, notify.Page{TipID: tip.ID, Cluster: tip.Cluster, Team: "team-a",
		Urgency: "critical", Org: "North High School", Code: tip.Code(), ReceivedAt: tip.ReceivedAt}))
	ana := rf.addReviewer(t, "ana", "Ana Ruiz", account.RoleLead, "team-a")

	b := newTab(t, browser, srv, "en", true, axe, shots)
	b.name = "review"
	step := func(page string) {
		t.Helper()
		b.shot(page)
		b.checkAxe(page)
		if b.info().Overflow {
			t.Errorf("%s: the page is wider than the phone's screen", page)
		}
	}

	// Sign in with the password and the code of the moment.
	b.open("/review/", http.StatusOK) // the sign-in page, for a browser without a session
	require.Equal(t, "/review/signin", b.info().URL)
	step("signin")
	code, err := account.TOTPCode(ana.secret, rf.clock.advance(31*time.Second))
	require.NoError(t, err)
	b.typeInto("login", ana.Login)
	b.typeInto("password", ana.password)
	b.typeInto("code", code)
	b.submit(`input[name="code"]`, http.StatusOK)

	// The queue: the critical tip first.
	info := b.info()
	require.Equal(t, "/review/", info.URL, "after signing in: %s", info.Text)
	require.Equal(t, "Queue", info.H1)
	first := eval[string](b, `document.querySelector('table.queue tbody tr a').getAttribute('href')`)
	require.Equal(t, "/review/tips/"+tip.ID, first, "the critical tip heads the queue")
	require.Contains(t, info.Text, "Refresh", "a plain reload is offered")
	step("queue")

	// With JavaScript on, review.js brings in a new tip without a reload.
	// It refreshes every 30 seconds, and at once when the tab comes back
	// into view, which the test makes happen.
	later := rf.seedTip(t, intake.Report{Org: "north-high", Category: "threat", Body: "Someone wrote a hit list in the boys' bathroom."}, "high", "threat", "team-a")
	eval[bool](b, `window.tiplineNoReload = true; document.dispatchEvent(new Event('visibilitychange')); true`)
	seen := false
	for range 50 {
		if b.has(`#queue-rows a[href="/review/tips/` + later.ID + `"]`) {
			seen = true
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.True(t, seen, "review.js did not bring the new tip into the queue")
	require.True(t, eval[bool](b, `window.tiplineNoReload === true`), "the queue was reloaded, not refreshed in place")

	// The tip, with the words that made it critical.
	clickTo(b, `table.queue tbody tr a[href="/review/tips/`+tip.ID+`"]`)
	info = b.info()
	require.Equal(t, "/review/tips/"+tip.ID, info.URL)
	require.Contains(t, info.Text, words)
	require.Contains(t, info.Text, "a weapon is mentioned")
	require.Contains(t, info.Text, "east parking lot")
	step("tip")

	// Acknowledge: the pager's escalation stops, and the tip is in review.
	clickTo(b, `form[action$="/ack"] button[type="submit"]`)
	require.Contains(t, b.info().Text, "You acknowledged this report.")
	events, err := rf.store.Timeline(ctx, tip.ID)
	require.NoError(t, err)
	acked, ok := timeline.First(events, timeline.Acked)
	require.True(t, ok, "no acknowledgement on the timeline")
	require.WithinDuration(t, time.Now(), acked, time.Minute)
	got, err := rf.store.Tip(ctx, tip.ID)
	require.NoError(t, err)
	require.Equal(t, intake.StatusInReview, got.Status)
	step("tip-acknowledged")

	// Message the reporter.
	question := "Thank you for telling us. Do you know which car Marcus drives?"
	b.do("type the message", chromedp.SendKeys(chromedp.CSS("#f-message"), question))
	clickTo(b, `form[action$="/messages"] button[type="submit"]`)
	require.Contains(t, b.info().Text, "Your message is sent.")
	require.Contains(t, b.info().Text, question)
	step("tip-messaged")

	// The case export and the team's figures, as a lead keeps them.
	b.open("/review/tips/"+tip.ID+"/case", http.StatusOK)
	require.Contains(t, b.info().Text, "Case record: report "+tip.Code())
	step("case")
	printCase(t, b, shots)
	b.open("/review/figures", http.StatusOK)
	require.Equal(t, "Program figures", b.info().H1)
	require.True(t, b.has("svg rect"), "the figures have no chart")
	step("figures")
	require.Empty(t, b.errors.all(), "the dashboard logged errors (a CSP refusal would show here)")

	// The reporter checks back with their token, on their phone, without
	// JavaScript, and reads the team's question.
	r := newTab(t, browser, srv, "en", false, axe, shots)
	r.name = "review-reporter"
	r.open("/followup", http.StatusOK)
	r.typeInto("token", token)
	r.submit(`input[name="token"]`, http.StatusOK)
	require.Contains(t, r.info().Text, question, "the reporter does not see the team's message")
	require.Contains(t, r.info().Text, "Being looked into", "the reporter sees that someone is looking")
	r.shot("followup")
	r.checkAxe("followup")

	// Sign out: the dashboard is closed to this browser from now on.
	b.open("/review/", http.StatusOK)
	clickTo(b, `form[action="/review/signout"] button:not([name])`)
	info = b.info()
	require.Equal(t, "/review/signin", info.URL)
	require.Contains(t, info.Text, "You are signed out.")
	b.shot("signed-out")
	b.open("/review/tips/"+tip.ID, http.StatusOK)
	require.Equal(t, "/review/signin", b.info().URL, "after signing out, a tip's page asks to sign in")
	require.NotContains(t, b.info().Text, words)
}

// clickTo clicks a link or a form's button and waits for the page it
// leads to, which must load with 200 (after any redirect).
func clickTo(b *tab, sel string) {
	b.t.Helper()
	if !b.has(sel) {
		b.fatalf("the page has nothing matching %s", sel)
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("click %s: %v", sel, err)
	}
	if resp.Status != http.StatusOK {
		b.fatalf("click %s: got status %d", sel, resp.Status)
	}
}

// printCase prints the case export as the browser's Print command would:
// in print media the dashboard's navigation and forms are gone, and the
// PDF is kept beside the screenshots.
func printCase(t *testing.T, b *tab, shots string) {
	t.Helper()
	media := func(m string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
			return err
		})
	}
	b.do("print media", media("print"))
	hidden := eval[bool](b, `[...document.querySelectorAll('header.site, form, .no-print')].every(e => getComputedStyle(e).display === 'none')`)
	b.do("screen media", media(""))
	require.True(t, hidden, "printed, the case shows the dashboard's navigation or forms")
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	var pdf []byte
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{})
		pdf = res.Data
		return err
	}))
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(pdf, []byte("%PDF")), "the case did not print to a PDF")
	require.NoError(t, os.WriteFile(filepath.Join(shots, "review-case.pdf"), pdf, 0o644))
}
