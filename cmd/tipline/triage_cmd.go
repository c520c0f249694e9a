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

	ctx := context.Background()
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	out := json.NewEncoder(stdout)
	var last time.Time
	var labelled []triage.Labelled
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l triageLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if l.ID == "" {
			return fmt.Errorf("line %d: id is required", n)
		}
		// The in-process Redis keeps its own clock: move it to each
		// report's arrival, so cluster windows behave as they did live.
		if !l.ReceivedAt.IsZero() {
			if !last.IsZero() && l.ReceivedAt.After(last) {
				mr.FastForward(l.ReceivedAt.Sub(last))
			}
			last = l.ReceivedAt
		}
		t := l.tip()
		r, err := tr.Triage(ctx, t)
		if err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		if *eval {
			if l.Want == nil {
				return fmt.Errorf("line %d: -eval needs a \"want\" label", n)
			}
			labelled = append(labelled, triage.Labelled{Result: r, WantUrgency: l.Want.Urgency, WantCategory: l.Want.Category, Incident: l.Want.Incident})
			continue
		}
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if *eval {
		triage.Score(labelled).Print(stdout)
		if slices.Contains(rules.LearnedFrom(), filepath.Base(*file)) {
			fmt.Fprintf(stdout, "\nnote: learned.tsv counted %s: these figures are not of unseen reports\n", filepath.Base(*file))
		}
	}
	return nil
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
		b, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		for n, line := range bytes.Split(b, []byte("\n")) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			var l triageLine
			if err := json.Unmarshal(line, &l); err != nil {
				return fmt.Errorf("%s: line %d: %w", name, n+1, err)
			}
			if l.Want == nil {
				return fmt.Errorf("%s: line %d: -learn needs a \"want\" label", name, n+1)
			}
			reports = append(reports, triage.LabelledTip{Tip: l.tip(), Urgency: l.Want.Urgency})
		}
		from = append(from, filepath.Base(name))
	}
	return triage.Learn(stdout, from, reports)
}
