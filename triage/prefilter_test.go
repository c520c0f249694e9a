package triage

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestRequired(t *testing.T) {
	require.Equal(t, [][]string{{"gun", "guns"}}, required(`guns?`))
	require.Equal(t, [][]string{{"will ", "would "}, {"kill", "stab"}}, required(`(?:will|would) (?:\w+ )?(?:kill|stab)`))
	require.Equal(t, [][]string{{"000"}}, required(`\d{3}`), "digits gate as zeros")
	require.Nil(t, required(`\w+`), "nothing to gate on: always tried")
	require.Nil(t, required(`a|b`), "one-letter words gate nothing")
}

// The gate finds every literal in a text, also one inside or at the end of
// another ("he" in "ushers"), and reads every digit as 0: it marks a set
// exactly when a plain search finds one of its literals.
func TestGateMarksWhatContainsFinds(t *testing.T) {
	sets := [][]string{{"he", "she"}, {"his"}, {"hers"}, {"ushe"}, {"000"}, {"0 he", "is"}, {"rr"}}
	g := newGate(sets)
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		b := make([]byte, rnd.IntN(30))
		for i := range b {
			b[i] = "hesiru0 19"[rnd.IntN(10)]
		}
		text := string(b)
		got := make([]uint8, len(sets))
		g.mark(text, got)
		for s, lits := range sets {
			want := uint8(0)
			for _, l := range lits {
				if strings.Contains(digitsAsZero(text), l) {
					want = 1
				}
			}
			require.Equal(t, want, got[s], "set %q in %q", lits, text)
		}
	}
}

// The gate may let a pattern through that then does not match, never the
// other way round: over every report of the corpora, a pattern it held
// back finds nothing.
func TestGateHoldsBackOnlyWhatCannotMatch(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	tried, skipped := 0, 0
	for _, file := range []string{"testdata/corpus.jsonl", "testdata/heldout.jsonl"} {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l struct{ ID, Body string }
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
			text := r.normalize(l.Body)
			hit := r.hits(text)
			for p := range r.pats {
				if hit[p] == r.need[p] {
					tried++
					continue
				}
				skipped++
				require.False(t, r.scan(p).MatchString(text), "%s: pattern %s was held back but matches", l.ID, r.pats[p])
			}
		}
		f.Close()
	}
	require.Greater(t, skipped, 10*tried, "the gate should hold back most patterns")
}

// A pattern tried only where its first words start finds what scanning the
// whole report finds.
func TestAnchoredFindsWhatScanningFinds(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	texts := append([]string{"will kill will kill", "i will kill you, he will kill them", "x will kill y"},
		bodies(t, "testdata/corpus.jsonl", "testdata/heldout.jsonl")...)
	// findAnchored gives a bounded pattern only as much text as its
	// longest match: long words, accents and hostile strings test the bound.
	texts = append(texts, blns(t)...)
	for _, body := range bodies(t, "testdata/blind.jsonl") {
		texts = append(texts, strings.ReplaceAll(body, " a ", " ññññññññññññññññññññññ-aaaaaaaaaaaaaaaaaa_éé "))
	}
	anchored := 0
	for _, body := range texts {
		text := r.normalize(body)
		for p := range r.pats {
			if !r.anchorable(p) {
				continue
			}
			anchored++
			var want [][]int
			for _, loc := range r.scan(p).FindAllStringSubmatchIndex(text, -1) {
				want = append(want, loc[:4])
			}
			require.Equal(t, want, r.findAnchored(text, newWordStarts(text), p), "%q on %q", r.pats[p], text)
		}
	}
	require.Positive(t, anchored)
}

// findAnchored cuts the text a bounded pattern reads to its longest match
// and the rune after it ("\w+" counts as the text's longest word) and
// runs backtrack on it: it finds what scanning finds, at the bound too.
func TestAnchoredBoundFindsWhatScanningFinds(t *testing.T) {
	pats := []string{`ab\w+ c`, `ab(?: \w+){0,2} c`, `ab[\wé']+`, `abx{2,3}`, `ab(?:é|x)?`, `ab(?:[^ ]*)c`, `ab\w*`, `ab.{0,3}c`, `ab.*c`,
		`ab(?:\w+ ){1,2}c`, `ab(?:x|xé|é)(?:c|\b)`, `ab\bc?`, `ab(?i:k)`, `ab(?:[^a-z])`, `ab(?:x*)*c`, `ab(x)?(é)?`}
	yaml := "signals: {"
	for i, p := range pats {
		q, err := json.Marshal(p)
		require.NoError(t, err)
		yaml += fmt.Sprintf("s%d: {says: x, patterns: [%s]}, ", i, q)
	}
	r, err := ParseRules([]byte(yaml + "}"))
	require.NoError(t, err)
	rnd := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"ab", "ab", "a", "b", "c", "x", "é", "'", " ", " ", "-", "\xc3", "\xa9", "_", "ñ", "K", "k", "\u212a", "\ufffd"}
	for range 20000 {
		var b strings.Builder
		for range rnd.IntN(16) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		text := b.String()
		for p := range r.pats {
			require.NotNil(t, r.prefixes[p], r.pats[p])
			var want [][]int
			for _, loc := range r.scan(p).FindAllStringSubmatchIndex(text, -1) {
				want = append(want, loc[:4])
			}
			require.Equal(t, want, r.findAnchored(text, newWordStarts(text), p), "%q on %q", r.pats[p], text)
		}
	}
}

