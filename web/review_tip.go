package web

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/intake/timeline"
	"github.com/tipline/tipline/triage"
	"github.com/tipline/tipline/web/account"
)

// tipPage is one tip as a reviewer reads and acts on it.
type tipPage struct {
	reviewLayout
	Tip      *intake.Tip
	OrgName  string
	Teams    []string // names
	Category string   // the reporter's
	Rated    string   // triage's
	Status   string
	Images   []int // 1..n
	Related  []queueRow
	Messages []intake.Message
	Notes    []intake.Note
	Events   []eventView
	Case     caseView

	// Actions.
	CanMessage bool
	Acked      bool // someone has acknowledged the tip
	Assignees  []option
	StatusOpts []option
	Outcomes   []option
	Referrals  []option
	Notice     string // what the last action did
	Problem    string // why the last action was refused
	NoteText   string // kept after a refused note
	NoteError  string
	MsgText    string // kept after a refused message
	MsgError   string
	CloseError string
	CloseNote  string
}

// caseView is the team's record of the tip, with names for IDs.
type caseView struct {
	Assignee    string
	Outcome     string
	OutcomeNote string
	Referrals   []string
	ClosedAt    time.Time
}

// eventView is one line of the timeline.
type eventView struct {
	At     time.Time
	What   string
	Actor  string
	Detail string
}

// eventNames are the timeline's kinds as reviewers read them.
var eventNames = map[timeline.Kind]string{
	timeline.Received:   "Received",
	timeline.Triaged:    "Triaged",
	timeline.Paged:      "Paged",
	timeline.Delivered:  "Page delivered",
	timeline.Failed:     "Page failed",
	timeline.Escalated:  "Escalated",
	timeline.Acked:      "Acknowledged",
	timeline.Digested:   "In the team's digest",
	timeline.Message:    "Message",
	timeline.Assigned:   "Assigned",
	timeline.Status:     "Status changed",
	timeline.Note:       "Internal note added",
	timeline.Closed:     "Closed",
	timeline.Reopened:   "Reopened",
	timeline.Exported:   "Case exported",
	timeline.Superseded: "Escalation superseded",
}

func eventViews(events []timeline.Event) []eventView {
	out := make([]eventView, len(events))
	for i, e := range events {
		what, ok := eventNames[e.Kind]
		if !ok {
			what = string(e.Kind)
		}
		d := e.Detail
		if e.Kind == timeline.Status {
			d = statusName(intake.Status(d))
		}
		out[i] = eventView{At: e.At, What: what, Actor: e.Actor, Detail: d}
	}
	return out
}

