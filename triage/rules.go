// Package triage rates each tip's urgency with reasons a person can read,
// joins reports of the same incident into clusters, routes tips to teams and
// hands life-safety tips to notify for paging.
package triage

import (
	"cmp"
	_ "embed"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

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
	signals          map[string]*signal
	order            []string       // signal names in file order, so reasons are stable
	sigs             []*signal      // the signals in that order
	ids              map[string]int // what levels name → its place in found (see sayID)
	hyperbole        []int          // patterns of figures of speech
	harmless         []int          // patterns of look-alikes: "glue gun", "photo shoot", "fire drill"
	pats             []string       // per pattern, the folded alternative it matches
	compiled         []compiled     // per pattern, its regexps, made when first tried
	prefixes         [][]string     // per pattern, the words every match starts with, if known
	firsts           []*byteSet     // per pattern without prefixes, the bytes every match starts with, if known
	spans            []span         // per pattern, how long its matches can be
	need             []uint8        // per pattern, how many literal sets must all be in a report for it to be tried
	setPat           []int32        // per literal set, the pattern that needs it
	gate             *gate          // which literal sets a report has
	always           []int32        // patterns with no literal sets: tried on every report
	scratch          sync.Pool      // *scratch, one Rate call's working memory
	lits             [][]string     // the literal sets, while parsing
	levels           []level
	byDefault        Urgency // when no level holds
	categories       []level // category rules: the first that holds names the category
	floor            map[string]Urgency
	spelling         map[string]string // text-speak and misspellings → the words rules use
	vocabulary       map[string]bool   // words a one-letter slip is corrected to
	nearKeys         *[1024]uint64     // a filter of the vocabulary for nearWord: see nearKey
	slips            map[string]string // a vocabulary word with a letter left out or two swapped → the word
	negation         map[string]bool   // words that, just before a signal, cancel it
	notDenial        map[string]bool   // words that, after a negation, make it no denial ("not joking")
	clauseEnd        map[string]bool   // words that end the reach of a negation ("but")
	filler           map[string]bool   // words a negation reaches across without counting ("not said anything about")
	notHarmlessAfter map[string]bool   // words that make a look-alike real ("mass shooting videos")
	learned          *learnedUse       // the second reader where rules find no concern; nil: none
}

type signal struct {
	name      string
	says      string
	category  string
	pats      []int // indices into Rules.pats
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
	// The same as places in what Rate found, a slice rather than a map.
	allID, anyID, noneID []int
}

// Rate notes what it found by place, not by name: the look-alikes and
// figures of speech first, then each signal, said and denied, in order.
const (
	hyperboleID = iota
	harmlessID
	firstSignalID
)

func sayID(signal int) int    { return firstSignalID + 2*signal }
func deniedID(signal int) int { return firstSignalID + 2*signal + 1 }

