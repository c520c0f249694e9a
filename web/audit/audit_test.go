package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tipline/tipline/internal/redistest"
	"github.com/tipline/tipline/web/audit"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// db is this package's database on the test Redis.
const db = 13

// TestRecordListExport records entries and reads them back newest first,
// and exports them oldest first as CSV that a spreadsheet will not run.
func TestRecordListExport(t *testing.T) {
	rdb := redistest.New(t, db)
	l := audit.New(rdb)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	// More than one export batch, to cross a batch boundary.
	const n = 1203
	for i := range n {
		require.NoError(t, l.Record(ctx, audit.Entry{At: at.Add(time.Duration(i) * time.Second), Actor: "r1", ActorName: "Ana", Action: "tip.view", Tip: "T" + strconv.Itoa(i)}))
	}
	require.NoError(t, l.Record(ctx, audit.Entry{Actor: "r2", ActorName: "=HYPERLINK(\"x\")", Action: "tip.note", Detail: "-2+3, \"quoted\"\nnext line"}))

	got, err := l.List(ctx, time.Time{}, time.Time{}, 3)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, "tip.note", got[0].Action, "newest first")
	require.False(t, got[0].At.IsZero(), "a zero At is the time of recording")
	require.Equal(t, "T1202", got[1].Tip)
	require.Equal(t, at.Add(1202*time.Second), got[1].At)

	// The period is the stream's: everything was recorded just now.
	none, err := l.List(ctx, time.Time{}, time.Now().Add(-time.Hour), 10)
	require.NoError(t, err)
	require.Empty(t, none)
	all, err := l.List(ctx, time.Now().Add(-time.Hour), time.Now().Add(time.Hour), 5000)
	require.NoError(t, err)
	require.Len(t, all, n+1)

	var buf bytes.Buffer
	require.NoError(t, l.Export(ctx, &buf, time.Time{}, time.Time{}))
	rows, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+2, "a header and every entry")
	require.Equal(t, []string{"at", "actor", "actor_name", "action", "tip", "detail"}, rows[0])
	require.Equal(t, "T0", rows[1][4], "oldest first")
	for i := 1; i <= n; i++ {
		require.Equal(t, "T"+strconv.Itoa(i-1), rows[i][4], "row %d", i)
	}
	last := rows[n+1]
	require.Equal(t, "'=HYPERLINK(\"x\")", last[2], "a formula is defused")
	require.Equal(t, "'-2+3, \"quoted\"\nnext line", last[5])
}
