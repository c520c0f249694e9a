package triage

import (
	"fmt"
	"io"
	"sort"
)

// Labelled is triage's result for a report beside what a reviewer says it
// should have been.
type Labelled struct {
	Result
	WantUrgency  Urgency
	WantCategory string
	Incident     string // reports of the same incident share it
}

// Scores are the figures a team checks its rules by.
type Scores struct {
	Reports        int
	Correct        int     // urgency exactly right
	Accuracy       float64 // Correct / Reports
	Critical       int     // reports that should be critical
	CriticalFound  int
	CriticalRecall float64
	UnderTriage    int // critical or high rated normal or low
	OverTriage     int // low or normal rated critical
	CategoryRight  int
	// Pairwise clustering: a pair is two reports; it is "together" when
	// triage put them in one cluster, "same" when they are one incident.
	PairPrecision, PairRecall, PairF1 float64
	Confusion                         map[Urgency]map[Urgency]int // want → got
	Misses                            []Labelled                  // urgency wrong, most harmful first
}

// Score compares results with their labels.
func Score(items []Labelled) Scores {
	s := Scores{Reports: len(items), Confusion: map[Urgency]map[Urgency]int{}}
	for _, it := range items {
		if s.Confusion[it.WantUrgency] == nil {
			s.Confusion[it.WantUrgency] = map[Urgency]int{}
		}
		s.Confusion[it.WantUrgency][it.Urgency]++
		if it.Urgency == it.WantUrgency {
			s.Correct++
		} else {
			s.Misses = append(s.Misses, it)
		}
		if it.WantUrgency == Critical {
			s.Critical++
			if it.Urgency == Critical {
				s.CriticalFound++
			}
		}
		if it.WantUrgency.rank() >= High.rank() && it.Urgency.rank() <= Normal.rank() {
			s.UnderTriage++
		}
		if it.WantUrgency.rank() <= Normal.rank() && it.Urgency == Critical {
			s.OverTriage++
		}
		if it.Category == it.WantCategory {
			s.CategoryRight++
		}
	}
	s.Accuracy = ratio(s.Correct, s.Reports)
	s.CriticalRecall = ratio(s.CriticalFound, s.Critical)
	var together, same, both int
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			t := items[i].Cluster == items[j].Cluster
			m := items[i].Incident == items[j].Incident
			if t {
				together++
			}
			if m {
				same++
			}
			if t && m {
				both++
			}
		}
	}
	s.PairPrecision, s.PairRecall = ratio(both, together), ratio(both, same)
	if s.PairPrecision+s.PairRecall > 0 {
		s.PairF1 = 2 * s.PairPrecision * s.PairRecall / (s.PairPrecision + s.PairRecall)
	}
	// Under-triage first, then the largest gaps: what to look at first.
	sort.SliceStable(s.Misses, func(a, b int) bool {
		da := s.Misses[a].WantUrgency.rank() - s.Misses[a].Urgency.rank()
		db := s.Misses[b].WantUrgency.rank() - s.Misses[b].Urgency.rank()
		return da > db
	})
	return s
}

// ratio is n/d, or 1 when there is nothing to get wrong.
func ratio(n, d int) float64 {
	if d == 0 {
		return 1
	}
	return float64(n) / float64(d)
}

// Print writes the scores as a table a person can read, and the misses.
func (s Scores) Print(w io.Writer) {
	fmt.Fprintf(w, "reports                %d\n", s.Reports)
	fmt.Fprintf(w, "critical recall        %.3f  (%d of %d; target >= 0.95)\n", s.CriticalRecall, s.CriticalFound, s.Critical)
	fmt.Fprintf(w, "under-triage           %d  (critical or high rated normal or low; target 0)\n", s.UnderTriage)
	fmt.Fprintf(w, "over-triage            %d  (low or normal rated critical; target 0)\n", s.OverTriage)
	fmt.Fprintf(w, "accuracy               %.3f  (%d of %d; target >= 0.85)\n", s.Accuracy, s.Correct, s.Reports)
	fmt.Fprintf(w, "category accuracy      %.3f\n", ratio(s.CategoryRight, s.Reports))
	fmt.Fprintf(w, "cluster precision      %.3f\n", s.PairPrecision)
	fmt.Fprintf(w, "cluster recall         %.3f\n", s.PairRecall)
	fmt.Fprintf(w, "cluster F1             %.3f  (target >= 0.8)\n", s.PairF1)
	levels := []Urgency{Critical, High, Normal, Low}
	fmt.Fprintf(w, "\nwant \\ got  critical     high   normal      low\n")
	for _, want := range levels {
		fmt.Fprintf(w, "%-10s", want)
		for _, got := range levels {
			fmt.Fprintf(w, " %8d", s.Confusion[want][got])
		}
		fmt.Fprintln(w)
	}
	if len(s.Misses) > 0 {
		fmt.Fprintf(w, "\nmisses (want -> got):\n")
		for _, m := range s.Misses {
			fmt.Fprintf(w, "  %-8s %-8s -> %-8s", m.ID, m.WantUrgency, m.Urgency)
			for _, r := range m.Reasons {
				fmt.Fprintf(w, " [%s: %s]", r.Rule, r.Words)
			}
			fmt.Fprintln(w)
		}
	}
}
