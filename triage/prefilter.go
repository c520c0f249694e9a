package triage

import (
	"math/bits"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Rating a report must cost microseconds, not milliseconds: the workers
// drain thousands of reports a second. Go's regular expressions are
// linear-time but slow on long alternations, and most of the rules' several
// hundred patterns cannot match most reports. So each pattern is compiled
// on its own (small programs run on Go's fast backtracker), and each is
// tried only when the report contains a word the pattern cannot match
// without ("gun" for "bring(ing)? a gun"). One pass of an Aho-Corasick
// automaton over the report finds those words for every pattern at once.

// minLiteral is the shortest word worth gating a pattern on: "a" or "he" is
// in every report and saves nothing.
const minLiteral = 2

// maxLiterals bounds one pattern's gate: a pattern that can start with
// any of hundreds of words is cheaper to try than to gate.
const maxLiterals = 256

// maxPrefixes bounds the words a pattern is anchored at: each is looked for
// in the report.
const maxPrefixes = 256

// longPrefix is how long a pattern's first words must be to be looked
// for alone. "pushed " is rare enough: trying the anchored regexp where it
// starts costs less than looking for all of "pushed (him|her|me|them)
// (into|down)", one pass over the report per word.
const longPrefix = 4

// required returns sets of strings such that every match of the pattern
// contains one string of each set: for "{intend} {hurt} {target}", the
// ways to say "will", the ways to say "kill" and the targets. No sets means
// nothing worth checking for (the pattern is then always tried). The
// pattern is matched on folded, lower-case text and written in lower case,
// so literals are compared as they are.
func required(pattern string) [][]string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return requiredOf(simplified(re))
}

// simplified is the syntax tree requiredOf and prefixes read: simplified,
// outer groups taken off. compile parses a pattern once for both.
func simplified(re *syntax.Regexp) *syntax.Regexp {
	if re == nil {
		return nil
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	return re
}

// requiredOf is required of a simplified pattern. It only reads the tree.
func requiredOf(re *syntax.Regexp) [][]string {
	if re == nil {
		return nil
	}
	var out [][]string
	keep := func(set []string) {
		if len(set) > 0 && len(set) <= maxLiterals && shortest(set) >= minLiteral {
			out = append(out, set)
		}
	}
	if re.Op != syntax.OpConcat {
		set, _ := literals(re)
		keep(set)
		return out
	}
	// Each part of a sequence is required: runs of exact parts as the
	// words they multiply into, the others by their own literals.
	run := []string{""}
	for _, sub := range re.Sub {
		set, exact := literals(sub)
		if exact && len(run)*len(set) <= maxLiterals {
			run = product(run, set)
			continue
		}
		keep(run)
		run = []string{""}
		keep(set)
	}
	keep(run)
	return out
}

// prefixes returns the words every match of a pattern (as simplified
// returns it) starts with ("will ", "would " for "(?:will|would) kill"),
// or nil when they are not few and long enough to look for.
func prefixes(re *syntax.Regexp) []string {
	if re == nil {
		return nil
	}
	subs := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		subs = re.Sub
	}
	run := []string{""}
	for _, sub := range subs {
		set, exact := literals(sub)
		if !exact {
			// Every match of this part starts with one of its own
			// starts: the pattern's starts end with them.
			if starts := startsOf(sub); starts != nil && len(run)*len(starts) <= maxPrefixes {
				run = product(run, starts)
			}
			break
		}
		if len(run)*len(set) > maxPrefixes {
			break
		}
		// run stays exact, every way the pattern can start so far, so
		// that the next part multiplies it right; it is cut to the
		// shortest words only when it is returned.
		next := product(run, set)
		if shortest(run) >= longPrefix && len(shortestPrefixes(next)) > len(shortestPrefixes(run)) {
			break
		}
		run = next
	}
	if shortest(run) < minLiteral || len(run) > maxPrefixes {
		return nil
	}
	for _, w := range run {
		if strings.ContainsAny(w, "0123456789") { // the gate's zeros are not the text's digits
			return nil
		}
	}
	return shortestPrefixes(run)
}

