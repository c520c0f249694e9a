// Package triage rates each tip's urgency with reasons a person can read,
// joins reports of the same incident into clusters, routes tips to teams and
// hands life-safety tips to notify for paging.
package triage

import (
	_ "embed"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/tipline/tipline/intake"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"
)

// Urgency is how soon a tip needs a person, as DESIGN.md defines the levels.
type Urgency string

// The urgency levels, most urgent first. They are also the queue names.
const (
	Critical Urgency = "critical"
	High     Urgency = "high"
	Normal   Urgency = "normal"
	Low      Urgency = "low"
)

// rank orders urgencies so that a higher one wins.
func (u Urgency) rank() int {
	switch u {
	case Critical:
		return 4
	case High:
		return 3
	case Normal:
		return 2
	case Low:
		return 1
	}
	return 0
}

// Paged tells whether tips of this urgency page an on-call reviewer.
func (u Urgency) Paged() bool { return u.rank() >= High.rank() }

//go:embed rules.yaml
var defaultRules []byte

// Rules rate a report's text. They are data (rules.yaml) so that a team can
// read why a tip got its rating, and extend the rules without code.
type Rules struct {
	signals    map[string]*signal
	order      []string // signal names in file order, so reasons are stable
	hyperbole  *regexp.Regexp
	levels     []level
	floor      map[string]Urgency
	spelling   map[string]string // text-speak and misspellings → the words rules use
	vocabulary map[string]bool   // words a one-letter slip is corrected to
	negation   map[string]bool   // words that, just before a signal, cancel it
}

type signal struct {
	says      string
	category  string
	re        *regexp.Regexp
	negatable bool
}

type level struct {
	urgency Urgency
	all     []string
	any     []string
}

// ruleFile is rules.yaml as written.
type ruleFile struct {
	Signals yaml.Node `yaml:"signals"`
	Hyper   []string  `yaml:"hyperbole"`
	Levels  []struct {
		Urgency Urgency  `yaml:"urgency"`
		All     []string `yaml:"all"`
		Any     []string `yaml:"any"`
	} `yaml:"levels"`
	Floor      map[string]Urgency `yaml:"category_floor"`
	Spelling   map[string]string  `yaml:"spelling"`
	Vocabulary []string           `yaml:"vocabulary"`
	Negation   []string           `yaml:"negation"`
}

type signalFile struct {
	Says      string   `yaml:"says"`
	Category  string   `yaml:"category"`
	Patterns  []string `yaml:"patterns"`
	Negatable *bool    `yaml:"negatable"` // default true
}

// DefaultRules returns the rules built into tipline.
func DefaultRules() (*Rules, error) { return ParseRules(defaultRules) }

// ParseRules reads a rule file. Every pattern must compile and every level
// must name known signals: a typo in a rule is an error at start-up, not a
// tip that is silently rated low.
func ParseRules(b []byte) (*Rules, error) {
	var f ruleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("triage: rules: %w", err)
	}
	r := &Rules{signals: map[string]*signal{}, floor: map[string]Urgency{},
		spelling: map[string]string{}, vocabulary: map[string]bool{}, negation: map[string]bool{}}
	for k, v := range f.Spelling {
		r.spelling[fold(k)] = fold(v)
	}
	for _, w := range f.Vocabulary {
		r.vocabulary[fold(w)] = true
	}
	for _, w := range f.Negation {
		r.negation[fold(w)] = true
	}
	if f.Signals.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("triage: rules: signals must be a mapping")
	}
	for i := 0; i+1 < len(f.Signals.Content); i += 2 {
		name := f.Signals.Content[i].Value
		var sf signalFile
		if err := f.Signals.Content[i+1].Decode(&sf); err != nil {
			return nil, fmt.Errorf("triage: rules: signal %s: %w", name, err)
		}
		re, err := wordsPattern(sf.Patterns)
		if err != nil {
			return nil, fmt.Errorf("triage: rules: signal %s: %w", name, err)
		}
		r.signals[name] = &signal{says: sf.Says, category: sf.Category, re: re, negatable: sf.Negatable == nil || *sf.Negatable}
		r.order = append(r.order, name)
	}
	var err error
	if r.hyperbole, err = wordsPattern(f.Hyper); err != nil {
		return nil, fmt.Errorf("triage: rules: hyperbole: %w", err)
	}
	for i, l := range f.Levels {
		if l.Urgency.rank() == 0 {
			return nil, fmt.Errorf("triage: rules: level %d: unknown urgency %q", i+1, l.Urgency)
		}
		for _, n := range append(append([]string{}, l.All...), l.Any...) {
			if r.signals[n] == nil {
				return nil, fmt.Errorf("triage: rules: level %d: unknown signal %q", i+1, n)
			}
		}
		r.levels = append(r.levels, level{urgency: l.Urgency, all: l.All, any: l.Any})
	}
	for c, u := range f.Floor {
		if u.rank() == 0 {
			return nil, fmt.Errorf("triage: rules: category_floor %s: unknown urgency %q", c, u)
		}
		r.floor[c] = u
	}
	return r, nil
}

// wordsPattern joins patterns into one case-insensitive expression that
// matches whole words only, in any script (Go's \b knows only ASCII).
func wordsPattern(ps []string) (*regexp.Regexp, error) {
	if len(ps) == 0 {
		return regexp.MustCompile(`[^\s\S]`), nil // matches nothing
	}
	folded := make([]string, len(ps))
	for i, p := range ps {
		if _, err := regexp.Compile(p); err != nil {
			return nil, err
		}
		folded[i] = fold(p) // rules match folded text, so "mañana" is written either way
	}
	return regexp.Compile(`(?i)(?:^|[^\p{L}\p{N}_])(` + strings.Join(folded, "|") + `)(?:$|[^\p{L}\p{N}_])`)
}

