package triage

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// The fast paths of normalize and newWordStarts (ASCII read byte by byte)
// give what the plain versions they replaced give, on the labelled sets,
// on hostile strings and on random mixes of ASCII, accents, spaces,
// quotes and broken UTF-8.
func TestFastPathsMatchPlainVersions(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	texts := append(bodies(t, "testdata/corpus.jsonl", "testdata/heldout.jsonl", "testdata/blind.jsonl"), blns(t)...)
	rnd := rand.New(rand.NewPCG(3, 4))
	pieces := []string{"a", "Z", "é", "e\u0301", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u0085", "'", "\"", "“", "”", "«", "»", "\u2019",
		"`", ".", ",", "@", "_", "1", "sucide", "rn", "knif", "kill", "gun", "\xc3", "\xa9", "\xff", "ñ", "ß", "İ", "K", "x", "'em", "don't"}
	for range 20000 {
		var b strings.Builder
		for range rnd.IntN(12) {
			b.WriteString(pieces[rnd.IntN(len(pieces))])
		}
		texts = append(texts, b.String())
	}
	for _, text := range texts {
		got := r.normalize(text)
		require.Equal(t, r.plainNormalize(text), got, "normalize %q", text)
		for _, s := range []string{text, got} {
			want, got := plainWordStarts(s), newWordStarts(s)
			require.Equal(t, want.from, got.from, "word starts of %q", s)
			require.Equal(t, want.at, append([]int32{}, got.at...), "word starts of %q", s)
		}
	}
}

// Rating never panics, whatever the text: every string of the Big List of
// Naughty Strings is rated.
func TestRateHostileStrings(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	for _, s := range blns(t) {
		for _, text := range []string{s, "he said " + s + " he will bring a gun tomorrow", s + " " + s} {
			got := r.Rate(Input{Text: text})
			require.NotEmpty(t, got.Urgency, "%q", text)
		}
	}
}

// blns reads the Big List of Naughty Strings.
func blns(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../web/testdata/blns.json")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	require.NoError(t, json.Unmarshal(raw, &out))
	require.Greater(t, len(out), 500)
	return out
}

// plainNormalize is normalize as it was before its ASCII fast paths.
func (r *Rules) plainNormalize(text string) string {
	words := strings.FieldsFunc(fold(text), func(c rune) bool {
		return unicode.IsSpace(c)
	})
	var buf []byte
	for i, w := range words {
		w = unquote(w)
		words[i] = w
		core := strings.TrimFunc(w, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsNumber(c) && c != '@' && c != '_' })
		if core == "" {
			continue
		}
		fixed, ok := r.spelling[core]
		if !ok {
			fixed, ok = r.nearWord(core, &buf)
		}
		if ok {
			words[i] = strings.Replace(w, core, fixed, 1)
		}
	}
	return strings.Join(words, " ")
}

// plainWordStarts is newWordStarts as it was before its ASCII fast path.
func plainWordStarts(text string) *wordStarts {
	ws := &wordStarts{}
	var count [256]int32
	for i := 0; i < len(text); i++ {
		if i == 0 || !wordChar(text[:i]) {
			count[text[i]]++
		}
	}
	for c := range 256 {
		ws.from[c+1] = ws.from[c] + count[c]
	}
	ws.at = make([]int32, ws.from[256])
	next := ws.from
	for i := 0; i < len(text); i++ {
		if i == 0 || !wordChar(text[:i]) {
			ws.at[next[text[i]]] = int32(i)
			next[text[i]]++
		}
	}
	return ws
}

// The patterns Rate tries are those hits lets through, listed; each
// signal's patterns are consecutive, as matches looks them up; and the
// scratch memory is left clean for the next report.
func TestTriedIsWhatHitsLetsThrough(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	for _, ps := range append([][]int{r.hyperbole, r.harmless}, func() (out [][]int) {
		for _, s := range r.signals {
			out = append(out, s.pats)
		}
		return out
	}()...) {
		for i := 1; i < len(ps); i++ {
			require.Equal(t, ps[i-1]+1, ps[i])
		}
	}
	sc := r.getScratch()
	for _, body := range append(bodies(t, "testdata/corpus.jsonl", "testdata/heldout.jsonl"), blns(t)...) {
		text := r.normalize(body)
		hit := r.hits(text)
		var want []int32
		for p := range r.pats {
			if hit[p] == r.need[p] {
				want = append(want, int32(p))
			}
		}
		require.Equal(t, want, r.tried(text, sc), "%q", text)
		require.Equal(t, make([]uint8, len(r.lits)), sc.has)
		require.Equal(t, make([]uint8, len(r.pats)), sc.hit)
	}
}