// startsOf returns words every match of re starts with, or nil: for
// "(?:buying|asking (?:if|for)(?: \w+){0,4})", "buying", "asking if",
// "asking for". Where a part is not exactly its words it stops there.
func startsOf(re *syntax.Regexp) []string {
	if set, exact := literals(re); exact {
		return set
	}
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return startsOf(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return startsOf(re.Sub[0])
		}
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := startsOf(sub)
			if s == nil || len(out)+len(s) > maxPrefixes {
				return nil
			}
			out = union(out, s)
		}
		return out
	case syntax.OpConcat:
		run := []string{""}
		for _, sub := range re.Sub {
			set, exact := literals(sub)
			if !exact {
				set = startsOf(sub)
			}
			if set == nil || len(run)*len(set) > maxPrefixes {
				break
			}
			run = product(run, set)
			if !exact {
				break
			}
		}
		if shortest(run) == 0 {
			return nil
		}
		return run
	}
	return nil
}

// shortestPrefixes drops from a sorted set each word that starts with
// another of its words: wherever "taking my " starts, "taking " starts
// too, and the anchored regexp decides. "(?:taking|took) (?:my |his )?"
// is then looked for as 2 words, not 6; each costs a pass over the text.
func shortestPrefixes(sorted []string) []string {
	out := sorted[:0:0]
	for _, w := range sorted {
		if n := len(out); n > 0 && strings.HasPrefix(w, out[n-1]) {
			continue // sorted: the words that start with out[n-1] follow it
		}
		out = append(out, w)
	}
	return out
}

// byteSet is a set of bytes, one bit each.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c/64] |= 1 << (c % 64) }
func (s *byteSet) has(c byte) bool { return s[c/64]&(1<<(c%64)) != 0 }

// maxFirstBytes bounds the bytes a pattern without prefixes is anchored at:
// a pattern that can start with most letters is cheaper to scan for.
const maxFirstBytes = 12

// firstBytes returns the bytes every match of a pattern (as simplified
// returns it) starts with, or nil when they are not known or too many.
// A pattern with no prefixes ("(?:buying|got|took) (?:\w+ )?guns?") is
// then tried only where a word starts with one of them, anchored, as
// findAnchored does with prefixes: Go's unanchored search of a large
// pattern steps every thread of it over every byte of the report.
func firstBytes(re *syntax.Regexp) *byteSet {
	if re == nil {
		return nil
	}
	var set byteSet
	if canBeEmpty, ok := addFirstBytes(re, &set); !ok || canBeEmpty {
		return nil
	}
	n := 0
	for _, w := range set {
		n += bits.OnesCount64(w)
	}
	if n > maxFirstBytes {
		return nil
	}
	return &set
}

// addFirstBytes adds to set the bytes a match of re can start with. It
// tells whether re can match the empty string, in which case what follows
// re can start a match too, and whether it knew re's bytes at all.
func addFirstBytes(re *syntax.Regexp, set *byteSet) (canBeEmpty, ok bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return true, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(re.Rune) == 0 {
			return false, false
		}
		var b [utf8.UTFMax]byte
		utf8.EncodeRune(b[:], re.Rune[0])
		set.add(b[0])
		return false, true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			if re.Rune[i+1] >= utf8.RuneSelf || re.Rune[i+1]-re.Rune[i] >= maxFirstBytes {
				return false, false
			}
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				set.add(byte(c))
			}
		}
		return false, true
	case syntax.OpCapture:
		return addFirstBytes(re.Sub[0], set)
	case syntax.OpQuest, syntax.OpStar:
		_, ok := addFirstBytes(re.Sub[0], set)
		return true, ok
	case syntax.OpPlus:
		return addFirstBytes(re.Sub[0], set)
	case syntax.OpRepeat:
		empty, ok := addFirstBytes(re.Sub[0], set)
		return empty || re.Min == 0, ok
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			empty, ok := addFirstBytes(sub, set)
			if !ok {
				return false, false
			}
			canBeEmpty = canBeEmpty || empty
		}
		return canBeEmpty, true
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			empty, ok := addFirstBytes(sub, set)
			if !ok {
				return false, false
			}
			if !empty {
				return false, true
			}
		}
		return true, true
	}
	return false, false
}