// withIDs fills in the places of the names l's condition uses, which
// ParseRules has checked are known.
func (l level) withIDs(ids map[string]int) level {
	place := func(names []string) []int {
		out := make([]int, len(names))
		for i, n := range names {
			out[i] = ids[n]
		}
		return out
	}
	l.allID, l.anyID, l.noneID = place(l.all), place(l.any), place(l.none)
	return l
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
	Default    Urgency             `yaml:"default"`
	Categories []condition         `yaml:"categories"`
	Floor      map[string]Urgency  `yaml:"category_floor"`
	Spelling   map[string]string   `yaml:"spelling"`
	Vocabulary []string            `yaml:"vocabulary"`
	Negation   []string            `yaml:"negation"`
	NotDenial  []string            `yaml:"not_denial"`
	NotSlips   []string            `yaml:"not_slips"`
	NotHarmAft []string            `yaml:"not_harmless_after"`
	Filler     []string            `yaml:"negation_filler"`
	ClauseEnd  []string            `yaml:"clause_end"`
	Learned    *learnedFile        `yaml:"learned"`
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
		spelling: map[string]string{}, vocabulary: map[string]bool{}, slips: map[string]string{}, negation: map[string]bool{},
		notDenial: map[string]bool{}, clauseEnd: map[string]bool{}, filler: map[string]bool{}, notHarmlessAfter: map[string]bool{}}
	words := map[string]string{}
	for name, alts := range f.Words {
		if !wordName.MatchString(name) {
			return nil, fmt.Errorf("triage: rules: words %q: a name is lower-case letters and _", name)
		}
		sorted := slices.Clone(alts)
		slices.Sort(sorted)
		words[name] = "(?:" + strings.Join(sorted, "|") + ")"
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
			_, err = syntax.Parse(x, syntax.Perl) // fails where regexp.Compile would
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
	for _, w := range f.Filler {
		r.filler[fold(w)] = true
	}
	for _, w := range f.NotHarmAft {
		r.notHarmlessAfter[fold(w)] = true
	}
	for k, v := range f.Spelling {
		r.spelling[fold(k)] = fold(v)
	}
	for _, w := range f.Vocabulary {
		r.vocabulary[fold(w)] = true
	}
	for _, w := range f.NotSlips {
		r.vocabulary[fold(w)] = true // a word nearWord leaves alone
	}
	for _, w := range f.Vocabulary {
		r.addSlips(fold(w))
	}
	r.nearKeys = new([1024]uint64)
	for w := range r.vocabulary {
		if n := len(w); n >= 4 {
			k := nearKey(n, w[0], w[1], w[n-2], w[n-1])
			r.nearKeys[k/64] |= 1 << (k % 64)
		}
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
		pats, err := r.compile(ps)
		if err != nil {
			return nil, fmt.Errorf("triage: rules: signal %s: %w", name, err)
		}
		reach := sf.NegationReach
		if reach <= 0 {
			reach = 3
		}
		r.signals[name] = &signal{name: name, says: sf.Says, category: sf.Category, pats: pats, negatable: sf.Negatable == nil || *sf.Negatable, reach: reach}
		r.order = append(r.order, name)
		r.sigs = append(r.sigs, r.signals[name])
	}
	for what, dst := range map[string]*[]int{"hyperbole": &r.hyperbole, "harmless": &r.harmless} {
		src := f.Hyper
		if what == "harmless" {
			src = f.Harmless
		}
		ps, err := expand(src)
		if err == nil {
			*dst, err = r.compile(ps)
		}
		if err != nil {
			return nil, fmt.Errorf("triage: rules: %s: %w", what, err)
		}
	}
	r.gate = newGate(r.lits)
	for p, n := range r.need {
		if n == 0 {
			r.always = append(r.always, int32(p))
		}
	}
	r.compiled = make([]compiled, len(r.pats))
	known := func(where string, c condition) error {
		if len(c.All)+len(c.Any) == 0 {
			return fmt.Errorf("triage: rules: %s: names no signal in all or any", where)
		}
		for _, n := range append(append(append([]string{}, c.All...), c.Any...), c.None...) {
			if n == figureOfSpeech || n == lookAlike {
				continue
			}
			if r.signals[strings.TrimPrefix(n, deniedPrefix)] == nil {
				return fmt.Errorf("triage: rules: %s: unknown signal %q", where, n)
			}
		}
		return nil
	}
	r.ids = map[string]int{figureOfSpeech: hyperboleID, lookAlike: harmlessID}
	for i, name := range r.order {
		r.ids[name] = sayID(i)
		r.ids[deniedPrefix+name] = deniedID(i)
	}
	r.byDefault = cmp.Or(f.Default, Low)
	if r.byDefault.rank() == 0 {
		return nil, fmt.Errorf("triage: rules: default: unknown urgency %q", f.Default)
	}
	for i, l := range f.Levels {
		if l.Urgency.rank() == 0 {
			return nil, fmt.Errorf("triage: rules: level %d: unknown urgency %q", i+1, l.Urgency)
		}
		if err := known(fmt.Sprintf("level %d", i+1), l); err != nil {
			return nil, err
		}
		r.levels = append(r.levels, level{urgency: l.Urgency, all: l.All, any: l.Any, none: l.None}.withIDs(r.ids))
	}
	for i, c := range f.Categories {
		if !intake.KnownCategory(c.Category) {
			return nil, fmt.Errorf("triage: rules: category rule %d: unknown category %q", i+1, c.Category)
		}
		if err := known(fmt.Sprintf("category rule %d", i+1), c); err != nil {
			return nil, err
		}
		r.categories = append(r.categories, level{category: c.Category, all: c.All, any: c.Any, none: c.None}.withIDs(r.ids))
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
	if f.Learned != nil {
		var err error
		if r.learned, err = f.Learned.use(r); err != nil {
			return nil, fmt.Errorf("triage: rules: learned: %w", err)
		}
	}
	return r, nil
}

var (
	wordName = regexp.MustCompile(`^[a-z_]+$`)
	wordRef  = regexp.MustCompile(`\{[a-z_]+\}`) // {weapon} in a pattern; {2} stays a repeat
)

// compile adds patterns to the rules and returns their indices. Each
// matches whole words only, in any script (Go's \b knows only ASCII), on
// folded text: patterns are folded too, so "mañana" is written either way
// and no case-insensitive matching is needed.
//
// The regexps themselves are compiled on first use (see compiled): there
// are over a thousand, each costs a fraction of a millisecond for its
// Unicode word boundaries, and the gate lets few of them be tried on any
// report. What would make one fail to compile is caught here instead.
func (r *Rules) compile(ps []string) ([]int, error) {
	var out []int
	var split []string
	for _, p := range ps {
		// The user's pattern as written, so that the error quotes it.
		// regexp.Compile fails only where syntax.Parse does.
		if _, err := syntax.Parse(p, syntax.Perl); err != nil {
			return nil, err
		}
		split = append(split, alternatives(foldPattern(p))...)
	}
	for _, folded := range split {
		// Folding can break a pattern that parsed ("[Z-a]" becomes
		// "[z-a]"), and a pattern can parse alone but not inside the word
		// boundaries (an unclosed \Q swallows them). So its regexp is
		// parsed here as it will be compiled, but with a one-rune class
		// for the word boundaries: the same tokens, groups, depth and size,
		// without the cost of building the Unicode classes. The anchored
		// regexp is the same text with less before it: it parses too.
		// This parse is also the tree the gate is made from.
		tree, err := syntax.Parse(scanExpr(folded, checkNotWord), syntax.Perl)
		if err != nil {
			// Quote the regexp that would have been compiled.
			if _, compileErr := regexp.Compile(scanExpr(folded, notWord)); compileErr != nil {
				err = compileErr
			}
			return nil, err
		}
		i := len(r.pats)
		r.pats = append(r.pats, folded)
		r.spans = append(r.spans, spanOf(firstGroup(tree)))
		re := simplified(firstGroup(tree))
		pre := prefixes(re)
		r.prefixes = append(r.prefixes, pre)
		var first *byteSet
		if pre == nil {
			first = firstBytes(re)
		}
		r.firsts = append(r.firsts, first)
		sets := requiredOf(re)
		if len(sets) > 255 {
			sets = sets[:255]
		}
		for _, set := range sets {
			r.setPat = append(r.setPat, int32(i))
			r.lits = append(r.lits, set)
		}
		r.need = append(r.need, uint8(len(sets)))
		out = append(out, i)
	}
	return out, nil
}

// notWord matches a character that cannot be part of a word, in any
// script; checkNotWord stands for it when a regexp is only checked.
const (
	notWord      = `[^\p{L}\p{N}_]`
	checkNotWord = `[^_]`
)

// scanExpr is a pattern as a regexp that finds it between word
// boundaries anywhere in a text.
func scanExpr(folded, boundary string) string {
	return `(?:^|` + boundary + `)(` + folded + `)(?:$|` + boundary + `)`
}

// anchoredExpr is a pattern as a regexp that matches it at the start of a
// text, up to a word boundary, for findAnchored.
func anchoredExpr(folded, boundary string) string {
	return `^(` + folded + `)(?:$|` + boundary + `)`
}

// firstGroup is the pattern's own tree in what scanExpr made of it: the
// first capturing group, there being none before it.
func firstGroup(re *syntax.Regexp) *syntax.Regexp {
	if re.Op == syntax.OpCapture && re.Cap == 1 {
		return re
	}
	for _, sub := range re.Sub {
		if g := firstGroup(sub); g != nil {
			return g
		}
	}
	return nil
}

// compiled holds one pattern's regexps once they are made. Rate runs in
// many goroutines at once, so each is made under its own sync.Once; after
// that, reading it costs one atomic load. Nothing is shared between Rules.
type compiled struct {
	scanOnce, anchoredOnce sync.Once
	scan, anchored         *regexp.Regexp
	prog                   *btProg // anchored's program, for backtrack; nil if it cannot run it
}

// scan is pattern p's regexp for FindAll over a whole text. compile
// checked that it parses, and a regexp that parses compiles.
func (r *Rules) scan(p int) *regexp.Regexp {
	c := &r.compiled[p]
	c.scanOnce.Do(func() { c.scan = regexp.MustCompile(scanExpr(r.pats[p], notWord)) })
	return c.scan
}

// anchored is pattern p's regexp for findAnchored; p has prefixes or
// first bytes.
func (r *Rules) anchored(p int) *regexp.Regexp {
	c := &r.compiled[p]
	r.makeAnchored(p)
	return c.anchored
}

// anchoredProg is anchored's program, as regexp.Compile makes it, when
// backtrack can run it.
func (r *Rules) anchoredProg(p int) *btProg {
	r.makeAnchored(p)
	return r.compiled[p].prog
}

func (r *Rules) makeAnchored(p int) {
	c := &r.compiled[p]
	c.anchoredOnce.Do(func() {
		expr := anchoredExpr(r.pats[p], notWord)
		c.anchored = regexp.MustCompile(expr)
		tree, err := syntax.Parse(expr, syntax.Perl)
		if err != nil {
			return
		}
		prog, err := syntax.Compile(tree.Simplify())
		if err == nil && backtrackable(prog) {
			c.prog = newBtProg(prog)
		}
	})
}

// alternatives splits a pattern that is a list of alternatives ("{self_injury}"
// is dozens) into its branches, so that each is gated and tried on its own.
func alternatives(p string) []string {
	re, err := syntax.Parse(p, syntax.Perl)
	if err != nil {
		return []string{p}
	}
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op != syntax.OpAlternate {
		return []string{p}
	}
	var out []string
	for _, sub := range re.Sub {
		out = append(out, alternatives(sub.String())...)
	}
	return out
}

// matches finds the matches of patterns ps that the gate let through
// (tried, ascending), leftmost first and not overlapping, as one
// alternation of them would. Each is [start, end, word start, word end].
// ps is a signal's or list's patterns, consecutive as compile numbers them.
func (r *Rules) matches(text string, ws *wordStarts, ps []int, tried []int32) [][]int {
	if len(ps) == 0 {
		return nil
	}
	lo, _ := slices.BinarySearch(tried, int32(ps[0]))
	hi, _ := slices.BinarySearch(tried, int32(ps[len(ps)-1])+1)
	var out [][]int
	sorted := true
	for _, p32 := range tried[lo:hi] {
		p := int(p32)
		var locs [][]int
		if r.anchorable(p) {
			locs = r.findAnchored(text, ws, p)
		} else {
			locs = r.scan(p).FindAllStringSubmatchIndex(text, -1)
		}
		for _, loc := range locs {
			if n := len(out); n > 0 && loc[0] < out[n-1][0] {
				sorted = false
			}
			out = append(out, loc[:4])
		}
	}
	if len(out) < 2 {
		return out
	}
	if !sorted {
		slices.SortStableFunc(out, func(a, b []int) int { return a[0] - b[0] })
	}
	kept := out[:1]
	for _, loc := range out[1:] {
		if loc[0] >= kept[len(kept)-1][1] {
			kept = append(kept, loc)
		}
	}
	return kept
}

// anchorable tells whether findAnchored can find pattern p's matches: it
// is tried where its first words or bytes start a word, or, not knowing
// those, at every word start, which needs every match to be one byte or
// more, as it is where a word of the gate's (two bytes or more) is in
// every match.
func (r *Rules) anchorable(p int) bool {
	return r.prefixes[p] != nil || r.firsts[p] != nil || r.need[p] > 0
}

// findAnchored is FindAllStringSubmatchIndex for a pattern whose matches
// start with known words or bytes: it tries the pattern only where one of
// them starts a word, anchored there, so a long pattern costs the length
// of a match attempt, not of the text. Matches come out as the unanchored
// pattern's would: leftmost first, not overlapping, the word boundary
// before a match included in it.
func (r *Rules) findAnchored(text string, ws *wordStarts, p int) [][]int {
	starts := ws.starts[:0]
	defer func() { ws.starts = starts[:0] }()
	if r.prefixes[p] == nil && r.firsts[p] == nil {
		for _, i := range ws.at { // every word start
			starts = append(starts, int(i))
		}
	}
	if first := r.firsts[p]; first != nil {
		for _, i := range ws.at {
			if first.has(text[i]) {
				starts = append(starts, int(i))
			}
		}
	}
	for _, w := range r.prefixes[p] {
		// The second byte is compared first, in line: it rules most
		// word starts out without a call.
		for _, i := range ws.byte(w[0]) {
			if j := int(i) + 1; (len(w) < 2 || j < len(text) && text[j] == w[1]) && strings.HasPrefix(text[i:], w) {
				starts = append(starts, int(i))
			}
		}
	}
	if len(starts) == 0 {
		return nil
	}
	slices.Sort(starts)
	re, prog := r.anchored(p), r.anchoredProg(p)
	// The pattern reads no further than its longest match and the rune
	// after it, for the word boundary: the text cut there gives the
	// same matches (none reaches the cut, where "$" would match), and
	// backtrack then marks fewer places visited.
	limit := len(text)
	if sp := r.spans[p]; sp.known() {
		limit = sp.bytes(ws.run) + utf8.UTFMax
	}
	var out [][]int
	end := -1 // where the last match ended, its boundary included
	for k, s := range starts {
		if k > 0 && s == starts[k-1] {
			continue
		}
		from := s // the match, with the boundary character before it
		if s > 0 {
			_, n := utf8.DecodeLastRuneInString(text[:s])
			from = s - n
		}
		if from < end || s == 0 && end >= 0 {
			continue
		}
		in := text[s:min(len(text), s+limit)]
		var loc []int
		if prog != nil && len(prog.prog.Inst)*(len(in)+1) <= maxBacktrackBits {
			l, ok := backtrack(prog, in)
			if !ok {
				continue
			}
			loc = l[:]
		} else if loc = re.FindStringSubmatchIndex(in); loc == nil {
			continue
		}
		out = append(out, []int{from, s + loc[1], s + loc[2], s + loc[3]})
		end = s + loc[1]
	}
	return out
}

// wordStarts are the places in a text where a match may start, the
// text's start and each byte after one that ends no word, grouped by the
// byte there: a pattern's first words are looked up, not searched for.
type wordStarts struct {
	at     []int32    // grouped by their byte, in order within each group
	from   [257]int32 // at[from[c]:from[c+1]] hold byte c
	starts []int      // findAnchored's buffer, kept between calls
	run    int        // the longest run of bytes other than ' ', for spans
}

// newWordStarts finds text's word starts.
func newWordStarts(text string) *wordStarts {
	ws := &wordStarts{}
	ws.find(text)
	return ws
}

// find finds text's word starts, in place of those of the text before.
func (ws *wordStarts) find(text string) {
	var count [256]int32
	ws.run = longestRun(text)
	for i := 0; i < len(text); i++ {
		if wordStartAt(text, i) {
			count[text[i]]++
		}
	}
	for c := range 256 {
		ws.from[c+1] = ws.from[c] + count[c]
	}
	ws.at = slices.Grow(ws.at[:0], int(ws.from[256]))[:ws.from[256]]
	next := ws.from
	for i := 0; i < len(text); i++ {
		if wordStartAt(text, i) {
			ws.at[next[text[i]]] = int32(i)
			next[text[i]]++
		}
	}
}

// wordStartAt tells whether a match may start at text[i]: at the text's
// start or after a byte that ends no word. An ASCII byte before i is
// read as itself, anything else as wordChar reads it.
func wordStartAt(text string, i int) bool {
	if i == 0 {
		return true
	}
	if c := text[i-1]; c < utf8.RuneSelf {
		return !asciiWord[c]
	}
	return !wordChar(text[:i])
}

// asciiWord holds the ASCII bytes wordChar counts: letters, digits, '_'.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		r := rune(c)
		t[c] = r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
	}
	return t
}()

