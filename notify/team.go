package notify

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Reviewer is a member of a team who can be paged.
type Reviewer struct {
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"` // E.164, e.g. +15551230100
}

// Team is a group of reviewers that tips are routed to: who is on call
// when, how pages escalate, and when its digest of routine tips goes out.
type Team struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// OnCall lists the rotation's members in turn order. Without a
	// rotation the first is always primary and the second secondary.
	OnCall []Reviewer `yaml:"oncall"`
	// TimeZone is the IANA zone the rotation's handoffs, overrides and the
	// digest's hour are read in. Default UTC.
	TimeZone   string     `yaml:"time_zone"`
	Rotation   Rotation   `yaml:"rotation"`
	Overrides  []Override `yaml:"overrides"`
	Escalation Escalation `yaml:"escalation"`
	// Admins are told when a reviewer's number cannot be paged, and may be
	// named as escalation targets.
	Admins []Reviewer `yaml:"admins"`
	Digest Digest     `yaml:"digest"`
}

// Rotation hands the primary's pager from member to member.
type Rotation struct {
	// Start is when the first member's turn began, in the team's local
	// time: "2026-01-05 08:00". Handoffs happen at that local time of day.
	Start string `yaml:"start"`
	// Shift is how long each turn lasts: "24h" for daily, "168h" for
	// weekly. A whole number of days is counted in calendar days, so a
	// handoff stays at 08:00 local time across daylight-saving changes.
	Shift time.Duration `yaml:"shift"`
}

// Override puts someone on call as primary for a while (a swap, a holiday),
// in the team's local time: from "2026-03-07 18:00" to "2026-03-08 08:00".
type Override struct {
	Name  string `yaml:"name"`
	Phone string `yaml:"phone"`
	From  string `yaml:"from"`
	To    string `yaml:"to"`
}

// Escalation is who is paged, in what order, until someone acknowledges.
type Escalation struct {
	Steps []Step `yaml:"steps"`
	// Repeat is how many more times the steps run, from the first, before
	// the final step.
	Repeat int `yaml:"repeat"`
	// Final is paged once the steps and repeats are spent: a supervisor, a
	// dispatch number.
	Final []Reviewer `yaml:"final"`
}

// Step pages its targets at once, then waits Delay for an acknowledgement.
type Step struct {
	// Targets are "primary", "secondary", or the name of a member or an
	// admin of the team.
	Targets []string      `yaml:"targets"`
	Delay   time.Duration `yaml:"delay"`
}

// Digest is when a team hears about the routine tips that were not paged:
// at the start of each working day, in the team's time zone.
type Digest struct {
	At   string   `yaml:"at"`   // "07:30"; default 07:30
	Days []string `yaml:"days"` // "mon" ... "sun"; default Monday to Friday
}

// localLayout is how config times are written: local to the team's zone.
const localLayout = "2006-01-02 15:04"

