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
	harmless   *regexp.Regexp // look-alikes: "glue gun", "photo shoot", "fire drill"
	levels     []level
	categories []level // category rules: the first that holds names the category
	floor      map[string]Urgency
	spelling   map[string]string // text-speak and misspellings → the words rules use
	vocabulary map[string]bool   // words a one-letter slip is corrected to
	negation   map[string]bool   // words that, just before a signal, cancel it
	notDenial  map[string]bool   // words that, after a negation, make it no denial ("not joking")
	clauseEnd  map[string]bool   // words that end the reach of a negation ("but")
}

type signal struct {
	says      string
	category  string
	re        *regexp.Regexp
	negatable bool
	reach     int // how many words before a match a negation may stand
}

// level is a condition on the signals found: all of all, one of any (when
// given) and none of none. It sets an urgency (levels) or a category
// (categories).
type level struct {
	urgency  Urgency
	category string
	all      []string
	any      []string
	none     []string
}

// deniedPrefix names, in levels and categories, a signal that was mentioned
// and denied ("she isn't going to hurt herself"): a concern, not nothing.
const deniedPrefix = "denied:"

// condition is a level or category rule as written.
type condition struct {
	Urgency  Urgency  `yaml:"urgency"`
	Category string   `yaml:"category"`
	All      []string `yaml:"all"`
	Any      []string `yaml:"any"`
	None     []string `yaml:"none"`
}

// ruleFile is rules.yaml as written.
type ruleFile struct {
	Words      map[string][]string `yaml:"words"`
	Signals    yaml.Node           `yaml:"signals"`
	Hyper      []string            `yaml:"hyperbole"`
	Harmless   []string            `yaml:"harmless"`
	Levels     []condition         `yaml:"levels"`
	Categories []condition         `yaml:"categories"`
	Floor      map[string]Urgency  `yaml:"category_floor"`
	Spelling   map[string]string   `yaml:"spelling"`
	Vocabulary []string            `yaml:"vocabulary"`
	Negation   []string            `yaml:"negation"`
	NotDenial  []string            `yaml:"not_denial"`
	ClauseEnd  []string            `yaml:"clause_end"`
}

type signalFile struct {
	Says      string   `yaml:"says"`
	Category  string   `yaml:"category"`
	Patterns  []string `yaml:"patterns"`
	Negatable *bool    `yaml:"negatable"` // default true
	// NegationReach is how many words before a match can deny it; default
	// 3. A time is denied only right before it ("not today"): in "don't
	// come tomorrow" the "don't" belongs to the warning, not to the day.
	NegationReach int `yaml:"negation_reach"`
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
		spelling: map[string]string{}, vocabulary: map[string]bool{}, negation: map[string]bool{},
		notDenial: map[string]bool{}, clauseEnd: map[string]bool{}}
	words := map[string]string{}
	for name, alts := range f.Words {
		if !wordName.MatchString(name) {
			return nil, fmt.Errorf("triage: rules: words %q: a name is lower-case letters and _", name)
		}
		words[name] = "(?:" + strings.Join(alts, "|") + ")"
	}
	expandOne := func(p string) (string, error) {
		// Words may use other words; a list that uses itself never settles.
		for range len(words) + 1 {
			var bad string
			next := wordRef.ReplaceAllStringFunc(p, func(ref string) string {
				w, ok := words[ref[1:len(ref)-1]]
				if !ok {
					bad = ref
				}
				return w
			})
			if bad != "" {
				return "", fmt.Errorf("unknown words %s in %q", bad, p)
			}
			if next == p {
				return p, nil
			}
			p = next
		}
		return "", fmt.Errorf("words use themselves in %q", p)
	}
	for name, w := range words {
		x, err := expandOne(w)
		if err == nil {
			_, err = regexp.Compile(x)
		}
		if err != nil {
			return nil, fmt.Errorf("triage: rules: words %s: %w", name, err)
		}
	}
	expand := func(ps []string) ([]string, error) {
		out := make([]string, len(ps))
		for i, p := range ps {
			x, err := expandOne(p)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	for _, w := range f.NotDenial {
		r.notDenial[fold(w)] = true
	}
	for _, w := range f.ClauseEnd {
		r.clauseEnd[fold(w)] = true
	}
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
		ps, err := expand(sf.Patterns)
		if err != nil {
			return nil, fmt.Errorf("triage: rules: signal %s: %w", name, err)
		}
		re, err := wordsPattern(ps)
		if err != nil {
			return nil, fmt.Errorf("triage: rules: signal %s: %w", name, err)
		}
		reach := sf.NegationReach
		if reach <= 0 {
			reach = 3
		}
		r.signals[name] = &signal{says: sf.Says, category: sf.Category, re: re, negatable: sf.Negatable == nil || *sf.Negatable, reach: reach}
		r.order = append(r.order, name)
	}
	for what, dst := range map[string]**regexp.Regexp{"hyperbole": &r.hyperbole, "harmless": &r.harmless} {
		src := f.Hyper
		if what == "harmless" {
			src = f.Harmless
		}
		ps, err := expand(src)
		if err == nil {
			*dst, err = wordsPattern(ps)
		}
		if err != nil {
			return nil, fmt.Errorf("triage: rules: %s: %w", what, err)
		}
	}
	known := func(where string, c condition) error {
		if len(c.All)+len(c.Any) == 0 {
			return fmt.Errorf("triage: rules: %s: names no signal in all or any", where)
		}
		for _, n := range append(append(append([]string{}, c.All...), c.Any...), c.None...) {
			if r.signals[strings.TrimPrefix(n, deniedPrefix)] == nil {
				return fmt.Errorf("triage: rules: %s: unknown signal %q", where, n)
			}
		}
		return nil
	}
	for i, l := range f.Levels {
		if l.Urgency.rank() == 0 {
			return nil, fmt.Errorf("triage: rules: level %d: unknown urgency %q", i+1, l.Urgency)
		}
		if err := known(fmt.Sprintf("level %d", i+1), l); err != nil {
			return nil, err
		}
		r.levels = append(r.levels, level{urgency: l.Urgency, all: l.All, any: l.Any, none: l.None})
	}
	for i, c := range f.Categories {
		if !intake.KnownCategory(c.Category) {
			return nil, fmt.Errorf("triage: rules: category rule %d: unknown category %q", i+1, c.Category)
		}
		if err := known(fmt.Sprintf("category rule %d", i+1), c); err != nil {
			return nil, err
		}
		r.categories = append(r.categories, level{category: c.Category, all: c.All, any: c.Any, none: c.None})
	}
	for name, s := range r.signals {
		if s.category != "" && !intake.KnownCategory(s.category) {
			return nil, fmt.Errorf("triage: rules: signal %s: unknown category %q", name, s.category)
		}
	}
	for c, u := range f.Floor {
		if u.rank() == 0 {
			return nil, fmt.Errorf("triage: rules: category_floor %s: unknown urgency %q", c, u)
		}
		r.floor[c] = u
	}
	return r, nil
}