// byte answers the word starts where text has c.
func (ws *wordStarts) byte(c byte) []int32 { return ws.at[ws.from[c]:ws.from[c+1]] }

// wordChar tells whether text ends in a letter, digit or underscore: a
// match cannot start right after one.
func wordChar(text string) bool {
	c, _ := utf8.DecodeLastRuneInString(text)
	return c == '_' || unicode.IsLetter(c) || unicode.IsNumber(c)
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
	sc := r.getScratch()
	defer r.scratch.Put(sc)
	tried := r.tried(text, sc)
	ws := &sc.ws
	ws.find(text)
	// Only the figure of speech itself is taken out: a real threat in the
	// same report is still read.
	found := sc.found
	clear(found)
	if m := r.matches(text, ws, r.hyperbole, tried); len(m) > 0 {
		found[hyperboleID] = true
		out.Reasons = append(out.Reasons, intake.Reason{Rule: figureOfSpeech, Text: "figure of speech, not counted as a threat", Words: joinMatches(text, m)})
		text = blank(text, m) // taking words out can only stop patterns matching: the gate stands
		ws.find(text)
	}
	if m := r.harmlessMatches(text, ws, tried); len(m) > 0 {
		found[harmlessID] = true
		out.Reasons = append(out.Reasons, intake.Reason{Rule: lookAlike, Text: "sounds like a weapon or attack but is not (a tool, a toy, a drill, a photo shoot)", Words: joinMatches(text, m)})
		text = blank(text, m) // taking words out can only stop patterns matching: the gate stands
		ws.find(text)
	}
	// The words of a denied statement are denied with it: in "he wasn't
	// going to bring a gun", the gun is no more there than the bringing.
	var denied [][]int
	inDenied := func(loc []int) bool {
		for _, d := range denied {
			if d[2] <= loc[2] && loc[3] <= d[3] {
				return true
			}
		}
		return false
	}
	for i, s := range r.sigs {
		name := s.name
		var kept, negated [][]int
		for _, loc := range r.matches(text, ws, s.pats, tried) {
			if s.negatable && (r.negatedAt(text, loc[2], s.reach) || inDenied(loc)) {
				negated = append(negated, loc)
			} else {
				kept = append(kept, loc)
			}
		}
		denied = append(denied, negated...)
		if len(negated) > 0 && len(kept) == 0 {
			found[deniedID(i)] = true
			out.Reasons = append(out.Reasons, intake.Reason{Rule: "negated", Text: s.says + ", but denied (not counted as said)", Words: joinMatches(text, negated)})
		}
		if m := kept; len(m) > 0 {
			found[sayID(i)] = true
			out.Reasons = append(out.Reasons, intake.Reason{Rule: name, Text: s.says, Words: joinMatches(text, m)})
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
	out.Urgency = r.byDefault
	matched := false
	for _, l := range r.levels {
		if l.holds(found) {
			out.Urgency, matched = l.urgency, true
			break
		}
	}
	if !r.learned.raise(&out, in.Text, found, matched) && !matched {
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "none", Text: noLevel(r.byDefault)})
	}
	if f := r.floor[in.Category]; f.rank() > out.Urgency.rank() {
		out.Urgency = f
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "category", Text: "the reporter chose the category " + in.Category})
	}
	// The reporter's "in danger right now" makes a report critical: a
	// frightened reporter may type no more than "please come to the gym".
	// Reporters also answer yes in fear about bullying or a broken door;
	// where a level found the words to be about such a thing, the report is
	// paged, not escalated as a threat to life. On the sets written without
	// sight of the rules, such a yes was behind about four in ten of the
	// low and normal reports rated critical.
	if in.Danger {
		why := "the reporter said someone is in danger right now"
		if matched && out.Urgency.rank() < High.rank() {
			out.Urgency, why = High, why+"; the words describe a concern rated "+string(out.Urgency)+", so a person reads it within the hour"
		} else {
			out.Urgency = Critical
		}
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "danger_now", Text: why})
	}
	if in.Category != "" && in.Category != intake.CategoryOther || out.Category == "" {
		out.Category = in.Category
	}
	if out.Category == "" {
		out.Category = intake.CategoryOther
	}
	return out
}

