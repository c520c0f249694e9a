package triage_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/tipline/tipline/triage"
)

func TestScore(t *testing.T) {
	item := func(id string, got, want triage.Urgency, cluster, incident string) triage.Labelled {
		return triage.Labelled{Result: triage.Result{ID: id, Urgency: got, Cluster: cluster, Category: "threat"},
			WantUrgency: want, WantCategory: "threat", Incident: incident}
	}
	s := triage.Score([]triage.Labelled{
		item("a", triage.Critical, triage.Critical, "c1", "i1"),
		item("b", triage.Critical, triage.Critical, "c1", "i1"),
		item("c", triage.Normal, triage.Critical, "c3", "i1"), // under-triage, and a missed pair
		item("d", triage.Critical, triage.Low, "c4", "i4"),    // over-triage
		item("e", triage.High, triage.High, "c4", "i5"),       // wrongly clustered with d
	})
	require.Equal(t, 5, s.Reports)
	require.Equal(t, 3, s.Correct)
	require.InDelta(t, 0.6, s.Accuracy, 1e-9)
	require.InDelta(t, 2.0/3, s.CriticalRecall, 1e-9)
	require.Equal(t, 1, s.UnderTriage)
	require.Equal(t, 1, s.OverTriage)
	// Pairs together: (a,b), (d,e). Same incident: (a,b), (a,c), (b,c).
	require.InDelta(t, 0.5, s.PairPrecision, 1e-9)
	require.InDelta(t, 1.0/3, s.PairRecall, 1e-9)
	require.InDelta(t, 0.4, s.PairF1, 1e-9)
	require.Equal(t, "c", s.Misses[0].ID, "under-triage is listed first")

	var out bytes.Buffer
	s.Print(&out)
	require.Contains(t, out.String(), "critical recall        0.667")
	require.Contains(t, out.String(), "cluster F1             0.400")
}
