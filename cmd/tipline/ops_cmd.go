package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/triage"
)

// configCommand is `tipline config check [-f FILE]`: it reads a config as
// `tipline serve` would, and prints what it means (the routing tree and
// each team's rotation and escalation) so an admin can read the file back
// before going live, like `amtool config routes`. Phone numbers are not
// printed: the output gets pasted into tickets.
func configCommand(args []string, getenv func(string) string, stdout io.Writer, now time.Time) error {
	if len(args) == 0 || args[0] != "check" {
		return errors.New("usage: tipline config check [-f FILE]")
	}
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.String("f", getenv("TIPLINE_CONFIG"), "the config file (default: TIPLINE_CONFIG, else the built-in demo)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 0 {
		return errors.New("usage: tipline config check [-f FILE]")
	}
	cfg, err := loadConfig(*file)
	if err != nil {
		return err // names every problem at once
	}
	name := *file
	if name == "" {
		name = "the built-in demo config"
	}
	fmt.Fprintf(stdout, "%s is valid: %d organisations, %d teams, %d routes, %d time intervals\n",
		name, len(cfg.Orgs), len(cfg.Teams), len(cfg.Routes), len(cfg.TimeIntervals))
	if cfg.RulesFile != "" {
		fmt.Fprintf(stdout, "triage rules: %s\n", cfg.RulesFile)
	}
	printRoutes(stdout, cfg)
	printTeams(stdout, cfg, now)
	return nil
}

// printRoutes prints the routing tree in the order routes are tried.
func printRoutes(w io.Writer, cfg *config) {
	fmt.Fprintln(w, "\nroutes (tried in order; the first match wins unless it says continue):")
	all := func(v []string) string {
		if len(v) == 0 {
			return "any"
		}
		return strings.Join(v, ", ")
	}
	for i, r := range cfg.Routes {
		us := make([]string, len(r.Urgencies))
		for j, u := range r.Urgencies {
			us[j] = string(u)
		}
		fmt.Fprintf(w, "  %d. org %s; category %s; urgency %s", i+1, all(r.Orgs), all(r.Categories), all(us))
		if len(r.ActiveTimeIntervals) > 0 {
			fmt.Fprintf(w, "; during %s", strings.Join(r.ActiveTimeIntervals, ", "))
		}
		fmt.Fprintf(w, "\n     -> %s", strings.Join(r.Teams, ", "))
		if r.Continue {
			fmt.Fprint(w, " (continue)")
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "  otherwise -> %s (default team; also every unknown organisation)\n", cfg.DefaultTeam)
	for _, ti := range cfg.TimeIntervals {
		fmt.Fprintf(w, "  time interval %s: %s\n", ti.Name, describeInterval(ti))
	}
}

func describeInterval(ti triage.TimeInterval) string {
	days := "every day"
	if len(ti.Weekdays) > 0 {
		days = strings.Join(ti.Weekdays, ", ")
	}
	hours := "all day"
	if len(ti.Times) > 0 {
		var hs []string
		for _, t := range ti.Times {
			hs = append(hs, t.Start+"-"+t.End)
		}
		hours = strings.Join(hs, ", ")
	}
	loc := ti.Location
	if loc == "" {
		loc = "UTC"
	}
	return days + ", " + hours + " (" + loc + ")"
}

// printTeams prints each team's rotation, who is on call now, its
// escalation and its digest.
func printTeams(w io.Writer, cfg *config, now time.Time) {
	fmt.Fprintln(w, "\nteams:")
	for _, t := range cfg.Teams {
		fmt.Fprintf(w, "  %s: %s\n", t.ID, t.Name)
		fmt.Fprintf(w, "    members: %s\n", names(t.OnCall))
		zone := t.TimeZone
		if zone == "" {
			zone = "UTC"
		}
		if t.Rotation.Shift > 0 {
			fmt.Fprintf(w, "    rotation: turns of %s from %s (%s)\n", shift(t.Rotation.Shift), t.Rotation.Start, zone)
		} else {
			fmt.Fprintln(w, "    rotation: none (the first member is always primary)")
		}
		for _, o := range t.Overrides {
			fmt.Fprintf(w, "    override: %s from %s to %s (%s)\n", o.Name, o.From, o.To, zone)
		}
		primary, secondary, ok2 := t.OnCallAt(now)
		fmt.Fprintf(w, "    on call at %s: primary %s", now.UTC().Format("2006-01-02 15:04 UTC"), primary.Name)
		if ok2 {
			fmt.Fprintf(w, ", secondary %s", secondary.Name)
		}
		fmt.Fprintln(w)
		if len(t.Escalation.Steps) == 0 {
			fmt.Fprintln(w, "    escalation: the default (primary, then secondary, 5 minutes apart, twice over)")
		} else {
			for i, s := range t.Escalation.Steps {
				fmt.Fprintf(w, "    escalation step %d: %s, then wait %s\n", i+1, strings.Join(s.Targets, " + "), s.Delay)
			}
			if t.Escalation.Repeat > 0 {
				fmt.Fprintf(w, "    escalation repeats the steps %d more time(s)\n", t.Escalation.Repeat)
			}
		}
		if len(t.Escalation.Final) > 0 {
			fmt.Fprintf(w, "    finally: %s\n", names(t.Escalation.Final))
		}
		if len(t.Admins) > 0 {
			fmt.Fprintf(w, "    admins: %s\n", names(t.Admins))
		}
		at, days := t.Digest.At, strings.Join(t.Digest.Days, ", ")
		if at == "" {
			at = "07:30"
		}
		if days == "" {
			days = "mon-fri"
		}
		fmt.Fprintf(w, "    digest of routine tips: %s, %s (%s)\n", at, days, zone)
	}
}

func names(rs []notify.Reviewer) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return strings.Join(out, ", ")
}

// shift says a rotation's turn in days or weeks when it is a whole number.
func shift(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d%(7*day) == 0:
		return fmt.Sprintf("%d week(s)", d/(7*day))
	case d%day == 0:
		return fmt.Sprintf("%d day(s)", d/day)
	}
	return d.String()
}