// figureOfSpeech and lookAlike are what the hyperbole and harmless lists
// found, as levels may name them: a report whose only violent words were a
// figure of speech is low, not unexplained.
const (
	figureOfSpeech = "hyperbole"
	lookAlike      = "harmless"
)

// noLevel is the reason a report gets when no level explains it.
func noLevel(u Urgency) string {
	if u.rank() > Low.rank() {
		return "no rule explains it: a person reads it, as " + string(u)
	}
	return "no rule matched; routine"
}

func (l level) holds(found []bool) bool {
	for _, n := range l.noneID {
		if found[n] {
			return false
		}
	}
	for _, n := range l.allID {
		if !found[n] {
			return false
		}
	}
	if len(l.anyID) == 0 {
		return len(l.allID) > 0
	}
	for _, n := range l.anyID {
		if found[n] {
			return true
		}
	}
	return false
}

// harmlessMatches are the look-alikes in text, but for one right after a
// word that makes it real ("mass shooting videos" are not a video shoot).
func (r *Rules) harmlessMatches(text string, ws *wordStarts, tried []int32) [][]int {
	return slices.DeleteFunc(r.matches(text, ws, r.harmless, tried), func(m []int) bool {
		before := strings.Fields(text[:m[2]])
		return len(before) > 0 && r.notHarmlessAfter[strings.Trim(before[len(before)-1], ".,;:!?\"'()")]
	})
}

