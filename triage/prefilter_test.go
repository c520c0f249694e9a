package triage

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRequired(t *testing.T) {
	require.Equal(t, [][]string{{"gun", "guns"}}, required(`guns?`))
	require.Equal(t, [][]string{{"will ", "would "}, {"kill", "stab"}}, required(`(?:will|would) (?:\w+ )?(?:kill|stab)`))
	require.Equal(t, [][]string{{"000"}}, required(`\d{3}`), "digits gate as zeros")
	require.Nil(t, required(`\w+`), "nothing to gate on: always tried")
	require.Nil(t, required(`a|b`), "one-letter words gate nothing")
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
			for p, re := range r.pats {
				if hit[p] == r.need[p] {
					tried++
					continue
				}
				skipped++
				require.False(t, re.MatchString(text), "%s: pattern %s was held back but matches", l.ID, re)
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
	texts := []string{"will kill will kill", "i will kill you, he will kill them", "x will kill y"}
	for _, file := range []string{"testdata/corpus.jsonl", "testdata/heldout.jsonl"} {
		f, err := os.Open(file)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var l struct{ Body string }
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l))
			texts = append(texts, l.Body)
		}
		f.Close()
	}
	anchored := 0
	for _, body := range texts {
		text := r.normalize(body)
		for p := range r.pats {
			if r.anchored[p] == nil {
				continue
			}
			anchored++
			var want [][]int
			for _, loc := range r.pats[p].FindAllStringSubmatchIndex(text, -1) {
				want = append(want, loc[:4])
			}
			require.Equal(t, want, r.findAnchored(text, p), "%q on %q", r.pats[p], text)
		}
	}
	require.Positive(t, anchored)
}
