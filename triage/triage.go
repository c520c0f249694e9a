package triage

import (
	"context"
	"time"

	"github.com/tipline/tipline/intake"
)

// Result is triage's answer for one tip, the same from the workers and from
// `tipline triage -f`.
type Result struct {
	ID       string          `json:"id"`
	Urgency  Urgency         `json:"urgency"`
	Category string          `json:"category"`
	Team     string          `json:"team"`
	Teams    []string        `json:"-"` // every team; Team is the first
	Cluster  string          `json:"cluster"`
	Reasons  []intake.Reason `json:"reasons"`
}

// Triager rates, clusters and routes tips.
type Triager struct {
	rules    *Rules
	clusters *Clusters
	router   *Router
}

// NewTriager returns a triager built from its three stages.
func NewTriager(rules *Rules, clusters *Clusters, router *Router) *Triager {
	return &Triager{rules: rules, clusters: clusters, router: router}
}

// Triage rates a tip, joins it to its cluster and picks its teams.
func (tr *Triager) Triage(ctx context.Context, t *intake.Tip) (Result, error) {
	rt := tr.Rate(t)
	cluster, err := tr.clusters.JoinReport(ctx, Report{Org: t.Org, TipID: t.ID, Body: t.Body, Location: t.Location, When: t.When, At: t.ReceivedAt})
	if err != nil {
		return Result{}, err
	}
	teams := tr.router.Teams(t.Org, rt.Category, rt.Urgency, t.ReceivedAt)
	return Result{
		ID: t.ID, Urgency: rt.Urgency, Category: rt.Category,
		Team: teams[0], Teams: teams, Cluster: cluster, Reasons: rt.Reasons,
	}, nil
}

// Rate rates a tip from everything the reporter wrote and answered.
func (tr *Triager) Rate(t *intake.Tip) Rating {
	return tr.rules.Rate(Input{Text: rateText(t), Category: t.Category, Danger: t.Danger})
}

// rateText is the text the rules read: what happened, where and when. A
// time or place the reporter put in its own field still counts.
func rateText(t *intake.Tip) string {
	return t.Body + "\n" + t.Location + "\n" + t.When
}

// record is how a triage result is kept on the tip.
func (r Result) record(at time.Time) intake.Triage {
	return intake.Triage{Urgency: string(r.Urgency), Category: r.Category, Teams: r.Teams, Cluster: r.Cluster, Reasons: r.Reasons, At: at}
}
