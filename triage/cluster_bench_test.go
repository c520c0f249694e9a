package triage

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/tipline/tipline/internal/redistest"
)

// benchDB is the database the benchmarks fill: triage's own (the tests'),
// flushed before each load.
const benchDB = 2

// BenchmarkJoin measures one report's Join with 1 thousand and 1 million
// clusters already in Redis. All of them are in one organisation, the
// worst case: the index keys of common names, days, weapons and places are
// full, so every report meets the most candidates the bounds allow.
//
// The load writes what Join writes (the same records, from generated
// reports, each a cluster of its own), pipelined from several goroutines, and
// reports its time (load-s) and Redis's memory after it (redis-MB). Half
// the measured reports paraphrase one of the 1000 newest clusters (a viral
// incident's later reports), half are new incidents; joined is the share
// of paraphrases that joined the cluster they paraphrase.
//
//	go test ./triage -run '^$' -bench BenchmarkJoin -benchtime 20000x
func BenchmarkJoin(b *testing.B) {
	for _, n := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("clustered=%d", n), func(b *testing.B) { benchJoin(b, n) })
	}
}

func benchJoin(b *testing.B, n int) {
	if os.Getenv("REDIS_URL") != "" {
		b.Skip("fills and flushes a database: runs on the throwaway redis-server only (unset REDIS_URL)")
	}
	if n > 1000 && testing.Short() {
		b.Skip("loading a million clusters takes minutes; not with -short")
	}
	ctx := context.Background()
	rdb := redistest.New(b, benchDB) // flushed
	if err := rdb.Info(ctx, "memory").Err(); err != nil {
		b.Skipf("needs a redis-server, not the embedded store: %v", err)
	}
	b.Cleanup(func() { rdb.FlushDB(context.Background()) })
	c := NewClusters(rdb, 24*time.Hour)
	g := benchGen{}

	start := time.Now()
	if err := benchLoad(ctx, c, g, n); err != nil {
		b.Fatal(err)
	}
	loadTime := time.Since(start)
	memory := benchUsedMemory(ctx, rdb)

	var paraphrases, joined int
	for i := 0; b.Loop(); i++ {
		var text, want string
		if i%2 == 0 {
			target := n - 1 - (i*7919)%min(n, 1000)
			text, want = g.paraphrase(target, i/2/min(n, 1000)), benchID(target)
			paraphrases++
		} else {
			text = g.report(n + 1 + i)
		}
		got, err := c.Join(ctx, benchOrg, "q"+strconv.Itoa(i), text)
		if err != nil {
			b.Fatal(err)
		}
		if want != "" && got == want {
			joined++
		}
	}
	// Reported after the loop: b.Loop's first call drops metrics reported
	// before it.
	b.ReportMetric(float64(joined)/float64(max(paraphrases, 1)), "joined")
	b.ReportMetric(loadTime.Seconds(), "load-s")
	b.ReportMetric(float64(memory)/(1<<20), "redis-MB")
}

const benchOrg = "lincoln-high"

func benchID(i int) string { return fmt.Sprintf("c%08d", i) }

