package triage

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Route sends the tips it matches to its teams. Empty match lists match
// everything. Routes are tried in order, as in Alertmanager's routing tree:
// the first match wins, unless it says continue, in which case later
// matching routes add their teams too (a self-harm tip to the counselling
// team and the threat team).
type Route struct {
	Orgs       []string  `yaml:"orgs"`
	Categories []string  `yaml:"categories"`
	Urgencies  []Urgency `yaml:"urgencies"`
	// ActiveTimeIntervals limits the route to the named time intervals
	// (working hours, in the team's time zone): a route for "during school
	// hours" and another for the rest of the time.
	ActiveTimeIntervals []string `yaml:"active_time_intervals"`
	Teams               []string `yaml:"teams"`
	Continue            bool     `yaml:"continue"`
}

// TimeInterval is a named set of weekly hours in a time zone, written as
// Alertmanager writes them.
type TimeInterval struct {
	Name     string      `yaml:"name"`
	Location string      `yaml:"location"` // IANA time zone, e.g. America/Chicago; empty is UTC
	Weekdays []string    `yaml:"weekdays"` // "monday", or a range "monday:friday"; empty is every day
	Times    []TimeRange `yaml:"times"`    // empty is all day
}

// TimeRange is a span of a day, "07:30" to "16:00", end excluded.
type TimeRange struct {
	Start string `yaml:"start_time"`
	End   string `yaml:"end_time"`
}

// interval is a TimeInterval ready to test times against.
type interval struct {
	loc   *time.Location
	days  [7]bool
	spans [][2]int // minutes since midnight, [start, end)
}

// Router picks the teams for a tip.
type Router struct {
	routes    []Route
	intervals map[string]interval
	fallback  string
}

// NewRouter returns a router over routes, sending unmatched tips (an
// unknown organisation among them) to the default team. Every team and
// time interval named must exist: a route to nowhere would lose tips.
func NewRouter(routes []Route, intervals []TimeInterval, defaultTeam string, teamExists func(string) bool) (*Router, error) {
	if !teamExists(defaultTeam) {
		return nil, fmt.Errorf("triage: default team %q is not a team", defaultTeam)
	}
	r := &Router{routes: routes, intervals: map[string]interval{}, fallback: defaultTeam}
	for i, ti := range intervals {
		iv, err := parseInterval(ti)
		if err != nil {
			return nil, fmt.Errorf("triage: time interval %d (%s): %w", i+1, ti.Name, err)
		}
		if _, dup := r.intervals[ti.Name]; dup || ti.Name == "" {
			return nil, fmt.Errorf("triage: time interval %d: name %q is empty or used twice", i+1, ti.Name)
		}
		r.intervals[ti.Name] = iv
	}
	for i, rt := range routes {
		if len(rt.Teams) == 0 {
			return nil, fmt.Errorf("triage: route %d names no team", i+1)
		}
		for _, t := range rt.Teams {
			if !teamExists(t) {
				return nil, fmt.Errorf("triage: route %d: team %q is not a team", i+1, t)
			}
		}
		for _, u := range rt.Urgencies {
			if u.rank() == 0 {
				return nil, fmt.Errorf("triage: route %d: unknown urgency %q", i+1, u)
			}
		}
		for _, n := range rt.ActiveTimeIntervals {
			if _, ok := r.intervals[n]; !ok {
				return nil, fmt.Errorf("triage: route %d: time interval %q is not defined", i+1, n)
			}
		}
	}
	return r, nil
}

// Teams returns the teams a tip of this organisation, category and urgency,
// received at the given time, goes to; never none, never one twice.
func (r *Router) Teams(org, category string, u Urgency, at time.Time) []string {
	var teams []string
	for _, rt := range r.routes {
		if !matches(rt.Orgs, org) || !matches(rt.Categories, category) || !matches(rt.Urgencies, u) || !r.active(rt, at) {
			continue
		}
		for _, t := range rt.Teams {
			if !slices.Contains(teams, t) {
				teams = append(teams, t)
			}
		}
		if !rt.Continue {
			break
		}
	}
	if len(teams) == 0 {
		return []string{r.fallback}
	}
	return teams
}

func (r *Router) active(rt Route, at time.Time) bool {
	if len(rt.ActiveTimeIntervals) == 0 {
		return true
	}
	for _, n := range rt.ActiveTimeIntervals {
		if r.intervals[n].contains(at) {
			return true
		}
	}
	return false
}

func matches[T comparable](set []T, v T) bool {
	return len(set) == 0 || slices.Contains(set, v)
}

var weekdays = map[string]time.Weekday{
	"sunday": time.Sunday, "monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday,
	"thursday": time.Thursday, "friday": time.Friday, "saturday": time.Saturday,
}

func parseInterval(ti TimeInterval) (interval, error) {
	var iv interval
	var err error
	if iv.loc, err = time.LoadLocation(ti.Location); err != nil {
		return iv, fmt.Errorf("location %q: %w", ti.Location, err)
	}
	if len(ti.Weekdays) == 0 {
		iv.days = [7]bool{true, true, true, true, true, true, true}
	}
	for _, w := range ti.Weekdays {
		from, to, isRange := strings.Cut(strings.ToLower(strings.TrimSpace(w)), ":")
		if !isRange {
			to = from
		}
		a, okA := weekdays[from]
		b, okB := weekdays[to]
		if !okA || !okB {
			return iv, fmt.Errorf("weekday %q: want a day name or a range like monday:friday", w)
		}
		for d := a; ; d = (d + 1) % 7 {
			iv.days[d] = true
			if d == b {
				break
			}
		}
	}
	for _, tr := range ti.Times {
		s, err1 := minutes(tr.Start)
		e, err2 := minutes(tr.End)
		if err1 != nil || err2 != nil || e <= s {
			return iv, fmt.Errorf("times %q to %q: want HH:MM with start before end", tr.Start, tr.End)
		}
		iv.spans = append(iv.spans, [2]int{s, e})
	}
	return iv, nil
}

func minutes(hhmm string) (int, error) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		if hhmm == "24:00" {
			return 24 * 60, nil
		}
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

func (iv interval) contains(at time.Time) bool {
	local := at.In(iv.loc)
	if !iv.days[local.Weekday()] {
		return false
	}
	if len(iv.spans) == 0 {
		return true
	}
	m := local.Hour()*60 + local.Minute()
	for _, s := range iv.spans {
		if m >= s[0] && m < s[1] {
			return true
		}
	}
	return false
}
