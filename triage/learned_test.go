package triage_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/triage"
)

// TestLearnedIsTheNamedSetsCounted: the learned.tsv built in is exactly
// what `make learn` makes from the sets it names, so the counts cannot
// drift from their sources, and it names neither set its figures are
// measured on.
func TestLearnedIsTheNamedSetsCounted(t *testing.T) {
	embedded, err := os.ReadFile("learned.tsv")
	require.NoError(t, err)
	l, err := triage.DefaultLearned()
	require.NoError(t, err)
	require.NotEmpty(t, l.From)
	require.NotContains(t, l.From, "fresh12.jsonl")
	require.NotContains(t, l.From, "fresh13.jsonl")
	var reports []triage.LabelledTip
	for _, name := range l.From {
		f, err := os.Open(filepath.Join("testdata", name))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var line struct {
				Body, Location, When string
				Want                 struct{ Urgency triage.Urgency }
			}
			require.NoError(t, json.Unmarshal(sc.Bytes(), &line))
			reports = append(reports, triage.LabelledTip{
				Tip:     &intake.Tip{Body: line.Body, Location: line.Location, When: line.When},
				Urgency: line.Want.Urgency,
			})
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	var again bytes.Buffer
	require.NoError(t, triage.Learn(&again, l.From, reports))
	require.True(t, bytes.Equal(embedded, again.Bytes()), "learned.tsv is not what make learn makes from the sets it names: run make learn")
}

// learnedRules know only "routine": whatever else a report says, the
// learned counts are its only other reader.
const learnedRules = `
signals:
  routine:
    says: a question or feedback
    patterns: ['can someone', 'vending machine']
  rifle:
    says: a rifle
    patterns: ['rifle']
levels:
  - {urgency: high, any: [rifle]}
  - {urgency: low, any: [routine]}
learned:
  margin: 6
  margin_over_rules: 14
  margin_to_critical: 20
  not_with: [routine]
`

func TestLearnedRaisesWhatNoRuleExplains(t *testing.T) {
	r, err := triage.ParseRules([]byte(learnedRules))
	require.NoError(t, err)

	// Grooming in words no rule here knows: raised to high, never higher,
	// with the words that weighed most as its reason.
	got := r.Rate(triage.Input{Text: "Mr. Dale the band teacher keeps texting a girl in my class late at night and told her not to tell her parents"})
	require.Equal(t, triage.High, got.Urgency)
	reason := got.Reasons[len(got.Reasons)-1]
	require.Equal(t, "learned", reason.Rule)
	require.Contains(t, reason.Text, "paged")
	words := strings.Split(reason.Words, ", ")
	require.NotEmpty(t, words)
	require.LessOrEqual(t, len(words), 5)
	for _, w := range words {
		require.Contains(t, strings.ToLower(got.Reasons[len(got.Reasons)-1].Words), w)
	}

	// The counts alone raise a report no further than high: here no
	// rule knows a word of this threat.
	threat := r.Rate(triage.Input{Text: "he said he is going to shoot up the school tomorrow with his dad's gun"})
	require.Equal(t, triage.High, threat.Urgency)
	require.Equal(t, "learned", threat.Reasons[len(threat.Reasons)-1].Rule)

	// A concern a rule found (a rifle: high) is raised to critical when its
	// words are far likelier in critical reports than in high ones...
	critical := r.Rate(triage.Input{Text: "he has his dad's rifle in his car in the parking lot right now and said he is going to shoot up the school at lunch today"})
	require.Equal(t, triage.Critical, critical.Urgency)
	require.Equal(t, "rifle", critical.Reasons[0].Rule, "the rule's reason stands")
	require.Equal(t, "learned", critical.Reasons[len(critical.Reasons)-1].Rule)
	require.Contains(t, critical.Reasons[len(critical.Reasons)-1].Text, "critical")
	// ...and stays high when they are not.
	hunting := r.Rate(triage.Input{Text: "my uncle keeps a rifle locked in a gun safe for deer season"})
	require.Equal(t, triage.High, hunting.Urgency)
	require.Len(t, hunting.Reasons, 1)

	// What the rules call routine stays as the rules rated it, whatever
	// its other words.
	routine := r.Rate(triage.Input{Text: "can someone fix the vending machine, it keeps eating my money and I want to kill it"})
	require.Equal(t, triage.Low, routine.Urgency)
	for _, reason := range routine.Reasons {
		require.NotEqual(t, "learned", reason.Rule)
	}

	// A complaint in words of routine reports is not raised to high.
	wifi := r.Rate(triage.Input{Text: "the wifi in the library has been down all week and the printers are out of paper"})
	require.NotEqual(t, triage.High, wifi.Urgency)
	require.NotEqual(t, triage.Critical, wifi.Urgency)
}

func TestLearnedOffWithoutItsSection(t *testing.T) {
	r, err := triage.ParseRules([]byte(strings.Replace(learnedRules, "learned:\n  margin: 6\n  margin_over_rules: 14\n  margin_to_critical: 20\n  not_with: [routine]\n", "", 1)))
	require.NoError(t, err)
	got := r.Rate(triage.Input{Text: "Mr. Dale the band teacher keeps texting a girl in my class late at night and told her not to tell her parents"})
	require.Equal(t, triage.Low, got.Urgency)
	require.Equal(t, "none", got.Reasons[len(got.Reasons)-1].Rule)
}

func TestParseLearnedRejectsMistakes(t *testing.T) {
	for name, src := range map[string]string{
		"no totals":      "gun\t1\t2\t0\t0\n",
		"a level empty":  "*\t1\t1\t0\t1\ngun\t1\t0\t0\t0\n",
		"too few counts": "*\t1\t1\t1\t1\ngun\t1\t0\t0\n",
		"not a count":    "*\t1\t1\t1\t1\ngun\t1\tx\t0\t0\n",
		"negative count": "*\t1\t1\t1\t1\ngun\t1\t-1\t0\t0\n",
	} {
		_, err := triage.ParseLearned([]byte(src))
		require.Error(t, err, name)
	}
}