// scratch is one Rate call's working memory, kept between calls so that
// rating allocates little: has and hit are all zero between calls.
type scratch struct {
	has    []uint8 // per literal set, whether the text has one of its words
	hit    []uint8 // per pattern, how many of its literal sets the text has
	marked []int32 // the literal sets marked in has
	tried  []int32 // the patterns the gate lets through, ascending
	ws     wordStarts
	found  []bool // what Rate found, by place (see sayID)
}

func (r *Rules) getScratch() *scratch {
	if sc, ok := r.scratch.Get().(*scratch); ok {
		return sc
	}
	return &scratch{has: make([]uint8, len(r.lits)), hit: make([]uint8, len(r.pats)), found: make([]bool, sayID(len(r.sigs)))}
}

// tried lists, ascending, the patterns the gate lets through for this
// text: those whose literal sets all have a word in the text, and those
// with none. It leaves sc's has and hit zero. (rate_equiv_test.go keeps
// the plain two-pass version it is checked against.)
func (r *Rules) tried(text string, sc *scratch) []int32 {
	// One walk of the gate's automaton, counting each set's pattern as
	// the set is first marked.
	g := r.gate
	class, next, nsym, report, dict, outAt, out := &g.class, g.next, g.nsym, g.report, g.dict, g.outAt, g.out
	has, hit, need, setPat := sc.has, sc.hit, r.need, r.setPat
	marked := sc.marked[:0]
	tried := append(sc.tried[:0], r.always...)
	n := int32(0)
	for i := 0; i < len(text); i++ {
		n = next[int(n)*nsym+int(class[text[i]])]
		for o := report[n]; o != 0; o = dict[o] {
			for _, set := range out[outAt[o]:outAt[o+1]] {
				if has[set] != 0 {
					continue
				}
				has[set] = 1
				marked = append(marked, set)
				p := setPat[set]
				hit[p]++
				if hit[p] == need[p] {
					tried = append(tried, p)
				}
			}
		}
	}
	for _, set := range marked {
		has[set] = 0
		hit[setPat[set]] = 0
	}
	slices.Sort(tried)
	sc.marked, sc.tried = marked, tried
	return tried
}

