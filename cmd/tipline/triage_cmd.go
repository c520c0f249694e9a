package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/intake"
	"github.com/tipline/tipline/triage"
)

// triageLine is one input report of `tipline triage -f`.
type triageLine struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Channel    string    `json:"channel"`
	Org        string    `json:"org"`
	Category   string    `json:"category"`
	Body       string    `json:"body"`
	Location   string    `json:"location"` // optional, as the JSON API takes them
	When       string    `json:"when"`
	Danger     bool      `json:"danger"`
	// Want is a reviewer's label, for -eval; other runs ignore it.
	Want *struct {
		Urgency  triage.Urgency `json:"urgency"`
		Category string         `json:"category"`
		Incident string         `json:"incident"`
	} `json:"want"`
}

// triageCommand runs reports through exactly the triager the workers use,
// with an in-process Redis for clusters, so a team can try its config
// before going live, like `amtool config routes test`.
func triageCommand(args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("triage", flag.ContinueOnError)
	file := fs.String("f", "", "JSON-lines reports to triage (- for stdin)")
	eval := fs.Bool("eval", false, "score the results against each line's \"want\" label instead of printing them")
	learn := fs.Bool("learn", false, "count the labelled reports of the files named after the flags and print learned.tsv")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *learn {
		return learnCommand(fs.Args(), stdout)
	}
	if *file == "" {
		return fmt.Errorf("usage: tipline triage -f FILE (- for stdin)")
	}
	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	cfg, err := loadConfig(getenv("TIPLINE_CONFIG"))
	if err != nil {
		return err
	}
	rules, err := cfg.rules()
	if err != nil {
		return err
	}
	router, err := cfg.router()
	if err != nil {
		return err
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return err
	}
	defer mr.Close()
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer rdb.Close()
	tr := triage.NewTriager(rules, triage.NewClusters(rdb, 72*time.Hour), router)

	lines, err := readReports(in, *eval)
	if err != nil {
		return err
	}
	// Live, reports reach triage in the order they arrive, and clusters
	// keep a window after each: so they are triaged in order of arrival
	// (a set written or shuffled out of order would otherwise move the
	// in-process Redis's clock back and forth and expire every cluster),
	// and printed in the order given.
	order := make([]int, len(lines))
	for i := range order {
		order[i] = i
	}
	if !slices.ContainsFunc(lines, func(l numbered) bool { return l.ReceivedAt.IsZero() }) {
		slices.SortStableFunc(order, func(a, b int) int { return lines[a].ReceivedAt.Compare(lines[b].ReceivedAt) })
	}
	ctx := context.Background()
	results := make([]triage.Result, len(lines))
	var last time.Time
	for _, i := range order {
		l := &lines[i]
		// The in-process Redis keeps its own clock: move it to each
		// report's arrival, so cluster windows behave as they did live.
		if !l.ReceivedAt.IsZero() {
			if !last.IsZero() && l.ReceivedAt.After(last) {
				mr.FastForward(l.ReceivedAt.Sub(last))
			}
			last = l.ReceivedAt
		}
		if results[i], err = tr.Triage(ctx, l.tip()); err != nil {
			return fmt.Errorf("line %d: %w", l.n, err)
		}
	}
	if !*eval {
		out := json.NewEncoder(stdout)
		for _, r := range results {
			if err := out.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	labelled := make([]triage.Labelled, len(lines))
	for i, l := range lines {
		labelled[i] = triage.Labelled{Result: results[i], WantUrgency: l.Want.Urgency, WantCategory: l.Want.Category, Incident: l.Want.Incident}
	}
	triage.Score(labelled).Print(stdout)
	if slices.Contains(rules.LearnedFrom(), filepath.Base(*file)) {
		fmt.Fprintf(stdout, "\nnote: learned.tsv counted %s: these figures are not of unseen reports\n", filepath.Base(*file))
	}
	return nil
}

// numbered is a report and its line number, for errors.
type numbered struct {
	triageLine
	n int
}

// readReports reads JSON-lines reports, each with an id and, when labelled
// is set, a "want" label. Blank lines are skipped.
func readReports(in io.Reader, labelled bool) ([]numbered, error) {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []numbered
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		l := numbered{n: n}
		if err := json.Unmarshal(sc.Bytes(), &l.triageLine); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if l.ID == "" {
			return nil, fmt.Errorf("line %d: id is required", n)
		}
		if labelled && l.Want == nil {
			return nil, fmt.Errorf("line %d: needs a \"want\" label", n)
		}
		out = append(out, l)
	}
	return out, sc.Err()
}

// tip is the report as intake would have stored it.
func (l *triageLine) tip() *intake.Tip {
	return &intake.Tip{ID: l.ID, ReceivedAt: l.ReceivedAt, Channel: intake.Channel(l.Channel),
		Org: l.Org, Category: l.Category, Body: l.Body, Location: l.Location, When: l.When, Danger: l.Danger}
}

// learnCommand counts labelled sets into learned.tsv (see triage.Learn).
func learnCommand(files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return fmt.Errorf("usage: tipline triage -learn FILE...")
	}
	var reports []triage.LabelledTip
	var from []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		lines, err := readReports(f, true)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, l := range lines {
			reports = append(reports, triage.LabelledTip{Tip: l.tip(), Urgency: l.Want.Urgency})
		}
		from = append(from, filepath.Base(name))
	}
	return triage.Learn(stdout, from, reports)
}
