package triage_test

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"

	"github.com/tipline/tipline/triage"
)

// BenchmarkRate is the cost of rating one report with the built-in rules,
// over the reports of the development corpus in turn.
func BenchmarkRate(b *testing.B) {
	r, err := triage.DefaultRules()
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open("testdata/corpus.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var inputs []triage.Input
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l struct {
			Category string `json:"category"`
			Body     string `json:"body"`
			Danger   bool   `json:"danger"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, triage.Input{Text: l.Body, Category: l.Category, Danger: l.Danger})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		r.Rate(inputs[i%len(inputs)])
	}
}