// clusterTips are the tips of a cluster that the reviewer may see, but
// except. A cluster whose window has passed has none.
func (h *handler) clusterTips(c echo.Context, clusterID, except string) ([]*intake.Tip, error) {
	if h.clusters == nil || clusterID == "" {
		return nil, nil
	}
	ctx := c.Request().Context()
	ids, err := h.clusters.Members(ctx, clusterID)
	if errors.Is(err, triage.ErrClusterNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	ids = slices.DeleteFunc(ids, func(id string) bool { return id == except })
	tips, err := h.intake.Store().TipsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	r := reviewerOf(c)
	return slices.DeleteFunc(tips, func(t *intake.Tip) bool { return !r.Sees(t.Teams) }), nil
}

// tipData gathers everything the tip's page and its case export show.
func (h *handler) tipData(c echo.Context, t *intake.Tip) (*tipPage, error) {
	ctx := c.Request().Context()
	store := h.intake.Store()
	p := &tipPage{
		reviewLayout: reviewLayout{Title: "Report " + t.Code(), Nav: "queue"},
		Tip:          t,
		OrgName:      h.reviewOrgName(t.Org),
		Category:     categoryName(t.Category),
		Rated:        categoryName(t.Rated),
		Status:       statusName(t.Status),
		CanMessage:   h.messenger != nil,
	}
	for _, team := range t.Teams {
		p.Teams = append(p.Teams, h.teamName(team))
	}
	for i := 1; i <= t.Images; i++ {
		p.Images = append(p.Images, i)
	}
	related, err := h.clusterTips(c, t.Cluster, t.ID)
	if err != nil {
		return nil, err
	}
	p.Related = h.queueRows(related, false)
	if p.Messages, err = store.Messages(ctx, t.ID); err != nil {
		return nil, err
	}
	if p.Notes, err = store.Notes(ctx, t.ID); err != nil {
		return nil, err
	}
	events, err := store.Timeline(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	p.Events = eventViews(events)
	_, p.Acked = timeline.First(events, timeline.Acked)
	cs, err := store.Case(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	p.Case = caseView{Assignee: cs.Assignee, OutcomeNote: cs.OutcomeNote, ClosedAt: cs.ClosedAt}
	if cs.Outcome != "" {
		p.Case.Outcome = choiceName(intake.Outcomes, cs.Outcome)
	}
	for _, r := range cs.Referrals {
		p.Case.Referrals = append(p.Case.Referrals, choiceName(intake.ReferralTypes, r))
	}
	if err := h.actionOptions(ctx, p, cs); err != nil {
		return nil, err
	}
	return p, nil
}

// actionOptions fills the menus of the tip's action forms.
func (h *handler) actionOptions(ctx context.Context, p *tipPage, cs intake.Case) error {
	reviewers, err := h.accounts.List(ctx)
	if err != nil {
		return err
	}
	for _, r := range h.assignable(reviewers, p.Tip) {
		p.Assignees = append(p.Assignees, option{Value: r.ID, Name: r.Name, Selected: r.Name == cs.Assignee})
	}
	for _, s := range []intake.Status{intake.StatusAssigned, intake.StatusInReview} {
		p.StatusOpts = append(p.StatusOpts, option{Value: string(s), Name: statusName(s), Selected: s == p.Tip.Status})
	}
	for _, o := range intake.Outcomes {
		p.Outcomes = append(p.Outcomes, option{Value: o.ID, Name: o.Name, Selected: o.ID == cs.Outcome})
	}
	for _, r := range intake.ReferralTypes {
		p.Referrals = append(p.Referrals, option{Value: r.ID, Name: r.Name, Selected: slices.Contains(cs.Referrals, r.ID)})
	}
	return nil
}

// assignable are the reviewers a tip can be assigned to: active members of
// one of the teams it was routed to.
func (h *handler) assignable(all []*account.Reviewer, t *intake.Tip) []*account.Reviewer {
	var out []*account.Reviewer
	for _, r := range all {
		if r.Disabled {
			continue
		}
		if slices.ContainsFunc(r.Teams, func(team string) bool { return slices.Contains(t.Teams, team) }) {
			out = append(out, r)
		}
	}
	return out
}

// tipNotices are what the page says after each action succeeded; the
// action is named in the redirect's query, so a reload says it again but
// does nothing again.
var tipNotices = map[string]string{
	"ack":     "You acknowledged this report.",
	"assign":  "The report is assigned.",
	"status":  "The status is changed.",
	"note":    "Your note is added.",
	"message": "Your message is sent. The reporter sees it when they check back.",
	"close":   "The report is closed.",
}

// reviewTip shows one tip with everything a reviewer needs to act on it.
func (h *handler) reviewTip(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	p, err := h.tipData(c, t)
	if err != nil {
		return err
	}
	p.Notice = tipNotices[c.QueryParam("done")]
	if err := h.audit(c, "tip.view", t.ID, ""); err != nil {
		return err
	}
	return h.renderReview(c, 200, "review_tip", p)
}

// reviewImage serves one image of a tip, to reviewers who may see the tip.
// The images were re-encoded at intake, so they carry no metadata.
func (h *handler) reviewImage(c echo.Context) error {
	t, err := h.visibleTip(c)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 1 || n > t.Images {
		return echo.ErrNotFound
	}
	img, err := h.intake.Store().Image(c.Request().Context(), t.ID, n)
	if errors.Is(err, intake.ErrNotFound) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := h.audit(c, "tip.image", t.ID, strconv.Itoa(n)); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", "inline")
	return c.Blob(200, img.ContentType, img.Data)
}