// Rating is what the rules say of one report.
type Rating struct {
	Urgency  Urgency
	Category string
	Reasons  []intake.Reason
}

// Input is what the rules look at: the text and the reporter's own answers.
type Input struct {
	Text     string
	Category string
	Danger   bool
}

// Rate rates one report. Every rating carries the reasons that produced it.
func (r *Rules) Rate(in Input) Rating {
	text := r.normalize(in.Text)
	var out Rating
	if m := r.hyperbole.FindAllStringSubmatch(text, -1); len(m) > 0 {
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "hyperbole", Text: "figure of speech, not counted as a threat", Words: joinMatches(m)})
		text = r.hyperbole.ReplaceAllString(text, " ")
	}
	found := map[string]bool{}
	for _, name := range r.order {
		s := r.signals[name]
		var kept, negated [][]string
		for _, loc := range s.re.FindAllStringSubmatchIndex(text, -1) {
			m := []string{text[loc[0]:loc[1]], text[loc[2]:loc[3]]}
			if s.negatable && r.negatedAt(text, loc[2]) {
				negated = append(negated, m)
			} else {
				kept = append(kept, m)
			}
		}
		if len(negated) > 0 && len(kept) == 0 {
			out.Reasons = append(out.Reasons, intake.Reason{Rule: "negated", Text: s.says + ", but denied (not counted)", Words: joinMatches(negated)})
		}
		if m := kept; len(m) > 0 {
			found[name] = true
			out.Reasons = append(out.Reasons, intake.Reason{Rule: name, Text: s.says, Words: joinMatches(m)})
			if out.Category == "" && s.category != "" {
				out.Category = s.category
			}
		}
	}
	out.Urgency = Low
	for _, l := range r.levels {
		if l.holds(found) {
			out.Urgency = l.urgency
			break
		}
	}
	if f := r.floor[in.Category]; f.rank() > out.Urgency.rank() {
		out.Urgency = f
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "category", Text: "the reporter chose the category " + in.Category})
	}
	if in.Danger {
		out.Urgency = Critical
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "danger_now", Text: "the reporter said someone is in danger right now"})
	}
	if in.Category != "" && in.Category != intake.CategoryOther || out.Category == "" {
		out.Category = in.Category
	}
	if out.Category == "" {
		out.Category = intake.CategoryOther
	}
	if len(out.Reasons) == 0 {
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "none", Text: "no rule matched; routine"})
	}
	return out
}

func (l level) holds(found map[string]bool) bool {
	for _, n := range l.all {
		if !found[n] {
			return false
		}
	}
	if len(l.any) == 0 {
		return len(l.all) > 0
	}
	for _, n := range l.any {
		if found[n] {
			return true
		}
	}
	return false
}

// joinMatches lists the distinct words matched, as the reporter wrote them.
func joinMatches(ms [][]string) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		w := m[1]
		if k := strings.ToLower(w); !seen[k] {
			seen[k] = true
			out = append(out, w)
		}
	}
	return strings.Join(out, ", ")
}

// normalize is the text the rules read: lower case, accents folded,
// text-speak and common misspellings spelt out ("rn" → "right now",
// "sucide" → "suicide"), so that rules are written once in plain words.
func (r *Rules) normalize(text string) string {
	words := strings.FieldsFunc(fold(text), func(c rune) bool {
		return unicode.IsSpace(c)
	})
	for i, w := range words {
		core := strings.TrimFunc(w, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsNumber(c) && c != '@' && c != '_' })
		if core == "" {
			continue
		}
		fixed, ok := r.spelling[core]
		if !ok {
			fixed, ok = r.nearWord(core)
		}
		if ok {
			words[i] = strings.Replace(w, core, fixed, 1)
		}
	}
	return strings.Join(words, " ")
}

// nearWord corrects a one-letter slip (a letter left out, doubled or
// swapped) in a word of five letters or more to a vocabulary word. A
// changed letter is not corrected: "short" must not become "shoot".
func (r *Rules) nearWord(w string) (string, bool) {
	if len(w) < 5 || r.vocabulary[w] {
		return "", false
	}
	for i := 0; i <= len(w); i++ {
		if i < len(w) { // a letter too many
			if c := w[:i] + w[i+1:]; len(c) >= 5 && r.vocabulary[c] {
				return c, true
			}
		}
		if i+1 < len(w) { // two letters swapped
			if c := w[:i] + string(w[i+1]) + string(w[i]) + w[i+2:]; r.vocabulary[c] {
				return c, true
			}
		}
		for c := byte('a'); c <= 'z'; c++ { // a letter left out
			if v := w[:i] + string(c) + w[i:]; r.vocabulary[v] {
				return v, true
			}
		}
	}
	return "", false
}

// negatedAt tells whether one of the three words before position i denies
// what follows ("he did not have a knife", "she isn't going to hurt
// herself").
func (r *Rules) negatedAt(text string, i int) bool {
	before := strings.FieldsFunc(text[:i], func(c rune) bool { return !unicode.IsLetter(c) && c != '\'' })
	for j := len(before) - 1; j >= 0 && j >= len(before)-3; j-- {
		w := before[j]
		if r.negation[w] || strings.HasSuffix(w, "n't") {
			return true
		}
	}
	return false
}

// apostrophes are the ways phones write "'".
var apostrophes = strings.NewReplacer("\u2019", "'", "\u2018", "'", "\u02BC", "'", "`", "'")

// fold lower-cases text and takes accents off letters, so "Mañana" and
// "manana" read alike.
func fold(s string) string {
	var b strings.Builder
	for _, c := range norm.NFD.String(strings.ToLower(apostrophes.Replace(s))) {
		if unicode.Is(unicode.Mn, c) {
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
