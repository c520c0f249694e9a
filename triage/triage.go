package triage

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
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
	results, failed, err := tr.TriageAll(ctx, []*intake.Tip{t})
	if err != nil {
		return Result{}, err
	}
	return results[0], failed[0]
}

// TriageAll triages tips as Triage would each in turn, in arrival order:
// it rates them several at a time and clusters them together, in a few
// round trips for the lot. failed[i] is why tips[i] could not be rated
// (the rules panicked on it), and err is an error they all share (Redis).
func (tr *Triager) TriageAll(ctx context.Context, tips []*intake.Tip) (results []Result, failed []error, err error) {
	ratings := make([]Rating, len(tips))
	failed = make([]error, len(tips))
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for range min(len(tips), runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(tips); i = int(next.Add(1)) - 1 {
				ratings[i], failed[i] = tr.safeRate(tips[i])
			}
		})
	}
	wg.Wait()
	var (
		reports []Report
		rated   []int
	)
	for i, t := range tips {
		if failed[i] == nil {
			reports = append(reports, Report{Org: t.Org, TipID: t.ID, Body: t.Body, Location: t.Location, When: t.When, At: t.ReceivedAt})
			rated = append(rated, i)
		}
	}
	clusters, err := tr.clusters.JoinReports(ctx, reports)
	if err != nil {
		return nil, nil, err
	}
	results = make([]Result, len(tips))
	for n, i := range rated {
		t, rt := tips[i], ratings[i]
		teams := tr.router.Teams(t.Org, rt.Category, rt.Urgency, t.ReceivedAt)
		results[i] = Result{
			ID: t.ID, Urgency: rt.Urgency, Category: rt.Category,
			Team: teams[0], Teams: teams, Cluster: clusters[n], Reasons: rt.Reasons,
		}
	}
	return results, failed, nil
}

// safeRate is Rate, with a panic as an error: asynq recovers a handler's
// panics, not its goroutines'.
func (tr *Triager) safeRate(t *intake.Tip) (r Rating, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("triage: rating panicked: %v", v)
		}
	}()
	return tr.Rate(t), nil
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
