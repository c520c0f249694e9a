package triage

import (
	"fmt"
	"slices"
)

// Route sends the tips it matches to its teams. Empty match lists match
// everything; routes are tried in order and the first match wins, as in
// Alertmanager's routing tree.
type Route struct {
	Orgs       []string  `yaml:"orgs"`
	Categories []string  `yaml:"categories"`
	Urgencies  []Urgency `yaml:"urgencies"`
	Teams      []string  `yaml:"teams"`
}

// Router picks the teams for a tip.
type Router struct {
	routes   []Route
	fallback string
}

// NewRouter returns a router over routes, sending unmatched tips (an
// unknown organisation among them) to the default team. Every team named must
// exist: a route to nowhere would lose tips.
func NewRouter(routes []Route, defaultTeam string, teamExists func(string) bool) (*Router, error) {
	if !teamExists(defaultTeam) {
		return nil, fmt.Errorf("triage: default team %q is not a team", defaultTeam)
	}
	for i, r := range routes {
		if len(r.Teams) == 0 {
			return nil, fmt.Errorf("triage: route %d names no team", i+1)
		}
		for _, t := range r.Teams {
			if !teamExists(t) {
				return nil, fmt.Errorf("triage: route %d: team %q is not a team", i+1, t)
			}
		}
		for _, u := range r.Urgencies {
			if u.rank() == 0 {
				return nil, fmt.Errorf("triage: route %d: unknown urgency %q", i+1, u)
			}
		}
	}
	return &Router{routes: routes, fallback: defaultTeam}, nil
}

// Teams returns the teams a tip of this organisation, category and urgency
// goes to; never none.
func (r *Router) Teams(org, category string, u Urgency) []string {
	for _, rt := range r.routes {
		if matches(rt.Orgs, org) && matches(rt.Categories, category) && matches(rt.Urgencies, u) {
			return rt.Teams
		}
	}
	return []string{r.fallback}
}

func matches[T comparable](set []T, v T) bool {
	return len(set) == 0 || slices.Contains(set, v)
}