// backtrack finds what Go's regexp finds, for every pattern the gate lets
// through, at every word start of every report of the labelled sets and
// of hostile strings, on the text cut to the pattern's span as
// findAnchored cuts it or not cut at all.
func TestBacktrackFindsWhatRegexpFinds(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	texts := blns(t)
	for _, set := range []string{"corpus", "heldout", "blind", "fresh", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6", "fresh7", "fresh8"} {
		texts = append(texts, bodies(t, "testdata/"+set+".jsonl")...)
	}
	calls, matched := 0, 0
	for _, body := range texts {
		text := r.normalize(body)
		hit := r.hits(text)
		ws := newWordStarts(text)
		for p := range r.pats {
			if hit[p] != r.need[p] || !r.anchorable(p) {
				continue
			}
			re, prog := r.anchored(p), r.anchoredProg(p)
			require.NotNil(t, prog, r.pats[p])
			limit := len(text)
			if sp := r.spans[p]; sp.known() {
				limit = sp.bytes(ws.run) + utf8.UTFMax
			}
			for _, s := range ws.at {
				want := re.FindStringSubmatchIndex(text[s:])
				for _, in := range []string{text[s:], text[s:min(len(text), int(s)+limit)]} {
					loc, ok := backtrack(prog, in)
					calls++
					if want == nil {
						require.False(t, ok, "%q on %q", r.pats[p], in)
						continue
					}
					matched++
					require.True(t, ok, "%q on %q", r.pats[p], in)
					require.Equal(t, want[:4], loc[:], "%q on %q", r.pats[p], in)
				}
			}
		}
	}
	require.Greater(t, matched, 1000)
	t.Logf("%d calls, %d matched", calls, matched)
}

// The regexps are compiled when first tried, so what would make one fail
// must fail ParseRules instead: a pattern that parses as written but not
// once folded ("[Z-a]" reads "[z-a]", "(?P<Who>" reads "(?p<who>"), or
// not inside the word boundaries (an unclosed \Q swallows them).
func TestParseRulesRejectsWhatCouldNotCompileLater(t *testing.T) {
	for p, want := range map[string]string{
		`[Z-a]`:               "invalid character class range: `z-a`",
		`(?P<Who>he|she) ran`: "invalid or unsupported Perl syntax: `(?p`",
		`\Qa.b`:               "missing closing ): `(?:^|[^\\p{L}\\p{N}_])(\\Qa.b)(?:$|[^\\p{L}\\p{N}_])`",
	} {
		_, err := ParseRules([]byte("signals: {a: {says: x, patterns: ['" + p + "']}}"))
		require.ErrorContains(t, err, want, "pattern %s", p)
	}
	r, err := ParseRules([]byte(`signals: {a: {says: x, patterns: ['\Qa.b\E']}}`))
	require.NoError(t, err)
	got := r.Rate(Input{Text: "she wrote a.b twice"})
	require.Equal(t, "a", got.Reasons[0].Rule, "a closed \\Q matches: got %+v", got.Reasons)
}

// Every regexp of the built-in rules compiles: none can panic when a
// report first needs it.
func TestEveryPatternCompiles(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	for p := range r.pats {
		require.NotNil(t, r.scan(p), r.pats[p])
		if r.anchorable(p) {
			require.NotNil(t, r.anchored(p), r.pats[p])
		}
	}
}

// Rules just built, rated from many goroutines at once (as the workers
// do), compile their regexps once and rate as rules rated one report at a
// time do. Run with -race.
func TestRateConcurrentFirstUse(t *testing.T) {
	texts := bodies(t, "testdata/corpus.jsonl")
	serial, err := DefaultRules()
	require.NoError(t, err)
	want := make([]Rating, len(texts))
	for i, text := range texts {
		want[i] = serial.Rate(Input{Text: text})
	}
	shared, err := DefaultRules()
	require.NoError(t, err)
	got := make([]Rating, len(texts))
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < len(texts); i += 8 {
				got[i] = shared.Rate(Input{Text: texts[i]})
			}
		})
	}
	wg.Wait()
	for i := range texts {
		require.Equal(t, want[i], got[i], "report %d", i)
	}
}

// bodies reads the report texts of labelled JSON-lines files.
func bodies(t *testing.T, files ...string) []string {
	t.Helper()
	var texts []string
	for _, file := range files {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l struct{ Body string }
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
			texts = append(texts, l.Body)
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return texts
}
