package triage

import (
	"bufio"
	"bytes"
	"cmp"
	_ "embed"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tipline/tipline/intake"
)

// Rules find what they have words for. Measured on reports written without
// sight of them, a report whose words no rule knows is rated low, and some
// of those were threats and abuse in words nobody wrote a rule for. The
// learned counts are the second reader for those reports: how often each
// word and pair of words appeared in labelled reports of each urgency.
// Where the rules find no concern, a report whose words are far likelier
// in paged reports than in routine ones is raised to high, and the reason
// names the words that weighed most, so a reviewer can check it as they
// check a rule. They never lower a rating, and make one critical only
// where a rule found a concern and rated it high. The counts are data like
// the rules:
// learned.tsv, made by `make learn` from the labelled sets it names.

//go:embed learned.tsv
var defaultLearned []byte

// learnedLevels are the columns of learned.tsv, most urgent first.
var learnedLevels = [...]Urgency{Critical, High, Normal, Low}

// Learned holds the counts and the weights made from them.
type Learned struct {
	From    []string // the labelled sets counted, as the file names them
	reports [len(learnedLevels)]int
	// weights per word or pair: the log-odds it adds that a report is
	// paged (high or critical) rather than routine, and that a routine
	// report is normal rather than low.
	slots  []slot // an open-addressing table of them, a power of two long
	seed   maphash.Seed
	names  []string
	priors [kinds]float64 // the same log-odds before any word is read
}

// slot is one counted word or pair. Rating looks up every word of a report
// and each pair, on the web request path: one probe reads a slot with the
// word's fingerprint and weights together, where a map of strings reads
// its control bytes, the key and then the weights, each a cache miss. Two
// words with one 64-bit fingerprint among some 30,000 are left to chance
// (about one in 10^10).
type slot struct {
	fp      uint64 // the word's hash; 0: the slot is empty
	weights [kinds]float64
	name    int32 // in names
}