// benchLoad stores n clusters of one report each, as Join would have.
func benchLoad(ctx context.Context, c *Clusters, g benchGen, n int) error {
	const workers, batch = 4, 500
	base := time.Now().Add(-time.Duration(n) * time.Millisecond)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for lo := w * batch; lo < n; lo += workers * batch {
				w, idx, specsOf := newBatchWrite(), newOverlay(0), map[string]map[Specific]bool{}
				for i := lo; i < min(lo+batch, n); i++ {
					id := benchID(i)
					j := prepare(Report{Org: benchOrg, TipID: id, Body: g.report(i)})
					j.cluster = id
					at := base.Add(time.Duration(i) * time.Millisecond)
					w.join(&j, true, specsOf, at)
					idx.addReport(&j, at)
				}
				_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
					w.write(ctx, p, c.window)
					idx.write(ctx, p, c.window)
					w.writeTips(ctx, p, c.window)
					return nil
				})
				if err != nil {
					errs <- fmt.Errorf("load: %w", err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func benchUsedMemory(ctx context.Context, rdb *redis.Client) int64 {
	info, _ := rdb.Info(ctx, "memory").Result()
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// benchGen writes report i of a synthetic school, the same every time.
// Its pools give the index realistic fan-out: 2,000 first names and 5,000
// last names (a large school, and names repeat), about one account handle
// per two incidents, 400 rooms and 60 buses, the named places, days and
// weapons reporters use, and 20,000 less common words.
type benchGen struct{}

func (benchGen) rng(i int) *rand.Rand { return rand.New(rand.NewPCG(uint64(i), 0x7469706c696e65)) }

// benchSyllables make names and words no list knows, so that none is
// mistaken for a common word.
var benchSyllables = strings.Fields("ka lo mi ra ve zu ne ti sha bo qu ri an el ja dex or vy lun fa go pe wen stri")

func benchWord(seed, parts int) string {
	var sb strings.Builder
	for range parts {
		sb.WriteString(benchSyllables[seed%len(benchSyllables)])
		seed /= len(benchSyllables)
	}
	return sb.String()
}

type benchIncident struct {
	handle, first, last, place, day, weapon, rare1, rare2 string
}

func (g benchGen) incident(i int) benchIncident {
	r := g.rng(i)
	in := benchIncident{
		first: strings.ToUpper(benchWord(r.IntN(2000)+700, 3)[:1]) + benchWord(r.IntN(2000)+700, 3)[1:],
		rare1: benchWord(r.IntN(20000)+20000, 4),
		rare2: benchWord(r.IntN(20000)+20000, 4),
	}
	if r.IntN(2) == 0 {
		in.handle = "@" + benchWord(r.IntN(1<<20), 3) + "_" + strconv.Itoa(r.IntN(100))
	}
	if r.IntN(3) == 0 {
		in.last = strings.ToUpper(benchWord(r.IntN(5000)+9000, 3)[:1]) + benchWord(r.IntN(5000)+9000, 3)[1:]
	}
	switch r.IntN(3) {
	case 0:
		in.place = "room " + strconv.Itoa(100+r.IntN(400))
	case 1:
		in.place = "bus " + strconv.Itoa(1+r.IntN(60))
	default:
		in.place = []string{"the gym", "the cafeteria", "the parking lot", "the library", "the bathroom", "the locker room", "the field", "the auditorium"}[r.IntN(8)]
	}
	in.day = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "today", "tomorrow", "tonight"}[r.IntN(8)]
	if r.IntN(5) < 3 {
		in.weapon = []string{"gun", "knife", "rifle", "bomb", "pistol"}[r.IntN(5)]
	}
	return in
}

func (in benchIncident) who() string {
	who := strings.TrimSpace(in.first + " " + in.last)
	if in.handle != "" {
		who += " (" + in.handle + ")"
	}
	return who
}

// report is incident i's first report, as a web form might carry it.
func (g benchGen) report(i int) string {
	in := g.incident(i)
	if in.weapon == "" {
		return fmt.Sprintf("%s keeps threatening people in %s and says %s is the day. He talks about %s and %s.",
			in.who(), in.place, in.day, in.rare1, in.rare2)
	}
	return fmt.Sprintf("%s posted that he is bringing a %s to %s %s. He was talking about %s and %s.",
		in.who(), in.weapon, in.place, in.day, in.rare1, in.rare2)
}

// paraphrase is a later report of incident i, in other words, as a text;
// variant picks the words, so that paraphrases are seldom exact copies.
func (g benchGen) paraphrase(i, variant int) string {
	in := g.incident(i)
	who := strings.ToLower(strings.TrimSpace(in.first + " " + in.last))
	if in.handle != "" {
		who = strings.TrimPrefix(in.handle, "@")
	}
	place := strings.TrimPrefix(in.place, "the ")
	tail := []string{"pls help", "idk if its real", "someone do something", "omg", "is school still on"}[variant%5]
	switch variant / 5 % 4 {
	case 0:
		return fmt.Sprintf("did u see what %s said?? %s %s %s, something about %s. %s", who, in.weapon, place, in.day, in.rare1, tail)
	case 1:
		return fmt.Sprintf("%s says %s %s at %s, %s", who, in.weapon, in.day, place, tail)
	case 2:
		return fmt.Sprintf("Reporting %s: %s, %s, %s. It was about %s. %s", who, place, in.day, in.weapon, in.rare2, tail)
	}
	return fmt.Sprintf("%s %s %s %s %s", tail, who, in.day, place, in.weapon)
}
