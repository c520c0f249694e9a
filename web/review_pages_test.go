package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/triage"
	"github.com/tipline/tipline/web"
	"github.com/tipline/tipline/web/account"
	"github.com/tipline/tipline/web/audit"
)

// The reviewer dashboard's pages, through the real router on real Redis,
// signed in through the real sign-in form with a password and a TOTP code.

// reviewTeams are the test site's teams.
var reviewTeams = []web.Team{{ID: "team-a", Name: "North High team"}, {ID: "team-b", Name: "South Middle team"}}

// testClock is the account store's clock. Signing in moves it past the
// last TOTP step used, as the minute between two real sign-ins would.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// reviewFixture is the site with the dashboard's parts.
type reviewFixture struct {
	*fixture
	accounts *account.Store
	clock    *testClock
	clusters *triage.Clusters
	pager    *notify.Pager
	audit    *audit.Log
}

func newReviewFixture(t *testing.T) *reviewFixture {
	t.Helper()
	rf := &reviewFixture{clock: &testClock{t: time.Now()}}
	rf.fixture = newFixture(t, func(c *web.Config, f *fixture) {
		rf.accounts = account.NewStore(f.rdb, c.Keys).WithClock(rf.clock.now)
		rf.clusters = triage.NewClusters(f.rdb, time.Hour)
		rf.audit = audit.New(f.rdb)
		client := asynq.NewClient(redistest.AsynqOpt(3))
		t.Cleanup(func() { client.Close() })
		c.Accounts = rf.accounts
		c.Audit = rf.audit
		c.Teams = reviewTeams
		c.Clusters = rf.clusters
		c.Messenger = intake.NewSMS(f.in, client, nil)
		// The real pager, texting through the dev outbox: the dashboard's
		// acknowledgement must stop its escalation.
		rf.pager = notify.NewPager(notify.Config{
			Redis: f.rdb, Queue: client, Phone: notify.NewOutbox(f.rdb, slog.New(slog.DiscardHandler)),
			PublicURL: "https://tips.example.org",
			Teams: []notify.Team{
				{ID: "team-a", Name: "North High team", OnCall: []notify.Reviewer{{Name: "Ana Ruiz", Phone: "+15555550101"}}},
				{ID: "team-b", Name: "South Middle team", OnCall: []notify.Reviewer{{Name: "Ben Okafor", Phone: "+15555550102"}}},
			},
		})
		c.Acker = rf.pager
	})
	return rf
}

// reviewerLogin is what a reviewer signs in with.
type reviewerLogin struct {
	*account.Reviewer
	password, secret string
}

// addReviewer makes an account with its password chosen and TOTP enrolled,
// as a reviewer has after their first sign-in.
func (rf *reviewFixture) addReviewer(t *testing.T, login, name string, role account.Role, teams ...string) reviewerLogin {
	t.Helper()
	ctx := context.Background()
	r, _, err := rf.accounts.Add(ctx, account.NewReviewer{Login: login, Name: name, Role: role, Teams: teams})
	require.NoError(t, err)
	pw := "correct horse battery staple " + strings.Repeat("z", len(login))
	require.NoError(t, rf.accounts.SetPassword(ctx, r.ID, pw))
	secret, err := rf.accounts.BeginTOTP(ctx, r.ID)
	require.NoError(t, err)
	code, err := account.TOTPCode(secret, rf.clock.now())
	require.NoError(t, err)
	require.NoError(t, rf.accounts.ConfirmTOTP(ctx, r.ID, code))
	return reviewerLogin{Reviewer: r, password: pw, secret: secret}
}

// desk is a reviewer's browser: a cookie jar and the last CSRF token.
type desk struct {
	t    *testing.T
	rf   *reviewFixture
	jar  *cookiejar.Jar
	csrf string
}

var siteURL, _ = url.Parse("http://tipline.test/")

func (rf *reviewFixture) desk(t *testing.T) *desk {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &desk{t: t, rf: rf, jar: jar}
}