// literals is required's walk of the syntax tree. It answers a set of
// strings one of which every match contains, nil for none ("no
// requirement"), and whether the node matches exactly the strings of the
// set and nothing else ("guns?" is exactly "gun" or "guns"), in which case
// a sequence of such nodes multiplies into longer words ("a gun", "the
// guns").
func literals(re *syntax.Regexp) (set []string, exact bool) {
	switch re.Op {
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{digitsAsZero(string(re.Rune))}, true
	case syntax.OpCharClass:
		// A few single letters ("[sz]") are exact, and so are digits: the
		// gate reads every digit as "0". Wider classes say nothing.
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for c := re.Rune[i]; c <= re.Rune[i+1]; c++ {
				if len(out) == 8 {
					return nil, false
				}
				l := string(c)
				if c >= '0' && c <= '9' {
					l = "0"
				}
				if !slices.Contains(out, l) {
					out = append(out, l)
				}
			}
		}
		return out, true
	case syntax.OpCapture:
		return literals(re.Sub[0])
	case syntax.OpQuest:
		if s, ok := literals(re.Sub[0]); ok {
			return union([]string{""}, s), true
		}
		return nil, false
	case syntax.OpPlus:
		s, _ := literals(re.Sub[0])
		return s, false
	case syntax.OpRepeat:
		if re.Min >= 1 {
			s, _ := literals(re.Sub[0])
			return s, false
		}
		return nil, false
	case syntax.OpAlternate:
		var out []string
		exact = true
		for _, sub := range re.Sub {
			s, ok := literals(sub)
			if s == nil || len(out)+len(s) > maxLiterals {
				return nil, false
			}
			exact = exact && ok
			out = union(out, s)
		}
		return out, exact
	case syntax.OpConcat:
		// Exact parts in a row multiply into longer words; of the runs and
		// the other parts, the one whose shortest word is longest gates
		// best.
		var best []string
		consider := func(s []string) {
			if s != nil && (best == nil || strength(s) > strength(best) ||
				strength(s) == strength(best) && len(s) < len(best)) {
				best = s
			}
		}
		run, allExact := []string{""}, true
		for _, sub := range re.Sub {
			s, ok := literals(sub)
			if ok && len(run)*len(s) <= maxLiterals {
				run = product(run, s)
				continue
			}
			allExact = false
			consider(run)
			run = []string{""}
			consider(s)
		}
		if allExact {
			return run, true
		}
		consider(run)
		return best, false
	}
	return nil, false
}

