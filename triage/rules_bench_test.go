package triage_test

import (
	"bufio"
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/tipline/tipline/triage"
)

// BenchmarkRate is the cost of rating one report with the built-in rules,
// over the reports of the development corpus in turn. Run it with
// GOMAXPROCS=1 (-cpu 1) so that cpu-µs/op is one core's time per report.
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
	// Each pattern's regexps are compiled the first time a report needs
	// them: rate every report once first, so that what is timed is the
	// steady state of a worker, not the compiling.
	for _, in := range inputs {
		r.Rate(in)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for i := range b.N {
		r.Rate(inputs[i%len(inputs)])
	}
	// CPU time, beside ns/op: on a machine shared with other work, wall
	// time counts the waits for a core too.
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// intakeReport is a report as the intake benchmark sends it: the body,
// then the place and the time the reporter gave, a line each.
const intakeReport = "Two 8th graders keep taking a smaller kid's lunch money by the bike racks before first period, and yesterday they pushed him into the fence. He is scared to tell anyone.\nbike racks\nmost mornings"

// BenchmarkRateIntakeReport is the cost of rating one typical report on
// the web request path, where Rate picks the report's queue.
func BenchmarkRateIntakeReport(b *testing.B) {
	r, err := triage.DefaultRules()
	if err != nil {
		b.Fatal(err)
	}
	in := triage.Input{Text: intakeReport, Category: "bullying"}
	r.Rate(in) // compile the regexps it needs, as a running server has
	b.ReportAllocs()
	b.ResetTimer()
	start := cpuTime()
	for range b.N {
		r.Rate(in)
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// BenchmarkParseRules is the cost of building the built-in rules, paid
// at every process start (the web server, each worker, each CLI command).
func BenchmarkParseRules(b *testing.B) {
	b.ReportAllocs()
	start := cpuTime()
	for range b.N {
		if _, err := triage.DefaultRules(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-µs/op")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