// nearWord, which skips the look-ups its filter rules out, corrects what
// looking every candidate up corrects.
func TestNearWordFilterLosesNothing(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	plain := func(w string) (string, bool) {
		if len(w) < 5 || r.vocabulary[w] {
			return "", false
		}
		if v, ok := r.slips[w]; ok {
			return v, true
		}
		for i := 0; i < len(w) && len(w)-1 >= 5; i++ {
			if i == len(w)-1 && (w[i] == 's' || w[i] == 'd') {
				continue
			}
			if b := w[:i] + w[i+1:]; r.vocabulary[b] {
				return b, true
			}
		}
		return "", false
	}
	words := strings.Fields(strings.Join(append(bodies(t, "testdata/corpus.jsonl", "testdata/heldout.jsonl"), blns(t)...), " "))
	rnd := rand.New(rand.NewPCG(7, 8))
	for v := range r.vocabulary {
		for i := 0; i <= len(v); i++ {
			words = append(words, v[:i]+string(rune('a'+rnd.IntN(26)))+v[i:], v) // a letter too many
			if i < len(v) {
				words = append(words, v[:i]+v[i:i+1]+v[i:]) // doubled
			}
		}
	}
	var buf []byte
	corrected := 0
	for _, w := range words {
		w = fold(w)
		want, wantOK := plain(w)
		got, ok := r.nearWord(w, &buf)
		require.Equal(t, wantOK, ok, w)
		require.Equal(t, want, got, w)
		if ok {
			corrected++
		}
	}
	require.Greater(t, corrected, 100)
}

// The built-in rules' gate marks a literal set exactly when a plain search
// finds one of its words in the report, digits read as zeros.
func TestGateMarksWhatSearchingFinds(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	has := make([]uint8, len(r.lits))
	for _, body := range append(bodies(t, "testdata/corpus.jsonl")[:300], blns(t)[:200]...) {
		text := r.normalize(body)
		clear(has)
		r.gate.mark(text, has)
		zeros := digitsAsZero(text)
		for set, lits := range r.lits {
			want := uint8(0)
			for _, l := range lits {
				if strings.Contains(zeros, l) {
					want = 1
					break
				}
			}
			require.Equal(t, want, has[set], "set %q in %q", lits, text)
		}
	}
}

// negatedAt, reading an ASCII clause's words back one at a time, says
// what negatedIn, splitting the clause into a list, says.
func TestNegatedAtMatchesPlainVersion(t *testing.T) {
	r, err := DefaultRules()
	require.NoError(t, err)
	plain := func(text string, i, reach int) bool {
		start := strings.LastIndexAny(text[:i], ".,;:!?()\"\n")
		return r.negatedIn(text[start+1:i], reach)
	}
	var texts []string
	for _, body := range append(bodies(t, "testdata/corpus.jsonl", "testdata/heldout.jsonl"), blns(t)...) {
		texts = append(texts, r.normalize(body))
	}
	var words []string
	for w := range r.negation {
		words = append(words, w)
	}
	for w := range r.notDenial {
		words = append(words, w)
	}
	for w := range r.clauseEnd {
		words = append(words, w)
	}
	for w := range r.filler {
		words = append(words, w)
	}
	words = append(words, "don't", "'not'", "isn't", "he", "gun", "'", "''", "--", "x1y", "Not", ",", ".", "é", "\xc3")
	rnd := rand.New(rand.NewPCG(9, 10))
	for range 3000 {
		var b strings.Builder
		for range rnd.IntN(10) {
			b.WriteString(words[rnd.IntN(len(words))])
			b.WriteString([]string{" ", " ", "  ", "-", "'"}[rnd.IntN(5)])
		}
		texts = append(texts, b.String())
	}
	denied := 0
	for _, text := range texts {
		for i := 0; i <= len(text); i++ {
			for _, reach := range []int{1, 3, 4} {
				want := plain(text, i, reach)
				require.Equal(t, want, r.negatedAt(text, i, reach), "%q at %d, reach %d", text, i, reach)
				if want {
					denied++
				}
			}
		}
	}
	require.Greater(t, denied, 1000)
}

// The plain walks that tried replaced, kept here as what it is checked
// against.

// mark sets hit[p] for every set p one of whose literals is in text.
func (g *gate) mark(text string, hit []uint8) {
	// Locals, so that writing hit does not reload the automaton per byte.
	class, next, nsym, report := &g.class, g.next, g.nsym, g.report
	n := int32(0)
	for i := 0; i < len(text); i++ {
		n = next[int(n)*nsym+int(class[text[i]])]
		for o := report[n]; o != 0; o = g.dict[o] {
			for _, p := range g.out[g.outAt[o]:g.outAt[o+1]] {
				hit[p] = 1
			}
		}
	}
}

// hits tells which patterns the gate lets through for this text: pattern
// p is tried when hit[p] reaches need[p], every one of its literal sets
// having a word in the text.
func (r *Rules) hits(text string) []uint8 {
	buf := make([]uint8, len(r.lits)+len(r.pats))
	has, hit := buf[:len(r.lits)], buf[len(r.lits):]
	r.gate.mark(text, has)
	for set, h := range has {
		if h != 0 {
			hit[r.setPat[set]]++
		}
	}
	return hit
}