// blank replaces the matches (figures of speech, look-alikes) with a
// clause break, so no signal reads them and no negation reaches across.
func blank(text string, ms [][]int) string {
	var b strings.Builder
	last := 0
	for _, m := range ms {
		b.WriteString(text[last:m[0]])
		b.WriteString(" , ")
		last = m[1]
	}
	b.WriteString(text[last:])
	return b.String()
}

// joinMatches lists the distinct words matched, as the reporter wrote them.
func joinMatches(text string, ms [][]int) string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		w := text[m[2]:m[3]]
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
	folded := fold(text)
	var out strings.Builder // its String does not copy
	out.Grow(len(folded) + 16)
	var buf []byte
	first := true
	for len(folded) > 0 {
		// The next word, as strings.FieldsFunc(unicode.IsSpace) splits:
		// spaces skipped, then up to the next space.
		w, ascii, quoted, rest := nextWord(folded)
		folded = rest
		if w == "" {
			break
		}
		if !first {
			out.WriteByte(' ')
		}
		first = false
		if !ascii || quoted {
			w = unquote(w)
		}
		var core string
		if ascii {
			core = trimASCII(w)
		} else {
			core = strings.TrimFunc(w, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsNumber(c) && c != '@' && c != '_' })
		}
		if core == "" {
			out.WriteString(w)
			continue
		}
		fixed, ok := r.spelling[core]
		if !ok {
			fixed, ok = r.nearWord(core, &buf)
		}
		if ok {
			i := strings.Index(w, core)
			out.WriteString(w[:i])
			out.WriteString(fixed)
			out.WriteString(w[i+len(core):])
			continue
		}
		out.WriteString(w)
	}
	return out.String()
}