// find returns the slot of a word or pair, by its hash, or -1.
func (l *Learned) find(h uint64) int32 {
	h |= 1 // 0 marks an empty slot
	mask := uint64(len(l.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch l.slots[i].fp {
		case h:
			return int32(i)
		case 0:
			return -1
		}
	}
}

// eachWord calls f with each word of a report, folded, quotation marks
// off ("kid's" keeps its apostrophe), and the word before it ("" for the
// first): Learn counts, and read weighs, each word and each pair.
func eachWord(text string, f func(prev, w string)) {
	text = fold(text)
	prev := ""
	for len(text) > 0 {
		// A word runs to the first rune that is no letter, digit or apostrophe.
		end := strings.IndexFunc(text, func(c rune) bool {
			return !unicode.IsLetter(c) && !unicode.IsNumber(c) && c != '\''
		})
		if end < 0 {
			end = len(text)
		}
		w := strings.Trim(text[:end], "'")
		if w != "" {
			f(prev, w)
			prev = w
		}
		if end == len(text) {
			break
		}
		_, n := utf8.DecodeRuneInString(text[end:])
		text = text[end+n:]
	}
}

// pair is how a pair of words is counted: "shoot up".
func pair(buf []byte, prev, w string) []byte {
	return append(append(append(buf[:0], prev...), ' '), w...)
}

// LabelledTip is a report and the urgency a reviewer gave it.
type LabelledTip struct {
	Tip     *intake.Tip
	Urgency Urgency
}

// Learn counts labelled reports and writes learned.tsv: a comment naming
// the sets, a line of report counts per urgency ("*"), and then, sorted,
// each word or pair with the number of reports of each urgency it was in.
func Learn(w io.Writer, from []string, reports []LabelledTip) error {
	column := func(u Urgency) int { return slices.Index(learnedLevels[:], u) }
	var total [len(learnedLevels)]int
	counts := map[string]*[len(learnedLevels)]int{}
	for _, r := range reports {
		c := column(r.Urgency)
		if c < 0 {
			return fmt.Errorf("triage: learn: urgency %q", r.Urgency)
		}
		total[c]++
		// A report counts once per word, however often it says it.
		seen := map[string]bool{}
		count := func(f string) {
			if seen[f] {
				return
			}
			seen[f] = true
			if counts[f] == nil {
				counts[f] = new([len(learnedLevels)]int)
			}
			counts[f][c]++
		}
		var buf []byte
		eachWord(rateText(r.Tip), func(prev, w string) {
			count(w)
			if prev != "" {
				buf = pair(buf, prev, w)
				count(string(buf))
			}
		})
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# learned from: %s\n", strings.Join(from, " "))
	fmt.Fprintf(bw, "# word or pair\treports rated critical\thigh\tnormal\tlow (made by make learn; do not edit)\n")
	row := func(f string, n *[len(learnedLevels)]int) {
		bw.WriteString(f)
		for _, v := range n {
			bw.WriteByte('\t')
			bw.WriteString(strconv.Itoa(v))
		}
		bw.WriteByte('\n')
	}
	row("*", &total)
	keys := make([]string, 0, len(counts))
	for f := range counts {
		keys = append(keys, f)
	}
	slices.Sort(keys)
	for _, f := range keys {
		row(f, counts[f])
	}
	return bw.Flush()
}

// ParseLearned reads learned.tsv as Learn writes it.
func ParseLearned(b []byte) (*Learned, error) {
	l := &Learned{seed: maphash.MakeSeed()}
	counts := map[string][len(learnedLevels)]int{}
	sawTotal := false
	for n, line := range bytes.Split(b, []byte("\n")) {
		s := string(line)
		if rest, ok := strings.CutPrefix(s, "# learned from:"); ok {
			l.From = strings.Fields(rest)
		}
		if s == "" || s[0] == '#' {
			continue
		}
		fields := strings.Split(s, "\t")
		if len(fields) != 1+len(learnedLevels) {
			return nil, fmt.Errorf("triage: learned: line %d: want a word and %d counts", n+1, len(learnedLevels))
		}
		var c [len(learnedLevels)]int
		for i, f := range fields[1:] {
			v, err := strconv.Atoi(f)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("triage: learned: line %d: count %q", n+1, f)
			}
			c[i] = v
		}
		if fields[0] == "*" {
			l.reports, sawTotal = c, true
			continue
		}
		counts[fields[0]] = c
	}
	if !sawTotal || slices.Contains(l.reports[:], 0) {
		return nil, fmt.Errorf("triage: learned: no reports of some urgency counted")
	}
	// Naive Bayes over the presence of words, smoothed by half a report:
	// each word's weight is how much likelier it is in one kind of report
	// than in the other, in log-odds, so a report's score is a sum a person
	// can take apart word by word.
	paged, routine := l.reports[0]+l.reports[1], l.reports[2]+l.reports[3]
	normal, low := l.reports[2], l.reports[3]
	odds := func(in, of, notIn, notOf int) float64 {
		return math.Log((float64(in)+0.5)/float64(of+1)) - math.Log((float64(notIn)+0.5)/float64(notOf+1))
	}
	critical, high := l.reports[0], l.reports[1]
	l.priors = [kinds]float64{
		math.Log(float64(paged) / float64(routine)),
		math.Log(float64(normal) / float64(low)),
		math.Log(float64(critical) / float64(high)),
	}
	l.slots = make([]slot, max(16, 1<<bits.Len(uint(2*len(counts))))) // at most half full
	mask := uint64(len(l.slots) - 1)
	for f, c := range counts {
		h := maphash.String(l.seed, f) | 1
		i := h & mask
		for l.slots[i].fp != 0 {
			i = (i + 1) & mask
		}
		l.slots[i] = slot{fp: h, name: int32(len(l.names)), weights: [kinds]float64{
			odds(c[0]+c[1], paged, c[2]+c[3], routine),
			odds(c[2], normal, c[3], low),
			odds(c[0], critical, c[1], high),
		}}
		l.names = append(l.names, f)
	}
	return l, nil
}

// DefaultLearned returns the counts built into tipline.
func DefaultLearned() (*Learned, error) { return ParseLearned(defaultLearned) }

// Which odds a reading answers: a report paged rather than routine, or a
// routine report normal rather than low.
const (
	pagedNotRoutine = 0
	normalNotLow    = 1
	criticalNotHigh = 2
	kinds           = 3
)

// reading is what the counts make of one report: its log-odds of each
// kind, and the known words and pairs it has, each once.
type reading struct {
	l     *Learned
	odds  [kinds]float64
	known []int32 // slots
}

// read weighs a report's words.
func (l *Learned) read(text string) reading {
	r := reading{l: l, odds: l.priors}
	var buf []byte
	prevKnown := false
	eachWord(text, func(prev, w string) {
		i := l.find(maphash.String(l.seed, w))
		if i >= 0 {
			r.known = append(r.known, i)
		}
		// Every word of a counted pair was counted as a word: a pair
		// with a word the counts never saw is not looked up.
		if i >= 0 && prevKnown {
			buf = pair(buf, prev, w)
			if i := l.find(maphash.Bytes(l.seed, buf)); i >= 0 {
				r.known = append(r.known, i)
			}
		}
		prevKnown = i >= 0
	})
	slices.Sort(r.known)
	r.known = slices.Compact(r.known) // a report counts once per word, as in Learn
	for _, i := range r.known {
		for k := range kinds {
			r.odds[k] += l.slots[i].weights[k]
		}
	}
	return r
}

// words are the known words that weighed most towards one kind, heaviest
// first.
func (r reading) words(kind int) string {
	var top []int32
	for _, i := range r.known {
		if r.l.slots[i].weights[kind] > 0 {
			top = append(top, i)
		}
	}
	slices.SortFunc(top, func(a, b int32) int {
		if c := cmp.Compare(r.l.slots[b].weights[kind], r.l.slots[a].weights[kind]); c != 0 {
			return c
		}
		return strings.Compare(r.l.names[r.l.slots[a].name], r.l.names[r.l.slots[b].name])
	})
	var out []string
	for _, i := range top[:min(len(top), maxLearnedWords)] {
		out = append(out, r.l.names[r.l.slots[i].name])
	}
	return strings.Join(out, ", ")
}

// maxLearnedWords is how many words a learned reason names.
const maxLearnedWords = 5

// LearnedFrom names the labelled sets the rules' learned counts were made
// from, none if the rules use none: a set's figures are of unseen reports
// only if it is not among them.
func (r *Rules) LearnedFrom() []string {
	if r.learned == nil {
		return nil
	}
	return r.learned.counts.From
}

// learnedFile is the rules' "learned" section as written.
type learnedFile struct {
	Margin          *float64 `yaml:"margin"`
	MarginOverRules *float64 `yaml:"margin_over_rules"`
	MarginCritical  *float64 `yaml:"margin_to_critical"`
	NotWith         []string `yaml:"not_with"`
}

// learnedUse is how the rules use the learned counts.
type learnedUse struct {
	counts *Learned
	// margin is the log-odds above which a report no level explains is
	// raised; overRules, one a level rated normal or low; toCritical, one
	// a level rated high, to critical.
	margin, overRules, toCritical float64
	notWith                       []int // places in what Rate found (see sayID)
}

// anyDenied, in not_with, is any signal mentioned only to be denied.
const anyDenied = "denied"

// use checks the section against the rules it belongs to.
func (f *learnedFile) use(r *Rules) (*learnedUse, error) {
	if f.Margin == nil || f.MarginOverRules == nil || f.MarginCritical == nil {
		return nil, fmt.Errorf("margin, margin_over_rules and margin_to_critical are required")
	}
	var notWith []int
	for _, n := range f.NotWith {
		if n == anyDenied {
			for i := range r.order {
				notWith = append(notWith, deniedID(i))
			}
			continue
		}
		id, ok := r.ids[n]
		if !ok {
			return nil, fmt.Errorf("not_with: unknown signal %q", n)
		}
		notWith = append(notWith, id)
	}
	counts, err := DefaultLearned()
	if err != nil {
		return nil, err
	}
	return &learnedUse{counts: counts, margin: *f.Margin, overRules: *f.MarginOverRules, toCritical: *f.MarginCritical, notWith: notWith}, nil
}

// raise is the second reading of a report the rules rated high, normal or
// low (matched: a level said so; else no level explained it). It raises
// the rating, with its reason, and tells whether it did.
func (u *learnedUse) raise(out *Rating, text string, found []bool, matched bool) bool {
	// High is raised only where a rule found the concern: never the
	// counts' own high, nor a team's default.
	if u == nil || out.Urgency == Critical || out.Urgency == High && !matched {
		return false
	}
	for _, id := range u.notWith {
		if found[id] {
			return false // the rules found it routine, a figure of speech, a look-alike or denied
		}
	}
	read := u.counts.read(text)
	if out.Urgency == High {
		if odds := read.odds[criticalNotHigh]; odds > u.toCritical {
			out.Urgency = Critical
			out.Reasons = append(out.Reasons, intake.Reason{Rule: "learned",
				Text:  fmt.Sprintf("the rules rated it high, and its words are far likelier in critical reports than in high ones (log-odds %.1f, raised above %g)", odds, u.toCritical),
				Words: read.words(criticalNotHigh)})
			return true
		}
		return false
	}
	margin, says := u.margin, "no rule explains it"
	if matched {
		margin, says = u.overRules, "the rules rated it "+string(out.Urgency)
	}
	if odds := read.odds[pagedNotRoutine]; odds > margin {
		out.Urgency = High
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "learned",
			Text:  fmt.Sprintf("%s, but its words are far likelier in reports that were paged (log-odds %.1f, raised above %g): a person reads it within the hour", says, odds, margin),
			Words: read.words(pagedNotRoutine)})
		return true
	}
	if matched || out.Urgency.rank() >= Normal.rank() {
		return false
	}
	if odds := read.odds[normalNotLow]; odds > 0 {
		out.Urgency = Normal
		out.Reasons = append(out.Reasons, intake.Reason{Rule: "learned",
			Text:  fmt.Sprintf("no rule explains it; its words are likelier in normal reports than in low ones (log-odds %.1f): next working day", odds),
			Words: read.words(normalNotLow)})
		return true
	}
	return false
}