func (d *desk) do(req *http.Request) *httptest.ResponseRecorder {
	for _, c := range d.jar.Cookies(siteURL) {
		req.AddCookie(c)
	}
	rec := d.rf.serve(req)
	d.jar.SetCookies(siteURL, rec.Result().Cookies())
	if m := csrfFieldPattern.FindStringSubmatch(rec.Body.String()); m != nil {
		d.csrf = html.UnescapeString(m[1])
	}
	return rec
}

func (d *desk) get(path string) *httptest.ResponseRecorder {
	return d.do(httptest.NewRequest(http.MethodGet, path, nil))
}

// post sends a form with the CSRF token of the last page.
func (d *desk) post(path string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", d.csrf)
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return d.do(req)
}

// signIn signs in through the sign-in form, with a fresh TOTP code.
func (rf *reviewFixture) signIn(t *testing.T, who reviewerLogin) *desk {
	t.Helper()
	d := rf.desk(t)
	rec := d.get("/review/signin")
	require.Equal(t, http.StatusOK, rec.Code, "sign-in page: %s", rec.Body)
	code, err := account.TOTPCode(who.secret, rf.clock.advance(31*time.Second))
	require.NoError(t, err)
	rec = d.post("/review/signin", url.Values{"login": {who.Login}, "password": {who.password}, "code": {code}})
	require.Equal(t, http.StatusSeeOther, rec.Code, "sign-in: %s", rec.Body)
	rec = d.get("/review/")
	require.Equal(t, http.StatusOK, rec.Code, "queue after sign-in: %s", rec.Body)
	return d
}

// seedTip stores a report and records triage's result for it, as the
// triage worker does, joining it to a cluster by its words.
func (rf *reviewFixture) seedTip(t *testing.T, r intake.Report, urgency, category string, teams ...string) *intake.Tip {
	t.Helper()
	ctx := context.Background()
	rc, err := rf.in.Submit(ctx, r)
	require.NoError(t, err)
	cluster, err := rf.clusters.Join(ctx, r.Org, rc.TipID, r.Body)
	require.NoError(t, err)
	tip, err := rf.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	require.NoError(t, rf.store.SetTriage(ctx, rc.TipID, tip.ReceivedAt, intake.Triage{
		Urgency: urgency, Category: category, Teams: teams, Cluster: cluster, At: time.Now(),
		Reasons: []intake.Reason{{Rule: "weapon", Text: "a weapon is mentioned", Words: "gun"}},
	}))
	tip, err = rf.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	return tip
}

// seedTipWithToken is seedTip that also returns the reporter's token.
func (rf *reviewFixture) seedTipWithToken(t *testing.T, r intake.Report, urgency, category string, teams ...string) (*intake.Tip, string) {
	t.Helper()
	ctx := context.Background()
	rc, err := rf.in.Submit(ctx, r)
	require.NoError(t, err)
	tip, err := rf.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	require.NoError(t, rf.store.SetTriage(ctx, rc.TipID, tip.ReceivedAt, intake.Triage{
		Urgency: urgency, Category: category, Teams: teams, Cluster: rc.TipID, At: time.Now(),
		Reasons: []intake.Reason{{Rule: "weapon", Text: "a weapon is mentioned", Words: "gun"}},
	}))
	tip, err = rf.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	return tip, rc.Token.String()
}

// reviewJPEG is a small photo, as a reporter might attach.
func reviewJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for y := range 48 {
		for x := range 64 {
			img.Set(x, y, color.RGBA{uint8(x * 3), uint8(y * 4), 90, 255})
		}
	}
	var b bytes.Buffer
	require.NoError(t, jpeg.Encode(&b, img, nil))
	return b.Bytes()
}

