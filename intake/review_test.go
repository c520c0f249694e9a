package intake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/internal/redistest"
)

// submitTo stores a report and records triage's routing to teams.
func (f *fixture) submitTo(t *testing.T, body, urgency, category string, teams ...string) string {
	t.Helper()
	ctx := context.Background()
	// Tips are ordered by arrival to the millisecond: keep them apart, so
	// "newest first" has one answer.
	time.Sleep(2 * time.Millisecond)
	rc, err := f.intake.Submit(ctx, intake.Report{Org: "lincoln-high", Body: body})
	require.NoError(t, err)
	tip, err := f.store.Tip(ctx, rc.TipID)
	require.NoError(t, err)
	require.NoError(t, f.store.SetTriage(ctx, rc.TipID, tip.ReceivedAt, intake.Triage{
		Urgency: urgency, Category: category, Teams: teams, Cluster: rc.TipID, At: time.Now(),
	}))
	return rc.TipID
}

func kinds(events []timeline.Event) []timeline.Kind {
	out := make([]timeline.Kind, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

func TestTeamTipsListsOnlyThoseTeams(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	a1 := f.submitTo(t, "a fight after school", "normal", "bullying", "team-a")
	b1 := f.submitTo(t, "he has a knife in his locker", "high", "weapon", "team-b")
	ab := f.submitTo(t, "threat posted online", "high", "threat", "team-a", "team-b")

	ids := func(tips []*intake.Tip) []string {
		var out []string
		for _, tp := range tips {
			out = append(out, tp.ID)
		}
		return out
	}
	got, err := f.store.TeamTips(ctx, []string{"team-a"}, intake.TipFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{ab, a1}, ids(got), "team-a's tips, newest first")

	got, err = f.store.TeamTips(ctx, []string{"team-a", "team-b"}, intake.TipFilter{})
	require.NoError(t, err)
	require.Equal(t, []string{ab, b1, a1}, ids(got), "a tip routed to both teams is listed once")

	got, err = f.store.TeamTips(ctx, []string{"team-b"}, intake.TipFilter{Category: "weapon"})
	require.NoError(t, err)
	require.Equal(t, []string{b1}, ids(got))

	require.NoError(t, f.intake.Close(ctx, a1, "Ana", intake.Closing{Outcome: "no_concern"}))
	got, err = f.store.TeamTips(ctx, []string{"team-a"}, intake.TipFilter{Statuses: []intake.Status{intake.StatusAssigned, intake.StatusInReview}})
	require.NoError(t, err)
	require.Equal(t, []string{ab}, ids(got), "the closed tip is filtered out")

	got, err = f.store.TeamTips(ctx, []string{"team-c"}, intake.TipFilter{})
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestReviewChangesLandOnTheTimeline(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.submitTo(t, "he said he will bring a gun friday", "critical", "weapon", "team-a")

	require.NoError(t, f.intake.Acknowledge(ctx, id, "Ana Ruiz", time.Now()))
	tip, err := f.store.Tip(ctx, id)
	require.NoError(t, err)
	require.Equal(t, intake.StatusInReview, tip.Status, "acknowledging takes a tip up")

	require.NoError(t, f.intake.Assign(ctx, id, "Ben Okafor", "Ana Ruiz"))
	require.NoError(t, f.intake.AddNote(ctx, id, "Ben Okafor", "Spoke with the counsellor; <b>no</b> access to weapons at home."))
	require.NoError(t, f.intake.SetStatus(ctx, id, intake.StatusInReview, "Ben Okafor"), "no change, no event")
	require.NoError(t, f.intake.Close(ctx, id, "Ben Okafor", intake.Closing{
		Outcome: "support_plan", Note: "Safety plan with family", Referrals: []string{"mental_health", "social_services", "mental_health"},
	}))
	require.NoError(t, f.intake.SetStatus(ctx, id, intake.StatusInReview, "Ana Ruiz"))

	events, err := f.store.Timeline(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []timeline.Kind{timeline.Received, timeline.Triaged, timeline.Acked, timeline.Status,
		timeline.Assigned, timeline.Note, timeline.Closed, timeline.Reopened, timeline.Status}, kinds(events))
	require.Equal(t, "Ana Ruiz", events[2].Actor)
	require.Equal(t, "Ben Okafor", events[4].Detail)
	require.Equal(t, "support_plan; referrals: mental_health, social_services", events[6].Detail)

	c, err := f.store.Case(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "Ben Okafor", c.Assignee)
	require.Equal(t, "support_plan", c.Outcome)
	require.Equal(t, "Safety plan with family", c.OutcomeNote)
	require.Equal(t, []string{"mental_health", "social_services"}, c.Referrals)

	notes, err := f.store.Notes(ctx, id)
	require.NoError(t, err)
	require.Len(t, notes, 1)
	require.Equal(t, "Spoke with the counsellor; no access to weapons at home.", notes[0].Body, "markup is removed")
	require.Equal(t, "Ben Okafor", notes[0].Author)

	// What reviewers write is sealed like what reporters write.
	dump := redistest.Dump(t, f.rdb)
	for _, secret := range []string{"counsellor", "Safety plan"} {
		require.NotContains(t, dump, secret)
	}
}

func TestAcknowledgeOnceWhenThePagerRecordedIt(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.submitTo(t, "gun at school tomorrow", "critical", "weapon", "team-a")
	start := time.Now()
	// As the pager does when a reviewer acknowledges by text.
	require.NoError(t, f.store.Record(ctx, id, timeline.Event{Kind: timeline.Acked, Actor: "Ana Ruiz", Detail: "sms"}))
	require.NoError(t, f.intake.Acknowledge(ctx, id, "Ana Ruiz", start))
	events, err := f.store.Timeline(ctx, id)
	require.NoError(t, err)
	n := 0
	for _, e := range events {
		if e.Kind == timeline.Acked {
			n++
		}
	}
	require.Equal(t, 1, n, "one acknowledgement, got timeline %v", kinds(events))
}

func TestReviewChangesRefuseBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.submitTo(t, "a fight", "normal", "bullying", "team-a")
	require.ErrorIs(t, f.intake.Close(ctx, id, "Ana", intake.Closing{Outcome: "made-up"}), intake.ErrBadChange)
	require.ErrorIs(t, f.intake.Close(ctx, id, "Ana", intake.Closing{Outcome: "referred", Referrals: []string{"astrology"}}), intake.ErrBadChange)
	require.ErrorIs(t, f.intake.SetStatus(ctx, id, intake.StatusClosed, "Ana"), intake.ErrBadChange, "closing takes an outcome")
	require.ErrorIs(t, f.intake.SetStatus(ctx, id, "weird", "Ana"), intake.ErrBadChange)
	var fe *intake.FieldError
	require.ErrorAs(t, f.intake.AddNote(ctx, id, "Ana", "   "), &fe)
	require.ErrorAs(t, f.intake.Close(ctx, id, "Ana", intake.Closing{Outcome: "referred", Note: strings.Repeat("x", 1001)}), &fe)

	for name, err := range map[string]error{
		"note":   f.intake.AddNote(ctx, "NOSUCHTIP", "Ana", "x"),
		"close":  f.intake.Close(ctx, "NOSUCHTIP", "Ana", intake.Closing{Outcome: "unfounded"}),
		"status": f.intake.SetStatus(ctx, "NOSUCHTIP", intake.StatusInReview, "Ana"),
		"assign": f.intake.Assign(ctx, "NOSUCHTIP", "Ben", "Ana"),
		"ack":    f.intake.Acknowledge(ctx, "NOSUCHTIP", "Ana", time.Now()),
	} {
		require.ErrorIs(t, err, intake.ErrNotFound, name)
	}
	_, err := f.store.Case(ctx, "NOSUCHTIP")
	require.ErrorIs(t, err, intake.ErrNotFound)
	n, err := f.rdb.Exists(ctx, "tip:{NOSUCHTIP}", "tip:{NOSUCHTIP}:timeline", "tip:{NOSUCHTIP}:notes").Result()
	require.NoError(t, err)
	require.Zero(t, n, "a change to a missing tip created keys")
}

func TestFactsCountWithoutOpeningText(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	id := f.submitTo(t, "someone is selling vapes", "normal", "drugs", "team-a")
	other := f.submitTo(t, "not ours", "low", "other", "team-b")
	require.NoError(t, f.store.AddMessage(ctx, id, intake.Message{From: intake.FromReviewer, Body: "Where?", At: time.Now()}))
	require.NoError(t, f.store.AddMessage(ctx, id, intake.Message{From: intake.FromReporter, Body: "Bathroom", At: time.Now()}))
	require.NoError(t, f.intake.Close(ctx, id, "Ana", intake.Closing{Outcome: "referred", Referrals: []string{"mental_health"}}))

	facts, err := f.store.Facts(ctx, []string{"team-a"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, facts, 1, "only team-a's tip, not %s", other)
	got := facts[0]
	require.Equal(t, id, got.ID)
	require.Equal(t, "drugs", got.Category)
	require.Equal(t, "normal", got.Urgency)
	require.Equal(t, "referred", got.Outcome)
	require.Equal(t, []string{"mental_health"}, got.Referrals)
	require.Equal(t, 1, got.FromReporter)
	require.Equal(t, 1, got.FromReviewer)
	require.Equal(t, intake.StatusClosed, got.Status)

	facts, err = f.store.Facts(ctx, []string{"team-a"}, time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, facts, "the period excludes the tip")
}

// An open tip stays in its team's queue however many tips arrived and
// were closed after it: the queue never cuts the index at a recent window.
func TestTeamTipsFindsAnOldOpenTip(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 1,001 tips")
	}
	f := newFixture(t)
	ctx := context.Background()
	old := f.submitTo(t, "a threat nobody has looked at yet", "high", "threat", "team-a")
	for i := range 1000 {
		id := f.submitTo(t, "routine report "+strings.Repeat("x", i%7), "low", "other", "team-a")
		require.NoError(t, f.intake.Close(ctx, id, "Ana", intake.Closing{Outcome: "no_concern"}))
	}
	open := []intake.Status{intake.StatusReceived, intake.StatusAssigned, intake.StatusInReview}
	got, err := f.store.TeamTips(ctx, []string{"team-a"}, intake.TipFilter{Statuses: open})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, old, got[0].ID)
	all, err := f.store.TeamTips(ctx, []string{"team-a"}, intake.TipFilter{Limit: 10})
	require.NoError(t, err)
	require.Len(t, all, 10, "the limit holds")
}
