package main

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/notify"
	"github.com/tipline/tipline/triage"
	"gopkg.in/yaml.v3"
)

//go:embed demo.yaml
var demoConfig []byte

// config is the YAML file of TIPLINE_CONFIG: who reports can name, who reads
// them, and how tips find their readers. Its parts are the types of the
// packages that use them; deploy/tipline.example.yaml documents each field.
type config struct {
	DefaultTeam string         `yaml:"default_team"`
	Orgs        []intake.Org   `yaml:"orgs"`
	Teams       []notify.Team  `yaml:"teams"`
	Routes      []triage.Route `yaml:"routes"`
	// TimeIntervals are named working hours that routes can be limited to.
	TimeIntervals []triage.TimeInterval `yaml:"time_intervals"`
	// RulesFile replaces the built-in triage rules (triage/rules.yaml)
	// with a team's own; a relative path is read from the working directory.
	RulesFile string `yaml:"rules_file"`
	// RetentionDays is how long a closed tip is kept before every trace
	// of it is purged; 0 means the default, defaultRetentionDays.
	RetentionDays int `yaml:"retention_days"`
}

// loadConfig reads the file at path, or the built-in demo config when path
// is empty.
func loadConfig(path string) (*config, error) {
	b := demoConfig
	if path != "" {
		var err error
		if b, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	return parseConfig(b)
}

// idPattern is what organisation and team IDs look like: they appear in
// URLs, Redis keys and route rules.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// e164 is an international phone number as Twilio takes it.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// parseConfig reads and checks a config. Unknown fields are errors: a
// misspelt "oncall" must not leave a team with nobody to page.
func parseConfig(b []byte) (*config, error) {
	var c config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var errs []error
	orgs := map[string]bool{}
	for i, o := range c.Orgs {
		if !idPattern.MatchString(o.ID) {
			errs = append(errs, fmt.Errorf("orgs[%d]: id %q: use lower-case letters, digits, - and _", i, o.ID))
		}
		if orgs[o.ID] {
			errs = append(errs, fmt.Errorf("orgs[%d]: id %q appears twice", i, o.ID))
		}
		if o.Name == "" {
			errs = append(errs, fmt.Errorf("orgs[%d] (%s): name is required", i, o.ID))
		}
		if o.SMSNumber != "" && !e164.MatchString(o.SMSNumber) {
			errs = append(errs, fmt.Errorf("orgs[%d] (%s): sms_number must be in E.164 form, like +15551230100", i, o.ID))
		}
		orgs[o.ID] = true
	}
	teams := map[string]bool{}
	for i, t := range c.Teams {
		if !idPattern.MatchString(t.ID) {
			errs = append(errs, fmt.Errorf("teams[%d]: id %q: use lower-case letters, digits, - and _", i, t.ID))
		}
		if teams[t.ID] {
			errs = append(errs, fmt.Errorf("teams[%d]: id %q appears twice", i, t.ID))
		}
		teams[t.ID] = true
		if err := t.Check(); err != nil {
			// One line per problem, each saying which team it is in.
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				errs = append(errs, fmt.Errorf("teams[%d] (%s): %w", i, t.ID, e))
			}
		}
	}
	for i, r := range c.Routes {
		for _, o := range r.Orgs {
			if !orgs[o] {
				errs = append(errs, fmt.Errorf("routes[%d]: org %q is not in orgs", i, o))
			}
		}
		for _, cat := range r.Categories {
			if !intake.KnownCategory(cat) {
				errs = append(errs, fmt.Errorf("routes[%d]: category %q is not a category", i, cat))
			}
		}
	}
	if c.RetentionDays < 0 {
		errs = append(errs, fmt.Errorf("retention_days is %d; want a number of days, or leave it out for %d", c.RetentionDays, defaultRetentionDays))
	}
	if c.DefaultTeam == "" {
		errs = append(errs, errors.New("default_team is required: tips for unknown organisations go there"))
	}
	if len(errs) == 0 {
		if _, err := c.router(); err != nil {
			errs = append(errs, err)
		}
		// A team's own rules file is checked here; the built-in rules are
		// checked by triage's tests, and compiling them for every config
		// parsed would make the config fuzzer crawl.
		if c.RulesFile != "" {
			if _, err := c.rules(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return &c, nil
}

// rules returns the triage rules: the team's file, or the built-in ones.
func (c *config) rules() (*triage.Rules, error) {
	if c.RulesFile == "" {
		return triage.DefaultRules()
	}
	b, err := os.ReadFile(c.RulesFile)
	if err != nil {
		return nil, fmt.Errorf("config: rules_file: %w", err)
	}
	return triage.ParseRules(b)
}

// router builds the routing tree the config describes.
func (c *config) router() (*triage.Router, error) {
	return triage.NewRouter(c.Routes, c.TimeIntervals, c.DefaultTeam, func(id string) bool {
		for _, t := range c.Teams {
			if t.ID == id {
				return true
			}
		}
		return false
	})
}

// orgForNumber returns the organisation whose SMS number a text was sent
// to, or "" when the number is shared.
func (c *config) orgForNumber(to string) string {
	for _, o := range c.Orgs {
		if o.SMSNumber != "" && o.SMSNumber == to {
			return o.ID
		}
	}
	return ""
}

// orgName returns an organisation's display name, or a plain label for an
// ID the config does not know.
func (c *config) orgName(id string) string {
	if o, ok := intake.FindOrg(c.Orgs, id); ok {
		return o.Name
	}
	return "an unlisted organisation"
}

// defaultRetentionDays keeps a closed tip a year: long enough for a team
// to see a pattern across a school year, short enough not to keep
// reporters' words forever.
const defaultRetentionDays = 365

// retentionDays is how many days closed tips are kept.
func (c *config) retentionDays() int {
	if c.RetentionDays <= 0 {
		return defaultRetentionDays
	}
	return c.RetentionDays
}
