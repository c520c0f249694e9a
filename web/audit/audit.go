// Package audit is the dashboard's append-only log of who viewed, changed,
// messaged or exported what, and when. It is a Redis stream that tipline
// only ever appends to: nothing in tipline trims or deletes it.
package audit

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyLog is the stream every entry is appended to.
const keyLog = "audit:log"

// Entry is one thing a reviewer (or an operator at the command line) did.
type Entry struct {
	At        time.Time
	Actor     string // reviewer ID, or "cli" for the command line
	ActorName string // the reviewer's name at the time
	Action    string // what was done, such as "tip.view" or "signin"
	Tip       string // the tip's ID, when the action concerns one
	Detail    string // anything else worth knowing, never tip text
}

// Log appends entries to the audit stream and reads them back.
type Log struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// New returns the audit log on rdb.
func New(rdb redis.UniversalClient) *Log {
	return &Log{rdb: rdb, now: time.Now}
}

// Record appends e; a zero At is the time now.
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = l.now()
	}
	err := l.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: keyLog,
		Values: []any{
			"at", e.At.UTC().Format(time.RFC3339Nano),
			"actor", e.Actor,
			"actor_name", e.ActorName,
			"action", e.Action,
			"tip", e.Tip,
			"detail", e.Detail,
		},
	}).Err()
	if err != nil {
		return fmt.Errorf("audit: record %s: %w", e.Action, err)
	}
	return nil
}

// List returns up to limit entries recorded from from to to (either may
// be zero for no bound), newest first. Times are those of the stream's
// IDs, which Redis gives when it appends, so a process with a wrong clock
// cannot file an entry out of order.
func (l *Log) List(ctx context.Context, from, to time.Time, limit int) ([]Entry, error) {
	if limit <= 0 {
		return nil, nil
	}
	msgs, err := l.rdb.XRevRangeN(ctx, keyLog, bound(to, "+"), bound(from, "-"), int64(limit)).Result()
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	out := make([]Entry, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, entryOf(m))
	}
	return out, nil
}

// exportBatch is how many entries Export reads from Redis at a time.
const exportBatch = 500

// Export writes every entry from from to to (either may be zero), oldest
// first, as CSV with a header row. It reads in batches, so a long log is
// never held in memory at once.
func (l *Log) Export(ctx context.Context, w io.Writer, from, to time.Time) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"at", "actor", "actor_name", "action", "tip", "detail"}); err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	start, end := bound(from, "-"), bound(to, "+")
	for {
		msgs, err := l.rdb.XRangeN(ctx, keyLog, start, end, exportBatch).Result()
		if err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		for _, m := range msgs {
			e := entryOf(m)
			row := []string{e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.ActorName, e.Action, e.Tip, e.Detail}
			for i := range row {
				row[i] = defuse(row[i])
			}
			if err := cw.Write(row); err != nil {
				return fmt.Errorf("audit: export: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		if len(msgs) < exportBatch {
			return nil
		}
		start = after(msgs[len(msgs)-1].ID)
	}
}

// bound is a stream ID bound for t: its millisecond, or inf for no bound.
// An incomplete ID covers the whole millisecond at either end.
func bound(t time.Time, inf string) string {
	if t.IsZero() {
		return inf
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// after is the smallest stream ID greater than id ("ms-seq").
func after(id string) string {
	ms, seq, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseUint(seq, 10, 64)
	return ms + "-" + strconv.FormatUint(n+1, 10)
}

// entryOf reads an entry from a stream message. At is the recorded time,
// or the stream ID's when that is missing.
func entryOf(m redis.XMessage) Entry {
	str := func(k string) string { s, _ := m.Values[k].(string); return s }
	e := Entry{Actor: str("actor"), ActorName: str("actor_name"), Action: str("action"), Tip: str("tip"), Detail: str("detail")}
	if t, err := time.Parse(time.RFC3339Nano, str("at")); err == nil {
		e.At = t
	} else if ms, err := strconv.ParseInt(strings.SplitN(m.ID, "-", 2)[0], 10, 64); err == nil {
		e.At = time.UnixMilli(ms).UTC()
	}
	return e
}

// defuse keeps a spreadsheet from running a cell as a formula: a value
// that starts like one gets a leading apostrophe (OWASP's advice for CSV
// injection). The names and details in the log are typed by people.
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