var (
	wordName = regexp.MustCompile(`^[a-z_]+$`)
	wordRef  = regexp.MustCompile(`\{[a-z_]+\}`) // {weapon} in a pattern; {2} stays a repeat
)

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
		folded[i] = foldPattern(p) // rules match folded text, so "mañana" is written either way
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
	// Only the figure of speech itself is taken out: a real threat in the
	// same report is still read.
	if m := r.hyperbole.FindAllStringSubmatch(text, -1); len(m) > 0 {
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "hyperbole", Text: "figure of speech, not counted as a threat", Words: joinMatches(m)})
		text = r.hyperbole.ReplaceAllString(text, " , ")
	}
	if m := r.harmless.FindAllStringSubmatch(text, -1); len(m) > 0 {
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "harmless", Text: "sounds like a weapon or attack but is not (a tool, a toy, a drill, a photo shoot)", Words: joinMatches(m)})
		text = r.harmless.ReplaceAllString(text, " , ")
	}
	found := map[string]bool{}
	for _, name := range r.order {
		s := r.signals[name]
		var kept, negated [][]string
		for _, loc := range s.re.FindAllStringSubmatchIndex(text, -1) {
			m := []string{text[loc[0]:loc[1]], text[loc[2]:loc[3]]}
			if s.negatable && r.negatedAt(text, loc[2], s.reach) {
				negated = append(negated, m)
			} else {
				kept = append(kept, m)
			}
		}
		if len(negated) > 0 && len(kept) == 0 {
			found[deniedPrefix+name] = true
			out.Reasons = append(out.Reasons, intake.Reason{Rule: "negated", Text: s.says + ", but denied (not counted as said)", Words: joinMatches(negated)})
		}
		if m := kept; len(m) > 0 {
			found[name] = true
			out.Reasons = append(out.Reasons, intake.Reason{Rule: name, Text: s.says, Words: joinMatches(m)})
			if out.Category == "" && s.category != "" {
				out.Category = s.category
			}
		}
	}
	for _, c := range r.categories {
		if c.holds(found) {
			out.Category = c.category
			break
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
	for _, n := range l.none {
		if found[n] {
			return false
		}
	}
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
// herself"). A negation reaches no further back than the clause ("he's not
// joking, he'll shoot"; "not today but tomorrow"), and one followed by a
// not_denial word is emphasis, not denial ("he's not playing he will
// shoot").
func (r *Rules) negatedAt(text string, i, reach int) bool {
	start := strings.LastIndexAny(text[:i], ".,;:!?()\"\n")
	clause := text[start+1 : i]
	before := strings.FieldsFunc(clause, func(c rune) bool { return !unicode.IsLetter(c) && c != '\'' })
	for j := len(before) - 1; j >= 0; j-- {
		if r.clauseEnd[before[j]] {
			before = before[j+1:]
			break
		}
	}
	for j := len(before) - 1; j >= 0 && j >= len(before)-reach; j-- {
		w := strings.Trim(before[j], "'")
		if !r.negation[w] && !strings.HasSuffix(w, "n't") {
			continue
		}
		if j+1 < len(before) && r.notDenial[strings.Trim(before[j+1], "'")] {
			continue
		}
		return true
	}
	return false
}

// foldPattern folds a pattern as fold folds text, but leaves escapes alone:
// lower-casing `\W` would turn "not a word character" into "a word character".
func foldPattern(p string) string {
	var b strings.Builder
	for len(p) > 0 {
		i := strings.IndexByte(p, '\\')
		if i < 0 || i+1 >= len(p) {
			b.WriteString(fold(p))
			break
		}
		b.WriteString(fold(p[:i]))
		b.WriteString(p[i : i+2])
		p = p[i+2:]
	}
	return b.String()
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