// nextWord splits the first word off s, as strings.FieldsFunc with
// unicode.IsSpace does: w is "" when s holds only spaces. ascii tells
// whether w is all ASCII, quoted whether it has a ' or a ".
func nextWord(s string) (w string, ascii, quoted bool, rest string) {
	i := 0
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !asciiSpace[c] {
				break
			}
			i++
			continue
		}
		c, n := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(c) {
			break
		}
		i += n
	}
	start := i
	ascii = true
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if asciiSpace[c] {
				break
			}
			quoted = quoted || c == '\'' || c == '"'
			i++
			continue
		}
		c, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(c) {
			break
		}
		ascii = false
		i += n
	}
	return s[start:i], ascii, quoted, s[i:]
}

// asciiSpace holds the ASCII bytes unicode.IsSpace counts.
var asciiSpace = func() (t [utf8.RuneSelf]bool) {
	for c := range utf8.RuneSelf {
		t[c] = unicode.IsSpace(rune(c))
	}
	return t
}()

// trimASCII is, for an ASCII word, normalize's strings.TrimFunc: what is
// left when everything but letters, digits, '@' and '_' is trimmed off
// both ends.
func trimASCII(w string) string {
	i, j := 0, len(w)
	for i < j && !asciiCore(w[i]) {
		i++
	}
	for j > i && !asciiCore(w[j-1]) {
		j--
	}
	return w[i:j]
}

func asciiCore(c byte) bool { return asciiWord[c] || c == '@' }