// defaultStepDelay is how long a step waits when the config gives none.
const defaultStepDelay = 5 * time.Minute

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// Check reports everything wrong with a team's paging set-up at once: a
// misspelt target or an unreadable handoff time must stop start-up, not
// leave a critical tip with nobody to page.
func (t Team) Check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if len(t.OnCall) == 0 {
		bad("oncall names nobody; urgent tips would page no one")
	}
	checkPeople := func(what string, people []Reviewer) {
		for j, r := range people {
			if r.Name == "" {
				bad("%s[%d]: name is required", what, j)
			}
			if !e164.MatchString(r.Phone) {
				bad("%s[%d] (%s): phone must be in E.164 form, like +15551230100", what, j, r.Name)
			}
		}
	}
	checkPeople("oncall", t.OnCall)
	checkPeople("admins", t.Admins)
	checkPeople("escalation.final", t.Escalation.Final)
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		bad("time_zone %q: %v", t.TimeZone, err)
		loc = time.UTC
	}
	if t.Rotation.Start != "" || t.Rotation.Shift != 0 {
		if _, err := time.ParseInLocation(localLayout, t.Rotation.Start, loc); err != nil {
			bad("rotation.start %q: write it as %q", t.Rotation.Start, localLayout)
		}
		if t.Rotation.Shift <= 0 {
			bad("rotation.shift must be a positive duration, like 24h or 168h")
		}
	}
	for i, o := range t.Overrides {
		checkPeople(fmt.Sprintf("overrides[%d]", i), []Reviewer{{Name: o.Name, Phone: o.Phone}})
		from, err1 := time.ParseInLocation(localLayout, o.From, loc)
		to, err2 := time.ParseInLocation(localLayout, o.To, loc)
		if err1 != nil || err2 != nil || !to.After(from) {
			bad("overrides[%d] (%s): from and to must be local times like %q, from before to", i, o.Name, localLayout)
		}
	}
	for i, s := range t.Escalation.Steps {
		if len(s.Targets) == 0 {
			bad("escalation.steps[%d]: targets name nobody", i)
		}
		for _, name := range s.Targets {
			if _, ok := t.named(name); !ok && name != "primary" && name != "secondary" {
				bad("escalation.steps[%d]: target %q is not primary, secondary, or a member or admin of the team", i, name)
			}
		}
		if s.Delay < 0 {
			bad("escalation.steps[%d]: delay is negative", i)
		}
	}
	if t.Escalation.Repeat < 0 || t.Escalation.Repeat > 10 {
		bad("escalation.repeat must be between 0 and 10")
	}
	if t.Digest.At != "" {
		if _, err := time.Parse("15:04", t.Digest.At); err != nil {
			bad("digest.at %q: write it as 07:30", t.Digest.At)
		}
	}
	for _, d := range t.Digest.Days {
		if _, ok := weekdays[strings.ToLower(d)]; !ok {
			bad("digest.days: %q is not mon, tue, wed, thu, fri, sat or sun", d)
		}
	}
	return errors.Join(errs...)
}

