package main

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseConfig feeds the config loader arbitrary YAML: it never panics
// or hangs, and a config it accepts is one tipline can run with: a default
// team that exists, someone on call in every team, routes that build.
// Inputs naming a rules_file are skipped, so the fuzzer reads no files.
func FuzzParseConfig(f *testing.F) {
	f.Add(demoConfig)
	if b, err := os.ReadFile("../../deploy/tipline.example.yaml"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"default_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]",
		"default_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]\nretention_days: -1",
		"default_team: d\nteams: [{id: d, name: D, oncall: [{name: A, phone: '+15555550101'}]}]\nroutes: [{orgs: [x], teams: [d]}]",
		"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]",
		"default_team: d\nteams: [{id: 'D D', name: '<script>', oncall: [{name: '\x00', phone: '+1'}]}]",
		"- - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - - -",
		"default_team: !!binary AAAA",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if strings.Contains(string(b), "rules_file") {
			t.Skip("reads a file")
		}
		c, err := parseConfig(b)
		if err != nil {
			if c != nil {
				t.Fatalf("an error and a config: %v", err)
			}
			return
		}
		teams := map[string]bool{}
		for _, tm := range c.Teams {
			if len(tm.OnCall) == 0 {
				t.Fatalf("team %q accepted with nobody on call", tm.ID)
			}
			teams[tm.ID] = true
		}
		if !teams[c.DefaultTeam] {
			t.Fatalf("default team %q accepted but not among the teams", c.DefaultTeam)
		}
		if c.retentionDays() <= 0 {
			t.Fatalf("retention of %d days", c.retentionDays())
		}
		if _, err := c.router(); err != nil {
			t.Fatalf("accepted config whose routes do not build: %v", err)
		}
	})
}