// unquote takes quotation marks off a word: he said 'wait till thursday'
// is read as he said wait till thursday, so that patterns see the words. An
// apostrophe inside a word stays ("don't", "dad's"), and so do "'em" and
// a plural possessive ("parents'").
func unquote(w string) string {
	if !strings.ContainsAny(w, "'\"“”«»") {
		return w
	}
	letter := func(i int) bool {
		if i < 0 || i >= len(w) {
			return false
		}
		c := w[i]
		return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 0x80
	}
	switch strings.TrimRight(w, ".,;:!?") {
	case "'em", "'til", "'cause", "'bout", "'round":
		return w
	}
	var b strings.Builder
	for i, c := range w {
		switch {
		case c == '"' || c == '“' || c == '”' || c == '«' || c == '»':
			continue
		case c == '\'' && !(letter(i-1) && letter(i+1)) && !(i > 0 && w[i-1] == 's' && !letter(i+1)):
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// nearWord corrects a one-letter slip (a letter left out, doubled or
// swapped) in a word of five letters or more to a vocabulary word. A
// changed letter is not corrected: "short" must not become "shoot". Slips
// that leave a letter out or swap two are looked up whole (slips holds
// them, made from the vocabulary once); a letter too many is found by
// taking each letter out in turn, in a buffer, without allocating.
func (r *Rules) nearWord(w string, buf *[]byte) (string, bool) {
	if len(w) < 5 || r.vocabulary[w] {
		return "", false
	}
	if v, ok := r.slips[w]; ok {
		return v, true
	}
	for i := 0; i < len(w); i++ {
		if len(w)-1 < 5 {
			break
		}
		if i == len(w)-1 && (w[i] == 's' || w[i] == 'd') {
			continue // an ending, not a slip: "overdosed" is not "overdose"
		}
		// The word without w[i] is looked up only if a vocabulary word
		// has its length and its first and last two bytes.
		at := func(j int) byte {
			if j < i {
				return w[j]
			}
			return w[j+1]
		}
		n := len(w) - 1
		if k := nearKey(n, at(0), at(1), at(n-2), at(n-1)); r.nearKeys[k/64]&(1<<(k%64)) == 0 {
			continue
		}
		b := append(append((*buf)[:0], w[:i]...), w[i+1:]...)
		*buf = b
		if r.vocabulary[string(b)] {
			return string(b), true
		}
	}
	return "", false
}

// nearKey hashes a word's length and its first and last two bytes to
// one of 65536 bits.
func nearKey(n int, a, b, y, z byte) uint32 {
	h := uint32(n)*0x9e3779b1 ^ uint32(a)<<24 ^ uint32(b)<<16 ^ uint32(y)<<8 ^ uint32(z)
	h *= 0x85ebca6b
	return (h ^ h>>15) & 0xffff
}

// addSlips records the slips nearWord looks up whole for a vocabulary word:
// each with one letter left out (of five letters or more) and each with two
// letters swapped. The first word to claim a slip keeps it.
func (r *Rules) addSlips(v string) {
	claim := func(k string) {
		if _, ok := r.slips[k]; !ok && !r.vocabulary[k] {
			r.slips[k] = v
		}
	}
	for i := 0; i < len(v); i++ {
		if len(v)-1 >= 5 {
			claim(v[:i] + v[i+1:])
		}
		if i+1 < len(v) && len(v) >= 5 && v[i] != v[i+1] {
			claim(v[:i] + string(v[i+1]) + string(v[i]) + v[i+2:])
		}
	}
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
	for k := 0; k < len(clause); k++ {
		if clause[k] >= utf8.RuneSelf {
			return r.negatedIn(clause, reach)
		}
	}
	// An ASCII clause: its words (letters and apostrophes) are read back
	// from i one at a time, as negatedIn reads them from its list, up to
	// the last clause_end word.
	var next string // the word after this one, if any
	counted := 0
	end := len(clause)
	for {
		for end > 0 && !asciiNegWord(clause[end-1]) {
			end--
		}
		if end == 0 {
			return false
		}
		b := end
		for b > 0 && asciiNegWord(clause[b-1]) {
			b--
		}
		word := clause[b:end]
		end = b
		if r.clauseEnd[word] || counted >= reach {
			return false
		}
		w := strings.Trim(word, "'")
		if !r.filler[w] {
			counted++
		}
		if (r.negation[w] || strings.HasSuffix(w, "n't")) && !(next != "" && r.notDenial[strings.Trim(next, "'")]) {
			return true
		}
		next = word
	}
}

// asciiNegWord tells whether an ASCII byte is part of a word for negatedAt:
// a letter or an apostrophe.
func asciiNegWord(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '\'' }

// negatedIn is negatedAt for any clause, ASCII or not.
func (r *Rules) negatedIn(clause string, reach int) bool {
	before := strings.FieldsFunc(clause, func(c rune) bool { return !unicode.IsLetter(c) && c != '\'' })
	for j := len(before) - 1; j >= 0; j-- {
		if r.clauseEnd[before[j]] {
			before = before[j+1:]
			break
		}
	}
	counted := 0
	for j := len(before) - 1; j >= 0 && counted < reach; j-- {
		w := strings.Trim(before[j], "'")
		if !r.filler[w] {
			counted++
		}
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
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 || s[i] == '`' {
			ascii = false
			break
		}
	}
	if ascii { // nothing to fold but case
		return strings.ToLower(s)
	}
	var b strings.Builder
	for _, c := range norm.NFD.String(strings.ToLower(apostrophes.Replace(s))) {
		if unicode.Is(unicode.Mn, c) {
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}