// location is the team's time zone; Check has vouched for it.
func (t Team) location() *time.Location {
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// named finds a member or admin of the team by name.
func (t Team) named(name string) (Reviewer, bool) {
	for _, group := range [][]Reviewer{t.OnCall, t.Admins, t.Escalation.Final} {
		for _, r := range group {
			if strings.EqualFold(r.Name, name) {
				return r, true
			}
		}
	}
	return Reviewer{}, false
}

// Knows tells whether phone belongs to anyone the team pages.
func (t Team) Knows(phone string) bool {
	for _, group := range [][]Reviewer{t.OnCall, t.Admins, t.Escalation.Final} {
		for _, r := range group {
			if r.Phone == phone {
				return true
			}
		}
	}
	for _, o := range t.Overrides {
		if o.Phone == phone {
			return true
		}
	}
	return false
}

// OnCallAt returns the team's primary and secondary at a moment: the
// rotation's member whose turn it is (or an override), and the member who
// comes next. ok2 is false when there is no secondary.
func (t Team) OnCallAt(at time.Time) (primary, secondary Reviewer, ok2 bool) {
	n := len(t.OnCall)
	if n == 0 {
		return Reviewer{}, Reviewer{}, false
	}
	i := t.turn(at) % n
	primary = t.OnCall[i]
	if n > 1 {
		secondary, ok2 = t.OnCall[(i+1)%n], true
	}
	loc := t.location()
	for _, o := range t.Overrides {
		from, err1 := time.ParseInLocation(localLayout, o.From, loc)
		to, err2 := time.ParseInLocation(localLayout, o.To, loc)
		if err1 == nil && err2 == nil && !at.Before(from) && at.Before(to) {
			// The override stands in for the primary, who becomes the
			// one paged next.
			return Reviewer{Name: o.Name, Phone: o.Phone}, primary, true
		}
	}
	return primary, secondary, ok2
}

// turn counts the handoffs between the rotation's start and at.
func (t Team) turn(at time.Time) int {
	if t.Rotation.Shift <= 0 {
		return 0
	}
	loc := t.location()
	start, err := time.ParseInLocation(localLayout, t.Rotation.Start, loc)
	if err != nil || at.Before(start) {
		return 0
	}
	const day = 24 * time.Hour
	if t.Rotation.Shift%day != 0 {
		return int(at.Sub(start) / t.Rotation.Shift)
	}
	// Whole days: count calendar days in the team's zone, so the handoff
	// keeps its local time when the clocks change.
	local := at.In(loc)
	days := civilDays(local) - civilDays(start)
	handoff := time.Date(local.Year(), local.Month(), local.Day(), start.Hour(), start.Minute(), 0, 0, loc)
	if local.Before(handoff) {
		days--
	}
	return days / int(t.Rotation.Shift/day)
}

// civilDays numbers a local date, ignoring its zone's offset.
func civilDays(t time.Time) int {
	return int(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// target is one person a step pages.
type target struct {
	Name, Phone string
}

// steps returns the escalation's steps, or the default: the primary, then
// the secondary, five minutes apart, twice over.
func (t Team) steps() []Step {
	if len(t.Escalation.Steps) > 0 {
		return t.Escalation.Steps
	}
	s := []Step{{Targets: []string{"primary"}, Delay: defaultStepDelay}}
	if len(t.OnCall) > 1 {
		s = append(s, Step{Targets: []string{"secondary"}, Delay: defaultStepDelay})
	}
	return s
}

// repeats is how many more times the steps run; the default policy runs
// them twice in all.
func (t Team) repeats() int {
	if len(t.Escalation.Steps) == 0 {
		return 1
	}
	return t.Escalation.Repeat
}

// plan is the whole escalation, flattened: every round of the steps, then
// the final step. Position p of an escalation pages plan()[p].
func (t Team) plan() []Step {
	var out []Step
	for range t.repeats() + 1 {
		out = append(out, t.steps()...)
	}
	if len(t.Escalation.Final) > 0 {
		names := make([]string, len(t.Escalation.Final))
		for i, r := range t.Escalation.Final {
			names[i] = r.Name
		}
		out = append(out, Step{Targets: names})
	}
	return out
}

// resolve turns a step's targets into people at a moment. The same person
// named twice is paged once.
func (t Team) resolve(s Step, at time.Time) []target {
	primary, secondary, has2 := t.OnCallAt(at)
	var out []target
	seen := map[string]bool{}
	add := func(r Reviewer) {
		if r.Phone != "" && !seen[r.Phone] {
			seen[r.Phone] = true
			out = append(out, target{Name: r.Name, Phone: r.Phone})
		}
	}
	for _, name := range s.Targets {
		switch name {
		case "primary":
			add(primary)
		case "secondary":
			if has2 {
				add(secondary)
			}
		default:
			if r, ok := t.named(name); ok {
				add(r)
			}
		}
	}
	return out
}

// weekdays are the day names digest.days takes.
var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// NextDigest returns the first digest time strictly after now.
func (t Team) NextDigest(now time.Time) time.Time {
	loc := t.location()
	at := t.Digest.At
	if at == "" {
		at = "07:30"
	}
	hm, err := time.Parse("15:04", at)
	if err != nil {
		hm, _ = time.Parse("15:04", "07:30")
	}
	days := map[time.Weekday]bool{}
	for _, d := range t.Digest.Days {
		days[weekdays[strings.ToLower(d)]] = true
	}
	if len(days) == 0 {
		for d := time.Monday; d <= time.Friday; d++ {
			days[d] = true
		}
	}
	local := now.In(loc)
	for i := 0; i < 8; i++ {
		d := time.Date(local.Year(), local.Month(), local.Day()+i, hm.Hour(), hm.Minute(), 0, 0, loc)
		if d.After(now) && days[d.Weekday()] {
			return d
		}
	}
	return now.Add(24 * time.Hour) // unreachable: some day of the week is chosen
}