func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func union(a, b []string) []string {
	out := append(append([]string{}, a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// strength is how well a set of words gates: the length of its weakest
// word, where a word in nearly every report ("with", "the", "going to")
// is worth nothing.
func strength(set []string) int {
	n := -1
	for _, s := range set {
		l := len(s)
		if common[strings.TrimSpace(s)] {
			l = 0
		}
		if n < 0 || l < n {
			n = l
		}
	}
	return n
}

var common = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the is are was were be been with w has have had got get to in on at of
		and or i he she they you we it his her their my your our will would going going to want to that this
		for from about not no so just like all some what when where who there then him them me us`) {
		common[w] = true
	}
}

// digitsAsZero is how the gate reads digits: all alike, so that "\d{3}"
// gates on "000".
func digitsAsZero(s string) string {
	if !strings.ContainsAny(s, "123456789") {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= '1' && c <= '9' {
			b[i] = '0'
		}
	}
	return string(b)
}

func shortest(set []string) int {
	n := -1
	for _, s := range set {
		if n < 0 || len(s) < n {
			n = len(s)
		}
	}
	return n
}

// gate finds, in one pass over a text, which gated patterns may match it.
// It is an Aho-Corasick automaton over bytes, built once, read-only after.
type gate struct {
	class [256]uint8 // byte → symbol; 0 is any byte no literal has
	nsym  int
	next  []int32 // node*nsym + symbol → node, failures already followed
	// out[outAt[n]:outAt[n+1]] are the sets whose literals end at node n:
	// one flat list, not a slice per node, for the automaton's 100k+ nodes.
	outAt []int32
	out   []int32
	// report is, per node, the node itself if it has output, else the
	// nearest node on its failure chain that has; dict is the nearest
	// strictly on the chain. 0, the root, is none. Most nodes report
	// nothing, so the walk (Rules.tried) pays one look-up for them.
	report []int32
	dict   []int32
}

// newGate builds the automaton; pats[i] are the literals of pattern i.
//
// The dense transition table is megabytes, so it is allocated once, at its
// final size: the trie is first built with a list of children per node,
// which also gives the node count. A node's row is then its failure
// node's row (complete, being shallower) with its own children written
// over it.
func newGate(pats [][]string) *gate {
	g := &gate{nsym: 1}
	g.class['0'] = uint8(g.nsym)
	g.nsym++
	for c := '1'; c <= '9'; c++ {
		g.class[c] = g.class['0']
	}
	for _, lits := range pats {
		for _, l := range lits {
			for i := 0; i < len(l); i++ {
				if g.class[l[i]] == 0 {
					g.class[l[i]] = uint8(g.nsym)
					g.nsym++
				}
			}
		}
	}
	// The trie, nodes numbered in the order they are made, root 0. A
	// node's children are a linked list: first child, next sibling.
	var (
		first   = []int32{0}
		sibling = []int32{0}
		sym     = []uint8{0}  // the symbol on the edge into the node
		last    = []int32{-1} // the last set recorded at the node
		ends    []int32       // node, set: pairs of a literal's end
	)
	for p, lits := range pats {
		for _, l := range lits {
			n := int32(0)
			for i := 0; i < len(l); i++ {
				s := g.class[l[i]]
				c := first[n]
				for c != 0 && sym[c] != s {
					c = sibling[c]
				}
				if c == 0 {
					c = int32(len(sym))
					first = append(first, 0)
					sibling = append(sibling, first[n])
					sym = append(sym, s)
					last = append(last, -1)
					first[n] = c
				}
				n = c
			}
			// Sets come in order, so a set already recorded here is the last.
			if last[n] != int32(p) {
				last[n] = int32(p)
				ends = append(ends, n, int32(p))
			}
		}
	}
	nodes := len(sym)
	g.outAt = make([]int32, nodes+1)
	for i := 0; i < len(ends); i += 2 {
		g.outAt[ends[i]+1]++
	}
	for n := range nodes {
		g.outAt[n+1] += g.outAt[n]
	}
	g.out = make([]int32, len(ends)/2)
	fill := slices.Clone(g.outAt[:nodes])
	for i := 0; i < len(ends); i += 2 {
		g.out[fill[ends[i]]] = ends[i+1]
		fill[ends[i]]++
	}
	// Failure links, breadth first, folded into the transition table.
	g.next = make([]int32, nodes*g.nsym)
	fail := make([]int32, nodes)
	g.dict = make([]int32, nodes)
	queue := make([]int32, 1, nodes)
	for head := 0; head < len(queue); head++ {
		n := queue[head]
		row := g.next[int(n)*g.nsym : int(n+1)*g.nsym]
		if n != 0 {
			copy(row, g.next[int(fail[n])*g.nsym:int(fail[n]+1)*g.nsym])
		}
		for c := first[n]; c != 0; c = sibling[c] {
			f := row[sym[c]] // the failure node's move on this symbol
			row[sym[c]] = c
			fail[c] = f
			if g.outAt[f+1] > g.outAt[f] {
				g.dict[c] = f
			} else {
				g.dict[c] = g.dict[f]
			}
			queue = append(queue, c)
		}
	}
	g.report = make([]int32, nodes)
	for n := range nodes {
		if g.outAt[n+1] > g.outAt[n] {
			g.report[n] = int32(n)
		} else {
			g.report[n] = g.dict[n]
		}
	}
	return g
}