func kindsOf(events []timeline.Event) []timeline.Kind {
	out := make([]timeline.Kind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func TestReviewerOfAnotherTeamGets404Everywhere(t *testing.T) {
	rf := newReviewFixture(t)
	ctx := context.Background()
	// The same words at one school, routed to two teams (as a route by
	// category can do): one incident, one cluster, two teams.
	words := "Jake Miller said he is bringing a gun to the assembly on friday"
	mine := rf.seedTip(t, intake.Report{Org: "north-high", Category: "weapon", Body: words}, "critical", "weapon", "team-a")
	theirs := rf.seedTip(t, intake.Report{Org: "north-high", Category: "weapon", Body: words, Location: "Gym secret-location-b",
		Images: [][]byte{reviewJPEG(t)}}, "critical", "weapon", "team-b")
	require.Equal(t, mine.Cluster, theirs.Cluster, "the two reports must share a cluster for this test")
	onlyTheirs := rf.seedTip(t, intake.Report{Org: "south-middle", Category: "bullying", Body: "kids pick on a boy at the bus stop every morning"}, "normal", "bullying", "team-b")
	require.Equal(t, 1, theirs.Images)

	ana := rf.addReviewer(t, "ana", "Ana Ruiz", account.RoleReviewer, "team-a")
	d := rf.signIn(t, ana)
	before, err := rf.store.Timeline(ctx, theirs.ID)
	require.NoError(t, err)

	missing := "ZZZZZZZZZZZZZZZZ"
	routes := func(id string) []struct{ method, path string } {
		return []struct{ method, path string }{
			{"GET", "/review/tips/" + id},
			{"GET", "/review/tips/" + id + "/images/1"},
			{"GET", "/review/tips/" + id + "/case"},
			{"POST", "/review/tips/" + id + "/ack"},
			{"POST", "/review/tips/" + id + "/assign"},
			{"POST", "/review/tips/" + id + "/status"},
			{"POST", "/review/tips/" + id + "/notes"},
			{"POST", "/review/tips/" + id + "/messages"},
			{"POST", "/review/tips/" + id + "/close"},
		}
	}
	form := url.Values{"body": {"hello"}, "status": {"in_review"}, "outcome": {"unfounded"}, "reviewer": {ana.ID}}
	send := func(method, path string) *httptest.ResponseRecorder {
		if method == "GET" {
			return d.get(path)
		}
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		return d.post(path, f)
	}
	for i, r := range routes(theirs.ID) {
		got := send(r.method, r.path)
		want := send(r.method, routes(missing)[i].path)
		require.Equal(t, http.StatusNotFound, want.Code, "%s %s for a missing tip", r.method, r.path)
		require.Equal(t, http.StatusNotFound, got.Code, "%s %s for team-b's tip: got %d", r.method, r.path, got.Code)
		require.Equal(t, want.Body.String(), got.Body.String(), "%s %s: the answer differs from a missing tip's", r.method, r.path)
	}
	for _, id := range []string{onlyTheirs.ID} {
		require.Equal(t, http.StatusNotFound, d.get("/review/tips/"+id).Code)
	}
	// A cluster with none of Ana's tips is as absent as one that never was.
	require.Equal(t, http.StatusNotFound, d.get("/review/clusters/"+onlyTheirs.Cluster).Code)
	require.Equal(t, http.StatusNotFound, d.get("/review/clusters/"+missing).Code)
	// The team filter cannot name another team.
	require.Equal(t, http.StatusNotFound, d.get("/review/?team=team-b").Code)
	require.Equal(t, http.StatusNotFound, d.get("/review/?team=no-such-team").Code)

	// Her queue, her tip's page and her cluster's page show her tip and
	// nothing of the other team's.
	for _, path := range []string{"/review/", "/review/queue", "/review/?status=all", "/review/tips/" + mine.ID, "/review/clusters/" + mine.Cluster, "/review/tips/" + mine.ID + "/case"} {
		rec := d.get(path)
		require.Equal(t, http.StatusOK, rec.Code, path)
		body := rec.Body.String()
		require.NotContains(t, body, theirs.ID, "%s shows team-b's tip", path)
		require.NotContains(t, body, theirs.Code(), "%s shows team-b's tip", path)
		require.NotContains(t, body, onlyTheirs.ID, "%s shows team-b's tip", path)
		require.NotContains(t, body, "secret-location-b", path)
		require.NotContains(t, body, "bus stop", path)
	}
	require.Contains(t, d.get("/review/").Body.String(), mine.ID)
	require.NotContains(t, d.get("/review/").Body.String(), "related reports", "the cluster's count includes only tips she may see")

	// Nothing happened to team-b's tip.
	after, err := rf.store.Timeline(ctx, theirs.ID)
	require.NoError(t, err)
	require.Equal(t, kindsOf(before), kindsOf(after), "team-b's timeline changed")
	msgs, err := rf.store.Messages(ctx, theirs.ID)
	require.NoError(t, err)
	require.Empty(t, msgs)
	notes, err := rf.store.Notes(ctx, theirs.ID)
	require.NoError(t, err)
	require.Empty(t, notes)

	// Ben, of team-b, sees it; and an admin sees both.
	ben := rf.signIn(t, rf.addReviewer(t, "ben", "Ben Okafor", account.RoleReviewer, "team-b"))
	require.Equal(t, http.StatusOK, ben.get("/review/tips/"+theirs.ID).Code)
	require.Equal(t, http.StatusOK, ben.get("/review/tips/"+theirs.ID+"/images/1").Code)
	require.Equal(t, http.StatusNotFound, ben.get("/review/tips/"+theirs.ID+"/images/2").Code)
	require.Equal(t, http.StatusNotFound, ben.get("/review/tips/"+mine.ID).Code)
	admin := rf.signIn(t, rf.addReviewer(t, "root", "Admin", account.RoleAdmin))
	queue := admin.get("/review/").Body.String()
	require.Contains(t, queue, theirs.Code())
	require.Contains(t, queue, onlyTheirs.Code())
	require.Contains(t, queue, "2 related reports", "the admin sees the whole cluster as one row")
}

func TestEveryReviewerViewIsAudited(t *testing.T) {
	rf := newReviewFixture(t)
	ctx := context.Background()
	tip := rf.seedTip(t, intake.Report{Org: "north-high", Category: "weapon", Body: "he showed a gun in the parking lot", Images: [][]byte{reviewJPEG(t)}}, "critical", "weapon", "team-a")
	lead := rf.addReviewer(t, "lena", "Lena Lead", account.RoleLead, "team-a")
	d := rf.signIn(t, lead)

	views := []struct{ path, action, tip string }{
		{"/review/", "queue.view", ""},
		{"/review/queue", "queue.view", ""},
		{"/review/tips/" + tip.ID, "tip.view", tip.ID},
		{"/review/tips/" + tip.ID + "/images/1", "tip.image", tip.ID},
		{"/review/tips/" + tip.ID + "/case", "tip.export", tip.ID},
		{"/review/clusters/" + tip.Cluster, "cluster.view", ""},
		{"/review/figures", "figures.view", ""},
		{"/review/figures.csv", "figures.export", ""},
	}
	for _, v := range views {
		rec := d.get(v.path)
		require.Equal(t, http.StatusOK, rec.Code, v.path)
		if v.path == "/review/queue" {
			require.NotContains(t, rec.Body.String(), "<html", "review.js's rows come without the layout")
			require.Contains(t, rec.Body.String(), tip.Code())
		}
		entries, err := rf.audit.List(ctx, time.Time{}, time.Time{}, 1)
		require.NoError(t, err)
		require.Len(t, entries, 1)
		e := entries[0]
		require.Equal(t, v.action, e.Action, "the last audit entry after %s", v.path)
		require.Equal(t, v.tip, e.Tip, v.path)
		require.Equal(t, lead.ID, e.Actor, v.path)
		require.Equal(t, "Lena Lead", e.ActorName, v.path)
	}
	// Changes and messages too.
	for _, a := range []struct {
		path   string
		form   url.Values
		action string
	}{
		{"/review/tips/" + tip.ID + "/ack", nil, "tip.ack"},
		{"/review/tips/" + tip.ID + "/notes", url.Values{"body": {"called home"}}, "tip.note"},
		{"/review/tips/" + tip.ID + "/messages", url.Values{"body": {"Which car?"}}, "tip.message"},
		{"/review/tips/" + tip.ID + "/assign", url.Values{"reviewer": {lead.ID}}, "tip.assign"},
		{"/review/tips/" + tip.ID + "/status", url.Values{"status": {"assigned"}}, "tip.status"},
		{"/review/tips/" + tip.ID + "/close", url.Values{"outcome": {"no_concern"}}, "tip.close"},
	} {
		d.get("/review/tips/" + tip.ID)
		rec := d.post(a.path, a.form)
		require.Equal(t, http.StatusSeeOther, rec.Code, "%s: %s", a.path, rec.Body)
		entries, err := rf.audit.List(ctx, time.Time{}, time.Time{}, 1)
		require.NoError(t, err)
		require.Equal(t, a.action, entries[0].Action, a.path)
		require.Equal(t, tip.ID, entries[0].Tip, a.path)
	}
	// The case export is on the tip's timeline as well.
	events, err := rf.store.Timeline(ctx, tip.ID)
	require.NoError(t, err)
	require.Contains(t, kindsOf(events), timeline.Exported)
}

func TestReviewActionsChangeTheTip(t *testing.T) {
	rf := newReviewFixture(t)
	ctx := context.Background()
	tip, token := rf.seedTipWithToken(t, intake.Report{Org: "north-high", Category: "weapon", Body: "he has a gun in his bag today"}, "critical", "weapon", "team-a")
	ana := rf.addReviewer(t, "ana", "Ana Ruiz", account.RoleReviewer, "team-a")
	ben := rf.addReviewer(t, "ben", "Ben Okafor", account.RoleReviewer, "team-a")
	rf.addReviewer(t, "carl", "Carl Other", account.RoleReviewer, "team-b")
	d := rf.signIn(t, ana)
	page := "/review/tips/" + tip.ID

	rec := d.get(page)
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	require.Contains(t, body, "he has a gun in his bag today")
	require.Contains(t, body, "<mark>gun</mark>", "the words that triggered a reason")
	require.Contains(t, body, "Ben Okafor", "team-a's reviewers are offered for assignment")
	require.NotContains(t, body, "Carl Other", "team-b's reviewers are not")

	status := func() intake.Status {
		got, err := rf.store.Tip(ctx, tip.ID)
		require.NoError(t, err)
		return got.Status
	}
	require.Equal(t, intake.StatusAssigned, status())

	// The tip was paged: its team's escalation is open.
	require.NoError(t, rf.pager.Enqueue(ctx, notify.Page{TipID: tip.ID, Cluster: tip.Cluster, Team: "team-a",
		Urgency: "critical", Org: "North High School", Code: tip.Code(), ReceivedAt: tip.ReceivedAt}))
	rec = d.post(page+"/ack", nil)
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, page+"?done=ack", rec.Header().Get("Location"))
	require.Equal(t, intake.StatusInReview, status(), "acknowledging takes the tip up")
	events, err := rf.store.Timeline(ctx, tip.ID)
	require.NoError(t, err)
	acked := slices.DeleteFunc(events, func(e timeline.Event) bool { return e.Kind != timeline.Acked })
	require.Len(t, acked, 1, "one acknowledgement on the timeline")
	require.Equal(t, "team-a", acked[0].Team, "the pager acknowledged its escalation")
	require.Equal(t, "dashboard", acked[0].Detail)
	require.Contains(t, d.get(page+"?done=ack").Body.String(), "You acknowledged this report.")

	require.Equal(t, http.StatusSeeOther, d.post(page+"/assign", url.Values{"reviewer": {ben.ID}}).Code)
	require.Contains(t, d.get("/review/").Body.String(), "Assigned to Ben Okafor", "the queue shows who carries the tip")
	require.Equal(t, http.StatusBadRequest, d.post(page+"/assign", url.Values{"reviewer": {"nobody"}}).Code)

	require.Equal(t, http.StatusSeeOther, d.post(page+"/notes", url.Values{"body": {"Called the parents; no access to guns at home."}}).Code)
	rec = d.post(page+"/notes", url.Values{"body": {"   "}})
	require.Equal(t, http.StatusBadRequest, rec.Code, "an empty note is refused")
	require.Contains(t, rec.Body.String(), "The note was not added.")

	msg := "Thank you. Which class was he in when you saw it?"
	require.Equal(t, http.StatusSeeOther, d.post(page+"/messages", url.Values{"body": {msg}}).Code)
	long := strings.Repeat("x", 5001)
	rec = d.post(page+"/messages", url.Values{"body": {long}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), long, "the refused message is kept for the reviewer to shorten")

	// The reporter sees the team's message with their token.
	fu := rf.postJSON(t, "/api/v1/followup", map[string]any{"token": token})
	require.Equal(t, http.StatusOK, fu.Code)
	var got struct {
		Status   string `json:"status"`
		Messages []struct{ From, Body string }
	}
	require.NoError(t, json.Unmarshal(fu.Body.Bytes(), &got))
	require.Equal(t, "in_review", got.Status)
	require.Len(t, got.Messages, 1)
	require.Equal(t, msg, got.Messages[0].Body)

	require.Equal(t, http.StatusSeeOther, d.post(page+"/status", url.Values{"status": {"assigned"}}).Code)
	require.Equal(t, intake.StatusAssigned, status())
	require.Equal(t, http.StatusBadRequest, d.post(page+"/status", url.Values{"status": {"closed"}}).Code, "closing takes an outcome")
	require.Equal(t, http.StatusBadRequest, d.post(page+"/close", url.Values{"outcome": {"made-up"}}).Code)
	rec = d.post(page+"/close", url.Values{"outcome": {""}})
	require.Equal(t, http.StatusBadRequest, rec.Code)
	require.Contains(t, rec.Body.String(), "Choose an outcome.")
	require.Equal(t, http.StatusBadRequest, d.post(page+"/close", url.Values{"outcome": {"referred"}, "referral": {"astrology"}}).Code)

	rec = d.post(page+"/close", url.Values{"outcome": {"support_plan"}, "note": {"Safety plan agreed"}, "referral": {"mental_health", "social_services"}})
	require.Equal(t, http.StatusSeeOther, rec.Code)
	require.Equal(t, intake.StatusClosed, status())
	c, err := rf.store.Case(ctx, tip.ID)
	require.NoError(t, err)
	require.Equal(t, intake.Case{Assignee: "Ben Okafor", Outcome: "support_plan", OutcomeNote: "Safety plan agreed",
		Referrals: []string{"mental_health", "social_services"}, ClosedAt: c.ClosedAt}, c)

	events, err = rf.store.Timeline(ctx, tip.ID)
	require.NoError(t, err)
	require.Equal(t, []timeline.Kind{timeline.Received, timeline.Triaged, timeline.Acked, timeline.Status, timeline.Assigned,
		timeline.Note, timeline.Message, timeline.Status, timeline.Closed}, kindsOf(events))
	for _, e := range events[2:] {
		require.Equal(t, "Ana Ruiz", e.Actor, "%s is recorded with who did it", e.Kind)
	}

	body = d.get(page).Body.String()
	for _, want := range []string{"Support plan", "Mental health, Social services", "Called the parents", msg, "Acknowledged", "Closed"} {
		require.Contains(t, body, want)
	}
	// Reopening.
	require.Equal(t, http.StatusSeeOther, d.post(page+"/status", url.Values{"status": {"in_review"}}).Code)
	require.Equal(t, intake.StatusInReview, status())
}

func TestFiguresOnAKnownSet(t *testing.T) {
	rf := newReviewFixture(t)
	ctx := context.Background()
	// Four tips for team-a, one for team-b. Time to acknowledge, from the
	// page (or receipt): 60 s, 120 s, 600 s; one never acknowledged.
	// Median 120 s, 90th percentile (nearest rank) 600 s.
	type seed struct {
		org, category, urgency, team string
		ack                          time.Duration // 0: never
		paged                        bool
		outcome                      string
		referrals                    []string
		twoWay                       bool
	}
	seeds := []seed{
		{"north-high", "weapon", "critical", "team-a", 60 * time.Second, true, "referred", []string{"mental_health", "law_enforcement"}, true},
		{"north-high", "threat", "high", "team-a", 120 * time.Second, true, "", nil, false},
		{"south-middle", "bullying", "normal", "team-a", 600 * time.Second, false, "support_plan", []string{"mental_health"}, false},
		{"north-high", "bullying", "normal", "team-a", 0, false, "", nil, false},
		{"south-middle", "drugs", "low", "team-b", 5 * time.Second, false, "unfounded", nil, true},
	}
	for i, s := range seeds {
		tip := rf.seedTip(t, intake.Report{Org: s.org, Category: s.category, Body: fmt.Sprintf("report number %d about %s", i, s.category)}, s.urgency, s.category, s.team)
		start := tip.ReceivedAt
		if s.paged {
			start = tip.ReceivedAt.Add(10 * time.Second)
			require.NoError(t, rf.store.Record(ctx, tip.ID, timeline.Event{At: start, Kind: timeline.Paged, Actor: "tipline"}))
		}
		if s.ack > 0 {
			require.NoError(t, rf.store.Record(ctx, tip.ID, timeline.Event{At: start.Add(s.ack), Kind: timeline.Acked, Actor: "x"}))
			// A later acknowledgement does not count: the first does.
			require.NoError(t, rf.store.Record(ctx, tip.ID, timeline.Event{At: start.Add(s.ack + time.Hour), Kind: timeline.Acked, Actor: "y"}))
		}
		if s.outcome != "" {
			require.NoError(t, rf.in.Close(ctx, tip.ID, "x", intake.Closing{Outcome: s.outcome, Referrals: s.referrals}))
		}
		if s.twoWay {
			require.NoError(t, rf.store.AddMessage(ctx, tip.ID, intake.Message{From: intake.FromReviewer, Body: "q", At: time.Now()}))
			require.NoError(t, rf.store.AddMessage(ctx, tip.ID, intake.Message{From: intake.FromReporter, Body: "a", At: time.Now()}))
		}
	}
	// A one-sided conversation is not a dialogue.
	// Its organisation is one the config does not list, written to attack
	// a spreadsheet: it counts as unlisted, under a name of tipline's own.
	lone := rf.seedTip(t, intake.Report{Org: "=HYPERLINK(\"http://evil.example\")", Category: "other", Body: "lone report"}, "low", "other", "team-a")
	require.NoError(t, rf.store.AddMessage(ctx, lone.ID, intake.Message{From: intake.FromReviewer, Body: "q", At: time.Now()}))

	lead := rf.signIn(t, rf.addReviewer(t, "lena", "Lena Lead", account.RoleLead, "team-a"))
	rec := lead.get("/review/figures.csv")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/csv; charset=utf-8", rec.Header().Get("Content-Type"))
	rows, err := csv.NewReader(rec.Body).ReadAll()
	require.NoError(t, err)
	val := map[string]string{}
	for _, r := range rows[1:] {
		val[r[0]+"/"+r[1]+"/"+r[2]] = r[3]
	}
	for k, want := range map[string]string{
		"all/tips/":                            "5",
		"all/urgency/critical":                 "1",
		"all/urgency/normal":                   "2",
		"all/urgency/low":                      "1",
		"all/category/bullying":                "2",
		"all/category/drugs":                   "0",
		"all/acknowledged/":                    "3",
		"all/ack_median_seconds/":              "120",
		"all/ack_p90_seconds/":                 "600",
		"all/closed/":                          "2",
		"all/outcome/referred":                 "1",
		"all/outcome/support_plan":             "1",
		"all/outcome/unfounded":                "0",
		"all/referral/mental_health":           "2",
		"all/referral/law_enforcement":         "1",
		"all/two_way_tips/":                    "1",
		"all/two_way_share/":                   "0.200",
		"team:team-a/tips/":                    "5",
		"org:north-high/tips/":                 "3",
		"org:unlisted/tips/":                   "1",
		"org:south-middle/tips/":               "1",
		"org:south-middle/ack_median_seconds/": "600",
	} {
		require.Equal(t, want, val[k], "%s", k)
	}
	require.NotContains(t, rec.Body.String(), "evil.example", "a reporter's organisation text reaches the CSV")
	_, ok := val["team:team-b/tips/"]
	require.False(t, ok, "a lead of team-a gets no figures of team-b")

	page := lead.get("/review/figures")
	require.Equal(t, http.StatusOK, page.Code, rf.logs.String())
	body := page.Body.String()
	require.Contains(t, body, "<svg")
	require.Contains(t, body, "2 min 00 s", "the median shown")
	require.Contains(t, body, "10 min 00 s", "the 90th percentile shown")
	require.NotContains(t, body, "style=", "the CSP refuses inline styles")
	require.Equal(t, http.StatusNotFound, lead.get("/review/figures?team=team-b").Code)
	require.Equal(t, http.StatusBadRequest, lead.get("/review/figures?from=yesterday").Code)

	// A plain reviewer sees no figures; an admin sees every team's.
	plain := rf.signIn(t, rf.addReviewer(t, "pat", "Pat", account.RoleReviewer, "team-a"))
	require.Equal(t, http.StatusNotFound, plain.get("/review/figures").Code)
	require.Equal(t, http.StatusNotFound, plain.get("/review/figures.csv").Code)
	admin := rf.signIn(t, rf.addReviewer(t, "root", "Admin", account.RoleAdmin))
	rows, err = csv.NewReader(admin.get("/review/figures.csv").Body).ReadAll()
	require.NoError(t, err)
	require.Contains(t, rows, []string{"all", "tips", "", "6"})
	require.Contains(t, rows, []string{"team:team-b", "tips", "", "1"})
}

// TestReviewerTextRendersEscaped sends every string of the Big List of
// Naughty Strings as a note, a message to the reporter and an outcome
// note, and checks that no page that shows them grows a script, an event
// handler or a javascript: link.
func TestReviewerTextRendersEscaped(t *testing.T) {
	raw, err := os.ReadFile("testdata/blns.json")
	require.NoError(t, err)
	var blns []string
	require.NoError(t, json.Unmarshal(raw, &blns))
	if testing.Short() {
		blns = slices.DeleteFunc(blns, func(s string) bool { return !strings.ContainsAny(s, "<>\"'&") })
	}
	rf := newReviewFixture(t)
	tip := rf.seedTip(t, intake.Report{Org: "north-high", Category: "other", Body: "a plain report"}, "low", "other", "team-a")
	d := rf.signIn(t, rf.addReviewer(t, "ana", "Ana Ruiz", account.RoleReviewer, "team-a"))
	page := "/review/tips/" + tip.ID
	d.get(page)
	for i, s := range blns {
		for _, a := range []struct {
			path string
			form url.Values
		}{
			{page + "/notes", url.Values{"body": {s}}},
			{page + "/messages", url.Values{"body": {s}}},
			{page + "/close", url.Values{"outcome": {"unfounded"}, "note": {s}}},
		} {
			rec := d.post(a.path, a.form)
			require.Less(t, rec.Code, 500, "string %d to %s: %d", i, a.path, rec.Code)
			if rec.Code == http.StatusBadRequest {
				requireInert(t, rec.Body.String(), fmt.Sprintf("refused string %d to %s", i, a.path))
			}
		}
		if i%100 == 99 || i == len(blns)-1 {
			for _, p := range []string{page, page + "/case", "/review/?status=all"} {
				rec := d.get(p)
				require.Equal(t, http.StatusOK, rec.Code, p)
				requireInert(t, rec.Body.String(), p)
			}
		}
	}
}

// scriptSrc is the one script a reviewer page may load.
var scriptSrc = regexp.MustCompile(`^/static/[a-z]+\.js$`)

// requireInert parses a page and fails on anything that would run: a
// script not from /static, an on* attribute, a javascript: URL, or a style
// attribute (which the CSP would refuse anyway).
func requireInert(t *testing.T, page, where string) {
	t.Helper()
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			require.False(t, strings.HasPrefix(key, "on"), "%s: <%s %s=%q>", where, tok.Data, a.Key, a.Val)
			require.NotEqual(t, "style", key, "%s: <%s style=%q>", where, tok.Data, a.Val)
			if key == "href" || key == "src" || key == "action" || key == "formaction" {
				require.False(t, strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:"), "%s: %s=%q", where, a.Key, a.Val)
			}
		}
		if tok.Data == "script" {
			src := ""
			for _, a := range tok.Attr {
				if a.Key == "src" {
					src = a.Val
				}
			}
			require.Regexp(t, scriptSrc, src, "%s: a script that is not the site's own", where)
		}
	}
}
